"""Journal entry rules: create, read, replace, delete and list the caller's entries.

Every write derives the trade from the executions again and stores the derived values
beside the trader's fields, with booking dates in the caller's time zone at the time
of the write. An entry goes only into an account of the caller that is not archived.
Writes are conditional on the version the client read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pfmon_api import errors
from pfmon_api.data import journal_entries, user_profiles
from pfmon_api.logic import accounts, trade_records
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.entries import (
    ENTRY_ID_PATTERN,
    EntryCreate,
    EntryFields,
    EntryListQuery,
    EntryUpdate,
)
from pfmon_api.models.profile import DEFAULT_TIME_ZONE
from pfmon_api.observability import logger

_ONE_MICROSECOND = timedelta(microseconds=1)


def create_entry(user_id: str, body: EntryCreate, now: datetime) -> dict[str, Any]:
    """Store a new entry at version 1 with a server-generated id and return it.

    Raises `NotFoundError` when the account is not the caller's, `ConflictError` when
    it is archived, and `ValidationError` when the executions do not form a trade.
    """
    accounts.require_open_account(user_id, body.account_id)
    timestamp = format_timestamp(now)
    document = _entry_document(
        user_id,
        str(uuid.uuid4()),
        body,
        version=1,
        created_at=timestamp,
        updated_at=timestamp,
    )
    journal_entries.create_entry(user_id, document)
    logger.info(
        "entry created",
        extra={"entry_id": document["entryId"], "executions": len(body.executions)},
    )
    return document


def get_entry(user_id: str, entry_id: str) -> dict[str, Any]:
    """Return one entry of the caller, raising `NotFoundError` if there is none."""
    _check_entry_id(entry_id)
    document = journal_entries.get_entry(user_id, entry_id)
    if document is None:
        raise _entry_not_found(entry_id)
    return document


def update_entry(
    user_id: str, entry_id: str, body: EntryUpdate, now: datetime
) -> dict[str, Any]:
    """Replace an entry if `body.version` is its current version, and return it.

    Moving the entry into another account needs that account to be open. The entry's
    own account may be archived, so the entries of an archived account stay editable.
    """
    stored = get_entry(user_id, entry_id)
    if stored["version"] != body.version:
        raise _stale_version(entry_id, body.version, stored["version"])
    if body.account_id != stored["accountId"]:
        accounts.require_open_account(user_id, body.account_id)

    document = _entry_document(
        user_id,
        entry_id,
        body,
        version=body.version + 1,
        created_at=str(stored["createdAt"]),
        updated_at=format_timestamp(now),
    )
    journal_entries.replace_entry(user_id, document, expected_version=body.version)
    logger.info(
        "entry replaced",
        extra={"entry_id": entry_id, "version": document["version"]},
    )
    return document


def delete_entry(user_id: str, entry_id: str, expected_version: int | None) -> None:
    """Delete an entry of the caller, only at `expected_version` when one is given."""
    _check_entry_id(entry_id)
    journal_entries.delete_entry(user_id, entry_id, expected_version)
    logger.info("entry deleted", extra={"entry_id": entry_id})


def list_entries(user_id: str, query: EntryListQuery) -> journal_entries.EntryPage:
    """Return one page of the caller's entries, newest first by opening time.

    A date bound stands for the whole day in the caller's time zone: `from` starts at
    its midnight and `to` ends at the next midnight.
    """
    zone: ZoneInfo | None = None
    if _is_date(query.opened_from) or _is_date(query.opened_to):
        zone = booking_zone(user_id)[1]
    opened_from = _start_bound(query.opened_from, zone)
    opened_to = _end_bound(query.opened_to, zone)
    if opened_from is not None and opened_to is not None and opened_from > opened_to:
        raise errors.ValidationError(
            "from is after to: send a from that is not after to", field="from"
        )

    entry_query = journal_entries.EntryQuery(
        user_id=user_id,
        account_id=query.account_id,
        symbol=query.symbol,
        tag=query.tag,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    return journal_entries.list_page(entry_query, query.limit, query.cursor)


def booking_zone(user_id: str) -> tuple[str, ZoneInfo]:
    """Return the name and zone of the caller's time zone: the profile's, else UTC."""
    profile = user_profiles.get_profile(user_id)
    name = DEFAULT_TIME_ZONE if profile is None else profile.time_zone
    return name, ZoneInfo(name)


def _entry_document(
    user_id: str,
    entry_id: str,
    body: EntryFields,
    *,
    version: int,
    created_at: str,
    updated_at: str,
) -> dict[str, Any]:
    instrument = trade_records.instrument_document(body.instrument)
    executions = trade_records.execution_documents(body.executions)
    zone_name, zone = booking_zone(user_id)
    trade = trade_records.derive_entry_trade(instrument, executions, zone)

    document: dict[str, Any] = {
        "entryId": entry_id,
        "accountId": body.account_id,
        "instrument": instrument,
        "executions": executions,
        "notes": body.notes,
        "tags": list(body.tags),
        "setup": body.setup,
        "mistakes": list(body.mistakes),
        "rating": body.rating,
        "plannedStop": body.planned_stop,
        "plannedTarget": body.planned_target,
        "version": version,
        "createdAt": created_at,
        "updatedAt": updated_at,
        **trade_records.derived_fields(trade, body.planned_stop, zone_name),
    }
    trade_records.check_storable(document)
    return document


def _is_date(bound: date | datetime | None) -> bool:
    return bound is not None and not isinstance(bound, datetime)


def _start_bound(
    bound: date | datetime | None, zone: ZoneInfo | None
) -> datetime | None:
    if bound is None or isinstance(bound, datetime):
        return bound
    return datetime.combine(bound, time.min, tzinfo=zone)


def _end_bound(bound: date | datetime | None, zone: ZoneInfo | None) -> datetime | None:
    if bound is None or isinstance(bound, datetime):
        return bound
    next_midnight = datetime.combine(bound + timedelta(days=1), time.min, tzinfo=zone)
    # Subtract in UTC: aware arithmetic in a zone with DST works on wall-clock time.
    return next_midnight.astimezone(UTC) - _ONE_MICROSECOND


def _check_entry_id(entry_id: str) -> None:
    # An id of another shape names no entry, and DynamoDB rejects keys over 1 KB.
    if not ENTRY_ID_PATTERN.fullmatch(entry_id):
        raise _entry_not_found(entry_id[:64])


def _entry_not_found(entry_id: str) -> errors.NotFoundError:
    return errors.NotFoundError(
        f"no entry {entry_id}: list your entries with GET /entries", field="entryId"
    )


def _stale_version(
    entry_id: str, expected_version: int, stored_version: int
) -> errors.ConflictError:
    return errors.ConflictError(
        f"version {expected_version} is out of date because entry {entry_id} is at "
        f"version {stored_version}: GET /entries/{entry_id} and retry with the "
        "current version",
        field="version",
    )
