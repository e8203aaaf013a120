"""Tests of trade statistics: exact figures, filters, drawdown and expectancy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfmon_api.logic.statistics import (
    NO_LOSSES_REASON,
    NO_TRADES_REASON,
    JournalTrade,
    Outcome,
    TradeStatistics,
    classify,
    compute_statistics,
    max_drawdown,
    select_closed_trades,
)
from pfmon_api.logic.trades import (
    Execution,
    Instrument,
    Side,
    TradeInputError,
    derive_trade,
)

D = Decimal
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def round_trip(
    name: str,
    pnl_per_share: str,
    *,
    closed_at: datetime,
    quantity: str = "1",
    fees: str = "0",
    symbol: str = "AAPL",
    account_id: str = "acct-1",
    tags: Iterable[str] = (),
) -> JournalTrade:
    """Build a closed long trade: buy at 100, sell at 100 + pnl an hour later."""
    entry = Execution(
        f"{name}-b",
        Side.BUY,
        D(quantity),
        D(100),
        closed_at - timedelta(hours=1),
        D(fees),
    )
    exit_price = D(100) + D(pnl_per_share)
    exit_fill = Execution(f"{name}-s", Side.SELL, D(quantity), exit_price, closed_at)
    trade = derive_trade(
        Instrument.stock(symbol), [entry, exit_fill], display_zone=NEW_YORK
    )
    return JournalTrade(trade, account_id, frozenset(tags))


def day(number: int, hour: int = 15) -> datetime:
    """Return 2026-01-<number> at hour:00 UTC, which is 10:00 in New York."""
    return datetime(2026, 1, number, hour, tzinfo=UTC)


def ratio(numerator: int, denominator: int) -> Decimal:
    with localcontext() as context:
        context.prec = 28
        return D(numerator) / D(denominator)


@pytest.fixture
def mixed() -> TradeStatistics:
    # GIVEN a win of 100, a loss of 40, a break-even and a win of 60, in close order
    trades = [
        round_trip("a", "100", closed_at=day(5), tags={"breakout"}),
        round_trip("b", "-40", closed_at=day(6), symbol="MSFT", tags={"breakout"}),
        round_trip("c", "0", closed_at=day(7), tags={"fade"}),
        round_trip("d", "60", closed_at=day(8), symbol="MSFT"),
    ]
    return compute_statistics(trades)


# --- exact figures ------------------------------------------------------------------


def test_counts_by_outcome(mixed: TradeStatistics) -> None:
    assert mixed.trade_count == 4
    assert mixed.win_count == 2
    assert mixed.loss_count == 1
    assert mixed.break_even_count == 1


def test_totals(mixed: TradeStatistics) -> None:
    assert mixed.net_pnl == D(120)
    assert mixed.gross_pnl == D(120)
    assert mixed.fees == 0
    assert mixed.winning_total == D(160)
    assert mixed.losing_total == D(40)


def test_win_rates(mixed: TradeStatistics) -> None:
    assert mixed.win_rate == D("0.5")
    assert mixed.win_rate_excluding_break_even == ratio(2, 3)


def test_averages_and_extremes(mixed: TradeStatistics) -> None:
    assert mixed.average_win == D(80)
    assert mixed.average_loss == D(40)
    assert mixed.largest_win == D(100)
    assert mixed.largest_loss == D(40)


def test_profit_factor_net_basis(mixed: TradeStatistics) -> None:
    assert mixed.profit_factor == D(4)
    assert mixed.profit_factor_reason is None


def test_expectancy_equals_mean(mixed: TradeStatistics) -> None:
    # 0.5 x 80 - 0.25 x 40 = 30 = 120 / 4
    assert mixed.expectancy == D(30)
    assert mixed.average_net_pnl == D(30)


def test_drawdown_of_mixed(mixed: TradeStatistics) -> None:
    # equity 100, 60, 60, 120
    assert mixed.max_drawdown == D(40)


def test_pnl_by_symbol_and_tag(mixed: TradeStatistics) -> None:
    assert dict(mixed.pnl_by_symbol) == {"AAPL": D(100), "MSFT": D(20)}
    assert dict(mixed.pnl_by_tag) == {"breakout": D(60), "fade": D(0)}


def test_pnl_by_day_sorted(mixed: TradeStatistics) -> None:
    assert list(mixed.pnl_by_day.items()) == [
        (date(2026, 1, 5), D(100)),
        (date(2026, 1, 6), D(-40)),
        (date(2026, 1, 7), D(0)),
        (date(2026, 1, 8), D(60)),
    ]


def test_fees_reduce_net_not_gross() -> None:
    stats = compute_statistics(
        [round_trip("a", "2", closed_at=day(5), quantity="100", fees="1.25")]
    )

    assert stats.gross_pnl == D(200)
    assert stats.fees == D("1.25")
    assert stats.net_pnl == D("198.75")


def test_ratios_not_quantized() -> None:
    trades = [
        round_trip("a", "10", closed_at=day(5)),
        round_trip("b", "-3", closed_at=day(6)),
        round_trip("c", "-3", closed_at=day(7)),
        round_trip("d", "-3", closed_at=day(8)),
    ]

    stats = compute_statistics(trades)

    assert stats.profit_factor == ratio(10, 9)
    assert stats.win_rate_excluding_break_even == D("0.25")


# --- break-even, no losses and no trades ---------------------------------------------


def test_break_even_neither_win_nor_loss() -> None:
    # GIVEN buy 10 @ 100 and sell 10 @ 100 without fees
    stats = compute_statistics([round_trip("a", "0", closed_at=day(5), quantity="10")])

    assert stats.break_even_count == 1
    assert stats.win_count == 0
    assert stats.loss_count == 0
    assert stats.win_rate == 0
    assert stats.win_rate_excluding_break_even is None


def test_only_wins_profit_factor_none() -> None:
    trades = [
        round_trip("a", "5", closed_at=day(5)),
        round_trip("b", "7", closed_at=day(6)),
    ]

    stats = compute_statistics(trades)

    assert stats.profit_factor is None
    assert stats.profit_factor_reason == NO_LOSSES_REASON
    assert stats.average_loss is None
    assert stats.largest_loss is None
    assert stats.max_drawdown == 0


def test_only_losses_profit_factor_zero() -> None:
    stats = compute_statistics([round_trip("a", "-5", closed_at=day(5))])

    assert stats.profit_factor == 0
    assert stats.profit_factor_reason is None


def test_no_trades_all_none() -> None:
    stats = compute_statistics([])

    assert stats.trade_count == 0
    assert stats.net_pnl == 0
    assert stats.win_rate is None
    assert stats.average_win is None
    assert stats.expectancy is None
    assert stats.average_net_pnl is None
    assert stats.profit_factor is None
    assert stats.profit_factor_reason == NO_TRADES_REASON
    assert stats.max_drawdown == 0
    assert dict(stats.pnl_by_day) == {}


def test_tolerance_widens_break_even() -> None:
    trades = [
        round_trip("a", "0.50", closed_at=day(5)),
        round_trip("b", "-0.50", closed_at=day(6)),
        round_trip("c", "2", closed_at=day(7)),
    ]

    stats = compute_statistics(trades, break_even_tolerance=D("0.50"))

    assert stats.break_even_count == 2
    assert stats.win_count == 1
    assert stats.profit_factor_reason == NO_LOSSES_REASON


def test_tolerance_rejects_negative() -> None:
    with pytest.raises(TradeInputError) as caught:
        compute_statistics([], break_even_tolerance=D("-0.01"))

    assert caught.value.field == "break_even_tolerance"


def test_tolerance_rejects_float() -> None:
    with pytest.raises(TypeError):
        compute_statistics([], break_even_tolerance=0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pnl", "expected"),
    [
        (D("0.01"), Outcome.WIN),
        (D("-0.01"), Outcome.LOSS),
        (D(0), Outcome.BREAK_EVEN),
        (D("-0"), Outcome.BREAK_EVEN),
    ],
)
def test_classify_exact_zero(pnl: Decimal, expected: Outcome) -> None:
    assert classify(pnl) is expected


# --- drawdown -----------------------------------------------------------------------


def test_drawdown_first_trade_loses() -> None:
    # GIVEN -50, +20, -10: equity -50, -30, -40 below the starting 0
    trades = [
        round_trip("a", "-50", closed_at=day(5)),
        round_trip("b", "20", closed_at=day(6)),
        round_trip("c", "-10", closed_at=day(7)),
    ]

    stats = compute_statistics(trades)

    assert stats.max_drawdown == D(50)


def test_drawdown_ordered_by_close() -> None:
    # GIVEN trades listed out of close order: by close they are +30, -20, -20, +50
    trades = [
        round_trip("d", "50", closed_at=day(8)),
        round_trip("b", "-20", closed_at=day(6)),
        round_trip("a", "30", closed_at=day(5)),
        round_trip("c", "-20", closed_at=day(7)),
    ]

    stats = compute_statistics(trades)

    assert stats.max_drawdown == D(40)


@pytest.mark.parametrize(
    ("pnls", "expected"),
    [
        ([], D(0)),
        ([D(10), D(20)], D(0)),
        ([D(-5)], D(5)),
        ([D(10), D(-5), D(-10), D(30), D(-20)], D(20)),
        ([D("0.1"), D("0.2"), D("-0.3")], D("0.3")),
    ],
)
def test_max_drawdown_cases(pnls: list[Decimal], expected: Decimal) -> None:
    assert max_drawdown(pnls) == expected


def test_daily_drawdown_nets_each_day() -> None:
    # GIVEN +50 and -80 on 5 January, +10 on 6 January
    trades = [
        round_trip("a", "50", closed_at=day(5, 15)),
        round_trip("b", "-80", closed_at=day(5, 16)),
        round_trip("c", "10", closed_at=day(6)),
    ]

    stats = compute_statistics(trades)

    assert stats.max_drawdown == D(80)
    assert stats.max_daily_drawdown == D(30)


# --- calendar days in the display time zone ------------------------------------------


def test_partial_exits_on_own_days() -> None:
    # GIVEN one trade with exits on 5 January and at 23:30 New York time on 6 January
    late_exit = datetime(2026, 1, 6, 23, 30, tzinfo=NEW_YORK)
    trade = derive_trade(
        Instrument.stock("AAPL"),
        [
            Execution("b1", Side.BUY, D(100), D("10.00"), T0, D("1.10")),
            Execution("s1", Side.SELL, D(40), D("11.00"), day(5, 20), D("0.44")),
            Execution("s2", Side.SELL, D(60), D("12.00"), late_exit, D("0.66")),
        ],
        display_zone=NEW_YORK,
    )

    stats = compute_statistics([JournalTrade(trade, "acct-1")])

    assert dict(stats.pnl_by_day) == {
        date(2026, 1, 5): D("39.12"),
        date(2026, 1, 6): D("118.68"),
    }
    assert sum(stats.pnl_by_day.values()) == stats.net_pnl


def test_dst_exit_booked_local_day() -> None:
    # 06:30Z on 8 March 2026 is 01:30 EST, just before the switch to daylight time
    trade = round_trip("a", "5", closed_at=datetime(2026, 3, 8, 6, 30, tzinfo=UTC))

    stats = compute_statistics([trade])

    assert list(stats.pnl_by_day) == [date(2026, 3, 8)]


def test_utc_next_day_stays_local() -> None:
    # 04:30Z on 16 January is 23:30 on 15 January in New York
    trade = round_trip("a", "5", closed_at=datetime(2026, 1, 16, 4, 30, tzinfo=UTC))

    stats = compute_statistics([trade])

    assert list(stats.pnl_by_day) == [date(2026, 1, 15)]


# --- filters ------------------------------------------------------------------------


def test_date_range_inclusive_local() -> None:
    trades = [
        round_trip("a", "1", closed_at=day(5)),
        # 03:00Z on 7 January is 22:00 on 6 January in New York
        round_trip("b", "2", closed_at=day(7, 3)),
        round_trip("c", "4", closed_at=day(7)),
        round_trip("d", "8", closed_at=day(8)),
    ]

    stats = compute_statistics(trades, start=date(2026, 1, 6), end=date(2026, 1, 7))

    assert stats.net_pnl == D(6)
    assert stats.trade_count == 2


def test_open_ended_range() -> None:
    trades = [
        round_trip("a", "1", closed_at=day(5)),
        round_trip("b", "2", closed_at=day(6)),
    ]

    assert compute_statistics(trades, start=date(2026, 1, 6)).net_pnl == D(2)
    assert compute_statistics(trades, end=date(2026, 1, 5)).net_pnl == D(1)


def test_account_filter() -> None:
    trades = [
        round_trip("a", "1", closed_at=day(5), account_id="cash"),
        round_trip("b", "2", closed_at=day(6), account_id="margin"),
    ]

    stats = compute_statistics(trades, account_id="margin")

    assert stats.net_pnl == D(2)
    assert stats.trade_count == 1


def test_open_trades_skipped() -> None:
    open_trade = derive_trade(
        Instrument.stock("AAPL"),
        [
            Execution("b1", Side.BUY, D(10), D(10), T0),
            Execution("s1", Side.SELL, D(5), D(12), day(6)),
        ],
        display_zone=NEW_YORK,
    )
    trades = [
        JournalTrade(open_trade, "acct-1"),
        round_trip("a", "1", closed_at=day(5)),
    ]

    stats = compute_statistics(trades)

    assert stats.trade_count == 1
    assert list(stats.pnl_by_day) == [date(2026, 1, 5)]
    assert len(select_closed_trades(trades)) == 1


def test_range_start_after_end_rejected() -> None:
    with pytest.raises(TradeInputError) as caught:
        compute_statistics([], start=date(2026, 2, 1), end=date(2026, 1, 1))

    assert caught.value.field == "start"


def test_range_rejects_datetime_text() -> None:
    with pytest.raises(TradeInputError) as caught:
        compute_statistics([], start="2026-01-01")  # type: ignore[arg-type]

    assert caught.value.field == "start"


def test_journal_trade_rejects_tag_string() -> None:
    trade = round_trip("a", "1", closed_at=day(5)).trade

    with pytest.raises(TradeInputError) as caught:
        JournalTrade(trade, "acct-1", "breakout")  # type: ignore[arg-type]

    assert caught.value.field == "tags"


def test_journal_trade_rejects_empty_account() -> None:
    trade = round_trip("a", "1", closed_at=day(5)).trade

    with pytest.raises(TradeInputError) as caught:
        JournalTrade(trade, "")

    assert caught.value.field == "account_id"


# --- expectancy over random trades ----------------------------------------------------

# the entry price is 100, so a loss per share is at most 100.00
pnls_in_cents = st.integers(min_value=-10_000, max_value=50_000)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(pnls_in_cents, st.integers(0, 300)), max_size=25))
def test_expectancy_is_mean_net_pnl(drawn: list[tuple[int, int]]) -> None:
    trades = [
        round_trip(
            f"t{index}",
            str(D(cents).scaleb(-2)),
            closed_at=T0 + timedelta(hours=index),
            fees=str(D(fee_cents).scaleb(-2)),
        )
        for index, (cents, fee_cents) in enumerate(drawn)
    ]
    nets = [item.trade.net_pnl for item in trades]

    stats = compute_statistics(trades)

    assert stats.trade_count == len(nets)
    assert stats.win_count + stats.loss_count + stats.break_even_count == len(nets)
    if not nets:
        assert stats.expectancy is None
        return
    with localcontext() as context:
        context.prec = 28
        mean = sum(nets, D(0)) / len(nets)
    assert stats.expectancy == mean
    assert stats.average_net_pnl == mean
    assert sum(stats.pnl_by_day.values(), D(0)) == stats.net_pnl


def test_mistyped_exponent_rejected() -> None:
    # GIVEN a trade netting 1E+250 and one netting 0.01: their sum needs 252 digits
    huge = derive_trade(
        Instrument.stock("AAPL"),
        [
            Execution("b1", Side.BUY, D(1), D("1E+250"), T0),
            Execution("s1", Side.SELL, D(1), D("2E+250"), day(6)),
        ],
        display_zone=NEW_YORK,
    )
    trades = [
        JournalTrade(huge, "acct-1"),
        round_trip("b", "0.01", closed_at=day(7)),
    ]

    with pytest.raises(TradeInputError, match="exponent") as caught:
        compute_statistics(trades)

    assert caught.value.field == "trades"


def test_journal_trade_rejects_empty_tag() -> None:
    trade = round_trip("a", "1", closed_at=day(5)).trade

    with pytest.raises(TradeInputError) as caught:
        JournalTrade(trade, "acct-1", frozenset({""}))

    assert caught.value.field == "tags"
