"""The query string of GET /statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pfmon_api import errors
from pfmon_api.models import queries

STATISTICS_PARAMETERS = ("from", "to", "accountId")


@dataclass(frozen=True)
class StatisticsQuery:
    """The query string of GET /statistics.

    `start` and `end` bound the realization date (the booking date of the closing
    exit) in the caller's time zone, both inclusive.
    """

    start: date | None = None
    end: date | None = None
    account_id: str | None = None


def parse_statistics_query(parameters: Mapping[str, str]) -> StatisticsQuery:
    """Validate the query string of GET /statistics, raising `ValidationError`."""
    queries.reject_unknown_parameters(
        parameters, STATISTICS_PARAMETERS, "GET /statistics"
    )
    query = StatisticsQuery(
        start=queries.parse_date(parameters, "from"),
        end=queries.parse_date(parameters, "to"),
        account_id=queries.parse_account_id(parameters, "accountId"),
    )
    if query.start is not None and query.end is not None and query.start > query.end:
        raise errors.ValidationError(
            f"from {query.start} is after to {query.end}: send a from that is not "
            "after to",
            field="from",
        )
    return query
