"""Requests to the accounts, entries, statistics and profile handlers for the tests.

Each helper sends one HTTP API event through the family's Lambda handler, as user A
unless `sub` names another user, and returns the parsed response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pfmon_api.handlers import accounts, entries, profile, statistics
from tests.functions.events import USER_A, HttpResult, http_event, invoke

ACCOUNT: dict[str, Any] = {
    "name": "Main margin",
    "broker": "Interactive Brokers",
    "currency": "USD",
    "startingBalance": "25000.00",
    "accountType": "margin",
}

STOCK = {"kind": "stock", "symbol": "AAPL"}
OPTION = {
    "kind": "option",
    "symbol": "SPY260320P00500000",
    "underlying": "SPY",
    "expiry": "2026-03-20",
    "strike": 500,
    "right": "put",
    "multiplier": 100,
}
MICRO_FUTURE = {
    "kind": "future",
    "symbol": "MESZ6",
    "root": "MES",
    "contractMonth": "Z6",
    "pointValue": 5,
}


def fill(
    side: str, quantity: object, price: object, at: str, fees: object = "0"
) -> dict[str, Any]:
    """Return one execution of a request body."""
    return {
        "side": side,
        "quantity": quantity,
        "price": price,
        "executedAt": at,
        "fees": fees,
    }


# The worked examples of the trading domain: instrument, executions, gross, net.
LONG_STOCK = (
    STOCK,
    [
        fill("buy", 100, "10.00", "2026-01-05T14:30:00Z", "1.00"),
        fill("sell", 100, "12.00", "2026-01-05T15:30:00Z", "1.25"),
    ],
)
SHORT_STOCK = (
    STOCK,
    [
        fill("sell", 50, "20.00", "2026-01-06T14:30:00Z", "0.50"),
        fill("buy", 50, "18.00", "2026-01-06T15:00:00Z", "0.60"),
    ],
)
LONG_OPTION = (
    OPTION,
    [
        fill("buy", 2, "1.50", "2026-01-07T14:30:00Z", "1.00"),
        fill("sell", 2, "2.25", "2026-01-07T19:30:00Z", "1.20"),
    ],
)
SHORT_OPTION_EXPIRED = (
    OPTION,
    [
        fill("sell", 1, "0.10", "2026-03-16T14:30:00Z", "0.52"),
        fill("buy", 1, "0.00", "2026-03-20T21:00:00Z", "0"),
    ],
)
MICRO_FUTURE_LONG = (
    MICRO_FUTURE,
    [
        fill("buy", 1, "6000.00", "2026-01-08T14:30:00Z"),
        fill("sell", 1, "6004.00", "2026-01-08T15:30:00Z"),
    ],
)
PARTIAL_EXITS = (
    STOCK,
    [
        fill("buy", 100, "10.00", "2026-01-12T14:30:00Z", "1.10"),
        fill("sell", 40, "11.00", "2026-01-12T20:00:00Z", "0.44"),
        fill("sell", 60, "12.00", "2026-01-13T15:00:00Z", "0.66"),
    ],
)


def entry_body(
    account_id: str,
    trade: tuple[Mapping[str, Any], list[dict[str, Any]]] = LONG_STOCK,
    **fields: Any,
) -> dict[str, Any]:
    """Return a POST /entries body for a trade, with extra journal fields."""
    instrument, executions = trade
    return {
        "accountId": account_id,
        "instrument": dict(instrument),
        "executions": [dict(execution) for execution in executions],
        **fields,
    }


def create_account(sub: str = USER_A, **changes: Any) -> str:
    """Create an account for `sub` and return its id."""
    result = post_account({**ACCOUNT, **changes}, sub=sub)
    assert result.status == 201, result.body
    account_id: str = result.body["accountId"]
    return account_id


def post_account(body: Any, sub: str | None = USER_A) -> HttpResult:
    return invoke(accounts.handler, http_event("POST", "/accounts", sub=sub, body=body))


def account_request(
    method: str,
    account_id: str,
    *,
    suffix: str = "",
    body: Any = None,
    sub: str | None = USER_A,
) -> HttpResult:
    path = f"/accounts/{account_id}{suffix}"
    event = http_event(
        method,
        path,
        sub=sub,
        body=body,
        path_parameters={"accountId": account_id},
        route_key=f"{method} /accounts/{{accountId}}{suffix}",
    )
    return invoke(accounts.handler, event)


def list_accounts(
    query: Mapping[str, str] | None = None, sub: str | None = USER_A
) -> HttpResult:
    event = http_event("GET", "/accounts", sub=sub, query=query)
    return invoke(accounts.handler, event)


def post_entry(body: Any, sub: str | None = USER_A) -> HttpResult:
    return invoke(entries.handler, http_event("POST", "/entries", sub=sub, body=body))


def create_entry(body: Any, sub: str = USER_A) -> dict[str, Any]:
    """Create an entry and return the response body, failing on any other status."""
    result = post_entry(body, sub=sub)
    assert result.status == 201, result.body
    document: dict[str, Any] = result.body
    return document


def entry_request(
    method: str,
    entry_id: str,
    *,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    sub: str | None = USER_A,
) -> HttpResult:
    event = http_event(
        method,
        f"/entries/{entry_id}",
        sub=sub,
        body=body,
        query=query,
        path_parameters={"entryId": entry_id},
        route_key=f"{method} /entries/{{entryId}}",
    )
    return invoke(entries.handler, event)


def list_entries(
    query: Mapping[str, str] | None = None, sub: str | None = USER_A
) -> HttpResult:
    return invoke(entries.handler, http_event("GET", "/entries", sub=sub, query=query))


def get_statistics(
    query: Mapping[str, str] | None = None, sub: str | None = USER_A
) -> HttpResult:
    event = http_event("GET", "/statistics", sub=sub, query=query)
    return invoke(statistics.handler, event)


def set_time_zone(zone: str, sub: str = USER_A) -> None:
    """Create the user's profile and set its time zone."""
    current = invoke(profile.handler, http_event("GET", "/profile", sub=sub)).body
    settings = {
        name: current[name]
        for name in (
            "displayName",
            "baseCurrency",
            "defaultAccountId",
            "preferences",
            "version",
        )
    }
    event = http_event("PUT", "/profile", sub=sub, body={**settings, "timeZone": zone})
    result = invoke(profile.handler, event)
    assert result.status == 200, result.body


def error_of(result: HttpResult) -> dict[str, Any]:
    assert set(result.body) == {"error"}, result.body
    error: dict[str, Any] = result.body["error"]
    return error
