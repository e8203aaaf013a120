"""Re-encryption of envelope-encrypted broker credentials for another KMS key.

A UserCredentials item keeps its API key and secret as AES-GCM ciphertexts under a
data key, and keeps that data key only in KMS-encrypted form. This module relies on
these parts of the item, which `pfmon_api.data.user_credentials` writes:

- `encryptedDataKey` (B): the CiphertextBlob that KMS GenerateDataKey returned. An S
  attribute holding the blob as base64 is accepted too and kept as S.
- `keyArn` (S): ARN of the KMS key that encrypted the data key.
- the data key's encryption context `{"userId": <userId>, "credentialId":
  <credentialId>, "purpose": "broker-credential"}`, as
  `pfmon_api.logic.credentials.encryption_context` builds it.

Re-encryption calls KMS ReEncrypt, which decrypts the data key with the source key and
encrypts it for the target key inside KMS, so the plaintext data key never reaches
this process. The context stays the same, so the AES-GCM ciphertexts, whose additional
data is that context, stay valid and are copied byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tools.migrate.digest import Item
from tools.migrate.errors import CredentialEnvelopeError, UsageError

# A KMS key ARN or alias ARN, the two forms ReEncrypt's DestinationKeyId takes as ARNs.
_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$"
)


@dataclass(frozen=True)
class EnvelopeLayout:
    """Attribute names and encryption context of an envelope-encrypted item."""

    data_key_attribute: str = "encryptedDataKey"
    key_arn_attribute: str = "keyArn"
    # Context entries taken from the item's string attributes of the same name.
    context_attributes: tuple[str, ...] = ("userId", "credentialId")
    # Context entries with a fixed value.
    context_constants: tuple[tuple[str, str], ...] = (("purpose", "broker-credential"),)


CREDENTIAL_ENVELOPE = EnvelopeLayout()


def check_key_arn(value: str, option: str = "--target-key-arn") -> str:
    """Return a KMS key or alias ARN, or raise UsageError showing the expected form."""
    if not _KEY_ARN.fullmatch(value):
        raise UsageError(
            f"{option} {value!r} is not a KMS key ARN: use "
            "arn:aws:kms:<region>:<account>:key/<key id> or .../alias/<name>, such "
            "as the prod credentials key (alias pfmon-prod-credentials)"
        )
    return value


def describe_target_key(kms: Any, key_arn: str) -> str:
    """Return the key ARN of an enabled symmetric encryption key, or raise."""
    try:
        metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    except ClientError as exc:
        raise CredentialEnvelopeError(
            f"KMS key {key_arn} cannot be described "
            f"({exc.response['Error']['Code']}): check the ARN, the region and "
            "kms:DescribeKey permission"
        ) from exc
    if metadata.get("KeyState") != "Enabled":
        raise CredentialEnvelopeError(
            f"KMS key {key_arn} is {metadata.get('KeyState')}, not Enabled: "
            "enable it or choose another --target-key-arn"
        )
    if metadata.get("KeySpec") != "SYMMETRIC_DEFAULT":
        raise CredentialEnvelopeError(
            f"KMS key {key_arn} has KeySpec {metadata.get('KeySpec')}: data keys "
            "need a symmetric encryption key (SYMMETRIC_DEFAULT)"
        )
    return str(metadata["Arn"])


def encryption_context(
    item: Mapping[str, Any], layout: EnvelopeLayout
) -> dict[str, str]:
    """Return the encryption context of an item's data key."""
    context = dict(layout.context_constants)
    for name in layout.context_attributes:
        value = item.get(name, {})
        if "S" not in value:
            raise CredentialEnvelopeError(
                f"credential item {_item_key(item)} has no string attribute {name} "
                "for the encryption context"
            )
        context[name] = str(value["S"])
    return context


def reencrypt_credential(
    kms: Any,
    item: Item,
    target_key_arn: str,
    layout: EnvelopeLayout = CREDENTIAL_ENVELOPE,
) -> Item:
    """Return a copy of `item` whose data key is encrypted for `target_key_arn`."""
    attribute = layout.data_key_attribute
    data_key = item.get(attribute)
    if data_key is None:
        raise CredentialEnvelopeError(
            f"credential item {_item_key(item)} has no {attribute}: it is not "
            "envelope-encrypted, so copy UserCredentials without "
            "--reencrypt-credentials or fix the item"
        )
    blob, kind = _decode_data_key(item, data_key, attribute)
    context = encryption_context(item, layout)
    source_arn = item.get(layout.key_arn_attribute, {}).get("S")

    request: dict[str, Any] = {
        "CiphertextBlob": blob,
        "SourceEncryptionContext": context,
        "DestinationKeyId": target_key_arn,
        "DestinationEncryptionContext": context,
    }
    if source_arn:
        request["SourceKeyId"] = source_arn
    try:
        response = kms.re_encrypt(**request)
    except ClientError as exc:
        raise CredentialEnvelopeError(
            f"KMS ReEncrypt failed for credential item {_item_key(item)} "
            f"({exc.response['Error']['Code']}): the caller needs kms:ReEncryptFrom "
            f"on {source_arn or 'the source key'} and kms:ReEncryptTo on "
            f"{target_key_arn}, and the item's encryption context must be "
            f"{sorted(context)}"
        ) from exc
    if source_arn and response.get("SourceKeyId") != source_arn:
        raise CredentialEnvelopeError(
            f"credential item {_item_key(item)} names {source_arn} in "
            f"{layout.key_arn_attribute}, but KMS decrypted its data key with "
            f"{response.get('SourceKeyId')}: fix the item before migrating it"
        )

    new_blob = bytes(response["CiphertextBlob"])
    reencrypted = dict(item)
    reencrypted[attribute] = (
        {"B": new_blob} if kind == "B" else {"S": base64.b64encode(new_blob).decode()}
    )
    reencrypted[layout.key_arn_attribute] = {"S": str(response["KeyId"])}
    return reencrypted


def _decode_data_key(
    item: Mapping[str, Any], value: Mapping[str, Any], attribute: str
) -> tuple[bytes, str]:
    if "B" in value:
        return bytes(value["B"]), "B"
    if "S" in value:
        try:
            return base64.b64decode(value["S"], validate=True), "S"
        except binascii.Error as exc:
            raise CredentialEnvelopeError(
                f"credential item {_item_key(item)} has {attribute} that is not base64"
            ) from exc
    raise CredentialEnvelopeError(
        f"credential item {_item_key(item)} has {attribute} of type "
        f"{next(iter(value), '?')}: expected S (base64) or B"
    )


def _item_key(item: Mapping[str, Any]) -> str:
    # Only key attributes, never secret fields, appear in messages.
    parts = [
        f"{name}={item[name].get('S', '?')}"
        for name in ("userId", "credentialId")
        if name in item
    ]
    return "(" + ", ".join(parts) + ")"
