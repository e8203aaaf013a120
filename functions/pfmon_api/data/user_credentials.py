"""Data access for the UserCredentials table, and the account check that creates need.

A credential item is keyed by `userId` and `credentialId`. Its API key and secret are
stored only as AES-GCM ciphertexts, next to the KMS-encrypted data key
(`encryptedDataKey`) and the ARN of the key that encrypted it (`keyArn`). The item
layout is described in docs/credentials.md. A list projects only the summary
attributes, so it reads no ciphertext.

`account_status` reads AccountData with GetItem, the one action the credentials
function may call on that table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from pfmon_api import errors, tables
from pfmon_api.data import dynamodb
from pfmon_api.envelope import Envelope, SealedField
from pfmon_api.models.credentials import CredentialSummary, StoredCredential

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_dynamodb.type_defs import TableAttributeValueTypeDef

TABLE = tables.USER_CREDENTIALS
ACCOUNT_TABLE = tables.ACCOUNT_DATA

# Names of the encrypted fields and the attributes that hold each one's ciphertext and
# nonce. The field names are also part of each field's AAD, so they must not change.
SEALED_FIELD_ATTRIBUTES = {
    "apiKey": ("apiKeyCiphertext", "apiKeyNonce"),
    "apiSecret": ("apiSecretCiphertext", "apiSecretNonce"),
}
SUMMARY_ATTRIBUTES = ("credentialId", "accountId", "label", "apiKeyHint", "createdAt")


class AccountStatus(enum.Enum):
    """Whether a caller's account can take new credentials."""

    MISSING = "missing"
    ARCHIVED = "archived"
    ACTIVE = "active"


def table() -> Table:
    """Return the UserCredentials table named by its environment variable."""
    return dynamodb.table(TABLE)


def put_credential(credential: StoredCredential) -> None:
    """Store a new credential item.

    Raises `ConflictError` if the caller already has an item with this id, which a
    random UUID makes practically impossible.
    """
    credentials = table()
    with dynamodb.translate_errors("PutItem", credentials.name):
        try:
            credentials.put_item(
                Item=_item_from_credential(credential),
                ConditionExpression="attribute_not_exists(credentialId)",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise errors.ConflictError(
                "a credential with the generated id already exists: retry the request"
            ) from exc


def list_credentials(
    user_id: str, account_id: str | None = None
) -> list[CredentialSummary]:
    """Return the summaries of the user's credentials, of one account if given."""
    names = {f"#{name}": name for name in SUMMARY_ATTRIBUTES}
    request: dict[str, Any] = {
        "KeyConditionExpression": "#userId = :userId",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": {**names, "#userId": "userId"},
        "ExpressionAttributeValues": {":userId": user_id},
    }
    if account_id is not None:
        request["FilterExpression"] = "#accountId = :accountId"
        request["ExpressionAttributeValues"][":accountId"] = account_id

    credentials = table()
    summaries: list[CredentialSummary] = []
    with dynamodb.translate_errors("Query", credentials.name):
        while True:
            response = credentials.query(**request)
            summaries.extend(_summary_from_item(item) for item in response["Items"])
            last_key = response.get("LastEvaluatedKey")
            if last_key is None:
                return summaries
            request["ExclusiveStartKey"] = last_key


def get_credential(user_id: str, credential_id: str) -> StoredCredential | None:
    """Return the user's credential with this id, or None if the user has none."""
    credentials = table()
    with dynamodb.translate_errors("GetItem", credentials.name):
        response = credentials.get_item(
            Key={"userId": user_id, "credentialId": credential_id},
            ConsistentRead=True,
        )
    item = response.get("Item")
    return None if item is None else _credential_from_item(item)


def delete_credential(user_id: str, credential_id: str) -> bool:
    """Delete the user's credential, or return False if the user has no such item."""
    credentials = table()
    with dynamodb.translate_errors("DeleteItem", credentials.name):
        try:
            credentials.delete_item(
                Key={"userId": user_id, "credentialId": credential_id},
                ConditionExpression="attribute_exists(credentialId)",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) == dynamodb.CONDITIONAL_CHECK_FAILED:
                return False
            raise
    return True


def account_status(user_id: str, account_id: str) -> AccountStatus:
    """Return whether the user has this account, and whether it is archived.

    POST /accounts/{accountId}/archive sets the `archived` attribute to true. An item
    without the attribute counts as active.
    """
    accounts = dynamodb.table(ACCOUNT_TABLE)
    with dynamodb.translate_errors("GetItem", accounts.name):
        response = accounts.get_item(
            Key={"userId": user_id, "accountId": account_id},
            ProjectionExpression="#accountId, #archived",
            ExpressionAttributeNames={
                "#accountId": "accountId",
                "#archived": "archived",
            },
            ConsistentRead=True,
        )
    item = response.get("Item")
    if item is None:
        return AccountStatus.MISSING
    if item.get("archived") is True:
        return AccountStatus.ARCHIVED
    return AccountStatus.ACTIVE


def _item_from_credential(credential: StoredCredential) -> dict[str, Any]:
    envelope = credential.envelope
    item: dict[str, Any] = {
        "userId": credential.user_id,
        "credentialId": credential.credential_id,
        "accountId": credential.account_id,
        "label": credential.label,
        "apiKeyHint": credential.api_key_hint,
        "createdAt": credential.created_at,
        "version": credential.version,
        "algorithm": envelope.algorithm,
        "keyArn": envelope.key_arn,
        "encryptedDataKey": envelope.encrypted_data_key,
    }
    for name, (
        ciphertext_attribute,
        nonce_attribute,
    ) in SEALED_FIELD_ATTRIBUTES.items():
        sealed = envelope.fields[name]
        item[ciphertext_attribute] = sealed.ciphertext
        item[nonce_attribute] = sealed.nonce
    return item


def _credential_from_item(
    item: Mapping[str, TableAttributeValueTypeDef],
) -> StoredCredential:
    credential_id = _text(item, "credentialId", "?")
    fields = {
        name: SealedField(
            nonce=_binary(item, nonce_attribute, credential_id),
            ciphertext=_binary(item, ciphertext_attribute, credential_id),
        )
        for name, (
            ciphertext_attribute,
            nonce_attribute,
        ) in SEALED_FIELD_ATTRIBUTES.items()
    }
    envelope = Envelope(
        algorithm=_text(item, "algorithm", credential_id),
        key_arn=_text(item, "keyArn", credential_id),
        encrypted_data_key=_binary(item, "encryptedDataKey", credential_id),
        fields=fields,
    )
    summary = _summary_from_item(item)
    return StoredCredential(
        user_id=_text(item, "userId", credential_id),
        credential_id=summary.credential_id,
        account_id=summary.account_id,
        label=summary.label,
        api_key_hint=summary.api_key_hint,
        created_at=summary.created_at,
        version=_integer(item, "version", credential_id),
        envelope=envelope,
    )


def _summary_from_item(
    item: Mapping[str, TableAttributeValueTypeDef],
) -> CredentialSummary:
    credential_id = _text(item, "credentialId", "?")
    return CredentialSummary(
        credential_id=credential_id,
        account_id=_text(item, "accountId", credential_id),
        label=_text(item, "label", credential_id),
        api_key_hint=_text(item, "apiKeyHint", credential_id),
        created_at=_text(item, "createdAt", credential_id),
    )


def _text(
    item: Mapping[str, TableAttributeValueTypeDef], name: str, credential_id: str
) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise _malformed(name, credential_id)
    return value


def _binary(
    item: Mapping[str, TableAttributeValueTypeDef], name: str, credential_id: str
) -> bytes:
    value = item.get(name)
    # The resource API returns B attributes as Binary wrappers of the bytes.
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, bytes):
        return value
    raise _malformed(name, credential_id)


def _integer(
    item: Mapping[str, TableAttributeValueTypeDef], name: str, credential_id: str
) -> int:
    value = item.get(name)
    # The resource API returns every number as a Decimal.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _malformed(name, credential_id)
    if value != int(value):
        raise _malformed(name, credential_id)
    return int(value)


def _malformed(name: str, credential_id: str) -> errors.InternalError:
    # Only the attribute name and the id, never a value, go into the message.
    return errors.InternalError(
        f"credential item {credential_id} has no valid {name} attribute"
    )
