"""GET /statistics through the Lambda handler, against moto's DynamoDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pfmon_api.handlers import statistics
from tests.functions.events import USER_B, LambdaContext, http_event
from tests.functions.journal_requests import (
    LONG_OPTION,
    LONG_STOCK,
    MICRO_FUTURE_LONG,
    PARTIAL_EXITS,
    SHORT_OPTION_EXPIRED,
    SHORT_STOCK,
    STOCK,
    create_account,
    create_entry,
    entry_body,
    error_of,
    fill,
    get_statistics,
    set_time_zone,
)

D = Decimal


@pytest.fixture
def account_id(table_names: dict[str, str]) -> str:
    return create_account()


def stock_trade(
    buy: str, sell: str, opened: str, closed: str, symbol: str = "AAPL"
) -> Any:
    """Return a one-share stock trade without fees from `opened` to `closed`."""
    return (
        {"kind": "stock", "symbol": symbol},
        [fill("buy", 1, buy, opened), fill("sell", 1, sell, closed)],
    )


@pytest.mark.usefixtures("table_names")
class TestStatisticsValues:
    def test_domain_examples_summed(self, account_id: str) -> None:
        trades = [
            LONG_STOCK,
            SHORT_STOCK,
            LONG_OPTION,
            SHORT_OPTION_EXPIRED,
            MICRO_FUTURE_LONG,
            PARTIAL_EXITS,
        ]
        for trade in trades:
            create_entry(entry_body(account_id, trade))

        body = get_statistics().body

        assert body["tradeCount"] == 6
        assert body["winCount"] == 6
        assert body["grossPnl"] == D("640.00")
        assert body["netPnl"] == D("631.73")
        assert body["fees"] == D("8.27")
        assert body["pnlBySymbol"] == {
            "AAPL": D("454.45"),
            "MESZ6": D("20"),
            "SPY260320P00500000": D("157.28"),
        }

    def test_partial_exits_per_day(self, account_id: str) -> None:
        create_entry(entry_body(account_id, PARTIAL_EXITS))

        body = get_statistics().body

        assert body["pnlByDay"] == {
            "2026-01-12": D("39.12"),
            "2026-01-13": D("118.68"),
        }
        assert body["netPnl"] == D("157.80")
        assert body["tradeCount"] == 1

    def test_break_even_neither(self, account_id: str) -> None:
        # GIVEN a win of 2, a loss of 1 and a trade that nets exactly 0 after fees
        create_entry(entry_body(account_id, stock_trade("10", "12", *_day(5))))
        create_entry(entry_body(account_id, stock_trade("10", "9", *_day(6))))
        break_even = (
            STOCK,
            [
                fill("buy", 1, "10.00", "2026-01-07T14:00:00Z", "0.50"),
                fill("sell", 1, "11.00", "2026-01-07T15:00:00Z", "0.50"),
            ],
        )
        create_entry(entry_body(account_id, break_even))

        body = get_statistics().body

        assert body["tradeCount"] == 3
        assert body["winCount"] == 1
        assert body["lossCount"] == 1
        assert body["breakEvenCount"] == 1
        assert body["winRate"] == D(1) / D(3)
        assert body["winRateExcludingBreakEven"] == D("0.5")
        assert body["profitFactor"] == D(2)
        assert body["profitFactorReason"] is None
        assert body["expectancy"] == D(1) / D(3)

    def test_only_wins_profit_factor_null(self, account_id: str) -> None:
        create_entry(entry_body(account_id, LONG_STOCK))
        create_entry(entry_body(account_id, SHORT_STOCK))

        body = get_statistics().body

        assert body["profitFactor"] is None
        assert body["profitFactorReason"] == "no losing trades"
        assert body["lossCount"] == 0
        assert body["averageLoss"] is None
        assert body["largestLoss"] is None

    def test_no_trades_values(self) -> None:
        body = get_statistics().body

        assert body["tradeCount"] == 0
        assert body["netPnl"] == 0
        assert body["winRate"] is None
        assert body["profitFactor"] is None
        assert body["profitFactorReason"] == "no closed trades"
        assert body["expectancy"] is None
        assert body["maxDrawdown"] == 0
        assert body["pnlByDay"] == {}

    def test_max_drawdown_from_zero(self, account_id: str) -> None:
        # GIVEN trades of -50, +20 and -10 in closing order
        create_entry(entry_body(account_id, stock_trade("100", "50", *_day(5))))
        create_entry(entry_body(account_id, stock_trade("100", "120", *_day(6))))
        create_entry(entry_body(account_id, stock_trade("100", "90", *_day(7))))

        body = get_statistics().body

        assert body["maxDrawdown"] == D(50)
        assert body["maxDailyDrawdown"] == D(50)
        assert body["largestLoss"] == D(50)
        assert body["losingTotal"] == D(60)

    def test_open_trade_left_out(self, account_id: str) -> None:
        open_trade = (STOCK, PARTIAL_EXITS[1][:2])
        create_entry(entry_body(account_id, open_trade))
        create_entry(entry_body(account_id, LONG_STOCK))

        body = get_statistics().body

        assert body["tradeCount"] == 1
        assert body["netPnl"] == D("197.75")

    def test_per_tag_counts_each(self, account_id: str) -> None:
        create_entry(entry_body(account_id, LONG_STOCK, tags=["a", "b"]))
        create_entry(entry_body(account_id, SHORT_STOCK, tags=["b"]))
        create_entry(entry_body(account_id, LONG_OPTION))

        body = get_statistics().body

        assert body["pnlByTag"] == {"a": D("197.75"), "b": D("296.65")}

    def test_amounts_are_json_numbers(self, account_id: str) -> None:
        create_entry(entry_body(account_id, LONG_STOCK))

        raw = statistics.handler(http_event("GET", "/statistics"), LambdaContext())

        assert '"netPnl":197.75,' in raw["body"]
        assert '"pnlByDay":{"2026-01-05":197.75}' in raw["body"]


@pytest.mark.usefixtures("table_names")
class TestStatisticsSelection:
    def test_range_by_realization_date(self, account_id: str) -> None:
        # GIVEN trades realized on 5, 6 and 7 January, the first opened in December
        create_entry(
            entry_body(
                account_id,
                stock_trade("10", "11", "2025-12-30T15:00:00Z", "2026-01-05T15:00:00Z"),
            )
        )
        create_entry(entry_body(account_id, stock_trade("10", "12", *_day(6))))
        create_entry(entry_body(account_id, stock_trade("10", "13", *_day(7))))

        body = get_statistics({"from": "2026-01-05", "to": "2026-01-06"}).body

        assert body["tradeCount"] == 2
        assert body["netPnl"] == D(3)
        assert body["from"] == "2026-01-05"
        assert body["to"] == "2026-01-06"

    def test_partial_exit_before_start(self, account_id: str) -> None:
        # The trade closes on 13 January, so both of its exits count.
        create_entry(entry_body(account_id, PARTIAL_EXITS))

        body = get_statistics({"from": "2026-01-13"}).body

        assert body["netPnl"] == D("157.80")
        assert body["pnlByDay"]["2026-01-12"] == D("39.12")

    def test_trade_closed_after_end_left_out(self, account_id: str) -> None:
        create_entry(entry_body(account_id, PARTIAL_EXITS))

        body = get_statistics({"to": "2026-01-12"}).body

        assert body["tradeCount"] == 0

    def test_account_filter(self, account_id: str) -> None:
        other = create_account(name="Options")
        create_entry(entry_body(account_id, LONG_STOCK))
        create_entry(entry_body(other, LONG_OPTION))

        body = get_statistics({"accountId": other}).body

        assert body["tradeCount"] == 1
        assert body["netPnl"] == D("147.80")
        assert body["accountId"] == other

    def test_other_users_trades_excluded(self, account_id: str) -> None:
        create_entry(entry_body(account_id, LONG_STOCK))
        bobs_account = create_account(sub=USER_B)
        create_entry(entry_body(bobs_account, SHORT_STOCK), sub=USER_B)

        body = get_statistics(sub=USER_B).body

        assert body["tradeCount"] == 1
        assert body["netPnl"] == D("98.90")

    def test_other_users_account_empty(self, account_id: str) -> None:
        create_entry(entry_body(account_id, LONG_STOCK))

        body = get_statistics({"accountId": account_id}, sub=USER_B).body

        assert body["tradeCount"] == 0


@pytest.mark.usefixtures("table_names")
class TestStatisticsTimeZone:
    def test_booked_in_profile_zone(self, account_id: str) -> None:
        # GIVEN an exit at 03:30 UTC on 9 March, 23:30 EDT on 8 March
        set_time_zone("America/New_York")
        trade = stock_trade("10", "11", "2026-03-08T15:00:00Z", "2026-03-09T03:30:00Z")
        create_entry(entry_body(account_id, trade))

        body = get_statistics({"from": "2026-03-08", "to": "2026-03-08"}).body

        assert body["tradeCount"] == 1
        assert body["pnlByDay"] == {"2026-03-08": D(1)}
        assert body["timeZone"] == "America/New_York"

    def test_zone_change_rebooks(self, account_id: str) -> None:
        # GIVEN an entry written while the profile's zone was UTC
        trade = stock_trade("10", "11", "2026-01-15T15:00:00Z", "2026-01-16T04:30:00Z")
        create_entry(entry_body(account_id, trade))

        # WHEN the user moves to New York
        set_time_zone("America/New_York")
        body = get_statistics({"to": "2026-01-15"}).body

        # THEN the exit is booked on the New York date
        assert body["pnlByDay"] == {"2026-01-15": D(1)}


@pytest.mark.usefixtures("table_names")
class TestStatisticsQuery:
    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "2026-01-32"}, "from"),
            ({"to": "2026-01-05T00:00:00Z"}, "to"),
            ({"from": "2026-01-06", "to": "2026-01-05"}, "from"),
            ({"accountId": "a/b"}, "accountId"),
            ({"symbol": "AAPL"}, "symbol"),
        ],
    )
    def test_invalid_query_named(self, query: dict[str, str], field: str) -> None:
        result = get_statistics(query)

        assert result.status == 400
        assert error_of(result)["field"] == field


def _day(day: int) -> tuple[str, str]:
    """Return the opening and closing times of a trade on 2026-01-<day>."""
    return f"2026-01-{day:02d}T14:00:00Z", f"2026-01-{day:02d}T15:00:00Z"
