"""KMS envelope encryption of short text fields with AES-256-GCM.

`encrypt_fields` calls KMS GenerateDataKey for one 256-bit data key under an encryption
context, encrypts each field locally with that key, and returns only the encrypted data
key (the KMS CiphertextBlob). Each field gets its own random 96-bit nonce, and its
additional authenticated data (AAD) is the encryption context plus the field name, so a
ciphertext copied to another field or another item fails to decrypt. `decrypt_fields`
recovers the data key with KMS Decrypt under the same encryption context.

The `cryptography` package is imported on the first encryption or decryption, not at
import time, so functions that never encrypt never load it.

Limitations: Python cannot reliably erase memory. The data key and each encoded field
are held in bytearrays that are zeroed after use, but botocore has already parsed the
KMS response into an immutable bytes object, and the field values arrive and leave as
immutable str objects. Those copies stay in memory until the garbage collector and the
allocator reuse it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pfmon_api import errors

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from mypy_boto3_kms import KMSClient

# Stored with each envelope, so that a later format can be distinguished from it.
ALGORITHM = "kms-envelope-aes-256-gcm-v1"
DATA_KEY_SPEC: Final = "AES_256"
DATA_KEY_BYTES = 32
NONCE_BYTES = 12

# KMS errors after which the same request may succeed a little later.
RETRYABLE_KMS_ERRORS = frozenset(
    {
        "DependencyTimeoutException",
        "KMSInternalException",
        "KeyUnavailableException",
        "ThrottlingException",
    }
)
# KMS Decrypt errors that mean this envelope does not decrypt under this context.
UNDECRYPTABLE_KMS_ERRORS = frozenset(
    {"IncorrectKeyException", "InvalidCiphertextException"}
)


class DecryptionError(errors.InternalError):
    """An envelope does not decrypt: wrong context, key or field, or changed bytes.

    The message names no field value, so it is safe to log.
    """


class KeyServiceError(errors.InternalError):
    """A KMS request failed for a reason that a retry does not fix.

    The message carries only the operation and the AWS error code, such as
    DisabledException for a disabled key.
    """

    def __init__(self, operation: str, error_code: str) -> None:
        super().__init__(f"KMS {operation} failed with {error_code}")
        self.operation = operation
        self.error_code = error_code


@dataclass(frozen=True)
class SealedField:
    """One encrypted field: the GCM nonce and the ciphertext with its 16-byte tag."""

    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


@dataclass(frozen=True)
class Envelope:
    """Encrypted fields and the encrypted data key that decrypts them."""

    algorithm: str
    key_arn: str
    encrypted_data_key: bytes = field(repr=False)
    fields: Mapping[str, SealedField] = field(repr=False)


@functools.cache
def kms_client() -> KMSClient:
    """Return the process-wide boto3 KMS client, created on the first call."""
    return boto3.client("kms")


def encrypt_fields(
    key_id: str, context: Mapping[str, str], plaintexts: Mapping[str, str]
) -> Envelope:
    """Encrypt text fields under a new data key from the KMS key `key_id`.

    `context` is the KMS encryption context, which decryption must repeat exactly.
    Raises `ServiceUnavailableError` when KMS is throttled or briefly unavailable, and
    `KeyServiceError` for any other KMS failure, such as a disabled key.
    """
    _check_context(context)
    with _translate_kms_errors("GenerateDataKey"):
        response = kms_client().generate_data_key(
            KeyId=key_id, KeySpec=DATA_KEY_SPEC, EncryptionContext=dict(context)
        )
    # KMS returns the key ARN in KeyId even when `key_id` is an alias.
    key_arn = response["KeyId"]
    encrypted_data_key = response["CiphertextBlob"]
    data_key = bytearray(response["Plaintext"])
    del response
    try:
        _check_data_key(data_key, "GenerateDataKey")
        sealed = {
            name: seal(data_key, context, name, text)
            for name, text in plaintexts.items()
        }
    finally:
        _wipe(data_key)
    return Envelope(
        algorithm=ALGORITHM,
        key_arn=key_arn,
        encrypted_data_key=encrypted_data_key,
        fields=sealed,
    )


def decrypt_fields(envelope: Envelope, context: Mapping[str, str]) -> dict[str, str]:
    """Decrypt every field of an envelope that was encrypted under `context`.

    Raises `DecryptionError` when the algorithm is unknown, the context differs from
    the one used to encrypt, or the data key, a nonce or a ciphertext was changed.
    KMS failures raise as in `encrypt_fields`.
    """
    _check_context(context)
    if envelope.algorithm != ALGORITHM:
        raise DecryptionError(
            f"envelope algorithm {envelope.algorithm!r} is not supported: "
            f"this code decrypts only {ALGORITHM}"
        )
    with _translate_kms_errors("Decrypt"):
        response = kms_client().decrypt(
            CiphertextBlob=envelope.encrypted_data_key,
            # Naming the key makes KMS reject a blob that another key encrypted.
            KeyId=envelope.key_arn,
            EncryptionContext=dict(context),
        )
    data_key = bytearray(response["Plaintext"])
    del response
    try:
        _check_data_key(data_key, "Decrypt")
        return {
            name: open_sealed(data_key, context, name, sealed)
            for name, sealed in envelope.fields.items()
        }
    finally:
        _wipe(data_key)


def seal(
    data_key: bytearray, context: Mapping[str, str], name: str, plaintext: str
) -> SealedField:
    """Encrypt one field with AES-256-GCM, a random nonce and the field's AAD."""
    cipher = _aes_gcm(data_key)
    nonce = os.urandom(NONCE_BYTES)
    encoded = bytearray(plaintext.encode("utf-8"))
    try:
        ciphertext = cipher.encrypt(nonce, encoded, additional_data(context, name))
    finally:
        _wipe(encoded)
    return SealedField(nonce=nonce, ciphertext=ciphertext)


def open_sealed(
    data_key: bytearray, context: Mapping[str, str], name: str, sealed: SealedField
) -> str:
    """Decrypt one field, raising `DecryptionError` if it fails authentication."""
    # Imported here for the same reason as in _aes_gcm.
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415

    cipher = _aes_gcm(data_key)
    if len(sealed.nonce) != NONCE_BYTES:
        raise DecryptionError(
            f"field {name} has a {len(sealed.nonce)}-byte nonce, not {NONCE_BYTES}"
        )
    try:
        plaintext = cipher.decrypt(
            sealed.nonce, sealed.ciphertext, additional_data(context, name)
        )
    except InvalidTag as exc:
        raise DecryptionError(
            f"field {name} failed authentication: its ciphertext, nonce or encryption "
            "context differs from the encrypted ones"
        ) from exc
    return plaintext.decode("utf-8")


def additional_data(context: Mapping[str, str], name: str) -> bytes:
    """Return the AAD of one field: canonical JSON of the context and the field name.

    JSON with sorted keys gives one byte string per (context, name) pair, so no two
    different pairs share an AAD.
    """
    document = {"context": dict(context), "field": name}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _aes_gcm(data_key: bytearray) -> AESGCM:
    try:
        # NOTE: in Lambda, cryptography comes from the Powertools v3 layer, which
        # bundles aws-encryption-sdk and so cryptography. This is not verified against
        # the deployed layer version. Without the package every create and decrypt
        # fails with a 500 (ConfigurationError), while list and delete keep working.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415
    except ImportError as exc:
        raise errors.ConfigurationError(
            "the cryptography package is not installed: add it to the function's "
            "deployment package or use a Powertools layer that includes it"
        ) from exc
    return AESGCM(data_key)


def _check_context(context: Mapping[str, str]) -> None:
    if not context:
        raise ValueError(
            "the encryption context is empty: pass the ids that bind the envelope"
        )


def _check_data_key(data_key: bytearray, operation: str) -> None:
    if len(data_key) != DATA_KEY_BYTES:
        raise KeyServiceError(operation, "UnexpectedDataKeyLength")


def _wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))


@contextmanager
def _translate_kms_errors(operation: str) -> Iterator[None]:
    """Raise the domain error for a botocore error raised inside the block."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if code in RETRYABLE_KMS_ERRORS:
            raise errors.ServiceUnavailableError(
                "the key service is busy: retry the request after a few seconds"
            ) from exc
        if operation == "Decrypt" and code in UNDECRYPTABLE_KMS_ERRORS:
            raise DecryptionError(
                f"KMS Decrypt rejected the data key with {code}: the encryption "
                "context or the key differs from the ones used to encrypt, or the "
                "encrypted data key was changed"
            ) from exc
        raise KeyServiceError(operation, code) from exc
    except BotoCoreError as exc:
        raise KeyServiceError(operation, type(exc).__name__) from exc
