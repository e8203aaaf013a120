"""Lot matching: the entry quantity, entry cost and entry fees that each exit closes.

FIFO, LIFO and average cost only change how a round trip's realized P&L is split
among its exits. Under every method the exits of a flat-to-flat trade receive, in
sum, exactly the entry quantity, entry cost and entry fees, because a lot's (or the
pool's) last portion receives the remainder instead of a rounded share.

The decimal helpers live here because this is the lowest module of the package:
`trades` and `statistics` use the same contexts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from fractions import Fraction

# Sums, differences and products of amounts run in this context. Its precision is far
# above any price x quantity x multiplier, and Inexact is trapped, so any arithmetic
# that would round raises decimal.Inexact instead of returning a rounded amount.
EXACT_CONTEXT = Context(
    prec=200,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

# Ratios (average prices, rates, R-multiples) are rounded once, half-even, to 28
# significant digits: the default precision of Python's decimal module.
RATIO_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

# A prorated share with more than 20 decimal places (one third of a fee, or 1 / 2**27,
# which terminates only after 27 places) is rounded half-even to 20 places. The last
# portion takes the remainder, so totals stay exact. The cap bounds the digits of every
# share and remainder: a fee below 10**8 needs at most 28 digits, so shares of it add
# up exactly even in Python's default 28-digit context.
ALLOCATION_PLACES = 20


def prorate(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """Return amount x part / whole, rounded half-even to 20 places if it is longer.

    A share with at most 20 decimal places is exact and keeps its natural exponent, so
    1.10 x 40 / 100 is 0.44. A longer share is rounded once from the exact fraction,
    never from an already rounded quotient.
    """
    with localcontext(EXACT_CONTEXT):
        product = amount * part
        try:
            share: Decimal | None = product / whole
        except Inexact:
            share = None
    if share is not None and decimal_places(share) <= ALLOCATION_PLACES:
        return share
    return _round_to_allocation_quantum(Fraction(product) / Fraction(whole))


def decimal_places(number: Decimal) -> int:
    """Return the number of digits after the decimal point of a finite Decimal."""
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{number} is not a finite number")
    return max(0, -exponent)


def _round_to_allocation_quantum(value: Fraction) -> Decimal:
    # round() of a Fraction rounds half to even and returns an exact int.
    units = round(value * 10**ALLOCATION_PLACES)
    with localcontext(EXACT_CONTEXT):
        return Decimal(units).scaleb(-ALLOCATION_PLACES)


def divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """Return numerator / denominator rounded once to 28 significant digits."""
    with localcontext(RATIO_CONTEXT):
        return numerator / denominator


class MatchingMethod(StrEnum):
    """Order in which exits close open entry lots."""

    FIFO = "fifo"
    LIFO = "lifo"
    AVERAGE_COST = "average_cost"


@dataclass(frozen=True)
class Lot:
    """One entry execution as it opens quantity: price per unit and its fees."""

    execution_id: str
    quantity: Decimal
    price: Decimal
    fees: Decimal


@dataclass(frozen=True)
class LotSlice:
    """Part of one entry lot that an exit closed under FIFO or LIFO."""

    execution_id: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class Allocation:
    """Entry side matched to one exit.

    entry_cost is the sum of entry price x quantity over the matched quantity, before
    any multiplier. slices lists the entry lots closed under FIFO and LIFO. It is empty
    under average cost, where an exit closes a share of the pooled position instead.
    """

    quantity: Decimal
    entry_cost: Decimal
    entry_fees: Decimal
    slices: tuple[LotSlice, ...]


@dataclass
class _OpenLot:
    execution_id: str
    price: Decimal
    quantity: Decimal
    fees: Decimal


class PositionBook:
    """Open entry lots of one position, closed by exits in the order of a method.

    The book tracks quantities only. Direction and multiplier belong to the caller.
    """

    def __init__(self, method: MatchingMethod) -> None:
        self._method = MatchingMethod(method)
        self._lots: list[_OpenLot] = []  # oldest first
        self._quantity = Decimal(0)
        self._cost = Decimal(0)
        self._fees = Decimal(0)

    @property
    def method(self) -> MatchingMethod:
        return self._method

    @property
    def open_quantity(self) -> Decimal:
        return self._quantity

    @property
    def open_cost(self) -> Decimal:
        """Sum of entry price x quantity over the open quantity."""
        return self._cost

    @property
    def open_fees(self) -> Decimal:
        """Entry fees not yet attributed to an exit."""
        return self._fees

    def open(self, lot: Lot) -> None:
        """Add an entry lot to the position."""
        if lot.quantity <= 0:
            raise ValueError(
                f"Lot {lot.execution_id!r} has quantity {lot.quantity}. "
                "An entry lot must open a quantity greater than 0."
            )
        with localcontext(EXACT_CONTEXT):
            self._lots.append(
                _OpenLot(lot.execution_id, lot.price, lot.quantity, lot.fees)
            )
            self._quantity += lot.quantity
            self._cost += lot.price * lot.quantity
            self._fees += lot.fees

    def close(self, quantity: Decimal) -> Allocation:
        """Close quantity of the open position and return the entry side it matched.

        Raises ValueError when quantity is not greater than 0 or exceeds the open
        quantity: a caller that allows a fill to cross through zero must split it first.
        """
        if quantity <= 0 or quantity > self._quantity:
            raise ValueError(
                f"Cannot close quantity {quantity} of an open quantity of "
                f"{self._quantity}. Close a quantity greater than 0 and at most "
                "the open quantity."
            )
        with localcontext(EXACT_CONTEXT):
            if self._method is MatchingMethod.AVERAGE_COST:
                allocation = self._close_pooled(quantity)
            else:
                allocation = self._close_lots(quantity)
            self._quantity -= quantity
            self._cost -= allocation.entry_cost
            self._fees -= allocation.entry_fees
        return allocation

    def _close_pooled(self, quantity: Decimal) -> Allocation:
        if quantity == self._quantity:
            cost, fees = self._cost, self._fees
            self._lots.clear()
        else:
            cost = prorate(self._cost, quantity, self._quantity)
            fees = prorate(self._fees, quantity, self._quantity)
        return Allocation(quantity, cost, fees, slices=())

    def _close_lots(self, quantity: Decimal) -> Allocation:
        remaining = quantity
        cost = Decimal(0)
        fees = Decimal(0)
        slices: list[LotSlice] = []
        for lot in self._lots_in_closing_order():
            take = min(remaining, lot.quantity)
            if take == lot.quantity:
                fee_share = lot.fees
            else:
                fee_share = prorate(lot.fees, take, lot.quantity)
            slices.append(LotSlice(lot.execution_id, take, lot.price))
            cost += lot.price * take
            fees += fee_share
            lot.quantity -= take
            lot.fees -= fee_share
            remaining -= take
            if remaining == 0:
                break
        self._lots = [lot for lot in self._lots if lot.quantity > 0]
        return Allocation(quantity, cost, fees, tuple(slices))

    def _lots_in_closing_order(self) -> Iterator[_OpenLot]:
        if self._method is MatchingMethod.FIFO:
            return iter(self._lots)
        return reversed(self._lots)
