"""Date bounds in the query strings of GET /entries and GET /statistics.

A date bound becomes a time in the caller's time zone, and Python's datetime raises
OverflowError for the day after 9999-12-31 or for midnight of 0001-01-01 east of UTC.
So a date outside 1970 to 2099 is rejected with 400 on the parameter, not a 500.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from tests.functions.journal_requests import (
    LONG_STOCK,
    create_account,
    create_entry,
    entry_body,
    error_of,
    get_statistics,
    list_entries,
    set_time_zone,
)

ROUTES = {"GET /entries": list_entries, "GET /statistics": get_statistics}
OUT_OF_RANGE = [
    ("to", "9999-12-31"),
    ("from", "0001-01-01"),
    ("from", "1969-12-31"),
    ("to", "2100-01-01"),
]


@pytest.fixture
def tokyo_user(table_names: dict[str, str]) -> None:
    # East of UTC, midnight of a date is the previous day in UTC.
    set_time_zone("Asia/Tokyo")


@pytest.mark.usefixtures("tokyo_user")
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("name", "value"), OUT_OF_RANGE)
def test_out_of_range_date_400(route: str, name: str, value: str) -> None:
    result = ROUTES[route]({name: value})
    assert result.status == HTTPStatus.BAD_REQUEST
    error = error_of(result)
    assert error["field"] == name
    assert "use a date from 1970-01-01 to 2099-12-31" in error["message"]


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_range_edges_accepted(table_names: dict[str, str], zone: str) -> None:
    # GIVEN a closed trade and a caller east or west of UTC
    set_time_zone(zone)
    create_entry(entry_body(create_account(), LONG_STOCK))
    edges = {"from": "1970-01-01", "to": "2099-12-31"}

    # WHEN both routes get the first and last accepted dates
    entries: Any = list_entries(edges)
    statistics: Any = get_statistics(edges)

    # THEN the whole range selects the trade
    assert entries.status == HTTPStatus.OK
    assert len(entries.body["entries"]) == 1
    assert statistics.status == HTTPStatus.OK
    assert statistics.body["tradeCount"] == 1
