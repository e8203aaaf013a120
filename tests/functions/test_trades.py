"""Tests of instruments, executions and trade derivation, with exact amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pfmon_api.logic.trades import (
    Direction,
    Execution,
    Instrument,
    InstrumentKind,
    MatchingMethod,
    OptionRight,
    Side,
    Trade,
    TradeCrossesZeroError,
    TradeInputError,
    TradeStatus,
    booking_date,
    derive_trade,
    parse_decimal,
)

D = Decimal
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
AAPL = Instrument.stock("AAPL")


def fill(
    execution_id: str,
    side: str,
    quantity: str,
    price: str,
    *,
    at: datetime = T0,
    fees: str = "0",
) -> Execution:
    return Execution(execution_id, Side(side), D(quantity), D(price), at, D(fees))


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def derive(
    executions: list[Execution],
    instrument: Instrument = AAPL,
    method: MatchingMethod = MatchingMethod.FIFO,
) -> Trade:
    return derive_trade(instrument, executions, display_zone=NEW_YORK, method=method)


def option_contract(
    strike: str = "200", expiry: date = date(2026, 1, 16), right: str = "call"
) -> Instrument:
    return Instrument.option(
        "AAPL260116C00200000",
        underlying="AAPL",
        expiry=expiry,
        strike=D(strike),
        right=right,
    )


def micro_future(month: str = "Z6") -> Instrument:
    return Instrument.future(
        f"MES{month}", root="MES", contract_month=month, point_value=D(5)
    )


# --- exact amounts ------------------------------------------------------------------


def test_long_stock_gross_and_net() -> None:
    # GIVEN buy 100 @ 10.00 (fee 1.00) and sell 100 @ 12.00 (fees 1.25)
    trade = derive(
        [
            fill("b1", "buy", "100", "10.00", fees="1.00"),
            fill("s1", "sell", "100", "12.00", at=later(30), fees="1.25"),
        ]
    )

    assert trade.direction is Direction.LONG
    assert trade.status is TradeStatus.CLOSED
    assert trade.gross_pnl == D("200.00")
    assert trade.net_pnl == D("197.75")
    assert trade.fees == D("2.25")
    assert trade.open_fees == 0
    assert trade.position == 0


def test_short_stock_net_after_fees() -> None:
    trade = derive(
        [
            fill("s1", "sell", "50", "20.00", fees="0.50"),
            fill("b1", "buy", "50", "18.00", at=later(5), fees="0.60"),
        ]
    )

    assert trade.direction is Direction.SHORT
    assert trade.gross_pnl == D("100.00")
    assert trade.net_pnl == D("98.90")


def test_option_multiplier_applied() -> None:
    trade = derive(
        [
            fill("b1", "buy", "2", "1.50", fees="1.00"),
            fill("s1", "sell", "2", "2.25", at=later(5), fees="1.20"),
        ],
        instrument=option_contract(),
    )

    assert trade.multiplier == 100
    assert trade.gross_pnl == D("150.00")
    assert trade.net_pnl == D("147.80")


def test_short_option_expires_worthless() -> None:
    # GIVEN a short put sold at 0.10 and closed at 0.00 on expiry, 0.52 fees in all
    trade = derive(
        [
            fill("s1", "sell", "1", "0.10", fees="0.52"),
            fill("x1", "buy", "1", "0.00", at=later(60 * 24 * 10)),
        ],
        instrument=option_contract(right="put"),
    )

    assert trade.status is TradeStatus.CLOSED
    assert trade.gross_pnl == D("10.00")
    assert trade.net_pnl == D("9.48")


def test_micro_future_point_value() -> None:
    trade = derive(
        [
            fill("b1", "buy", "1", "21000.00"),
            fill("s1", "sell", "1", "21004.00", at=later(5)),
        ],
        instrument=micro_future(),
    )

    assert trade.net_pnl == D("20.00")


def test_partial_exits_each_own_day() -> None:
    # GIVEN buy 100 @ 10.00 and two exits on later days
    trade = derive(
        [
            fill("b1", "buy", "100", "10.00", fees="1.10"),
            fill("s1", "sell", "40", "11.00", at=later(60 * 24), fees="0.44"),
            fill("s2", "sell", "60", "12.00", at=later(60 * 48), fees="0.66"),
        ]
    )
    first, second = trade.exits

    assert first.net_pnl == D("39.12")
    assert second.net_pnl == D("118.68")
    assert trade.net_pnl == D("157.80")
    assert first.entry_fees == D("0.44")
    assert second.entry_fees == D("0.66")
    assert first.realized_on == date(2026, 1, 6)
    assert second.realized_on == date(2026, 1, 7)
    assert trade.closed_on == date(2026, 1, 7)


def test_break_even_trade_nets_zero() -> None:
    trade = derive(
        [
            fill("b1", "buy", "10", "100"),
            fill("s1", "sell", "10", "100", at=later(1)),
        ]
    )

    assert trade.net_pnl == 0
    assert trade.gross_pnl == 0


def test_tenths_add_exactly() -> None:
    # GIVEN entries at 0.1 and 0.2 and an exit of both at 0.15: in binary floating
    # point 0.1 + 0.2 is 0.30000000000000004, in Decimal it is 0.3
    trade = derive(
        [
            fill("b1", "buy", "1", "0.1", fees="0.1"),
            fill("b2", "buy", "1", "0.2", fees="0.2"),
            fill("s1", "sell", "2", "0.15", at=later(1)),
        ]
    )

    assert trade.gross_pnl == 0
    assert trade.fees == D("0.3")
    assert trade.net_pnl == D("-0.3")
    assert trade.entry_cost == D("0.3")


# --- scaling in and out -------------------------------------------------------------


def test_scaled_entries_average_price() -> None:
    trade = derive(
        [
            fill("b1", "buy", "100", "10", fees="1.00"),
            fill("b2", "buy", "50", "13", at=later(1), fees="0.50"),
            fill("s1", "sell", "150", "12", at=later(2), fees="1.50"),
        ]
    )

    assert trade.entry_quantity == 150
    assert trade.average_entry_price == D(11)
    assert trade.average_exit_price == D(12)
    assert trade.gross_pnl == D(150)
    assert trade.net_pnl == D(147)


def test_scale_in_after_partial_exit() -> None:
    # GIVEN buy 100 @ 10, sell 50 @ 11, buy 50 @ 12, sell 100 @ 13 (FIFO)
    trade = derive(
        [
            fill("b1", "buy", "100", "10"),
            fill("s1", "sell", "50", "11", at=later(1)),
            fill("b2", "buy", "50", "12", at=later(2)),
            fill("s2", "sell", "100", "13", at=later(3)),
        ]
    )
    first, second = trade.exits

    assert first.gross_pnl == D(50)
    assert second.gross_pnl == D(200)
    assert [(s.execution_id, s.quantity) for s in second.slices] == [
        ("b1", D(50)),
        ("b2", D(50)),
    ]
    assert second.average_entry_price == D(11)
    assert trade.status is TradeStatus.CLOSED


def test_lifo_attribution_differs_total_same() -> None:
    executions = [
        fill("b1", "buy", "1", "10"),
        fill("b2", "buy", "1", "20", at=later(1)),
        fill("s1", "sell", "1", "25", at=later(2)),
        fill("s2", "sell", "1", "25", at=later(3)),
    ]

    fifo = derive(executions, method=MatchingMethod.FIFO)
    lifo = derive(executions, method=MatchingMethod.LIFO)
    average = derive(executions, method=MatchingMethod.AVERAGE_COST)

    assert [e.gross_pnl for e in fifo.exits] == [D(15), D(5)]
    assert [e.gross_pnl for e in lifo.exits] == [D(5), D(15)]
    assert [e.gross_pnl for e in average.exits] == [D(10), D(10)]
    assert fifo.net_pnl == lifo.net_pnl == average.net_pnl == D(20)


def test_open_trade_keeps_entry_fees() -> None:
    trade = derive(
        [
            fill("b1", "buy", "100", "10.00", fees="1.00"),
            fill("s1", "sell", "25", "11.00", at=later(1), fees="0.30"),
        ]
    )

    assert trade.status is TradeStatus.OPEN
    assert trade.position == D(75)
    assert trade.open_quantity == D(75)
    assert trade.exits[0].entry_fees == D("0.25")
    assert trade.open_fees == D("0.75")
    assert trade.net_pnl == D("24.45")
    assert trade.closed_at is None
    assert trade.closed_on is None


def test_short_position_is_negative() -> None:
    trade = derive([fill("s1", "sell", "3", "50")])

    assert trade.position == D(-3)
    assert trade.average_exit_price is None


def test_fractional_quantity_accepted() -> None:
    trade = derive(
        [
            fill("b1", "buy", "0.125", "40000"),
            fill("s1", "sell", "0.125", "40100", at=later(1)),
        ]
    )

    assert trade.net_pnl == D("12.500")


# --- ordering and flat-to-flat --------------------------------------------------------


def test_executions_sorted_by_time() -> None:
    # GIVEN the exit listed before the entry
    trade = derive(
        [
            fill("s1", "sell", "1", "12", at=later(5)),
            fill("b1", "buy", "1", "10"),
        ]
    )

    assert [e.id for e in trade.executions] == ["b1", "s1"]
    assert trade.direction is Direction.LONG
    assert trade.opened_at == T0


def test_same_time_keeps_given_order() -> None:
    # GIVEN a sell and a buy with the same timestamp, the sell listed first
    trade = derive([fill("s1", "sell", "1", "12"), fill("b1", "buy", "1", "10")])

    assert trade.direction is Direction.SHORT
    assert trade.net_pnl == D(2)


def test_sorting_compares_instants_across_zones() -> None:
    # 10:00 in New York is 15:00 UTC, so the New York fill comes after 14:00 UTC
    new_york_fill = fill(
        "s1", "sell", "1", "12", at=datetime(2026, 1, 5, 10, tzinfo=NEW_YORK)
    )
    utc_fill = fill("b1", "buy", "1", "10", at=datetime(2026, 1, 5, 14, tzinfo=UTC))

    trade = derive([new_york_fill, utc_fill])

    assert trade.direction is Direction.LONG


def test_crossing_zero_rejected() -> None:
    with pytest.raises(TradeCrossesZeroError) as caught:
        derive(
            [
                fill("b1", "buy", "100", "10"),
                fill("s1", "sell", "150", "11", at=later(1)),
            ]
        )

    assert caught.value.field == "quantity"
    assert caught.value.value == D(150)
    assert "sell of 100 that closes this trade" in str(caught.value)
    assert "sell of 50 that opens a new trade" in str(caught.value)


def test_crossing_zero_is_input_error() -> None:
    assert issubclass(TradeCrossesZeroError, TradeInputError)
    assert issubclass(TradeInputError, ValueError)


def test_fill_after_flat_rejected() -> None:
    with pytest.raises(TradeInputError, match="new trade") as caught:
        derive(
            [
                fill("b1", "buy", "1", "10"),
                fill("s1", "sell", "1", "11", at=later(1)),
                fill("b2", "buy", "1", "12", at=later(2)),
            ]
        )

    assert caught.value.value == "b2"


def test_duplicate_execution_id_rejected() -> None:
    with pytest.raises(TradeInputError, match="appears twice") as caught:
        derive([fill("b1", "buy", "1", "10"), fill("b1", "sell", "1", "11")])

    assert caught.value.field == "id"


def test_empty_executions_rejected() -> None:
    with pytest.raises(TradeInputError) as caught:
        derive([])

    assert caught.value.field == "executions"


def test_display_zone_must_be_tzinfo() -> None:
    with pytest.raises(TypeError, match="display_zone"):
        derive_trade(AAPL, [fill("b1", "buy", "1", "10")], display_zone="UTC")  # type: ignore[arg-type]


# --- booking date in the display time zone ------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 06:30Z on the spring-forward day is 01:30 EST, before the 02:00 switch
        (datetime(2026, 3, 8, 6, 30, tzinfo=UTC), date(2026, 3, 8)),
        # 07:30Z is 03:30 EDT, after the switch, still the same day
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), date(2026, 3, 8)),
        # 23:30 EDT on 8 March is already 9 March in UTC
        (datetime(2026, 3, 9, 3, 30, tzinfo=UTC), date(2026, 3, 8)),
        # 23:30 EST on 15 January is 04:30Z on 16 January
        (datetime(2026, 1, 16, 4, 30, tzinfo=UTC), date(2026, 1, 15)),
        # local midnight belongs to the new day, one second before to the old one
        (datetime(2026, 1, 16, 5, 0, tzinfo=UTC), date(2026, 1, 16)),
        (datetime(2026, 1, 16, 4, 59, 59, tzinfo=UTC), date(2026, 1, 15)),
        # 01:30 occurs twice on the fall-back day, both times on 1 November
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 2, 4, 30, tzinfo=UTC), date(2026, 11, 1)),
    ],
)
def test_booking_date_new_york(moment: datetime, expected: date) -> None:
    assert booking_date(moment, NEW_YORK) == expected


def test_booking_date_rejects_naive() -> None:
    with pytest.raises(TradeInputError):
        booking_date(datetime(2026, 1, 5, 12), NEW_YORK)


def test_exit_booked_in_display_zone() -> None:
    # GIVEN an exit at 23:30 New York time, which is the next day in UTC
    exit_time = datetime(2026, 1, 15, 23, 30, tzinfo=NEW_YORK)
    executions = [
        fill("b1", "buy", "1", "10", at=datetime(2026, 1, 15, 15, tzinfo=UTC)),
        fill("s1", "sell", "1", "11", at=exit_time),
    ]

    in_new_york = derive_trade(AAPL, executions, display_zone=NEW_YORK)
    in_utc = derive_trade(AAPL, executions, display_zone=UTC)

    assert in_new_york.closed_on == date(2026, 1, 15)
    assert in_utc.closed_on == date(2026, 1, 16)


# --- R-multiple ---------------------------------------------------------------------


def test_r_multiple_long_stock() -> None:
    # GIVEN entry 94.71, stop 93.37, 55 shares: 1R = 1.34 x 55 = 73.70
    trade = derive(
        [
            fill("b1", "buy", "55", "94.71"),
            fill("s1", "sell", "55", "95.01", at=later(1), fees="0.21"),
        ]
    )

    assert trade.net_pnl == D("16.29")
    assert trade.initial_risk(D("93.37")) == D("73.70")
    assert trade.r_multiple(D("93.37")) == D("0.2210312075983717774762550882")


def test_r_multiple_short_option() -> None:
    # GIVEN a short option sold at 2.00 with its stop at 3.00: 1R = 1.00 x 2 x 100
    trade = derive(
        [
            fill("s1", "sell", "2", "2.00"),
            fill("b1", "buy", "2", "3.00", at=later(1)),
        ],
        instrument=option_contract(),
    )

    assert trade.initial_risk(D("3.00")) == D(200)
    assert trade.r_multiple(D("3.00")) == D(-1)


def test_r_multiple_none_cases() -> None:
    closed = derive(
        [fill("b1", "buy", "1", "10"), fill("s1", "sell", "1", "12", at=later(1))]
    )
    still_open = derive([fill("b1", "buy", "1", "10")])

    assert closed.r_multiple(None) is None
    assert closed.r_multiple(D(10)) is None
    assert still_open.r_multiple(D(9)) is None


def test_r_multiple_rejects_float_stop() -> None:
    trade = derive(
        [fill("b1", "buy", "1", "10"), fill("s1", "sell", "1", "12", at=later(1))]
    )

    with pytest.raises(TypeError):
        trade.r_multiple(9.5)  # type: ignore[arg-type]


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["quantity", "price", "fees"])
def test_execution_rejects_float(field: str) -> None:
    values: dict[str, object] = {"quantity": D(1), "price": D(1), "fees": D(0)}
    values[field] = 1.5

    with pytest.raises(TypeError, match=field):
        Execution("b1", Side.BUY, executed_at=T0, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", D(0)),
        ("quantity", D(-1)),
        ("quantity", D("NaN")),
        ("price", D("-0.01")),
        ("price", D("Infinity")),
        ("fees", D("-1.00")),
    ],
)
def test_execution_rejects_value(field: str, value: Decimal) -> None:
    values = {"quantity": D(1), "price": D(1), "fees": D(0)}
    values[field] = value

    with pytest.raises(TradeInputError) as caught:
        Execution("b1", Side.BUY, executed_at=T0, **values)

    assert caught.value.field == field


def test_execution_price_zero_valid() -> None:
    execution = fill("x1", "buy", "1", "0.00")

    assert execution.price == 0


def test_execution_rejects_naive_time() -> None:
    with pytest.raises(TradeInputError) as caught:
        Execution("b1", Side.BUY, D(1), D(1), datetime(2026, 1, 5, 15))

    assert caught.value.field == "executed_at"


def test_execution_side_from_text() -> None:
    execution = Execution("b1", "sell", D(1), D(1), T0)  # type: ignore[arg-type]

    assert execution.side is Side.SELL


def test_execution_rejects_unknown_side() -> None:
    with pytest.raises(TradeInputError, match="buy, sell") as caught:
        Execution("b1", "short", D(1), D(1), T0)  # type: ignore[arg-type]

    assert caught.value.field == "side"


def test_execution_rejects_blank_id() -> None:
    with pytest.raises(TradeInputError) as caught:
        Execution(" ", Side.BUY, D(1), D(1), T0)

    assert caught.value.field == "id"


def test_stock_rejects_option_fields() -> None:
    with pytest.raises(TradeInputError) as caught:
        Instrument(InstrumentKind.STOCK, "AAPL", D(1), strike=D(200))

    assert caught.value.field == "strike"


def test_stock_rejects_multiplier() -> None:
    with pytest.raises(TradeInputError) as caught:
        Instrument(InstrumentKind.STOCK, "AAPL", D(100))

    assert caught.value.field == "multiplier"


def test_option_defaults_multiplier_100() -> None:
    contract = option_contract()

    assert contract.multiplier == D(100)
    assert contract.right is OptionRight.CALL


def test_option_requires_underlying() -> None:
    with pytest.raises(TradeInputError) as caught:
        Instrument(
            InstrumentKind.OPTION,
            "X",
            D(100),
            expiry=date(2026, 1, 16),
            strike=D(1),
            right=OptionRight.CALL,
        )

    assert caught.value.field == "underlying"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("expiry", {"expiry": datetime(2026, 1, 16, tzinfo=UTC)}),
        ("strike", {"strike": D(0)}),
        ("right", {"right": "straddle"}),
        ("multiplier", {"multiplier": D(0)}),
    ],
)
def test_option_rejects_value(field: str, changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "underlying": "AAPL",
        "expiry": date(2026, 1, 16),
        "strike": D(200),
        "right": "call",
    }
    arguments.update(changes)

    with pytest.raises(TradeInputError) as caught:
        Instrument.option("AAPL260116C00200000", **arguments)  # type: ignore[arg-type]

    assert caught.value.field == field


def test_option_rejects_float_strike() -> None:
    with pytest.raises(TypeError, match="strike"):
        option_contract_with_strike(200.0)


def option_contract_with_strike(strike: object) -> Instrument:
    return Instrument.option(
        "X",
        underlying="AAPL",
        expiry=date(2026, 1, 16),
        strike=strike,  # type: ignore[arg-type]
        right="call",
    )


@pytest.mark.parametrize("month", ["2026-12", "Z6", "Z26", "H7"])
def test_future_accepts_month(month: str) -> None:
    assert micro_future(month).contract_month == month


@pytest.mark.parametrize("month", ["2026-13", "Dec26", "z6", "A6", "", "2026-1"])
def test_future_rejects_month(month: str) -> None:
    with pytest.raises(TradeInputError) as caught:
        micro_future(month)

    assert caught.value.field == "contract_month"


def test_future_requires_positive_point() -> None:
    with pytest.raises(TradeInputError) as caught:
        Instrument.future("MESZ6", root="MES", contract_month="Z6", point_value=D(0))

    assert caught.value.field == "multiplier"


def test_error_names_field_and_value() -> None:
    with pytest.raises(TradeInputError) as caught:
        fill("b1", "buy", "-5", "10")

    assert caught.value.field == "quantity"
    assert caught.value.value == D(-5)
    assert "-5" in str(caught.value)


# --- identity -----------------------------------------------------------------------


def test_option_identity_whole_contract() -> None:
    base = option_contract()

    assert base.identity != option_contract(strike="210").identity
    assert base.identity != option_contract(right="put").identity
    assert base.identity != option_contract(expiry=date(2026, 2, 20)).identity
    assert base.identity != AAPL.identity
    assert "AAPL" in base.identity


def test_option_identity_ignores_strike_zeros() -> None:
    assert option_contract("200.00").identity == option_contract("200").identity


def test_option_identity_includes_multiplier() -> None:
    adjusted = Instrument.option(
        "AAPL1",
        underlying="AAPL",
        expiry=date(2026, 1, 16),
        strike=D(200),
        right="call",
        multiplier=D(150),
    )

    assert adjusted.identity != option_contract().identity


def test_future_identity_per_month() -> None:
    assert micro_future("Z6").identity != micro_future("H7").identity
    assert micro_future("Z6").identity == micro_future("Z6").identity


def test_stock_identity_ignores_case() -> None:
    assert Instrument.stock("aapl").identity == AAPL.identity


# --- parse_decimal ------------------------------------------------------------------


def test_parse_decimal_from_text() -> None:
    assert parse_decimal("-1.000309", "fees") == D("-1.000309")
    assert parse_decimal(3, "quantity") == D(3)


def test_parse_decimal_rejects_float() -> None:
    with pytest.raises(TypeError, match="price"):
        parse_decimal(30.40, "price")  # type: ignore[arg-type]


def test_parse_decimal_rejects_bool() -> None:
    with pytest.raises(TypeError):
        parse_decimal(True, "quantity")


@pytest.mark.parametrize("text", ["abc", "", "NaN", "Infinity", "1,5"])
def test_parse_decimal_rejects_text(text: str) -> None:
    with pytest.raises(TradeInputError) as caught:
        parse_decimal(text, "price")

    assert caught.value.field == "price"


def test_mistyped_exponent_rejected() -> None:
    # GIVEN an entry price of 1E+300: the exit's P&L would need 301 digits
    with pytest.raises(TradeInputError, match="exponent") as caught:
        derive(
            [
                fill("b1", "buy", "1.000001", "1E+300"),
                fill("s1", "sell", "1.000001", "1", at=later(1)),
            ]
        )

    assert caught.value.field == "executions"
