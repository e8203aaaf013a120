"""Broker accounts: the stored account, the bodies of POST and PUT and their rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, PlainValidator, StringConstraints

from pfmon_api import errors
from pfmon_api.models.base import ApiModel, parse_request
from pfmon_api.models.fields import check_single_line, decimal_parser
from pfmon_api.models.profile import AccountId, CurrencyCode, Version

ACCOUNT_NAME_MAX_LENGTH = 80
BROKER_MAX_LENGTH = 80
# Each user may keep this many accounts, archived ones included.
MAX_ACCOUNTS = 200
# Server-generated ids are UUIDs, and the profile's defaultAccountId has this shape too.
ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Fields of the stored account that only the server writes.
READ_ONLY_FIELDS = ("accountId", "userId", "createdAt", "updatedAt")

AccountType = Literal["cash", "margin", "ira", "futures", "paper"]
AccountName = Annotated[
    str,
    StringConstraints(max_length=ACCOUNT_NAME_MAX_LENGTH),
    AfterValidator(check_single_line),
]
BrokerName = Annotated[
    str,
    StringConstraints(max_length=BROKER_MAX_LENGTH),
    AfterValidator(check_single_line),
]
Balance = Annotated[Decimal, PlainValidator(decimal_parser(minimum=Decimal(0)))]


class AccountFields(ApiModel):
    """The fields of an account that the user edits."""

    name: AccountName
    broker: BrokerName
    currency: CurrencyCode
    starting_balance: Balance
    account_type: AccountType


class AccountCreate(AccountFields):
    """Body of POST /accounts."""


class AccountUpdate(AccountFields):
    """Body of PUT /accounts/{accountId}: every editable field, replacing the stored.

    `version` is the version the client read, and the update fails with 409 when the
    stored account has changed since.
    """

    version: Version


class Account(AccountFields):
    """A stored account, as the accounts routes return it."""

    # Built by the server from keyword arguments or a stored item, never from a body.
    model_config = ConfigDict(validate_by_name=True)

    account_id: AccountId
    archived: bool
    version: Version
    created_at: str
    updated_at: str


def parse_account_create(document: Mapping[str, Any]) -> AccountCreate:
    """Validate the body of POST /accounts, raising `ValidationError` on a bad field."""
    _reject_server_fields(document)
    return parse_request(AccountCreate, document)


def parse_account_update(document: Mapping[str, Any]) -> AccountUpdate:
    """Validate the body of PUT /accounts/{accountId}."""
    _reject_server_fields(document)
    return parse_request(AccountUpdate, document)


def _reject_server_fields(document: Mapping[str, Any]) -> None:
    for name in READ_ONLY_FIELDS:
        if name in document:
            raise errors.ValidationError(
                f"{name} is set by the server and cannot be changed: remove it from "
                "the request body",
                field=name,
            )
    if "archived" in document:
        raise errors.ValidationError(
            "archived cannot be set in this request: archive an account with "
            "POST /accounts/{accountId}/archive",
            field="archived",
        )
