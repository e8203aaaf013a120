"""The entries routes through the Lambda handler, against moto's DynamoDB."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from pfmon_api import tables
from pfmon_api.data import dynamodb
from pfmon_api.handlers import entries
from pfmon_api.logic import entries as entries_logic
from pfmon_api.models.entries import MAX_EXECUTIONS, MAX_PAGE_SIZE, MAX_TAGS
from tests.functions.events import USER_A, USER_B, LambdaContext, http_event
from tests.functions.journal_requests import (
    ACCOUNT,
    LONG_OPTION,
    LONG_STOCK,
    MICRO_FUTURE,
    MICRO_FUTURE_LONG,
    OPTION,
    PARTIAL_EXITS,
    SHORT_OPTION_EXPIRED,
    SHORT_STOCK,
    STOCK,
    account_request,
    create_account,
    create_entry,
    entry_body,
    entry_request,
    error_of,
    fill,
    get_statistics,
    list_accounts,
    list_entries,
    post_entry,
    set_time_zone,
)

D = Decimal


@pytest.fixture
def entries_table(table_names: dict[str, str]) -> Any:
    """Return the moto JournalEntries table, to read items directly."""
    name = table_names[tables.JOURNAL_ENTRIES.suffix]
    return dynamodb.dynamodb_resource().Table(name)


@pytest.fixture
def account_id(table_names: dict[str, str]) -> str:
    return create_account()


def stored(entries_table: Any, entry_id: str, user_id: str = USER_A) -> Any:
    key = {"userId": user_id, "entryId": entry_id}
    return entries_table.get_item(Key=key).get("Item")


def round_trip_at(day: int, hour: int = 14, symbol: str = "AAPL") -> Any:
    """Return a closed stock trade opened on 2026-02-<day> at <hour>:00 UTC."""
    opened = f"2026-02-{day:02d}T{hour:02d}:00:00Z"
    closed = f"2026-02-{day:02d}T{hour:02d}:30:00Z"
    return (
        {"kind": "stock", "symbol": symbol},
        [fill("buy", 10, "5.00", opened), fill("sell", 10, "5.50", closed)],
    )


def replace_body(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return a PUT body with the trader's fields of a stored entry and changes."""
    executions = [
        {name: value for name, value in execution.items() if name != "executionId"}
        for execution in document["executions"]
    ]
    body = {
        "accountId": document["accountId"],
        "instrument": document["instrument"],
        "executions": executions,
        "notes": document["notes"],
        "tags": document["tags"],
        "version": document["version"],
    }
    return {**body, **changes}


# --- derived values ----------------------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestDerivedValues:
    @pytest.mark.parametrize(
        ("trade", "gross", "net"),
        [
            (LONG_STOCK, "200.00", "197.75"),
            (SHORT_STOCK, "100.00", "98.90"),
            (LONG_OPTION, "150.00", "147.80"),
            (SHORT_OPTION_EXPIRED, "10.00", "9.48"),
            (MICRO_FUTURE_LONG, "20.00", "20.00"),
            (PARTIAL_EXITS, "160.00", "157.80"),
        ],
        ids=["long-stock", "short-stock", "option", "short-option", "mes", "partial"],
    )
    def test_pnl_read_back(
        self, account_id: str, trade: Any, gross: str, net: str
    ) -> None:
        created = create_entry(entry_body(account_id, trade))

        result = entry_request("GET", created["entryId"])

        assert result.status == 200
        assert result.body["grossPnl"] == D(gross)
        assert result.body["netPnl"] == D(net)
        assert result.body["status"] == "closed"
        assert result.body["position"] == 0
        assert result.body == created

    def test_long_stock_fields(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, LONG_STOCK, plannedStop="9.50"))

        assert entry["direction"] == "long"
        assert entry["entryQuantity"] == 100
        assert entry["exitQuantity"] == 100
        assert entry["executionCount"] == 2
        assert entry["averageEntry"] == D("10")
        assert entry["averageExit"] == D("12")
        assert entry["fees"] == D("2.25")
        assert entry["openFees"] == 0
        assert entry["initialRisk"] == D("50")
        assert entry["rMultiple"] == D("3.955")
        assert entry["openedAt"] == "2026-01-05T14:30:00.000Z"
        assert entry["closedAt"] == "2026-01-05T15:30:00.000Z"
        assert entry["closedOn"] == "2026-01-05"
        assert entry["bookingTimeZone"] == "UTC"

    def test_short_stock_direction(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, SHORT_STOCK))

        assert entry["direction"] == "short"
        assert entry["averageEntry"] == D("20")
        assert entry["averageExit"] == D("18")

    def test_option_instrument_stored(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, LONG_OPTION))

        assert entry["instrument"] == {
            "kind": "option",
            "symbol": "SPY260320P00500000",
            "underlying": "SPY",
            "expiry": "2026-03-20",
            "strike": 500,
            "right": "put",
            "multiplier": 100,
        }

    def test_option_multiplier_defaults_100(self, account_id: str) -> None:
        instrument = {k: v for k, v in OPTION.items() if k != "multiplier"}
        trade = (instrument, LONG_OPTION[1])

        entry = create_entry(entry_body(account_id, trade))

        assert entry["instrument"]["multiplier"] == 100
        assert entry["netPnl"] == D("147.80")

    def test_partial_exits_booked_apart(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, PARTIAL_EXITS))

        exits = [(e["bookedOn"], e["netPnl"]) for e in entry["exits"]]
        assert exits == [("2026-01-12", D("39.12")), ("2026-01-13", D("118.68"))]
        assert [e["entryFees"] for e in entry["exits"]] == [D("0.44"), D("0.66")]
        assert [e["executionId"] for e in entry["exits"]] == ["x2", "x3"]
        assert entry["closedOn"] == "2026-01-13"

    def test_open_trade_derived(self, account_id: str) -> None:
        executions = PARTIAL_EXITS[1][:2]

        entry = create_entry(entry_body(account_id, (STOCK, executions)))

        assert entry["status"] == "open"
        assert entry["position"] == 60
        assert entry["netPnl"] == D("39.12")
        assert entry["openFees"] == D("0.66")
        assert entry["closedAt"] is None
        assert entry["closedOn"] is None
        assert entry["rMultiple"] is None

    def test_journal_fields_stored(self, account_id: str) -> None:
        fields = {
            "notes": "Waited for the open.\nGood entry.",
            "tags": ["breakout", "gap"],
            "setup": "Opening range",
            "mistakes": ["late exit"],
            "rating": 4,
            "plannedStop": "9.50",
            "plannedTarget": "13",
        }

        entry = create_entry(entry_body(account_id, **fields))

        for name, value in fields.items():
            expected = D(value) if name.startswith("planned") else value
            assert entry[name] == expected, name

    def test_execution_ids_and_offsets(self, account_id: str) -> None:
        executions = [
            {**fill("buy", 1, "1", "2026-01-05T09:30:00.123456-05:00")},
            {**fill("sell", 1, "2", "2026-01-05T16:00:00+01:00")},
        ]
        executions[0]["brokerExecutionId"] = "0000e0d5.6579a4b1.01.01"

        entry = create_entry(entry_body(account_id, (STOCK, executions)))

        first, second = entry["executions"]
        assert first["executionId"] == "x1"
        assert first["executedAt"] == "2026-01-05T09:30:00.123456-05:00"
        assert first["brokerExecutionId"] == "0000e0d5.6579a4b1.01.01"
        assert second["brokerExecutionId"] is None
        assert entry["openedAt"] == "2026-01-05T14:30:00.123Z"

    def test_amounts_are_json_numbers(self, account_id: str) -> None:
        event = http_event("POST", "/entries", body=entry_body(account_id))

        raw = entries.handler(event, LambdaContext())["body"]

        assert '"netPnl":197.75,' in raw
        assert '"grossPnl":200,' in raw
        assert '"rMultiple":null,' in raw


# --- booking in the profile's time zone ------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestBookingTimeZone:
    @pytest.mark.parametrize(
        ("closed_at", "booked_on"),
        [
            ("2026-03-08T06:30:00Z", "2026-03-08"),
            ("2026-03-09T03:30:00Z", "2026-03-08"),
            ("2026-01-16T04:30:00Z", "2026-01-15"),
            ("2026-01-16T05:00:00Z", "2026-01-16"),
        ],
    )
    def test_new_york_booking_date(
        self, account_id: str, closed_at: str, booked_on: str
    ) -> None:
        set_time_zone("America/New_York")
        executions = [
            fill("buy", 1, "10", "2026-01-02T15:00:00Z"),
            fill("sell", 1, "11", closed_at),
        ]

        entry = create_entry(entry_body(account_id, (STOCK, executions)))

        assert entry["exits"][0]["bookedOn"] == booked_on
        assert entry["closedOn"] == booked_on
        assert entry["bookingTimeZone"] == "America/New_York"

    def test_without_profile_books_utc(self, account_id: str) -> None:
        executions = [
            fill("buy", 1, "10", "2026-01-02T15:00:00Z"),
            fill("sell", 1, "11", "2026-01-16T04:30:00Z"),
        ]

        entry = create_entry(entry_body(account_id, (STOCK, executions)))

        assert entry["closedOn"] == "2026-01-16"
        assert entry["bookingTimeZone"] == "UTC"


# --- request validation --------------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestEntryValidation:
    @pytest.mark.parametrize(
        "field",
        ["netPnl", "grossPnl", "status", "averageEntry", "position", "exits", "fees"],
    )
    def test_derived_field_is_400(
        self, account_id: str, field: str, entries_table: Any
    ) -> None:
        result = post_entry({**entry_body(account_id), field: "1"})

        assert result.status == 400
        assert error_of(result)["field"] == field
        assert "computed by the server" in error_of(result)["message"]
        assert entries_table.scan()["Items"] == []

    @pytest.mark.parametrize("field", ["entryId", "userId", "createdAt", "version"])
    def test_server_field_is_400(self, account_id: str, field: str) -> None:
        result = post_entry({**entry_body(account_id), field: USER_B})

        assert result.status == 400
        assert error_of(result)["field"] == field

    def test_execution_id_is_400(self, account_id: str) -> None:
        body = entry_body(account_id)
        body["executions"][0]["executionId"] = "x9"

        result = post_entry(body)

        assert result.status == 400
        assert error_of(result)["field"] == "executions[0].executionId"

    @pytest.mark.parametrize(
        ("index", "name", "value"),
        [
            (1, "price", "-1"),
            (1, "price", "12.00000000001"),
            (0, "quantity", 0),
            (0, "quantity", True),
            (1, "fees", "-0.01"),
            (0, "side", "short"),
            (0, "executedAt", "2026-01-05T14:30:00"),
            (0, "executedAt", "2026-01-05"),
            (0, "executedAt", "1969-12-31T23:59:59Z"),
            (1, "brokerExecutionId", "x" * 65),
            (1, "venue", "NYSE"),
        ],
    )
    def test_invalid_execution_names_field(
        self, account_id: str, index: int, name: str, value: object
    ) -> None:
        body = entry_body(account_id)
        body["executions"][index][name] = value

        result = post_entry(body)

        assert result.status == 400
        assert error_of(result)["field"] == f"executions[{index}].{name}"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"tags": ["a"] * 2}, "tags[1]"),
            ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, "tags"),
            ({"tags": ["x" * 41]}, "tags[0]"),
            ({"tags": ["tab\there"]}, "tags[0]"),
            ({"mistakes": ["late", "late"]}, "mistakes[1]"),
            ({"rating": 6}, "rating"),
            ({"rating": 0}, "rating"),
            ({"rating": "5"}, "rating"),
            ({"notes": "n" * 10_001}, "notes"),
            ({"notes": "bell\x07"}, "notes"),
            ({"setup": "s" * 81}, "setup"),
            ({"plannedStop": "-1"}, "plannedStop"),
            ({"accountId": "acc/1"}, "accountId"),
            ({"executions": []}, "executions"),
        ],
    )
    def test_invalid_field_named(
        self, account_id: str, changes: dict[str, Any], field: str
    ) -> None:
        result = post_entry({**entry_body(account_id), **changes})

        assert result.status == 400
        assert error_of(result)["field"] == field

    def test_too_many_executions(self, account_id: str) -> None:
        executions = [
            fill("buy", 1, "1", f"2026-01-05T14:{i // 60:02d}:{i % 60:02d}Z")
            for i in range(MAX_EXECUTIONS + 1)
        ]
        body = {**entry_body(account_id), "executions": executions}

        result = post_entry(body)

        assert result.status == 400
        assert error_of(result)["field"] == "executions"

    def test_duplicate_broker_id(self, account_id: str) -> None:
        body = entry_body(account_id)
        for execution in body["executions"]:
            execution["brokerExecutionId"] = "E1"

        result = post_entry(body)

        assert result.status == 400
        assert error_of(result)["field"] == "executions[1].brokerExecutionId"

    @pytest.mark.parametrize(
        ("instrument", "field"),
        [
            ({**STOCK, "strike": 10}, "instrument.strike"),
            ({**STOCK, "pointValue": 5}, "instrument.pointValue"),
            ({k: v for k, v in OPTION.items() if k != "strike"}, "instrument.strike"),
            ({k: v for k, v in OPTION.items() if k != "expiry"}, "instrument.expiry"),
            ({**OPTION, "expiry": "2026-02-30"}, "instrument.expiry"),
            ({**OPTION, "right": "straddle"}, "instrument.right"),
            ({**OPTION, "root": "SPY"}, "instrument.root"),
            (
                {k: v for k, v in MICRO_FUTURE.items() if k != "pointValue"},
                "instrument.pointValue",
            ),
            ({**MICRO_FUTURE, "contractMonth": "2026-13"}, "instrument.contractMonth"),
            ({**MICRO_FUTURE, "multiplier": 5}, "instrument.multiplier"),
            ({**STOCK, "kind": "bond"}, "instrument.kind"),
            ({**STOCK, "symbol": " AAPL"}, "instrument.symbol"),
            ({**STOCK, "symbol": "S" * 41}, "instrument.symbol"),
        ],
    )
    def test_invalid_instrument_named(
        self, account_id: str, instrument: dict[str, Any], field: str
    ) -> None:
        body = {**entry_body(account_id), "instrument": instrument}

        result = post_entry(body)

        assert result.status == 400
        assert error_of(result)["field"] == field

    def test_exit_crossing_zero_named(self, account_id: str) -> None:
        executions = [
            fill("buy", 100, "10", "2026-01-05T14:30:00Z"),
            fill("sell", 150, "11", "2026-01-05T15:30:00Z"),
        ]

        result = post_entry(entry_body(account_id, (STOCK, executions)))

        assert result.status == 400
        assert error_of(result)["field"] == "executions[1].quantity"
        assert "crosses through zero" in error_of(result)["message"]

    def test_fill_after_flat_named(self, account_id: str) -> None:
        # Given out of time order, so the request index differs from the time order.
        executions = [
            fill("buy", 5, "10", "2026-01-05T16:00:00Z"),
            fill("buy", 5, "10", "2026-01-05T14:30:00Z"),
            fill("sell", 5, "11", "2026-01-05T15:00:00Z"),
        ]

        result = post_entry(entry_body(account_id, (STOCK, executions)))

        assert result.status == 400
        assert error_of(result)["field"] == "executions[0]"

    def test_unstorable_amount_is_400(self, account_id: str) -> None:
        executions = [
            fill(
                "buy",
                "999999999999.9999999999",
                "999999999999.9999999999",
                "2026-01-05T14:30:00Z",
            ),
            fill(
                "sell",
                "999999999999.9999999999",
                "0.0000000001",
                "2026-01-05T15:30:00Z",
            ),
        ]

        result = post_entry(entry_body(account_id, (STOCK, executions)))

        assert result.status == 400
        assert error_of(result)["field"] == "executions"

    def test_body_over_64_kib_is_413(self, account_id: str) -> None:
        result = post_entry({**entry_body(account_id), "notes": "n" * 70_000})

        assert result.status == 413


# --- accounts of entries ---------------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestEntryAccount:
    def test_unknown_account_is_404(self, entries_table: Any) -> None:
        result = post_entry(entry_body("no-such-account"))

        assert result.status == 404
        assert error_of(result)["field"] == "accountId"
        assert entries_table.scan()["Items"] == []

    def test_other_users_account_is_404(self) -> None:
        bobs_account = create_account(sub=USER_B)

        result = post_entry(entry_body(bobs_account))

        assert result.status == 404
        assert error_of(result)["field"] == "accountId"

    def test_archived_account_is_409(self, account_id: str, entries_table: Any) -> None:
        account_request("POST", account_id, suffix="/archive")

        result = post_entry(entry_body(account_id))

        assert result.status == 409
        assert error_of(result)["field"] == "accountId"
        assert entries_table.scan()["Items"] == []

    def test_move_into_archived_is_409(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))
        archived = create_account(name="Old")
        account_request("POST", archived, suffix="/archive")

        result = entry_request(
            "PUT", entry["entryId"], body=replace_body(entry, accountId=archived)
        )

        assert result.status == 409
        assert entry_request("GET", entry["entryId"]).body == entry

    def test_entry_in_archived_editable(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))
        account_request("POST", account_id, suffix="/archive")

        result = entry_request(
            "PUT", entry["entryId"], body=replace_body(entry, notes="Reviewed")
        )

        assert result.status == 200
        assert result.body["notes"] == "Reviewed"


# --- replace and delete ---------------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestReplaceEntry:
    def test_put_recomputes_derived(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, LONG_STOCK))
        executions = replace_body(entry)["executions"]
        executions[1]["price"] = "11.00"

        result = entry_request(
            "PUT", entry["entryId"], body=replace_body(entry, executions=executions)
        )

        assert result.status == 200
        assert result.body["grossPnl"] == D("100")
        assert result.body["netPnl"] == D("97.75")
        assert result.body["version"] == 2
        assert result.body["createdAt"] == entry["createdAt"]
        assert entry_request("GET", entry["entryId"]).body == result.body

    def test_put_clears_omitted_fields(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, rating=5, setup="Gap"))

        result = entry_request("PUT", entry["entryId"], body=replace_body(entry))

        assert result.body["rating"] is None
        assert result.body["setup"] is None

    def test_stale_version_is_409(self, account_id: str, entries_table: Any) -> None:
        # GIVEN the entry was replaced once, so it is at version 2
        entry = create_entry(entry_body(account_id))
        entry_request("PUT", entry["entryId"], body=replace_body(entry, notes="v2"))
        before = stored(entries_table, entry["entryId"])

        # WHEN a client that read version 1 writes
        result = entry_request(
            "PUT", entry["entryId"], body=replace_body(entry, notes="stale")
        )

        # THEN the write is rejected and the item is unchanged
        assert result.status == 409
        assert error_of(result)["field"] == "version"
        assert stored(entries_table, entry["entryId"]) == before

    def test_lost_race_is_409(
        self, account_id: str, entries_table: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # GIVEN another request replaces the entry after this request read it
        entry = create_entry(entry_body(account_id))
        real_get = entries_logic.journal_entries.get_entry

        def get_then_race(user_id: str, entry_id: str) -> Any:
            document = real_get(user_id, entry_id)
            entries_table.update_item(
                Key={"userId": user_id, "entryId": entry_id},
                UpdateExpression="SET version = :two",
                ExpressionAttributeValues={":two": 2},
            )
            return document

        monkeypatch.setattr(entries_logic.journal_entries, "get_entry", get_then_race)

        # WHEN this request writes with the version it read
        result = entry_request(
            "PUT", entry["entryId"], body=replace_body(entry, notes="late")
        )

        # THEN the conditional write fails
        assert result.status == 409
        assert stored(entries_table, entry["entryId"])["notes"] == ""

    def test_unknown_entry_is_404(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))
        body = replace_body(entry)

        result = entry_request(
            "PUT", "0" * 8 + "-0000-4000-8000-" + "0" * 12, body=body
        )

        assert result.status == 404


@pytest.mark.usefixtures("table_names")
class TestDeleteEntry:
    def test_delete_then_get_404(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))

        result = entry_request("DELETE", entry["entryId"])

        assert result.status == 204
        assert result.body is None
        assert entry_request("GET", entry["entryId"]).status == 404

    def test_delete_with_version(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))

        result = entry_request("DELETE", entry["entryId"], query={"version": "1"})

        assert result.status == 204

    def test_stale_delete_is_409(self, account_id: str, entries_table: Any) -> None:
        entry = create_entry(entry_body(account_id))

        result = entry_request("DELETE", entry["entryId"], query={"version": "2"})

        assert result.status == 409
        assert stored(entries_table, entry["entryId"]) is not None

    def test_delete_twice_is_404(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id))
        entry_request("DELETE", entry["entryId"])

        result = entry_request("DELETE", entry["entryId"])

        assert result.status == 404

    @pytest.mark.parametrize("query", [{"version": "0"}, {"version": "x"}, {"v": "1"}])
    def test_invalid_delete_query(self, account_id: str, query: dict[str, str]) -> None:
        entry = create_entry(entry_body(account_id))

        result = entry_request("DELETE", entry["entryId"], query=query)

        assert result.status == 400
        assert error_of(result)["field"] == next(iter(query))


# --- isolation between users ----------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestOtherUsersEntry:
    @pytest.fixture
    def alices_entry(self, account_id: str) -> dict[str, Any]:
        return create_entry(entry_body(account_id, tags=["private"]))

    def test_get_is_404(self, alices_entry: dict[str, Any]) -> None:
        result = entry_request("GET", alices_entry["entryId"], sub=USER_B)

        assert result.status == 404
        assert error_of(result)["code"] == "NotFound"

    def test_put_is_404_unchanged(
        self, alices_entry: dict[str, Any], entries_table: Any
    ) -> None:
        bobs_account = create_account(sub=USER_B)
        before = stored(entries_table, alices_entry["entryId"])
        body = replace_body(alices_entry, accountId=bobs_account, notes="mine now")

        result = entry_request("PUT", alices_entry["entryId"], body=body, sub=USER_B)

        assert result.status == 404
        assert stored(entries_table, alices_entry["entryId"]) == before
        assert stored(entries_table, alices_entry["entryId"], USER_B) is None

    def test_delete_is_404_unchanged(
        self, alices_entry: dict[str, Any], entries_table: Any
    ) -> None:
        before = stored(entries_table, alices_entry["entryId"])

        result = entry_request("DELETE", alices_entry["entryId"], sub=USER_B)

        assert result.status == 404
        assert stored(entries_table, alices_entry["entryId"]) == before

    def test_list_never_contains_it(self, alices_entry: dict[str, Any]) -> None:
        queries = [{}, {"symbol": "AAPL"}, {"tag": "private"}]

        for query in queries:
            result = list_entries(query, sub=USER_B)
            assert result.body == {"entries": [], "nextCursor": None}, query

    def test_forged_cursor_rejected(self, account_id: str) -> None:
        # GIVEN A has three entries, so A's first page of one has a cursor
        for day in (2, 3, 4):
            create_entry(entry_body(account_id, round_trip_at(day)))
        cursor = list_entries({"limit": "1"}).body["nextCursor"]
        key = json.loads(base64.urlsafe_b64decode(cursor + "=="))

        # WHEN B sends A's cursor, and a cursor B rebuilt around A's key
        forged = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
        results = [
            list_entries({"limit": "1", "cursor": cursor}, sub=USER_B),
            list_entries({"limit": "1", "cursor": forged}, sub=USER_B),
        ]

        # THEN both are rejected, and B receives none of A's entries
        for result in results:
            assert result.status == 400
            assert error_of(result)["field"] == "cursor"


# --- listing --------------------------------------------------------------------


@pytest.mark.usefixtures("table_names")
class TestListEntries:
    def test_pages_newest_first(self, account_id: str) -> None:
        # GIVEN seven entries opened on seven days, created in shuffled order
        created = {}
        for day in (5, 2, 7, 1, 4, 6, 3):
            created[day] = create_entry(entry_body(account_id, round_trip_at(day)))

        # WHEN the caller pages through them three at a time
        pages = []
        cursor = None
        while True:
            query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
            result = list_entries(query)
            assert result.status == 200
            pages.append([entry["entryId"] for entry in result.body["entries"]])
            cursor = result.body["nextCursor"]
            if cursor is None:
                break

        # THEN every entry appears once, newest first, with no empty last page
        expected = [created[day]["entryId"] for day in (7, 6, 5, 4, 3, 2, 1)]
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [entry_id for page in pages for entry_id in page] == expected

    def test_exact_page_has_no_cursor(self, account_id: str) -> None:
        for day in (1, 2, 3):
            create_entry(entry_body(account_id, round_trip_at(day)))

        result = list_entries({"limit": "3"})

        assert len(result.body["entries"]) == 3
        assert result.body["nextCursor"] is None

    def test_default_limit_is_50(self, account_id: str, entries_table: Any) -> None:
        template = create_entry(entry_body(account_id))
        item = stored(entries_table, template["entryId"])
        with entries_table.batch_writer() as batch:
            for index in range(59):
                entry_id = f"00000000-0000-4000-8000-{index:012d}"
                batch.put_item(
                    Item={
                        **item,
                        "entryId": entry_id,
                        "openedAtKey": f"2025-01-01T00:00:00.000Z#{entry_id}",
                    }
                )

        result = list_entries()

        assert len(result.body["entries"]) == 50
        assert result.body["nextCursor"] is not None

    def test_listed_entry_is_summary(self, account_id: str) -> None:
        entry = create_entry(entry_body(account_id, PARTIAL_EXITS, tags=["scalp"]))

        listed = list_entries().body["entries"][0]

        assert "executions" not in listed
        assert "exits" not in listed
        assert listed["netPnl"] == D("157.80")
        assert listed["executionCount"] == 3
        assert listed == {
            name: value
            for name, value in entry.items()
            if name not in {"executions", "exits"}
        }

    def test_date_range_filter(self, account_id: str) -> None:
        ids = {
            day: create_entry(entry_body(account_id, round_trip_at(day)))["entryId"]
            for day in (1, 2, 3, 4)
        }

        result = list_entries({"from": "2026-02-02", "to": "2026-02-03"})

        assert [e["entryId"] for e in result.body["entries"]] == [ids[3], ids[2]]

    def test_datetime_range_filter(self, account_id: str) -> None:
        ids = {
            hour: create_entry(entry_body(account_id, round_trip_at(2, hour)))[
                "entryId"
            ]
            for hour in (13, 14, 15)
        }

        result = list_entries(
            {"from": "2026-02-02T14:00:00Z", "to": "2026-02-02T10:00:00-05:00"}
        )

        # 10:00 at -05:00 is 15:00 UTC, and both bounds are inclusive.
        assert [e["entryId"] for e in result.body["entries"]] == [ids[15], ids[14]]

    def test_date_filter_in_profile_zone(self, account_id: str) -> None:
        # GIVEN a trade opened at 03:00 UTC on 3 February, 22:00 on 2 February in
        # New York
        set_time_zone("America/New_York")
        late = create_entry(entry_body(account_id, round_trip_at(3, hour=3)))
        create_entry(entry_body(account_id, round_trip_at(3, hour=14)))

        result = list_entries({"from": "2026-02-02", "to": "2026-02-02"})

        assert [e["entryId"] for e in result.body["entries"]] == [late["entryId"]]

    def test_symbol_filter(self, account_id: str) -> None:
        aapl = create_entry(entry_body(account_id, round_trip_at(1, symbol="AAPL")))
        create_entry(entry_body(account_id, round_trip_at(2, symbol="MSFT")))

        result = list_entries({"symbol": "aapl"})

        assert [e["entryId"] for e in result.body["entries"]] == [aapl["entryId"]]

    def test_account_filter(self, account_id: str) -> None:
        other = create_account(name="Futures")
        create_entry(entry_body(account_id, round_trip_at(1)))
        in_other = create_entry(entry_body(other, round_trip_at(2)))

        result = list_entries({"accountId": other})

        assert [e["entryId"] for e in result.body["entries"]] == [in_other["entryId"]]

    def test_account_and_symbol_filter(self, account_id: str) -> None:
        other = create_account(name="Futures")
        wanted = create_entry(entry_body(other, round_trip_at(1, symbol="MSFT")))
        create_entry(entry_body(other, round_trip_at(2, symbol="AAPL")))
        create_entry(entry_body(account_id, round_trip_at(3, symbol="MSFT")))

        result = list_entries({"accountId": other, "symbol": "MSFT"})

        assert [e["entryId"] for e in result.body["entries"]] == [wanted["entryId"]]

    def test_tag_filter_short_pages(self, account_id: str) -> None:
        # GIVEN tagged entries on days 1 and 4, untagged ones on days 2, 3 and 5
        tagged = {}
        for day in (1, 2, 3, 4, 5):
            tags = ["a+"] if day in (1, 4) else ["other"]
            entry = create_entry(entry_body(account_id, round_trip_at(day), tags=tags))
            tagged[day] = entry["entryId"]

        # WHEN the caller pages with limit 2 and the tag filter
        pages = []
        cursor = None
        while True:
            query = {"limit": "2", "tag": "a+"} | ({"cursor": cursor} if cursor else {})
            body = list_entries(query).body
            pages.append([entry["entryId"] for entry in body["entries"]])
            cursor = body["nextCursor"]
            if cursor is None:
                break

        # THEN a page can hold fewer entries than the limit, and the cursor continues
        assert [entry_id for page in pages for entry_id in page] == [
            tagged[4],
            tagged[1],
        ]
        assert any(len(page) < 2 for page in pages[:-1])

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"limit": str(MAX_PAGE_SIZE + 1)}, "limit"),
            ({"limit": "0"}, "limit"),
            ({"limit": "-1"}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"cursor": "not-a-cursor"}, "cursor"),
            ({"cursor": "e30"}, "cursor"),
            ({"from": "2026-13-01"}, "from"),
            ({"to": "2026-02-01T10:00:00"}, "to"),
            ({"from": "2026-02-03", "to": "2026-02-02"}, "from"),
            ({"symbol": "x" * 41}, "symbol"),
            ({"accountId": "a/b"}, "accountId"),
            ({"userId": USER_B}, "userId"),
        ],
    )
    def test_invalid_query_named(
        self, account_id: str, query: dict[str, str], field: str
    ) -> None:
        result = list_entries(query)

        assert result.status == 400
        assert error_of(result)["field"] == field

    def test_limit_over_max_message(self) -> None:
        result = list_entries({"limit": "500"})

        assert "200" in error_of(result)["message"]

    def test_cursor_of_other_filter_rejected(self, account_id: str) -> None:
        for day in (1, 2, 3):
            create_entry(entry_body(account_id, round_trip_at(day)))
        cursor = list_entries({"limit": "1"}).body["nextCursor"]

        result = list_entries({"limit": "1", "cursor": cursor, "symbol": "AAPL"})

        assert result.status == 400
        assert error_of(result)["field"] == "cursor"

    def test_cursor_outside_range_rejected(self, account_id: str) -> None:
        for day in (1, 2, 3):
            create_entry(entry_body(account_id, round_trip_at(day)))
        cursor = list_entries({"limit": "1"}).body["nextCursor"]

        result = list_entries({"limit": "1", "cursor": cursor, "to": "2026-02-01"})

        assert result.status == 400
        assert error_of(result)["field"] == "cursor"


# --- DynamoDB requests ------------------------------------------------------------


@pytest.fixture
def dynamodb_requests() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Record the operation name and parameters of every DynamoDB call."""
    requests: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        requests.append((model.name, json.loads(params["body"])))

    events = dynamodb.dynamodb_resource().meta.client.meta.events
    events.register("before-call.dynamodb", record, unique_id="record-requests")
    try:
        yield requests
    finally:
        events.unregister("before-call.dynamodb", unique_id="record-requests")


@pytest.mark.usefixtures("table_names")
def test_list_query_request(
    account_id: str, dynamodb_requests: list[tuple[str, dict[str, Any]]]
) -> None:
    create_entry(entry_body(account_id, round_trip_at(1)))
    dynamodb_requests.clear()

    list_entries({"limit": "3", "symbol": "aapl"})

    ((operation, request),) = dynamodb_requests
    assert operation == "Query"
    assert request["IndexName"] == "bySymbol"
    # One item more than the page shows whether another page follows.
    assert request["Limit"] == 4
    assert request["ScanIndexForward"] is False
    assert request["ExpressionAttributeValues"][":v0"] == {"S": f"{USER_A}#AAPL"}


@pytest.mark.usefixtures("table_names")
def test_no_request_scans(
    dynamodb_requests: list[tuple[str, dict[str, Any]]],
) -> None:
    # GIVEN the recorder is on for a full session of every route of three families
    set_time_zone("Europe/Berlin")
    account_id = create_account()
    account_request("PUT", account_id, body={**ACCOUNT, "version": 1})
    second = create_account(name="Second")
    entry = create_entry(entry_body(account_id, PARTIAL_EXITS, tags=["t"]))
    create_entry(entry_body(second, LONG_OPTION))
    entry_request("GET", entry["entryId"])
    entry_request("PUT", entry["entryId"], body=replace_body(entry, notes="n"))
    for query in (
        {},
        {"limit": "1"},
        {"symbol": "AAPL"},
        {"accountId": second},
        {"accountId": account_id, "symbol": "AAPL", "tag": "t"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ):
        assert list_entries(query).status == 200
    for query in ({}, {"accountId": second}, {"from": "2026-01-12"}):
        assert get_statistics(query).status == 200
    list_accounts({"includeArchived": "true"})
    account_request("POST", second, suffix="/archive")
    entry_request("DELETE", entry["entryId"])

    # THEN every call was a key read, a key write or a Query
    operations = {operation for operation, _ in dynamodb_requests}
    assert "Scan" not in operations
    assert operations == {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"}
