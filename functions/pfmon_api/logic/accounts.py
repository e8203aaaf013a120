"""Account rules: ids, the account limit, versioned updates and archiving.

An archived account keeps its entries and can still be read, renamed and listed with
`includeArchived`, but no entry can be created in it or moved into it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pfmon_api import errors
from pfmon_api.data import account_data
from pfmon_api.models.accounts import (
    ACCOUNT_ID_PATTERN,
    MAX_ACCOUNTS,
    Account,
    AccountCreate,
    AccountUpdate,
)
from pfmon_api.models.base import format_timestamp


def create_account(user_id: str, body: AccountCreate, now: datetime) -> Account:
    """Store a new account of the user at version 1 with a server-generated id.

    Raises `ConflictError` when the user has `MAX_ACCOUNTS` accounts already.
    """
    # NOTE: two creates at once can both pass this count, so a user can end up with
    # a few accounts over the limit. The limit bounds abuse, not exact sizes.
    if account_data.count_accounts(user_id) >= MAX_ACCOUNTS:
        raise errors.ConflictError(
            f"the caller has {MAX_ACCOUNTS} accounts, the maximum, archived ones "
            "included: reuse an existing account"
        )
    timestamp = format_timestamp(now)
    account = Account(
        account_id=str(uuid.uuid4()),
        name=body.name,
        broker=body.broker,
        currency=body.currency,
        starting_balance=body.starting_balance,
        account_type=body.account_type,
        archived=False,
        version=1,
        created_at=timestamp,
        updated_at=timestamp,
    )
    account_data.create_account(user_id, account)
    return account


def list_accounts(user_id: str, *, include_archived: bool) -> list[Account]:
    """Return the user's accounts, oldest first, archived ones only when asked for."""
    accounts = account_data.list_accounts(user_id)
    if not include_archived:
        accounts = [account for account in accounts if not account.archived]
    return sorted(
        accounts, key=lambda account: (account.created_at, account.account_id)
    )


def get_account(user_id: str, account_id: str) -> Account:
    """Return one account of the user, raising `NotFoundError` if there is none."""
    _check_account_id(account_id)
    account = account_data.get_account(user_id, account_id)
    if account is None:
        raise _account_not_found(account_id)
    return account


def update_account(
    user_id: str, account_id: str, update: AccountUpdate, now: datetime
) -> Account:
    """Replace the editable fields of an account if `update.version` is current."""
    _check_account_id(account_id)
    return account_data.update_account(
        user_id,
        account_id,
        fields=update,
        expected_version=update.version,
        updated_at=format_timestamp(now),
    )


def archive_account(user_id: str, account_id: str, now: datetime) -> Account:
    """Archive an account. Archiving an archived account returns it unchanged."""
    _check_account_id(account_id)
    return account_data.archive_account(user_id, account_id, format_timestamp(now))


def require_open_account(user_id: str, account_id: str) -> Account:
    """Return an account that may receive entries.

    Raises `NotFoundError` when the user has no such account (another user's account
    included) and `ConflictError` when the account is archived.
    """
    account = get_account(user_id, account_id)
    if account.archived:
        raise errors.ConflictError(
            f"account {account_id} is archived, so it takes no new entries: use an "
            "account that is not archived",
            field="accountId",
        )
    return account


def _check_account_id(account_id: str) -> None:
    # An id of another shape names no account, and DynamoDB rejects keys over 1 KB.
    if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise _account_not_found(account_id[:64])


def _account_not_found(account_id: str) -> errors.NotFoundError:
    return errors.NotFoundError(
        f"no account {account_id}: list your accounts with GET /accounts",
        field="accountId",
    )
