"""Statistics of the caller's journal: read the closed entries, derive, summarize.

The entries come from a Query on the byDate index, or on byAccount for one account,
read page by page. Each trade is derived again from its executions in the caller's
current time zone, so booking dates follow a time zone change at once, even for
entries written before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from pydantic.alias_generators import to_camel

from pfmon_api import errors
from pfmon_api.data import journal_entries
from pfmon_api.logic import trade_records
from pfmon_api.logic.entries import booking_zone
from pfmon_api.logic.statistics import (
    JournalTrade,
    TradeStatistics,
    compute_statistics,
)
from pfmon_api.models.fields import plain_decimal
from pfmon_api.models.statistics import StatisticsQuery
from pfmon_api.observability import logger


def caller_statistics(user_id: str, query: StatisticsQuery) -> dict[str, Any]:
    """Compute the statistics of the caller's closed trades and return the document.

    A trade counts when its closing exit is booked from `query.start` to `query.end`
    in the caller's time zone. Only trades opened by the end of `query.end` can close
    by then, so the Query stops there, and a filter drops trades closed before
    `query.start`.
    """
    zone_name, zone = booking_zone(user_id)
    opened_to = None
    if query.end is not None:
        next_midnight = datetime.combine(
            query.end + timedelta(days=1), time.min, tzinfo=zone
        )
        opened_to = next_midnight.astimezone(UTC) - timedelta(microseconds=1)
    closed_from = None
    if query.start is not None:
        closed_from = datetime.combine(query.start, time.min, tzinfo=zone)

    trades = [
        _journal_trade(document, zone)
        for document in journal_entries.query_closed_trades(
            user_id, query.account_id, opened_to=opened_to, closed_from=closed_from
        )
    ]
    statistics = compute_statistics(
        trades, start=query.start, end=query.end, account_id=query.account_id
    )
    logger.info(
        "statistics computed",
        extra={"entries_read": len(trades), "trades": statistics.trade_count},
    )
    return statistics_document(statistics, query, zone_name)


def statistics_document(
    statistics: TradeStatistics, query: StatisticsQuery, time_zone: str
) -> dict[str, Any]:
    """Return the response body of GET /statistics, with camelCase names.

    Per-day, per-symbol and per-tag P&L are objects keyed by the ISO date, the symbol
    and the tag, in ascending key order.
    """
    document: dict[str, Any] = {
        "from": None if query.start is None else query.start.isoformat(),
        "to": None if query.end is None else query.end.isoformat(),
        "accountId": query.account_id,
        "timeZone": time_zone,
    }
    for field in fields(statistics):
        value = getattr(statistics, field.name)
        document[to_camel(field.name)] = _json_value(value)
    return document


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, Mapping):
        return {_key(key): _json_value(item) for key, item in value.items()}
    return value


def _key(key: object) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _journal_trade(document: dict[str, Any], zone: tzinfo) -> JournalTrade:
    entry_id = document.get("entryId")
    try:
        trade = trade_records.derive_entry_trade(
            document["instrument"], document["executions"], zone
        )
    except errors.ValidationError as exc:
        # Every stored entry was derived once when it was written, so this is a fault.
        raise errors.InternalError(
            f"stored entry {entry_id} no longer forms a trade: {exc.message}"
        ) from exc
    return JournalTrade(
        trade=trade,
        account_id=str(document["accountId"]),
        tags=frozenset(document.get("tags") or ()),
    )
