"""Entry documents and the trades they describe.

An entry document is the JSON object the entries routes return and the JournalEntries
table stores (with its index keys added by the data layer). This module turns the
instrument and executions of a request into document form, derives the trade from
them with `trades.derive_trade` (FIFO), and writes the derived values into the
document. The statistics read the same documents back into trades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from pydantic.alias_generators import to_camel

from pfmon_api import errors
from pfmon_api.logic.trades import (
    DEFAULT_OPTION_MULTIPLIER,
    Execution,
    Instrument,
    MatchingMethod,
    RealizedExit,
    Trade,
    TradeInputError,
    derive_trade,
)
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.entries import ExecutionBody, InstrumentBody
from pfmon_api.models.fields import format_moment, plain_decimal

# DynamoDB numbers have at most 38 significant digits.
MAX_STORED_DIGITS = 38
MATCHING_METHOD = MatchingMethod.FIFO

_EXECUTION_ID_PREFIX = "x"
# Execution fields named by the domain's TradeInputError, and their request names.
_EXECUTION_FIELDS = {
    "id": "executionId",
    "side": "side",
    "quantity": "quantity",
    "price": "price",
    "executed_at": "executedAt",
    "fees": "fees",
}


def instrument_document(body: InstrumentBody) -> dict[str, Any]:
    """Return the stored form of an instrument: its kind's fields only."""
    document: dict[str, Any] = {"kind": body.kind, "symbol": body.symbol}
    if body.kind == "option":
        assert body.expiry is not None  # models.entries checks the option's fields
        multiplier = body.multiplier or DEFAULT_OPTION_MULTIPLIER
        document |= {
            "underlying": body.underlying,
            "expiry": body.expiry.isoformat(),
            "strike": plain_decimal(_required(body.strike)),
            "right": body.right,
            "multiplier": plain_decimal(multiplier),
        }
    elif body.kind == "future":
        document |= {
            "root": body.root,
            "contractMonth": body.contract_month,
            "pointValue": plain_decimal(_required(body.point_value)),
        }
    return document


def execution_documents(bodies: Sequence[ExecutionBody]) -> list[dict[str, Any]]:
    """Return the stored form of the executions in request order, with server ids.

    The execution at request index i gets the id "x<i+1>", which the exits refer to.
    """
    return [
        {
            "executionId": f"{_EXECUTION_ID_PREFIX}{index + 1}",
            "side": body.side,
            "quantity": plain_decimal(body.quantity),
            "price": plain_decimal(body.price),
            "fees": plain_decimal(body.fees),
            "executedAt": format_moment(body.executed_at),
            "brokerExecutionId": body.broker_execution_id,
        }
        for index, body in enumerate(bodies)
    ]


def instrument_from_document(document: Mapping[str, Any]) -> Instrument:
    """Build the domain instrument of a stored instrument document."""
    kind = document["kind"]
    symbol = str(document["symbol"])
    if kind == "option":
        return Instrument.option(
            symbol,
            underlying=str(document["underlying"]),
            expiry=date.fromisoformat(str(document["expiry"])),
            strike=Decimal(document["strike"]),
            right=str(document["right"]),
            multiplier=Decimal(document["multiplier"]),
        )
    if kind == "future":
        return Instrument.future(
            symbol,
            root=str(document["root"]),
            contract_month=str(document["contractMonth"]),
            point_value=Decimal(document["pointValue"]),
        )
    return Instrument.stock(symbol)


def derive_entry_trade(
    instrument: Mapping[str, Any],
    executions: Sequence[Mapping[str, Any]],
    zone: tzinfo,
) -> Trade:
    """Derive the FIFO trade of an instrument and execution documents.

    Raises `ValidationError` naming the request field, such as
    "executions[3].quantity" for an exit that would cross through zero.
    """
    try:
        domain_instrument = instrument_from_document(instrument)
    except TradeInputError as exc:
        raise _instrument_error(exc) from exc
    domain_executions = [
        _execution_from_document(index, document)
        for index, document in enumerate(executions)
    ]
    try:
        return derive_trade(
            domain_instrument,
            domain_executions,
            display_zone=zone,
            method=MATCHING_METHOD,
        )
    except TradeInputError as exc:
        raise _trade_error(exc) from exc


def derived_fields(
    trade: Trade, planned_stop: Decimal | None, zone_name: str
) -> dict[str, Any]:
    """Return the values an entry document derives from its trade.

    Booking dates are calendar dates in `zone_name`, the caller's time zone when the
    entry was written.
    """
    average_exit = trade.average_exit_price
    initial_risk = trade.initial_risk(planned_stop)
    r_multiple = trade.r_multiple(planned_stop)
    closed_on = trade.closed_on
    return {
        "direction": trade.direction.value,
        "status": trade.status.value,
        "position": plain_decimal(trade.position),
        "entryQuantity": plain_decimal(trade.entry_quantity),
        "exitQuantity": plain_decimal(trade.exit_quantity),
        "executionCount": len(trade.executions),
        "averageEntry": plain_decimal(trade.average_entry_price),
        "averageExit": None if average_exit is None else plain_decimal(average_exit),
        "grossPnl": plain_decimal(trade.gross_pnl),
        "netPnl": plain_decimal(trade.net_pnl),
        "fees": plain_decimal(trade.fees),
        "openFees": plain_decimal(trade.open_fees),
        "initialRisk": None if initial_risk is None else plain_decimal(initial_risk),
        "rMultiple": None if r_multiple is None else plain_decimal(r_multiple),
        "openedAt": format_timestamp(trade.opened_at),
        "closedAt": (
            None if trade.closed_at is None else format_timestamp(trade.closed_at)
        ),
        "closedOn": None if closed_on is None else closed_on.isoformat(),
        "bookingTimeZone": zone_name,
        "exits": [_exit_document(realized) for realized in trade.exits],
    }


def check_storable(document: Mapping[str, Any]) -> None:
    """Raise `ValidationError` if a number of the document exceeds 38 digits.

    Input limits keep prices, quantities and fees short, but products of large ones
    (a P&L of 10**12 x 10**12 with 20 decimal places) can still need more digits than
    a DynamoDB number holds.
    """
    for number in _numbers(document):
        if len(number.as_tuple().digits) > MAX_STORED_DIGITS:
            raise errors.ValidationError(
                f"an amount derived from these executions, {number}, has more than "
                f"{MAX_STORED_DIGITS} significant digits and cannot be stored: check "
                "the quantities and prices for a mistyped magnitude",
                field="executions",
            )


def _exit_document(realized: RealizedExit) -> dict[str, Any]:
    return {
        "executionId": realized.execution_id,
        "quantity": plain_decimal(realized.quantity),
        "price": plain_decimal(realized.price),
        "executedAt": format_moment(realized.executed_at),
        "bookedOn": realized.realized_on.isoformat(),
        "grossPnl": plain_decimal(realized.gross_pnl),
        "entryFees": plain_decimal(realized.entry_fees),
        "exitFees": plain_decimal(realized.exit_fees),
        "netPnl": plain_decimal(realized.net_pnl),
    }


def _execution_from_document(index: int, document: Mapping[str, Any]) -> Execution:
    try:
        return Execution(
            id=str(document["executionId"]),
            side=document["side"],
            quantity=Decimal(document["quantity"]),
            price=Decimal(document["price"]),
            executed_at=datetime.fromisoformat(str(document["executedAt"])),
            fees=Decimal(document["fees"]),
        )
    except TradeInputError as exc:
        name = _EXECUTION_FIELDS.get(exc.field, exc.field)
        raise errors.ValidationError(
            str(exc), field=f"executions[{index}].{name}"
        ) from exc


def _instrument_error(error: TradeInputError) -> errors.ValidationError:
    return errors.ValidationError(
        str(error), field=f"instrument.{to_camel(error.field)}"
    )


def _trade_error(error: TradeInputError) -> errors.ValidationError:
    execution_id = error.execution_id
    if execution_id is None or not execution_id.startswith(_EXECUTION_ID_PREFIX):
        return errors.ValidationError(str(error), field="executions")
    index = int(execution_id.removeprefix(_EXECUTION_ID_PREFIX)) - 1
    field = f"executions[{index}]"
    if error.field in _EXECUTION_FIELDS:
        field += f".{_EXECUTION_FIELDS[error.field]}"
    # The domain message names the execution by its server id, so name its index too.
    message = f"executions[{index}] ({execution_id}): {error}"
    return errors.ValidationError(message, field=field)


def _numbers(value: object) -> Iterable[Decimal]:
    if isinstance(value, Decimal):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _required(value: Decimal | None) -> Decimal:
    assert value is not None  # models.entries checks each kind's required fields
    return value
