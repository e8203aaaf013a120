"""Tests of lot matching: exact allocations and invariants over random trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pfmon_api.logic.matching import (
    ALLOCATION_PLACES,
    Lot,
    MatchingMethod,
    PositionBook,
    decimal_places,
    divide,
    prorate,
)
from pfmon_api.logic.trades import (
    Execution,
    Instrument,
    Side,
    Trade,
    TradeStatus,
    derive_trade,
)

D = Decimal
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def book_with_two_lots(method: MatchingMethod) -> PositionBook:
    book = PositionBook(method)
    book.open(Lot("b1", D(10), D("10.00"), D("1.00")))
    book.open(Lot("b2", D(10), D("20.00"), D("3.00")))
    return book


# --- exact allocations ------------------------------------------------------------


def test_fifo_closes_oldest_first() -> None:
    book = book_with_two_lots(MatchingMethod.FIFO)

    allocation = book.close(D(15))

    assert allocation.entry_cost == D("200.00")
    assert allocation.entry_fees == D("2.50")
    assert [(s.execution_id, s.quantity) for s in allocation.slices] == [
        ("b1", D(10)),
        ("b2", D(5)),
    ]
    assert book.open_quantity == D(5)
    assert book.open_cost == D("100.00")
    assert book.open_fees == D("1.50")


def test_lifo_closes_newest_first() -> None:
    book = book_with_two_lots(MatchingMethod.LIFO)

    allocation = book.close(D(15))

    assert allocation.entry_cost == D("250.00")
    assert allocation.entry_fees == D("3.50")
    assert [(s.execution_id, s.quantity) for s in allocation.slices] == [
        ("b2", D(10)),
        ("b1", D(5)),
    ]
    assert book.open_fees == D("0.50")


def test_average_cost_closes_pool_share() -> None:
    book = book_with_two_lots(MatchingMethod.AVERAGE_COST)

    allocation = book.close(D(15))

    assert allocation.entry_cost == D("225.00")
    assert allocation.entry_fees == D("3.00")
    assert allocation.slices == ()
    assert book.open_cost == D("75.00")
    assert book.open_fees == D("1.00")


def test_average_cost_after_scale_in() -> None:
    # GIVEN 10 @ 10 (average 10), half closed, then 5 @ 16: the average becomes 13
    book = PositionBook(MatchingMethod.AVERAGE_COST)
    book.open(Lot("b1", D(10), D(10), D(0)))
    book.close(D(5))
    book.open(Lot("b2", D(5), D(16), D(0)))

    allocation = book.close(D(10))

    assert allocation.entry_cost == D(130)
    assert book.open_quantity == 0


@pytest.mark.parametrize("method", list(MatchingMethod))
def test_thirds_keep_fee_total(method: MatchingMethod) -> None:
    # GIVEN one lot of 3 with a 1.00 fee, closed one unit at a time
    book = PositionBook(method)
    book.open(Lot("b1", D(3), D("10"), D("1.00")))

    shares = [book.close(D(1)).entry_fees for _ in range(3)]

    # THEN the first share rounds to 20 places, half of the rest of 0.66...67 has 21
    # places and rounds half-even, and the third share is the remainder
    assert shares[0] == D("0.33333333333333333333")
    assert shares[1] == D("0.33333333333333333334")
    assert shares[2] == D("0.33333333333333333333")
    assert sum(shares) == D("1.00")
    assert book.open_fees == 0


@pytest.mark.parametrize("quantity", [D(0), D(-1), D("20.000001")])
def test_close_rejects_quantity(quantity: Decimal) -> None:
    book = book_with_two_lots(MatchingMethod.FIFO)

    with pytest.raises(ValueError, match="open quantity"):
        book.close(quantity)


def test_open_rejects_empty_lot() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        PositionBook(MatchingMethod.FIFO).open(Lot("b1", D(0), D(1), D(0)))


def test_method_from_text() -> None:
    assert PositionBook("lifo").method is MatchingMethod.LIFO  # type: ignore[arg-type]


def test_prorate_exact_share_keeps_exponent() -> None:
    assert str(prorate(D("1.10"), D(40), D(100))) == "0.44"


def test_prorate_rounds_to_20_places() -> None:
    assert prorate(D(2), D(1), D(3)) == D("0.66666666666666666667")


def test_prorate_rounds_long_exact_share() -> None:
    # 1 / 2**27 = 0.000000007450580596923828125 terminates after 27 decimal places.
    share = prorate(D(1), D(1), D(2**27))

    assert share == D("0.00000000745058059692")
    assert share.as_tuple().exponent == -20


def test_prorate_rounds_exact_tie_even() -> None:
    # 1E-20 / 2 is exactly half a quantum, so it rounds to the even 0.
    assert prorate(D("1E-20"), D(1), D(2)) == 0
    assert prorate(D("3E-20"), D(1), D(2)) == D("2E-20")


def test_divide_rounds_to_28_digits() -> None:
    assert divide(D(1), D(3)) == D("0." + "3" * 28)


# --- invariants over random trades ------------------------------------------------

INSTRUMENTS = (
    Instrument.stock("AAPL"),
    Instrument.option(
        "SPY260320P00500000",
        underlying="SPY",
        expiry=datetime(2026, 3, 20).date(),
        strike=D(500),
        right="put",
    ),
    Instrument.future("MESZ6", root="MES", contract_month="Z6", point_value=D(5)),
    Instrument.future("ESZ6", root="ES", contract_month="2026-12", point_value=D(50)),
)

# quantities in thousandths, prices with up to 4 decimals, fees in cents
UNIT = D("0.001")
quantities = st.integers(min_value=1, max_value=5_000).map(lambda n: n * UNIT)
prices = st.integers(min_value=0, max_value=5_000_000).map(lambda n: n * D("0.0001"))
fees = st.integers(min_value=0, max_value=999).map(lambda n: n * D("0.01"))
# each step: (adds to the position?, quantity, price, fees, minutes after the last)
steps = st.tuples(
    st.booleans(), quantities, prices, fees, st.integers(min_value=0, max_value=2_000)
)


@st.composite
def round_trips(draw: st.DrawFn, *, closed: bool = True) -> list[Execution]:
    """Draw one trade's executions: an entry, adds and exits, and a closing exit.

    With closed=False the closing exit is left out, so the trade stays open.
    """
    entry_side = draw(st.sampled_from(list(Side)))
    exit_side = Side.SELL if entry_side is Side.BUY else Side.BUY
    moment = T0
    position = draw(quantities)
    executions = [
        Execution("e0", entry_side, position, draw(prices), moment, draw(fees))
    ]
    for index, (adds, drawn_quantity, price, fee, minutes) in enumerate(
        draw(st.lists(steps, max_size=10)), start=1
    ):
        moment += timedelta(minutes=minutes)
        quantity = drawn_quantity
        if not adds:
            # an exit before the last one leaves at least one unit open
            quantity = min(drawn_quantity, position - UNIT)
        if quantity <= 0:
            continue
        side = entry_side if adds else exit_side
        executions.append(Execution(f"e{index}", side, quantity, price, moment, fee))
        position += quantity if adds else -quantity
    if closed and position > 0:
        moment += timedelta(minutes=1)
        final = Execution("last", exit_side, position, draw(prices), moment, draw(fees))
        executions.append(final)
    return executions


def derive_all(
    instrument: Instrument, executions: list[Execution]
) -> dict[MatchingMethod, Trade]:
    return {
        method: derive_trade(instrument, executions, display_zone=UTC, method=method)
        for method in MatchingMethod
    }


def signed_cash_flow(instrument: Instrument, executions: list[Execution]) -> Decimal:
    """Sum sells minus buys times the multiplier: a round trip's gross P&L."""
    total = Decimal(0)
    for execution in executions:
        amount = execution.price * execution.quantity * instrument.multiplier
        total += amount if execution.side is Side.SELL else -amount
    return total


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INSTRUMENTS), round_trips())
def test_total_pnl_same_all_methods(
    instrument: Instrument, executions: list[Execution]
) -> None:
    trades = derive_all(instrument, executions)
    fifo = trades[MatchingMethod.FIFO]

    assert fifo.status is TradeStatus.CLOSED
    for trade in trades.values():
        assert trade.gross_pnl == fifo.gross_pnl
        assert trade.net_pnl == fifo.net_pnl
    assert fifo.gross_pnl == signed_cash_flow(instrument, executions)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INSTRUMENTS), round_trips())
def test_fees_attributed_exactly_once(
    instrument: Instrument, executions: list[Execution]
) -> None:
    given_fees = sum((e.fees for e in executions), Decimal(0))

    for trade in derive_all(instrument, executions).values():
        attributed = sum((e.fees for e in trade.exits), Decimal(0))
        assert attributed == given_fees
        assert trade.fees == given_fees
        assert trade.open_fees == 0
        assert trade.gross_pnl - trade.net_pnl == given_fees


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INSTRUMENTS), round_trips())
def test_quantity_conserved(
    instrument: Instrument, executions: list[Execution]
) -> None:
    for method, trade in derive_all(instrument, executions).items():
        matched = sum((e.quantity for e in trade.exits), Decimal(0))
        assert matched == trade.entry_quantity
        assert trade.exit_quantity == trade.entry_quantity
        assert trade.position == 0
        if method is MatchingMethod.AVERAGE_COST:
            continue
        for realized in trade.exits:
            sliced = sum((s.quantity for s in realized.slices), Decimal(0))
            assert sliced == realized.quantity


def fills(*steps: tuple[Side, int, int]) -> list[Execution]:
    """Executions at T0 and price 0 from (side, quantity in UNIT, fees in cents)."""
    return [
        Execution(f"e{index}", side, quantity * UNIT, D(0), T0, cents * D("0.01"))
        for index, (side, quantity, cents) in enumerate(steps)
    ]


BUY, SELL = Side.BUY, Side.SELL


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INSTRUMENTS), round_trips(closed=False))
# Found by hypothesis: under average cost, fee shares and remainders of up to 29
# digits made attributed plus open fees add up to 2.779999999999999999999999999 in a
# 28-digit context, not 2.78.
@example(
    INSTRUMENTS[0],
    fills(
        (BUY, 1158, 240),
        (SELL, 298, 29),
        (BUY, 200, 0),
        (BUY, 221, 0),
        (SELL, 1, 0),
        (SELL, 1, 9),
        (SELL, 1, 0),
    ),
)
def test_open_trade_fees_split(
    instrument: Instrument, executions: list[Execution]
) -> None:
    given_fees = sum((e.fees for e in executions), Decimal(0))

    for trade in derive_all(instrument, executions).values():
        attributed = sum((e.fees for e in trade.exits), Decimal(0))
        assert trade.status is TradeStatus.OPEN
        for realized in trade.exits:
            assert decimal_places(realized.entry_fees) <= ALLOCATION_PLACES
        assert decimal_places(trade.open_fees) <= ALLOCATION_PLACES
        assert attributed + trade.open_fees == given_fees
        assert trade.open_quantity + trade.exit_quantity == trade.entry_quantity
