"""Broker credentials: the body of POST /credentials, the stored item and the summary.

The API key and secret exist in plaintext only in a `CredentialCreate` request and in
the `BrokerSecret` that decryption returns. Neither shows them in its repr, and a
validation error never quotes them. A `StoredCredential` contains them only encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic_core import PydanticCustomError

from pfmon_api import errors
from pfmon_api.envelope import Envelope
from pfmon_api.models.base import ApiModel, parse_request
from pfmon_api.models.fields import check_display_characters
from pfmon_api.models.profile import AccountId

LABEL_MAX_LENGTH = 64
# At least 12 characters, so the 4-character hint shows at most a third of the key.
API_KEY_MIN_LENGTH = 12
API_KEY_MAX_LENGTH = 256
API_SECRET_MIN_LENGTH = 8
API_SECRET_MAX_LENGTH = 1024
HINT_LENGTH = 4


def _check_label(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(
            "blank_label", "the label must contain a visible character"
        )
    return check_display_characters(value)


def _check_secret_text(value: str) -> str:
    # The messages never quote the value, because it is a secret.
    if not value.isprintable():
        raise PydanticCustomError(
            "unprintable_secret",
            "the value must not contain control characters, line breaks or other "
            "unprintable characters",
        )
    if value != value.strip():
        raise PydanticCustomError(
            "padded_secret",
            "the value must not start or end with a space: copy it without them",
        )
    return value


Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LABEL_MAX_LENGTH),
    AfterValidator(_check_label),
]
ApiKey = Annotated[
    str,
    StringConstraints(min_length=API_KEY_MIN_LENGTH, max_length=API_KEY_MAX_LENGTH),
    AfterValidator(_check_secret_text),
]
ApiSecret = Annotated[
    str,
    StringConstraints(
        min_length=API_SECRET_MIN_LENGTH, max_length=API_SECRET_MAX_LENGTH
    ),
    AfterValidator(_check_secret_text),
]


class CredentialCreate(ApiModel):
    """Body of POST /credentials: a broker API key pair for one account of the caller.

    Lengths count Unicode code points.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    account_id: AccountId
    label: Label
    api_key: ApiKey = Field(repr=False)
    api_secret: ApiSecret = Field(repr=False)

    def api_key_hint(self) -> str:
        """Return the last 4 characters of the API key, the only part ever shown."""
        return self.api_key[-HINT_LENGTH:]


class CredentialSummary(ApiModel):
    """A stored credential as GET and POST /credentials return it, without secrets."""

    # Built by the server from keyword arguments, never from a request body.
    model_config = ConfigDict(validate_by_name=True)

    credential_id: str
    account_id: str
    label: str
    api_key_hint: str
    created_at: str


@dataclass(frozen=True)
class StoredCredential:
    """One UserCredentials item: the summary fields and the encrypted key pair."""

    user_id: str
    credential_id: str
    account_id: str
    label: str
    api_key_hint: str
    created_at: str
    version: int
    envelope: Envelope

    def summary(self) -> CredentialSummary:
        return CredentialSummary(
            credential_id=self.credential_id,
            account_id=self.account_id,
            label=self.label,
            api_key_hint=self.api_key_hint,
            created_at=self.created_at,
        )


@dataclass(frozen=True)
class BrokerSecret:
    """A decrypted API key pair, for the broker sync only. Never log or return it."""

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)


_ACCOUNT_ID = TypeAdapter(AccountId)


def parse_credential_create(document: Mapping[str, Any]) -> CredentialCreate:
    """Validate the body of POST /credentials, raising `ValidationError` if invalid."""
    return parse_request(CredentialCreate, document)


def parse_account_filter(value: str | None) -> str | None:
    """Validate the optional accountId query parameter of GET /credentials."""
    if value is None:
        return None
    try:
        return _ACCOUNT_ID.validate_python(value)
    except pydantic.ValidationError as exc:
        raise errors.ValidationError(
            "invalid accountId: use 1 to 64 letters, digits, '_' or '-'",
            field="accountId",
        ) from exc
