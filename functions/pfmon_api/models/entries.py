"""Journal entries: the bodies of POST and PUT /entries, the list query and their rules.

An entry is one trade: its account, its instrument, the executions (fills) that form
it and the journal fields the trader writes. Everything the trade derives (position,
status, average prices, P&L, fees, R-multiple, booking dates) is computed by the
server, so a request that sends a derived field is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from pfmon_api import errors
from pfmon_api.models import queries
from pfmon_api.models.base import ApiModel, parse_request
from pfmon_api.models.fields import (
    IsoDate,
    Timestamp,
    check_multiline,
    check_single_line,
    decimal_parser,
)
from pfmon_api.models.profile import AccountId, Version

MAX_EXECUTIONS = 500
MAX_TAGS = 20
TAG_MAX_LENGTH = 40
MAX_MISTAKES = 20
MISTAKE_MAX_LENGTH = 80
NOTES_MAX_LENGTH = 10_000
SETUP_MAX_LENGTH = 80
SYMBOL_MAX_LENGTH = 40
BROKER_EXECUTION_ID_MAX_LENGTH = 64
MIN_RATING = 1
MAX_RATING = 5
# Option multipliers and future point values: 100 for equity options, 50 for ES,
# 0.1 for some micro contracts, 125000 for the EUR future.
MAX_MULTIPLIER = Decimal("1E+7")
MULTIPLIER_PLACES = 6

# Server-generated entry ids are lower-case UUIDs.
ENTRY_ID_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)

# Fields of a stored entry that only the server writes.
READ_ONLY_FIELDS = ("entryId", "userId", "version", "createdAt", "updatedAt")
# Fields of a stored entry that the trader writes.
WRITTEN_FIELDS = (
    "accountId",
    "instrument",
    "executions",
    "notes",
    "tags",
    "setup",
    "mistakes",
    "rating",
    "plannedStop",
    "plannedTarget",
)
# Fields of a stored entry that the server derives from the executions.
DERIVED_FIELDS = (
    "direction",
    "status",
    "position",
    "entryQuantity",
    "exitQuantity",
    "executionCount",
    "averageEntry",
    "averageExit",
    "grossPnl",
    "netPnl",
    "fees",
    "openFees",
    "initialRisk",
    "rMultiple",
    "openedAt",
    "closedAt",
    "closedOn",
    "bookingTimeZone",
    "exits",
)
EXECUTION_ID_FIELD = "executionId"
# The fields of an entry document, and those GET /entries lists: all but the
# executions and exits, which only GET /entries/{entryId} returns.
ENTRY_FIELDS = (
    "entryId",
    *WRITTEN_FIELDS,
    "version",
    "createdAt",
    "updatedAt",
    *DERIVED_FIELDS,
)
LISTED_FIELDS = tuple(
    name for name in ENTRY_FIELDS if name not in {"executions", "exits"}
)

# "2026-12" with a year from 1970 to 2099 as for times and dates, or a month code
# letter with a one- or two-digit year such as "Z6". [0-9] because \d also matches
# non-ASCII digits.
CONTRACT_MONTH_PATTERN = (
    r"^((19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])|[FGHJKMNQUVXZ][0-9]{1,2})$"
)

InstrumentKind = Literal["stock", "option", "future"]
Side = Literal["buy", "sell"]
OptionRight = Literal["call", "put"]

Symbol = Annotated[
    str,
    StringConstraints(max_length=SYMBOL_MAX_LENGTH),
    AfterValidator(check_single_line),
]
ContractMonth = Annotated[str, StringConstraints(pattern=CONTRACT_MONTH_PATTERN)]
Quantity = Annotated[
    Decimal,
    PlainValidator(decimal_parser(minimum=Decimal(0), minimum_exclusive=True)),
]
Price = Annotated[Decimal, PlainValidator(decimal_parser(minimum=Decimal(0)))]
Fee = Annotated[Decimal, PlainValidator(decimal_parser(minimum=Decimal(0)))]
Multiplier = Annotated[
    Decimal,
    PlainValidator(
        decimal_parser(
            minimum=Decimal(0),
            minimum_exclusive=True,
            maximum=MAX_MULTIPLIER,
            places=MULTIPLIER_PLACES,
        )
    ),
]
BrokerExecutionId = Annotated[
    str,
    StringConstraints(max_length=BROKER_EXECUTION_ID_MAX_LENGTH),
    AfterValidator(check_single_line),
]
Tag = Annotated[
    str, StringConstraints(max_length=TAG_MAX_LENGTH), AfterValidator(check_single_line)
]
Mistake = Annotated[
    str,
    StringConstraints(max_length=MISTAKE_MAX_LENGTH),
    AfterValidator(check_single_line),
]
Setup = Annotated[
    str,
    StringConstraints(max_length=SETUP_MAX_LENGTH),
    AfterValidator(check_single_line),
]
Notes = Annotated[
    str,
    StringConstraints(max_length=NOTES_MAX_LENGTH),
    AfterValidator(check_multiline),
]
Rating = Annotated[int, Field(ge=MIN_RATING, le=MAX_RATING)]


class InstrumentBody(ApiModel):
    """The instrument of a trade. Which fields apply depends on `kind`:

    - stock: symbol;
    - option: symbol, underlying, expiry, strike, right, optional multiplier (100);
    - future: symbol, root, contractMonth, pointValue.
    """

    kind: InstrumentKind
    symbol: Symbol
    underlying: Symbol | None = None
    expiry: IsoDate | None = None
    strike: (
        Annotated[
            Decimal,
            PlainValidator(decimal_parser(minimum=Decimal(0), minimum_exclusive=True)),
        ]
        | None
    ) = None
    right: OptionRight | None = None
    multiplier: Multiplier | None = None
    root: Symbol | None = None
    contract_month: ContractMonth | None = None
    point_value: Multiplier | None = None


class ExecutionBody(ApiModel):
    """One fill. Fees are a cost, 0 or greater."""

    side: Side
    quantity: Quantity
    price: Price
    executed_at: Timestamp
    fees: Fee = Decimal(0)
    broker_execution_id: BrokerExecutionId | None = None


class EntryFields(ApiModel):
    """The fields of an entry that the trader writes. PUT replaces all of them, so an
    optional field left out is cleared."""

    account_id: AccountId
    instrument: InstrumentBody
    executions: Annotated[
        list[ExecutionBody], Field(min_length=1, max_length=MAX_EXECUTIONS)
    ]
    notes: Notes = ""
    tags: Annotated[list[Tag], Field(default_factory=list, max_length=MAX_TAGS)]
    setup: Setup | None = None
    mistakes: Annotated[
        list[Mistake], Field(default_factory=list, max_length=MAX_MISTAKES)
    ]
    rating: Rating | None = None
    planned_stop: Price | None = None
    planned_target: Price | None = None


class EntryCreate(EntryFields):
    """Body of POST /entries."""


class EntryUpdate(EntryFields):
    """Body of PUT /entries/{entryId}: the whole entry and the version it replaces."""

    version: Version


# Fields each instrument kind requires, and the fields no instrument of that kind has.
_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "stock": (),
    "option": ("underlying", "expiry", "strike", "right"),
    "future": ("root", "contract_month", "point_value"),
}
_KIND_FIELDS = (
    "underlying",
    "expiry",
    "strike",
    "right",
    "multiplier",
    "root",
    "contract_month",
    "point_value",
)
_ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    "stock": frozenset(),
    "option": frozenset(_REQUIRED_FIELDS["option"]) | {"multiplier"},
    "future": frozenset(_REQUIRED_FIELDS["future"]),
}


def parse_entry_create(document: Mapping[str, Any]) -> EntryCreate:
    """Validate the body of POST /entries, raising `ValidationError` on a bad field."""
    _reject_server_fields(document, READ_ONLY_FIELDS)
    entry = parse_request(EntryCreate, document)
    _check_entry(entry)
    return entry


def parse_entry_update(document: Mapping[str, Any]) -> EntryUpdate:
    """Validate the body of PUT /entries/{entryId}."""
    _reject_server_fields(
        document, tuple(name for name in READ_ONLY_FIELDS if name != "version")
    )
    entry = parse_request(EntryUpdate, document)
    _check_entry(entry)
    return entry


def _reject_server_fields(
    document: Mapping[str, Any], read_only: Sequence[str]
) -> None:
    for name in read_only:
        if name in document:
            raise errors.ValidationError(
                f"{name} is set by the server and cannot be sent: remove it from the "
                "request body",
                field=name,
            )
    for name in DERIVED_FIELDS:
        if name in document:
            raise errors.ValidationError(
                f"{name} is computed by the server from the executions and cannot be "
                "sent: remove it from the request body",
                field=name,
            )
    executions = document.get("executions")
    if not isinstance(executions, list):
        return
    for index, execution in enumerate(executions):
        if isinstance(execution, Mapping) and EXECUTION_ID_FIELD in execution:
            raise errors.ValidationError(
                f"{EXECUTION_ID_FIELD} is set by the server and cannot be sent: "
                "remove it, and send the broker's id as brokerExecutionId",
                field=f"executions[{index}].{EXECUTION_ID_FIELD}",
            )


def _check_entry(entry: EntryFields) -> None:
    _check_instrument(entry.instrument)
    _check_unique("tags", entry.tags)
    _check_unique("mistakes", entry.mistakes)
    broker_ids = [execution.broker_execution_id for execution in entry.executions]
    seen: set[str] = set()
    for index, broker_id in enumerate(broker_ids):
        if broker_id is None:
            continue
        if broker_id in seen:
            raise errors.ValidationError(
                f"brokerExecutionId {broker_id!r} appears twice: each fill has its "
                "own broker id",
                field=f"executions[{index}].brokerExecutionId",
            )
        seen.add(broker_id)


def _check_instrument(instrument: InstrumentBody) -> None:
    kind = instrument.kind
    for name in _REQUIRED_FIELDS[kind]:
        if getattr(instrument, name) is None:
            raise errors.ValidationError(
                f"missing required field instrument.{to_camel(name)}: an instrument "
                f"of kind {kind} needs it",
                field=f"instrument.{to_camel(name)}",
            )
    for name in _KIND_FIELDS:
        if name not in _ALLOWED_FIELDS[kind] and getattr(instrument, name) is not None:
            raise errors.ValidationError(
                f"instrument.{to_camel(name)} is not a field of kind {kind}: remove it",
                field=f"instrument.{to_camel(name)}",
            )


def _check_unique(name: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise errors.ValidationError(
                f"{name} contains {value!r} twice: list each value once",
                field=f"{name}[{index}]",
            )
        seen.add(value)


# --- GET /entries query string ---------------------------------------------------

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_CURSOR_LENGTH = 2048
LIST_PARAMETERS = ("limit", "cursor", "from", "to", "symbol", "accountId", "tag")


@dataclass(frozen=True)
class EntryListQuery:
    """The query string of GET /entries.

    `opened_from` and `opened_to` bound the trade's opening time, both inclusive. A
    date stands for the whole day in the caller's time zone, so the logic resolves it.
    """

    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    opened_from: date | datetime | None = None
    opened_to: date | datetime | None = None
    symbol: str | None = None
    account_id: str | None = None
    tag: str | None = None


def parse_entry_list_query(parameters: Mapping[str, str]) -> EntryListQuery:
    """Validate the query string of GET /entries, raising `ValidationError`."""
    queries.reject_unknown_parameters(parameters, LIST_PARAMETERS, "GET /entries")
    cursor = parameters.get("cursor")
    if cursor is not None and not 0 < len(cursor) <= MAX_CURSOR_LENGTH:
        raise errors.ValidationError(
            "invalid cursor: pass the nextCursor of the previous page unchanged",
            field="cursor",
        )
    return EntryListQuery(
        limit=queries.parse_limit(parameters, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        cursor=cursor,
        opened_from=queries.parse_moment_or_date(parameters, "from"),
        opened_to=queries.parse_moment_or_date(parameters, "to"),
        symbol=queries.parse_text(parameters, "symbol", SYMBOL_MAX_LENGTH),
        account_id=queries.parse_account_id(parameters, "accountId"),
        tag=queries.parse_text(parameters, "tag", TAG_MAX_LENGTH),
    )
