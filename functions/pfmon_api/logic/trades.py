"""Instruments, executions and the round trip (trade) derived from a trade's executions.

A trade runs from flat to flat on one instrument. Its executions, sorted by time,
open a position in the direction of the first execution, may add to it or reduce it,
and close it when the position returns to zero. Each exit realizes

    (exit price - matched entry price) x quantity x multiplier x direction - fees

where direction is +1 for long and -1 for short, the matched entry comes from the
chosen `MatchingMethod`, entry fees are prorated by quantity into the exits that close
them, and each exit's own fees belong to that exit.

Every amount is a `Decimal`. A float argument raises TypeError, because a float
cannot represent most decimal prices exactly. Invalid values raise `TradeInputError`,
a ValueError that names the field and the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from enum import Enum, StrEnum
from typing import TypeVar

from pfmon_api.logic.matching import (
    EXACT_CONTEXT,
    Allocation,
    Lot,
    LotSlice,
    MatchingMethod,
    PositionBook,
    divide,
)

__all__ = [
    "Direction",
    "Execution",
    "Instrument",
    "InstrumentKind",
    "MatchingMethod",
    "OptionRight",
    "RealizedExit",
    "Side",
    "Trade",
    "TradeCrossesZeroError",
    "TradeInputError",
    "TradeStatus",
    "booking_date",
    "derive_trade",
    "parse_decimal",
    "require_decimal",
]

DEFAULT_OPTION_MULTIPLIER = Decimal(100)

# "2026-12" or a month code letter with a one- or two-digit year, such as "Z6" or "Z26".
_CONTRACT_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])|[FGHJKMNQUVXZ][0-9]{1,2}")


class TradeInputError(ValueError):
    """Invalid trade input: `field` names the input, `value` is the rejected value.

    `execution_id` names the execution the error is about, or is None when the error
    is about the instrument or the trade as a whole.
    """

    def __init__(
        self,
        field: str,
        value: object,
        message: str,
        *,
        execution_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.execution_id = execution_id


class TradeCrossesZeroError(TradeInputError):
    """An execution would take the position through zero within one trade."""


class InstrumentKind(StrEnum):
    STOCK = "stock"
    OPTION = "option"
    FUTURE = "future"


class OptionRight(StrEnum):
    CALL = "call"
    PUT = "put"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1


class TradeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def parse_decimal(value: str | int | Decimal, field: str) -> Decimal:
    """Convert a string, int or Decimal to a finite Decimal.

    Raises TypeError for a float or bool, and TradeInputError naming `field` for text
    that is not a decimal number or for NaN and infinity.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(_decimal_type_message(field, value))
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise TradeInputError(
            field, value, f"Invalid {field} {value!r}. Expected a decimal number."
        ) from None
    return require_decimal(number, field)


def require_decimal(value: object, field: str) -> Decimal:
    """Check that value is a finite Decimal and return it.

    Raises TypeError for any other type, floats included, and TradeInputError naming
    `field` for NaN and infinity.
    """
    if not isinstance(value, Decimal):
        raise TypeError(_decimal_type_message(field, value))
    if not value.is_finite():
        raise TradeInputError(
            field, value, f"Invalid {field} {value}. Expected a finite number."
        )
    return value


def _decimal_type_message(field: str, value: object) -> str:
    return (
        f"{field} must be a Decimal built from a string, such as Decimal('12.50'), "
        f"not {type(value).__name__} {value!r}."
    )


def _require_positive(value: object, field: str) -> Decimal:
    number = require_decimal(value, field)
    if number <= 0:
        raise TradeInputError(
            field, value, f"Invalid {field} {number}. It must be greater than 0."
        )
    return number


def _require_not_negative(value: object, field: str) -> Decimal:
    number = require_decimal(value, field)
    if number < 0:
        raise TradeInputError(
            field, value, f"Invalid {field} {number}. It must be 0 or greater."
        )
    return number


def _require_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise TradeInputError(
            field,
            value,
            f"Invalid {field} {value!r}. Expected a non-empty string without "
            "leading or trailing spaces.",
        )
    return value


_EnumT = TypeVar("_EnumT", bound=Enum)


def _coerce_enum(enum_type: type[_EnumT], value: object, field: str) -> _EnumT:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise TradeInputError(
            field, value, f"Invalid {field} {value!r}. Expected one of: {allowed}."
        ) from None


def _require_absent(instrument: Instrument, names: Iterable[str]) -> None:
    for name in names:
        value = getattr(instrument, name)
        if value is not None:
            raise TradeInputError(
                name,
                value,
                f"Invalid {name} {value!r} for a {instrument.kind} instrument. "
                f"Only {_OWNER_OF_FIELD[name]} contracts have a {name}.",
            )


_OPTION_FIELDS = ("underlying", "expiry", "strike", "right")
_FUTURE_FIELDS = ("root", "contract_month")
_OWNER_OF_FIELD = dict.fromkeys(_OPTION_FIELDS, "option") | dict.fromkeys(
    _FUTURE_FIELDS, "future"
)


@dataclass(frozen=True)
class Instrument:
    """A tradable instrument and the multiplier that turns price points into money.

    `multiplier` is 1 for a stock, the contract multiplier for an option (100 for
    most equity options) and the point value for a future (5 for MES). The factory
    methods `stock`, `option` and `future` fill in the fields each kind needs.
    """

    kind: InstrumentKind
    symbol: str
    multiplier: Decimal
    underlying: str | None = None
    expiry: date | None = None
    strike: Decimal | None = None
    right: OptionRight | None = None
    root: str | None = None
    contract_month: str | None = None

    @classmethod
    def stock(cls, symbol: str) -> Instrument:
        """Create a stock, whose multiplier is 1."""
        return cls(InstrumentKind.STOCK, symbol, Decimal(1))

    @classmethod
    def option(
        cls,
        symbol: str,
        *,
        underlying: str,
        expiry: date,
        strike: Decimal,
        right: OptionRight | str,
        multiplier: Decimal = DEFAULT_OPTION_MULTIPLIER,
    ) -> Instrument:
        """Create an option contract. `right` may be given as "call" or "put"."""
        return cls(
            InstrumentKind.OPTION,
            symbol,
            multiplier,
            underlying=underlying,
            expiry=expiry,
            strike=strike,
            right=_coerce_enum(OptionRight, right, "right"),
        )

    @classmethod
    def future(
        cls, symbol: str, *, root: str, contract_month: str, point_value: Decimal
    ) -> Instrument:
        """Create a future. The point value (money per 1.0 of price) is required."""
        return cls(
            InstrumentKind.FUTURE,
            symbol,
            point_value,
            root=root,
            contract_month=contract_month,
        )

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "kind", _coerce_enum(InstrumentKind, self.kind, "kind")
        )
        _require_text(self.symbol, "symbol")
        _require_positive(self.multiplier, "multiplier")
        if self.kind is InstrumentKind.STOCK:
            self._validate_stock()
        elif self.kind is InstrumentKind.OPTION:
            self._validate_option()
        else:
            self._validate_future()

    def _validate_stock(self) -> None:
        _require_absent(self, _OPTION_FIELDS + _FUTURE_FIELDS)
        if self.multiplier != 1:
            raise TradeInputError(
                "multiplier",
                self.multiplier,
                f"Invalid multiplier {self.multiplier} for stock {self.symbol!r}. "
                "A stock's multiplier is 1.",
            )

    def _validate_option(self) -> None:
        _require_absent(self, _FUTURE_FIELDS)
        _require_text(self.underlying, "underlying")
        if not isinstance(self.expiry, date) or isinstance(self.expiry, datetime):
            raise TradeInputError(
                "expiry",
                self.expiry,
                f"Invalid expiry {self.expiry!r}. Expected a datetime.date.",
            )
        _require_positive(self.strike, "strike")
        object.__setattr__(
            self, "right", _coerce_enum(OptionRight, self.right, "right")
        )

    def _validate_future(self) -> None:
        _require_absent(self, _OPTION_FIELDS)
        _require_text(self.root, "root")
        month = self.contract_month
        if not isinstance(month, str) or not _CONTRACT_MONTH.fullmatch(month):
            raise TradeInputError(
                "contract_month",
                month,
                f"Invalid contract_month {month!r}. Expected YYYY-MM such as "
                "'2026-12' or a month code with the year such as 'Z6'.",
            )

    @property
    def identity(self) -> str:
        """Key that distinguishes contracts. All executions of one trade share it.

        An option's identity is the whole contract (underlying, expiry, right, strike
        and multiplier), never the underlying alone. A future's is root and month.
        """
        if self.kind is InstrumentKind.STOCK:
            return f"stock:{self.symbol.upper()}"
        if self.kind is InstrumentKind.OPTION:
            assert self.underlying is not None  # checked in __post_init__
            assert self.strike is not None
            return (
                f"option:{self.underlying.upper()}:{self.expiry}:{self.right}:"
                f"{_plain(self.strike)}:x{_plain(self.multiplier)}"
            )
        assert self.root is not None
        # NOTE: "2026-12" and "Z6" are different identities, because a month code
        # does not name its decade. Callers should store one spelling per contract.
        return f"future:{self.root.upper()}:{self.contract_month}"


def _plain(number: Decimal) -> str:
    """Format without exponent or trailing zeros, so 200.00 and 200 match."""
    return format(number.normalize(), "f")


@dataclass(frozen=True)
class Execution:
    """One fill of a trade. Fees are a cost, so they are 0 or greater."""

    id: str
    side: Side
    quantity: Decimal
    price: Decimal
    executed_at: datetime
    fees: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _require_text(self.id, "id")
        object.__setattr__(self, "side", _coerce_enum(Side, self.side, "side"))
        _require_positive(self.quantity, "quantity")
        _require_not_negative(self.price, "price")
        _require_not_negative(self.fees, "fees")
        moment = self.executed_at
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise TradeInputError(
                "executed_at",
                moment,
                f"Invalid executed_at {moment!r} of execution {self.id!r}. Expected "
                "a timezone-aware datetime, such as one with tzinfo=UTC.",
            )


def booking_date(moment: datetime, display_zone: tzinfo) -> date:
    """Return the calendar date of an aware moment in the display time zone."""
    if moment.utcoffset() is None:
        raise TradeInputError(
            "executed_at",
            moment,
            f"Invalid moment {moment!r}. Expected a timezone-aware datetime.",
        )
    return moment.astimezone(display_zone).date()


@dataclass(frozen=True)
class RealizedExit:
    """The P&L one exit execution realized, booked on its date in the display zone.

    `entry_cost` is the matched entry price x quantity before the multiplier.
    `entry_fees` is the share of entry fees this exit closed, `exit_fees` its own fees.
    """

    execution_id: str
    executed_at: datetime
    realized_on: date
    quantity: Decimal
    price: Decimal
    entry_cost: Decimal
    gross_pnl: Decimal
    entry_fees: Decimal
    exit_fees: Decimal
    net_pnl: Decimal
    slices: tuple[LotSlice, ...] = field(default=())

    @property
    def fees(self) -> Decimal:
        with localcontext(EXACT_CONTEXT):
            return self.entry_fees + self.exit_fees

    @property
    def average_entry_price(self) -> Decimal:
        """Matched entry price per unit, rounded to 28 significant digits."""
        return divide(self.entry_cost, self.quantity)


@dataclass(frozen=True)
class Trade:
    """A round trip derived from its executions.

    gross_pnl and net_pnl are realized amounts: the sums over `exits`. An open trade's
    unmatched entry fees are `open_fees`, so realized fees plus open_fees equal `fees`.
    """

    instrument: Instrument
    method: MatchingMethod
    direction: Direction
    status: TradeStatus
    executions: tuple[Execution, ...]
    exits: tuple[RealizedExit, ...]
    position: Decimal
    entry_quantity: Decimal
    entry_cost: Decimal
    exit_quantity: Decimal
    gross_pnl: Decimal
    net_pnl: Decimal
    fees: Decimal
    open_fees: Decimal
    opened_at: datetime
    closed_at: datetime | None

    @property
    def multiplier(self) -> Decimal:
        return self.instrument.multiplier

    @property
    def open_quantity(self) -> Decimal:
        return abs(self.position)

    @property
    def closed_on(self) -> date | None:
        """Realization date of a closed trade: the booking date of its last exit."""
        if self.status is TradeStatus.OPEN:
            return None
        return self.exits[-1].realized_on

    @property
    def average_entry_price(self) -> Decimal:
        """Quantity-weighted price of all entries, rounded to 28 significant digits."""
        return divide(self.entry_cost, self.entry_quantity)

    @property
    def average_exit_price(self) -> Decimal | None:
        """Quantity-weighted price of all exits, or None before the first exit."""
        if not self.exits:
            return None
        with localcontext(EXACT_CONTEXT):
            proceeds = sum((e.price * e.quantity for e in self.exits), Decimal(0))
        return divide(proceeds, self.exit_quantity)

    def initial_risk(self, planned_stop: Decimal | None) -> Decimal | None:
        """Return 1R = |average entry - stop| x entry quantity x multiplier.

        Computed from the exact entry cost, so it is not rounded. None without a stop.
        """
        if planned_stop is None:
            return None
        stop = _require_not_negative(planned_stop, "planned_stop")
        with localcontext(EXACT_CONTEXT):
            distance = abs(self.entry_cost - stop * self.entry_quantity)
            return distance * self.multiplier

    def r_multiple(self, planned_stop: Decimal | None) -> Decimal | None:
        """Return net P&L / 1R of a closed trade.

        None when the trade is open (its entry quantity may still grow), when there is
        no stop, or when the stop equals the average entry so that the risk is 0.
        """
        if self.status is TradeStatus.OPEN:
            return None
        risk = self.initial_risk(planned_stop)
        if risk is None or risk == 0:
            return None
        return divide(self.net_pnl, risk)


def derive_trade(
    instrument: Instrument,
    executions: Iterable[Execution],
    *,
    display_zone: tzinfo,
    method: MatchingMethod = MatchingMethod.FIFO,
) -> Trade:
    """Derive the trade that a flat-to-flat sequence of executions forms.

    Executions are sorted by executed_at. Ties keep the given order. The first one sets
    the direction: long for a buy, short for a sell. Each exit is booked on its date in
    display_zone.

    Raises TradeCrossesZeroError when an exit is larger than the open position, and
    TradeInputError when an execution follows the return to flat, when ids repeat, or
    when amounts are too far apart in magnitude to add up exactly.
    """
    if not isinstance(instrument, Instrument):
        raise TypeError(f"instrument must be an Instrument, not {instrument!r}.")
    if not isinstance(display_zone, tzinfo):
        raise TypeError(
            f"display_zone must be a tzinfo such as ZoneInfo('America/New_York'), "
            f"not {display_zone!r}."
        )
    ordered = _sort_executions(executions)
    try:
        with localcontext(EXACT_CONTEXT):
            return _build_trade(
                instrument, ordered, display_zone, MatchingMethod(method)
            )
    except Inexact as exc:
        raise TradeInputError(
            "executions",
            [execution.id for execution in ordered],
            "The prices, quantities and fees of this trade differ in magnitude by "
            f"more than the {EXACT_CONTEXT.prec} digits that exact arithmetic keeps. "
            "Check for a mistyped exponent.",
        ) from exc


def _sort_executions(executions: Iterable[Execution]) -> tuple[Execution, ...]:
    provided = tuple(executions)
    if not provided:
        raise TradeInputError(
            "executions", provided, "A trade needs at least one execution, got none."
        )
    seen: set[str] = set()
    for execution in provided:
        if not isinstance(execution, Execution):
            raise TypeError(f"executions must be Execution objects, not {execution!r}.")
        if execution.id in seen:
            raise TradeInputError(
                "id",
                execution.id,
                f"Execution id {execution.id!r} appears twice in one trade. "
                "Give each fill its own id.",
            )
        seen.add(execution.id)
    return tuple(sorted(provided, key=lambda execution: execution.executed_at))


def _build_trade(
    instrument: Instrument,
    ordered: tuple[Execution, ...],
    display_zone: tzinfo,
    method: MatchingMethod,
) -> Trade:
    entry_side = ordered[0].side
    direction = Direction.LONG if entry_side is Side.BUY else Direction.SHORT
    book = PositionBook(method)
    exits: list[RealizedExit] = []
    entry_quantity = Decimal(0)
    entry_cost = Decimal(0)
    closing: Execution | None = None

    for execution in ordered:
        if closing is not None:
            raise _after_flat_error(execution, closing)
        if execution.side is entry_side:
            book.open(
                Lot(execution.id, execution.quantity, execution.price, execution.fees)
            )
            entry_quantity += execution.quantity
            entry_cost += execution.price * execution.quantity
            continue
        if execution.quantity > book.open_quantity:
            raise _crosses_zero_error(execution, direction, book.open_quantity)
        allocation = book.close(execution.quantity)
        exits.append(
            _realize_exit(execution, allocation, instrument, direction, display_zone)
        )
        if book.open_quantity == 0:
            closing = execution

    exit_quantity = sum((e.quantity for e in exits), Decimal(0))
    return Trade(
        instrument=instrument,
        method=method,
        direction=direction,
        status=TradeStatus.OPEN if closing is None else TradeStatus.CLOSED,
        executions=ordered,
        exits=tuple(exits),
        position=book.open_quantity * direction.sign,
        entry_quantity=entry_quantity,
        entry_cost=entry_cost,
        exit_quantity=exit_quantity,
        gross_pnl=sum((e.gross_pnl for e in exits), Decimal(0)),
        net_pnl=sum((e.net_pnl for e in exits), Decimal(0)),
        fees=sum((e.fees for e in ordered), Decimal(0)),
        open_fees=book.open_fees,
        opened_at=ordered[0].executed_at,
        closed_at=None if closing is None else closing.executed_at,
    )


def _realize_exit(
    execution: Execution,
    allocation: Allocation,
    instrument: Instrument,
    direction: Direction,
    display_zone: tzinfo,
) -> RealizedExit:
    proceeds = execution.price * execution.quantity
    gross = (proceeds - allocation.entry_cost) * instrument.multiplier * direction.sign
    net = gross - allocation.entry_fees - execution.fees
    return RealizedExit(
        execution_id=execution.id,
        executed_at=execution.executed_at,
        realized_on=booking_date(execution.executed_at, display_zone),
        quantity=execution.quantity,
        price=execution.price,
        entry_cost=allocation.entry_cost,
        gross_pnl=gross,
        entry_fees=allocation.entry_fees,
        exit_fees=execution.fees,
        net_pnl=net,
        slices=allocation.slices,
    )


def _crosses_zero_error(
    execution: Execution, direction: Direction, open_quantity: Decimal
) -> TradeCrossesZeroError:
    opening = execution.quantity - open_quantity
    side = execution.side
    return TradeCrossesZeroError(
        "quantity",
        execution.quantity,
        f"Execution {execution.id!r} would {side} {execution.quantity} while the "
        f"{direction} position is {open_quantity}, which crosses through zero. A trade "
        f"runs from flat to flat, so split it into a {side} of {open_quantity} that "
        f"closes this trade and a {side} of {opening} that opens a new trade, and "
        "split its fees by quantity.",
        execution_id=execution.id,
    )


def _after_flat_error(execution: Execution, closing: Execution) -> TradeInputError:
    return TradeInputError(
        "executions",
        execution.id,
        f"Execution {execution.id!r} comes after execution {closing.id!r} returned "
        "the position to flat. A trade runs from flat to flat, so record "
        f"{execution.id!r} in a new trade.",
        execution_id=execution.id,
    )
