"""Broker credential rules: encrypt before storing, list without secrets, decrypt.

The API key and secret are encrypted with a KMS data key before anything reaches
DynamoDB. The data key's encryption context is
`{"userId": <sub>, "credentialId": <id>, "purpose": "broker-credential"}`, and the same
context plus the field name authenticates each ciphertext. So an item copied to another
user or another credential id does not decrypt.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime

from pfmon_api import envelope, errors, routes
from pfmon_api.data import user_credentials
from pfmon_api.data.user_credentials import AccountStatus
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.credentials import (
    BrokerSecret,
    CredentialCreate,
    CredentialSummary,
    StoredCredential,
)
from pfmon_api.observability import logger

KEY_ARN_ENV_VAR = "CREDENTIALS_KEY_ARN"
ENCRYPTION_PURPOSE = routes.CREDENTIALS_KEY_PURPOSE
API_KEY_FIELD = "apiKey"
API_SECRET_FIELD = "apiSecret"  # noqa: S105 - a field name, not a secret
ITEM_VERSION = 1

# Credential ids are lowercase UUIDs, as uuid.uuid4() writes them.
_CREDENTIAL_ID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def encryption_context(user_id: str, credential_id: str) -> dict[str, str]:
    """Return the KMS encryption context of one credential's data key."""
    return {
        "userId": user_id,
        "credentialId": credential_id,
        "purpose": ENCRYPTION_PURPOSE,
    }


def create_credential(
    user_id: str, request: CredentialCreate, now: datetime
) -> CredentialSummary:
    """Encrypt and store a new credential for one of the user's active accounts.

    Raises `NotFoundError` on field accountId when the user has no such account or it
    is archived. KMS and DynamoDB failures raise their domain errors, and nothing is
    stored when encryption fails.
    """
    status = user_credentials.account_status(user_id, request.account_id)
    if status is not AccountStatus.ACTIVE:
        raise errors.NotFoundError(
            f"account {request.account_id} not found or archived: create the account "
            "with POST /accounts or choose an active one",
            field="accountId",
        )

    credential_id = str(uuid.uuid4())
    sealed = envelope.encrypt_fields(
        _key_arn(),
        encryption_context(user_id, credential_id),
        {API_KEY_FIELD: request.api_key, API_SECRET_FIELD: request.api_secret},
    )
    credential = StoredCredential(
        user_id=user_id,
        credential_id=credential_id,
        account_id=request.account_id,
        label=request.label,
        api_key_hint=request.api_key_hint(),
        created_at=format_timestamp(now),
        version=ITEM_VERSION,
        envelope=sealed,
    )
    user_credentials.put_credential(credential)
    logger.info(
        "broker credential stored",
        extra={"credential_id": credential_id, "account_id": request.account_id},
    )
    return credential.summary()


def list_credentials(
    user_id: str, account_id: str | None = None
) -> list[CredentialSummary]:
    """Return the user's credentials, oldest first, of one account if given."""
    summaries = user_credentials.list_credentials(user_id, account_id)
    return sorted(
        summaries, key=lambda summary: (summary.created_at, summary.credential_id)
    )


def delete_credential(user_id: str, credential_id: str) -> None:
    """Delete one of the user's credentials.

    Raises `NotFoundError` when the user has no credential with this id, and so also
    for another user's credential.
    """
    check_credential_id(credential_id)
    if not user_credentials.delete_credential(user_id, credential_id):
        raise _credential_not_found(credential_id)
    logger.info("broker credential deleted", extra={"credential_id": credential_id})


def decrypt_credential(user_id: str, credential_id: str) -> BrokerSecret:
    """Read and decrypt one of the user's credentials, for the broker sync.

    Raises `NotFoundError` when the user has no such credential, and `DecryptionError`
    when the item does not decrypt under its own user and credential id.
    """
    check_credential_id(credential_id)
    stored = user_credentials.get_credential(user_id, credential_id)
    if stored is None:
        raise _credential_not_found(credential_id)
    return decrypt_stored(stored)


def decrypt_stored(stored: StoredCredential) -> BrokerSecret:
    """Decrypt a stored credential under the context of its own key attributes."""
    context = encryption_context(stored.user_id, stored.credential_id)
    plaintexts = envelope.decrypt_fields(stored.envelope, context)
    logger.info(
        "broker credential decrypted", extra={"credential_id": stored.credential_id}
    )
    return BrokerSecret(
        api_key=plaintexts[API_KEY_FIELD], api_secret=plaintexts[API_SECRET_FIELD]
    )


def check_credential_id(credential_id: str) -> None:
    """Raise `ValidationError` on credentialId unless it is a lowercase UUID."""
    if not _CREDENTIAL_ID.fullmatch(credential_id):
        raise errors.ValidationError(
            "credentialId must be a credential id as GET /credentials returns it, "
            "a lowercase UUID",
            field="credentialId",
        )


def _key_arn() -> str:
    key_arn = os.environ.get(KEY_ARN_ENV_VAR, "")
    if not key_arn:
        raise errors.ConfigurationError(
            f"environment variable {KEY_ARN_ENV_VAR} is not set: it must contain the "
            "ARN of the credentials KMS key"
        )
    return key_arn


def _credential_not_found(credential_id: str) -> errors.NotFoundError:
    return errors.NotFoundError(
        f"credential {credential_id} not found: GET /credentials lists the caller's "
        "credentials",
        field="credentialId",
    )
