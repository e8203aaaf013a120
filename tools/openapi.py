"""Build the OpenAPI 3.1 document of PFMON's HTTP API, docs/openapi.json.

    python -m tools.openapi --write    # regenerate docs/openapi.json (make openapi)
    python -m tools.openapi --check    # exit 1 when the committed file is out of date
    python -m tools.openapi            # print the document

The paths come from `routes.ROUTES`, and the request bodies from the JSON schemas of
the pydantic request models. Pydantic cannot describe a custom validator, so each
validator of the models maps to the schema it enforces here, and an unmapped one stops
the build. Entries and statistics have no response model, so their schemas are built
here from the field lists in `models.entries` and `logic.statistics`, and the build
fails when those lists and the schemas disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any, get_args

from pydantic import AfterValidator, PlainValidator
from pydantic.alias_generators import to_camel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
# The models live in functions/, which `python -m tools.openapi` does not put on
# sys.path.
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

from pfmon_api import errors, json_codec, routes  # noqa: E402
from pfmon_api.handlers.accounts import INCLUDE_ARCHIVED  # noqa: E402
from pfmon_api.http_api import MAX_BODY_BYTES  # noqa: E402
from pfmon_api.logic import statistics as trade_statistics  # noqa: E402
from pfmon_api.models import (  # noqa: E402
    accounts,
    credentials,
    entries,
    fields,
    profile,
    statistics,
)
from pfmon_api.models.base import ApiModel  # noqa: E402

DOCUMENT_PATH = PROJECT_ROOT / "docs" / "openapi.json"
OPENAPI_VERSION = "3.1.0"
SECURITY_SCHEME = "cognitoJwt"
SCHEMA_REF = "#/components/schemas/{model}"
RESPONSE_REF = "#/components/responses/{name}"

Schema = dict[str, Any]


def paragraphs(text: str) -> str:
    """Join the lines of each paragraph, so the JSON strings carry no hard wraps."""
    return "\n\n".join(
        " ".join(block.split("\n")) for block in text.strip().split("\n\n")
    )


# --- conventions stated once, in the document's description -----------------------

API_DESCRIPTION = f"""\
The API of the PFMON trading journal: the caller's profile, broker accounts, journal
entries (trades), trading statistics and broker credentials. API Gateway serves it as
an HTTP API, and one Lambda function serves each tag of this document.

**Authentication.** Every operation needs a Cognito ID token or access token of the
stack's user pool and app client, in the `Authorization` header. API Gateway's JWT
authorizer checks its signature, issuer, audience (the app client id) and expiry before
the function runs, and otherwise returns 401 `{{"message":"Unauthorized"}}`. The caller
is the token's `sub` claim: a user id in the path, the query string or the body never
selects whose data is read, and another user's item gets 404 like a missing one.

**JSON.** Bodies are JSON objects with camelCase names. A request body is at most
{MAX_BODY_BYTES // 1024} KiB (larger: 413), and a number literal in it at most
{json_codec.MAX_NUMBER_LENGTH} characters. Unknown fields, snake_case names and
duplicate keys are rejected with 400. Types are strict: `"5"` is not an integer, `1` is
not a boolean, and an integer is written without a decimal point (`1.0` is rejected).
One-line texts such as names, labels, symbols and tags reject control characters, line
separators and hidden formatting characters such as bidirectional overrides. Responses
carry `Cache-Control: no-store`.

**Exact decimals.** Money, prices, quantities, fees and ratios are exact decimals.
Responses write them as JSON numbers in plain notation with their exact digits, such as
`197.75` or `0.0000000001`, never with an exponent. Stored values have no trailing
zeros after the decimal point (`12.50` is stored and returned as `12.5`). Parse them
with a decimal type, such as Python's `json.loads(text, parse_float=Decimal)` or a
decimal library with a JSON reviver in JavaScript, because a binary float cannot hold
most decimal prices. A request may send a decimal as a JSON number or as a string of
ASCII digits with an optional sign and decimal point, such as `"12.50"` (no exponent).
Sums, differences and products are exact. Ratios (average prices, rates, profit
factor, expectancy, R-multiples) are rounded once, half-even, to 28 significant digits.
A prorated fee share is rounded half-even to 20 decimal places, and the last share
takes the remainder. Nothing else is rounded: round for display in the client.

**Times.** A time is ISO 8601 with an offset, such as `2026-01-05T09:30:00-05:00` or
`2026-01-05T14:30:00Z`, with at most 6 fractional digits, from 1970 to 2099. A date is
`YYYY-MM-DD` from 1970-01-01 to 2099-12-31. Server timestamps (`createdAt`,
`updatedAt`, `openedAt`, `closedAt`) are UTC with milliseconds. In a query string, send
the `+` of an offset as `%2B`.

**Versions.** Profiles, accounts and entries have a `version` that starts at 1 and
grows by 1 on every change. A `PUT` sends the version it read, and a stale one is
rejected with 409 on field `version`, with nothing stored.

**Errors.** A function's error has the body
`{{"error": {{"code": ..., "message": ..., "field": ...}}}}`, where `field` names the
rejected request field, query parameter or path parameter (with list positions in
brackets, such as `executions[3].price`) or is null. A 500 message contains only a
request id to report. API Gateway's own errors have the body `{{"message": ...}}`:
401 for a missing or rejected token, 404 for a path that matches no route, 429 when
the stage throttles the request, and 500 when the function fails.

**Lists.** `GET /entries` and `GET /statistics` read DynamoDB global secondary
indexes, which are eventually consistent: an entry written a moment ago can be missing
from them, or show its old values, for a short time. Trading definitions and worked
examples are in docs/api.md and docs/domain.md.
"""

# --- JSON schemas of the validators that pydantic cannot describe -----------------

# Control characters (Unicode category Cc: C0, DEL and C1).
_CONTROL = r"\x00-\x1f\x7f-\x9f"


def code_point_ranges(characters: Iterable[str]) -> list[tuple[int, int]]:
    """Group characters into runs of consecutive code points, as (first, last)."""
    ranges: list[tuple[int, int]] = []
    for code in sorted(ord(character) for character in characters):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def _hidden_character_text() -> str:
    parts = []
    for first, last in code_point_ranges(fields.HIDDEN_CHARACTERS):
        part = f"U+{first:04X}"
        parts.append(part if first == last else f"{part} to U+{last:04X}")
    return ", ".join(parts)


# What one-line text rejects anywhere: control characters, the line and paragraph
# separators and `fields.HIDDEN_CHARACTERS`, written as \uXXXX escapes, which both
# ECMA-262 and Python regular expressions read.
_NOT_DISPLAYED = (
    _CONTROL
    + r"\u2028\u2029"
    + "".join(
        f"\\u{first:04x}-\\u{last:04x}"
        for first, last in code_point_ranges(fields.HIDDEN_CHARACTERS)
    )
)
DISPLAY_RULE = (
    "No control characters, no line or paragraph separators (U+2028, U+2029), and "
    f"none of the hidden formatting characters {_hidden_character_text()}, except a "
    "zero-width joiner between two emoji."
)
SINGLE_LINE: Schema = {
    "minLength": 1,
    "pattern": rf"^[^\s{_NOT_DISPLAYED}]([^{_NOT_DISPLAYED}]*[^\s{_NOT_DISPLAYED}])?$",
    "description": f"One line without leading or trailing spaces. {DISPLAY_RULE} The "
    "pattern leaves out the emoji joiner, which the API accepts.",
}
# Text with at least one character that is not a space, under the same rule.
VISIBLE_TEXT: Schema = {
    "pattern": rf"^[^{_NOT_DISPLAYED}]*[^\s{_NOT_DISPLAYED}][^{_NOT_DISPLAYED}]*$",
    "description": f"At least one visible character. {DISPLAY_RULE}",
}
# Dates and times of the years 1970 to 2099, the range of times that the API accepts.
_DATE_PATTERN = r"(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_CLOCK_PATTERN = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_OFFSET_PATTERN = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
DATE: Schema = {
    "type": "string",
    "format": "date",
    "pattern": f"^{_DATE_PATTERN}$",
    "description": "A date written YYYY-MM-DD, from 1970 to 2099.",
}
TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": f"^{_DATE_PATTERN}T{_CLOCK_PATTERN}{_OFFSET_PATTERN}$",
    "description": "An ISO 8601 time with an offset (Z or +HH:MM) and at most 6 "
    "fractional digits, from 1970 to 2099 in UTC.",
}


def annotated_validator(alias: object) -> Callable[..., Any]:
    """Return the function of the last AfterValidator or PlainValidator of an alias."""
    for metadata in reversed(get_args(alias)[1:]):
        if isinstance(metadata, AfterValidator | PlainValidator):
            return metadata.func
    raise ValueError(f"{alias!r} has no AfterValidator or PlainValidator")


def _preferences_schema() -> Schema:
    return {
        "type": "object",
        "maxProperties": profile.MAX_PREFERENCES,
        "propertyNames": {"pattern": f"^{profile.PREFERENCE_KEY_PATTERN.pattern}$"},
        "additionalProperties": {
            "anyOf": [
                {"type": "string", "maxLength": profile.MAX_PREFERENCE_TEXT_LENGTH},
                {"type": "boolean"},
                {
                    "type": "number",
                    "description": "At most 38 significant digits, from 1E-130 to "
                    "9.9E+125 in magnitude, so that DynamoDB can store it.",
                },
            ]
        },
        "description": (
            f"The client's settings: at most {profile.MAX_PREFERENCES} keys of 1 to 64 "
            "letters, digits, '_', '.' or '-' starting with a letter, each a string, "
            "a boolean or a number."
        ),
    }


_TIME_ZONE_AREAS = "|".join(sorted(profile.TIME_ZONE_AREAS))
# Keywords each custom validator adds to the schema of the type it validates, keyed
# by the validator function. Decimal validators are read from their parameters.
VALIDATOR_SCHEMAS: Mapping[Callable[..., Any], Schema] = {
    annotated_validator(fields.Timestamp): TIME,
    annotated_validator(fields.IsoDate): DATE,
    fields.check_single_line: SINGLE_LINE,
    fields.check_multiline: {
        "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$",
        "description": "Line breaks and tabs are allowed, other control characters "
        "are not.",
    },
    annotated_validator(profile.CurrencyCode): {
        "enum": sorted(profile.CURRENCIES),
        "description": "An ISO 4217 currency code from the supported list.",
    },
    annotated_validator(profile.TimeZoneName): {
        "pattern": f"^({profile.DEFAULT_TIME_ZONE}|({_TIME_ZONE_AREAS})/.+)$",
        "description": "UTC or an IANA Area/Location name from the tzdata package's "
        "list, such as America/New_York. Names outside these areas, such as "
        "US/Eastern, EST5EDT or Etc/GMT+5, are rejected.",
    },
    annotated_validator(profile.DisplayName): VISIBLE_TEXT,
    annotated_validator(profile.Preferences): _preferences_schema(),
    annotated_validator(credentials.Label): VISIBLE_TEXT,
    annotated_validator(credentials.ApiKey): {
        "description": "Printable characters (Python's str.isprintable), no space "
        "at either end. Never returned: responses show only its last 4 characters."
    },
    annotated_validator(credentials.ApiSecret): {
        "description": "Printable characters (Python's str.isprintable), no space "
        "at either end. Never returned."
    },
}
# Every decimal validator is a closure of `fields.decimal_parser`, so they share one
# code object, and its parameters are the closure's variables.
_DECIMAL_PARSER_CODE = fields.decimal_parser(minimum=Decimal(0)).__code__


def json_number(value: Decimal) -> int:
    """Return a whole Decimal, such as a bound of 1E+12, as a JSON integer."""
    if value != value.to_integral_value():
        raise ValueError(
            f"{value} is not a whole number: the document writes only whole-number "
            "bounds and defaults, so extend json_number to write this one"
        )
    return int(value)


def decimal_text_pattern(
    minimum: Decimal, minimum_exclusive: bool, maximum: Decimal, places: int
) -> str:
    """Return the pattern of the decimal strings that a decimal validator accepts.

    The pattern bounds the digits by the range: a maximum of 1E+12 allows 12 integer
    digits. So it does not match a string with more leading zeros, which the API
    accepts too.
    """
    if minimum != 0:
        raise ValueError(f"decimal minimum {minimum} is not 0: extend the pattern")
    largest = str(json_number(maximum))
    integer_digits = len(largest) - 1 if largest.rstrip("0") == "1" else len(largest)
    # The lookahead rejects 0, 0.0 and 00.000 when 0 itself is excluded.
    not_zero = r"(?!0*(\.0*)?$)" if minimum_exclusive else ""
    return rf"^{not_zero}[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{places}}})?$"


def decimal_schema(validator: Callable[..., Any], *, accept_text: bool) -> Schema:
    """Return the schema of a decimal validated by a `fields.decimal_parser` closure."""
    parameters = inspect.getclosurevars(validator).nonlocals
    minimum = parameters["minimum"]
    minimum_exclusive = parameters["minimum_exclusive"]
    maximum = parameters["maximum"]
    places = parameters["places"]

    number: Schema = {"type": "number", "exclusiveMaximum": json_number(maximum)}
    if minimum_exclusive:
        number["exclusiveMinimum"] = json_number(minimum)
    else:
        number["minimum"] = json_number(minimum)
    bound = "greater than" if minimum_exclusive else "at least"
    description = (
        f"An exact decimal {bound} {minimum} and less than {maximum}, with at most "
        f"{places} decimal places."
    )
    if not accept_text:
        return {**number, "description": description}
    text = {
        "type": "string",
        "pattern": decimal_text_pattern(minimum, minimum_exclusive, maximum, places),
    }
    return {
        "anyOf": [number, text],
        "description": f"{description} A JSON number, or a string of digits such as "
        '"12.50".',
    }


class ModelSchemaGenerator(GenerateJsonSchema):
    """Pydantic's JSON schema generator, with the schemas of the custom validators.

    Request schemas accept a decimal as a number or a decimal string, and response
    schemas as a number only. Field titles are left out, because the property names
    say the same.
    """

    accept_decimal_text = True

    def function_plain_schema(
        self, schema: core_schema.PlainValidatorFunctionSchema
    ) -> Schema:
        validator = schema["function"]["function"]
        if getattr(validator, "__code__", None) is _DECIMAL_PARSER_CODE:
            return decimal_schema(validator, accept_text=self.accept_decimal_text)
        return dict(_validator_schema(validator))

    def function_after_schema(
        self, schema: core_schema.AfterValidatorFunctionSchema
    ) -> Schema:
        inner = self.generate_inner(schema["schema"])
        extra = _validator_schema(schema["function"]["function"])
        description = " ".join(
            text
            for text in (inner.get("description"), extra.get("description"))
            if text
        )
        merged = {**inner, **extra}
        if description:
            merged["description"] = description
        return merged

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, Decimal):
            return json_number(dft)
        return super().encode_default(dft)


class ResponseSchemaGenerator(ModelSchemaGenerator):
    accept_decimal_text = False


def _validator_schema(validator: Callable[..., Any]) -> Schema:
    try:
        return VALIDATOR_SCHEMAS[validator]
    except KeyError:
        name = getattr(validator, "__qualname__", repr(validator))
        raise ValueError(
            f"validator {name} has no JSON schema: add the keywords it enforces to "
            "VALIDATOR_SCHEMAS in tools/openapi.py"
        ) from None


def model_schemas(
    models: Sequence[type[ApiModel]], generator: type[ModelSchemaGenerator]
) -> dict[str, Schema]:
    """Return the component schemas of models and of the models they contain.

    The models are validated as JSON, so both request and response schemas are
    generated in validation mode. Model titles are dropped like field titles.
    """
    inputs: list[tuple[type[ApiModel], JsonSchemaMode]] = [
        (model, "validation") for model in models
    ]
    _, definitions = models_json_schema(
        inputs, ref_template=SCHEMA_REF, schema_generator=generator
    )
    schemas = definitions.get("$defs", {})
    for schema in schemas.values():
        schema.pop("title", None)
    return dict(schemas)


# --- small schema helpers ---------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": SCHEMA_REF.format(model=name)}


def nullable(schema: Schema) -> Schema:
    """Return the schema that also allows null."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def amount(description: str) -> Schema:
    """Return the schema of a response decimal that may have any sign."""
    return {"type": "number", "description": f"{description} An exact decimal."}


def closed_object(properties: Mapping[str, Schema], description: str) -> Schema:
    """Return an object schema with exactly these properties, all of them required."""
    return {
        "type": "object",
        "description": description,
        "properties": dict(properties),
        "required": list(properties),
        "additionalProperties": False,
    }


def timestamp(description: str) -> Schema:
    return {"type": "string", "format": "date-time", "description": description}


def date(description: str) -> Schema:
    return {"type": "string", "format": "date", "description": description}


SERVER_TIMESTAMP = "Set by the server: UTC with milliseconds."
ACCOUNT_ID: Schema = {
    "type": "string",
    "pattern": f"^{accounts.ACCOUNT_ID_PATTERN.pattern}$",
    "description": "An account id, as GET /accounts returns it.",
}
UUID: Schema = {"type": "string", "format": "uuid"}


def check_fields(
    schema_name: str, properties: Iterable[str], expected: Iterable[str]
) -> None:
    """Raise when a schema's properties differ from the fields the code returns."""
    missing = sorted(set(expected) - set(properties))
    extra = sorted(set(properties) - set(expected))
    if missing or extra:
        raise ValueError(
            f"schema {schema_name} differs from the returned fields: missing "
            f"{missing}, not returned {extra}; update tools/openapi.py"
        )


# --- profile, accounts and credentials responses ----------------------------------


def _set_server_timestamps(schema: Schema) -> None:
    for name in ("createdAt", "updatedAt"):
        if name in schema["properties"]:
            schema["properties"][name] = timestamp(SERVER_TIMESTAMP)


def response_model_schemas() -> dict[str, Schema]:
    """Return the schemas of the response models, every field required."""
    schemas = model_schemas(
        (profile.Profile, accounts.Account, credentials.CredentialSummary),
        ResponseSchemaGenerator,
    )
    for schema in schemas.values():
        # model_dump() writes every field, defaults and nulls included.
        schema["required"] = list(schema["properties"])
        _set_server_timestamps(schema)

    described = schemas["Profile"]["properties"]
    described["userId"]["description"] = "The caller's Cognito sub."
    described["email"]["description"] = (
        "The email address of the sign-up. Null when a GET /profile with an access "
        "token, which carries no email, created the profile."
    )
    described["version"]["description"] = "Starts at 1 and grows by 1 on each change."
    described = schemas["Account"]["properties"]
    described["accountId"]["description"] = "Set by the server: a UUID."
    described["archived"]["description"] = (
        "True after POST /accounts/{accountId}/archive. An archived account takes no "
        "new entries."
    )
    described["version"]["description"] = "Starts at 1 and grows by 1 on each change."
    described = schemas["CredentialSummary"]["properties"]
    described["credentialId"] |= {**UUID, "description": "Set by the server."}
    described["apiKeyHint"]["description"] = "The last 4 characters of the API key."
    return schemas


def list_schemas() -> dict[str, Schema]:
    return {
        "AccountList": closed_object(
            {"accounts": {"type": "array", "items": ref("Account")}},
            "The caller's accounts, oldest first.",
        ),
        "CredentialList": closed_object(
            {"credentials": {"type": "array", "items": ref("CredentialSummary")}},
            "The caller's credentials, oldest first, without secrets.",
        ),
    }


# --- entries ----------------------------------------------------------------------

ENTRY_DESCRIPTION = """\
A journal entry: one trade from flat to flat on one instrument. The trade's
executions, sorted by time (ties keep request order), open a position in the direction
of the first one. Executions on that side are entries and the others are exits. Each
exit closes the oldest open entry quantity first (FIFO). For an exit of quantity q at
price P that closes entry cost C, with multiplier m and direction d (+1 long, -1
short), gross P&L = (P x q - C) x m x d and net P&L = gross - entry fees - exit fees.
Entry fees are prorated by quantity, so every fee counts exactly once. On each write
the server derives the fields from direction to exits from the executions, with
booking dates in the caller's time zone."""


def instrument_schema() -> Schema:
    """Return the stored instrument: the kind's fields only, with its multiplier."""
    symbol = {"type": "string", "maxLength": entries.SYMBOL_MAX_LENGTH}
    positive = {"type": "number", "exclusiveMinimum": 0}
    variants = [
        closed_object(
            {"kind": {"const": "stock"}, "symbol": symbol}, "A stock; multiplier 1."
        ),
        closed_object(
            {
                "kind": {"const": "option"},
                "symbol": {**symbol, "description": "The contract symbol."},
                "underlying": symbol,
                "expiry": date("Expiry date."),
                "strike": positive,
                "right": {"enum": ["call", "put"]},
                "multiplier": {
                    **positive,
                    "description": "Contract multiplier, 100 unless the request "
                    "named another.",
                },
            },
            "An option contract.",
        ),
        closed_object(
            {
                "kind": {"const": "future"},
                "symbol": symbol,
                "root": symbol,
                "contractMonth": {
                    "type": "string",
                    "pattern": entries.CONTRACT_MONTH_PATTERN,
                },
                "pointValue": {
                    **positive,
                    "description": "Money per point, such as 5 for MES.",
                },
            },
            "A futures contract; the point value is its multiplier.",
        ),
    ]
    return {
        "oneOf": variants,
        "description": "The instrument as stored: the fields of its kind.",
    }


def execution_schema() -> Schema:
    return closed_object(
        {
            "executionId": {
                "type": "string",
                "description": "Set by the server: x<i+1> for the execution at "
                "request position i.",
            },
            "side": {"enum": ["buy", "sell"]},
            "quantity": amount("Greater than 0."),
            "price": amount("0 or greater."),
            "fees": amount("0 or greater, a cost."),
            "executedAt": timestamp("With its own offset, UTC written as Z."),
            "brokerExecutionId": nullable(
                {"type": "string", "description": "The broker's fill id."}
            ),
        },
        "One execution (fill), in request order.",
    )


def exit_schema() -> Schema:
    return closed_object(
        {
            "executionId": {"type": "string", "description": "The exit execution."},
            "quantity": amount("Quantity closed."),
            "price": amount("Exit price."),
            "executedAt": timestamp("Time of the exit."),
            "bookedOn": date(
                "Booking date: the date of executedAt in bookingTimeZone. A partial "
                "exit is booked on its own day."
            ),
            "grossPnl": amount("(P x q - C) x multiplier x direction."),
            "entryFees": amount(
                "Entry fees prorated to the closed quantity, rounded half-even to "
                "20 places; the last units take the rest."
            ),
            "exitFees": amount("The exit's own fees."),
            "netPnl": amount("grossPnl - entryFees - exitFees."),
        },
        "The realized P&L of one exit, matched FIFO.",
    )


def entry_properties() -> dict[str, Schema]:
    """Return the schema of every field of an entry document."""
    text_list = {"type": "array", "items": {"type": "string"}}
    properties: dict[str, Schema] = {
        "entryId": {**UUID, "description": "Set by the server."},
        "accountId": ACCOUNT_ID,
        "instrument": ref("Instrument"),
        "executions": {"type": "array", "items": ref("Execution"), "minItems": 1},
        "notes": {"type": "string", "description": "The trader's notes."},
        "tags": {**text_list, "description": "Distinct tags, each a label."},
        "setup": nullable({"type": "string", "description": "The setup traded."}),
        "mistakes": {**text_list, "description": "Distinct mistake labels."},
        "rating": nullable(
            {
                "type": "integer",
                "minimum": entries.MIN_RATING,
                "maximum": entries.MAX_RATING,
                "description": "The trader's rating of the trade.",
            }
        ),
        "plannedStop": nullable(amount("The planned stop price; it gives 1R.")),
        "plannedTarget": nullable(amount("The planned target price.")),
        "version": {
            "type": "integer",
            "minimum": 1,
            "description": "Starts at 1 and grows by 1 on each change.",
        },
        "createdAt": timestamp(SERVER_TIMESTAMP),
        "updatedAt": timestamp(SERVER_TIMESTAMP),
        "direction": {
            "enum": ["long", "short"],
            "description": "long when the first execution is a buy, short when a sell.",
        },
        "status": {
            "enum": ["open", "closed"],
            "description": "closed when the position is back to 0, else open.",
        },
        "position": amount("Entry quantity minus exit quantity, negative for a short."),
        "entryQuantity": amount("Total quantity of the entries."),
        "exitQuantity": amount("Total quantity of the exits."),
        "executionCount": {"type": "integer", "minimum": 1},
        "averageEntry": amount("Quantity-weighted entry price."),
        "averageExit": nullable(
            amount("Quantity-weighted exit price, null before the first exit.")
        ),
        "grossPnl": amount("Realized gross P&L: the sum over the exits."),
        "netPnl": amount("Realized net P&L: the sum over the exits, after all fees."),
        "fees": amount("All fees of the executions."),
        "openFees": amount(
            "Entry fees not yet attributed to an exit, 0 when the trade is closed."
        ),
        "initialRisk": nullable(
            amount(
                "1R = |averageEntry - plannedStop| x entry quantity x multiplier, "
                "null without a stop."
            )
        ),
        "rMultiple": nullable(
            amount(
                "netPnl / 1R of a closed trade; null while open, without a stop, "
                "or when 1R is 0."
            )
        ),
        "openedAt": timestamp("Time of the first execution, UTC with milliseconds."),
        "closedAt": nullable(
            timestamp(
                "Time of the closing exit, UTC with milliseconds; null while open."
            )
        ),
        "closedOn": nullable(
            date("Booking date of the closing exit (the realization date).")
        ),
        "bookingTimeZone": {
            "type": "string",
            "description": "The caller's time zone when the entry was written; "
            "bookedOn and closedOn are dates in it. GET /statistics books in the "
            "current time zone instead.",
        },
        "exits": {"type": "array", "items": ref("Exit")},
    }
    check_fields("Entry", properties, entries.ENTRY_FIELDS)
    return properties


def entry_schemas() -> dict[str, Schema]:
    properties = entry_properties()
    listed = {name: properties[name] for name in entries.LISTED_FIELDS}
    return {
        "Instrument": instrument_schema(),
        "Execution": execution_schema(),
        "Exit": exit_schema(),
        "Entry": closed_object(properties, paragraphs(ENTRY_DESCRIPTION)),
        "EntrySummary": closed_object(
            listed,
            "An entry as GET /entries lists it: every field but executions and exits.",
        ),
        "EntryPage": closed_object(
            {
                "entries": {"type": "array", "items": ref("EntrySummary")},
                "nextCursor": nullable(
                    {
                        "type": "string",
                        "description": "Send it as cursor, with the same parameters, "
                        "for the next page; null on the last page.",
                    }
                ),
            },
            "One page of entries, newest first by openedAt. A filtered page can hold "
            "fewer entries than limit, even none, while nextCursor continues the list.",
        ),
    }


# --- statistics -------------------------------------------------------------------

RATIO = "Rounded once, half-even, to 28 significant digits."


def statistics_properties() -> dict[str, Schema]:
    """Return the schema of every field of the GET /statistics document."""
    count = {"type": "integer", "minimum": 0}
    magnitude = {"minimum": 0}
    ratio = {"minimum": 0, "maximum": 1}
    by_key = {"type": "object", "additionalProperties": {"type": "number"}}
    properties: dict[str, Schema] = {
        "from": nullable(date("The from parameter, or null.")),
        "to": nullable(date("The to parameter, or null.")),
        "accountId": nullable(
            {"type": "string", "description": "The accountId parameter."}
        ),
        "timeZone": {
            "type": "string",
            "description": "The caller's current time zone, in which booking dates are "
            "computed.",
        },
        "tradeCount": {
            **count,
            "description": "Closed trades realized in the range: the booking date "
            "of the closing exit is from `from` to `to`.",
        },
        "winCount": {**count, "description": "Trades with net P&L above 0."},
        "lossCount": {**count, "description": "Trades with net P&L below 0."},
        "breakEvenCount": {
            **count,
            "description": "Trades with net P&L of 0: counted in tradeCount and "
            "winRate, neither as a win nor as a loss.",
        },
        "grossPnl": amount("Sum of the trades' gross P&L."),
        "fees": amount("Sum of the trades' fees."),
        "netPnl": amount("Sum of the trades' net P&L."),
        "winningTotal": {**amount("Sum of the net P&L of the wins."), **magnitude},
        "losingTotal": {
            **amount("Magnitude of the sum of the net P&L of the losses."),
            **magnitude,
        },
        "winRate": nullable(
            {**amount(f"winCount / tradeCount, null without trades. {RATIO}"), **ratio}
        ),
        "winRateExcludingBreakEven": nullable(
            {
                **amount(
                    "winCount / (winCount + lossCount), null when both are 0. " + RATIO
                ),
                **ratio,
            }
        ),
        "averageWin": nullable(
            {
                **amount(f"winningTotal / winCount, null without wins. {RATIO}"),
                **magnitude,
            }
        ),
        "averageLoss": nullable(
            {
                **amount(
                    "losingTotal / lossCount (a magnitude), null without losses. "
                    + RATIO
                ),
                **magnitude,
            }
        ),
        "largestWin": nullable(
            {**amount("The largest net P&L of a win, null without wins."), **magnitude}
        ),
        "largestLoss": nullable(
            {
                **amount(
                    "Magnitude of the lowest net P&L of a loss, null without losses."
                ),
                **magnitude,
            }
        ),
        "profitFactor": nullable(
            {
                **amount(
                    "winningTotal / losingTotal, both net. Null with "
                    "profitFactorReason when there are no trades or no losses, never "
                    f"0 or a placeholder; 0 when there are losses and no wins. {RATIO}"
                ),
                **magnitude,
            }
        ),
        "profitFactorReason": {
            "enum": [
                trade_statistics.NO_TRADES_REASON,
                trade_statistics.NO_LOSSES_REASON,
                None,
            ],
            "description": "Why profitFactor is null; null when it has a value.",
        },
        "expectancy": nullable(
            amount(
                "winRate x averageWin - lossRate x averageLoss, with both rates over "
                f"all trades; null without trades. {RATIO}"
            )
        ),
        "averageNetPnl": nullable(
            amount(f"netPnl / tradeCount, null without trades. {RATIO}")
        ),
        "maxDrawdown": {
            **amount(
                "Largest fall of cumulative net P&L from a previous peak, trades in "
                "closing order, on a curve that starts at 0: -50, +20, -10 gives 50. "
                "A magnitude, 0 without trades."
            ),
            **magnitude,
        },
        "maxDailyDrawdown": {
            **amount(
                "The same as maxDrawdown over the P&L per booking day in date order."
            ),
            **magnitude,
        },
        "pnlByDay": {
            **by_key,
            "propertyNames": {"format": "date"},
            "description": "Booking date to the net P&L of the exits booked that day, "
            "every exit of the selected trades included, so the days add up to netPnl.",
        },
        "pnlBySymbol": {
            **by_key,
            "description": "Instrument symbol (an option's contract symbol) to net "
            "P&L.",
        },
        "pnlByTag": {
            **by_key,
            "description": "Tag to net P&L. A trade counts under each of its tags, so "
            "the tags need not add up to netPnl.",
        },
    }
    returned = (
        "from",
        "to",
        "accountId",
        "timeZone",
        *(
            to_camel(field.name)
            for field in dataclasses.fields(trade_statistics.TradeStatistics)
        ),
    )
    check_fields("Statistics", properties, returned)
    return properties


def statistics_schema() -> Schema:
    return closed_object(
        statistics_properties(),
        "Statistics of the caller's closed trades. A trade is selected by its "
        "realization date, the booking date of its closing exit in the caller's time "
        "zone. Open trades and the partial exits they have realized are left out.",
    )


# --- errors -----------------------------------------------------------------------


def error_codes() -> dict[int, list[str]]:
    """Return the error codes of the API by HTTP status, from `errors.ApiError`."""
    codes: dict[int, set[str]] = {}
    pending = list(errors.ApiError.__subclasses__())
    while pending:
        error_class = pending.pop()
        pending.extend(error_class.__subclasses__())
        codes.setdefault(int(error_class.status), set()).add(error_class.code)
    return {status: sorted(codes[status]) for status in sorted(codes)}


def error_schemas() -> dict[str, Schema]:
    all_codes = sorted({code for codes in error_codes().values() for code in codes})
    detail = closed_object(
        {
            "code": {"enum": all_codes},
            "message": {"type": "string", "description": "What failed and the fix."},
            "field": {
                "type": ["string", "null"],
                "description": "The rejected field, query or path parameter, or null.",
            },
        },
        "What was rejected.",
    )
    return {
        "Error": closed_object({"error": detail}, "The error body of the functions."),
        "GatewayError": closed_object(
            {"message": {"type": "string"}},
            'API Gateway\'s own error body, such as {"message":"Unauthorized"}.',
        ),
    }


def error_body(status: int) -> Schema:
    """Return the Error schema narrowed to the codes of one status."""
    return {
        "allOf": [
            ref("Error"),
            {
                "properties": {
                    "error": {"properties": {"code": {"enum": error_codes()[status]}}}
                }
            },
        ]
    }


@dataclass(frozen=True)
class ErrorResponse:
    """One error status: who sends it and with which body."""

    name: str
    description: str
    function: bool = True
    gateway: bool = False

    def schema(self, status: int) -> Schema:
        bodies = []
        if self.function:
            bodies.append(error_body(status))
        if self.gateway:
            bodies.append(ref("GatewayError"))
        return bodies[0] if len(bodies) == 1 else {"anyOf": bodies}


ERROR_RESPONSES: Mapping[HTTPStatus, ErrorResponse] = {
    HTTPStatus.BAD_REQUEST: ErrorResponse(
        "BadRequest",
        "A missing, unknown or invalid field, query parameter or path parameter, "
        "named in error.field.",
    ),
    HTTPStatus.UNAUTHORIZED: ErrorResponse(
        "Unauthorized",
        "API Gateway rejected the token: missing, expired, badly signed, or of "
        "another pool or app client. A function that gets no sub claim returns "
        "401 with the error body.",
        gateway=True,
    ),
    HTTPStatus.NOT_FOUND: ErrorResponse(
        "NotFound",
        "The caller has no such item; another user's item is not found either. API "
        'Gateway returns {"message":"Not Found"} for a path that matches no '
        "route, such as an empty path parameter.",
        gateway=True,
    ),
    HTTPStatus.CONFLICT: ErrorResponse(
        "Conflict",
        "A stale version, an archived account, the account limit, or a concurrent "
        "write: read again and retry.",
    ),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ErrorResponse(
        "PayloadTooLarge",
        f"The body is over {MAX_BODY_BYTES // 1024} KiB. API Gateway rejects a body "
        "over its own 10 MB quota itself.",
        gateway=True,
    ),
    HTTPStatus.TOO_MANY_REQUESTS: ErrorResponse(
        "TooManyRequests",
        "The stage's throttling rejected the request: retry after a pause.",
        function=False,
        gateway=True,
    ),
    HTTPStatus.INTERNAL_SERVER_ERROR: ErrorResponse(
        "InternalError",
        "A server fault. The function's message contains only a request id to "
        'report; API Gateway returns {"message":"Internal Server Error"} when the '
        "function itself fails.",
        gateway=True,
    ),
    HTTPStatus.NOT_IMPLEMENTED: ErrorResponse(
        "NotImplemented",
        "The route is deployed, but its function has no endpoint for it yet.",
    ),
    HTTPStatus.SERVICE_UNAVAILABLE: ErrorResponse(
        "ServiceUnavailable",
        "DynamoDB or KMS throttled the request: retry after a few seconds.",
    ),
}
# Statuses that every operation can return.
COMMON_ERRORS = (
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.TOO_MANY_REQUESTS,
    HTTPStatus.INTERNAL_SERVER_ERROR,
    HTTPStatus.NOT_IMPLEMENTED,
    HTTPStatus.SERVICE_UNAVAILABLE,
)


def error_responses() -> dict[str, Schema]:
    return {
        error.name: {
            "description": error.description,
            "content": {"application/json": {"schema": error.schema(int(status))}},
        }
        for status, error in ERROR_RESPONSES.items()
    }


# --- parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A query or path parameter of an operation."""

    name: str
    schema: Schema
    description: str
    location: str = "query"

    def document(self) -> Schema:
        return {
            "name": self.name,
            "in": self.location,
            "required": self.location == "path",
            "description": self.description,
            "schema": self.schema,
        }


LOWERCASE_UUID: Schema = {
    "type": "string",
    "pattern": f"^{entries.ENTRY_ID_PATTERN.pattern}$",
}
PATH_PARAMETERS: Mapping[str, Parameter] = {
    "accountId": Parameter(
        "accountId",
        ACCOUNT_ID,
        "An account id from GET /accounts. Another id gets 404.",
        "path",
    ),
    "entryId": Parameter(
        "entryId",
        LOWERCASE_UUID,
        "An entry id from GET /entries, a lowercase UUID. Another value gets 404.",
        "path",
    ),
    "credentialId": Parameter(
        "credentialId",
        LOWERCASE_UUID,
        "A credential id from GET /credentials. A value that is not a lowercase UUID "
        "gets 400, an unknown one 404.",
        "path",
    ),
}
ACCOUNT_FILTER = Parameter(
    "accountId", ACCOUNT_ID, "Only this account. An unknown one selects nothing."
)
ENTRY_RANGE = (
    "Bound of openedAt, inclusive: a date (the whole day in the caller's time zone) "
    "or a time with an offset, compared to the millisecond."
)
MOMENT_OR_DATE: Schema = {"anyOf": [DATE, TIME]}
ENTRY_LIST_PARAMETERS = (
    Parameter(
        "limit",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": entries.MAX_PAGE_SIZE,
            "default": entries.DEFAULT_PAGE_SIZE,
        },
        f"Page size, 1 to {entries.MAX_PAGE_SIZE}; more is rejected with 400.",
    ),
    Parameter(
        "cursor",
        {"type": "string", "minLength": 1, "maxLength": entries.MAX_CURSOR_LENGTH},
        "The nextCursor of the previous page, unchanged, with the same other "
        "parameters. A cursor of another user, filter or range gets 400.",
    ),
    Parameter("from", MOMENT_OR_DATE, f"Lower {ENTRY_RANGE}"),
    Parameter("to", MOMENT_OR_DATE, f"Upper {ENTRY_RANGE}"),
    Parameter(
        "symbol",
        {"type": "string", "minLength": 1, "maxLength": entries.SYMBOL_MAX_LENGTH},
        "One instrument symbol, case-insensitive (an option's contract symbol).",
    ),
    ACCOUNT_FILTER,
    Parameter(
        "tag",
        {"type": "string", "minLength": 1, "maxLength": entries.TAG_MAX_LENGTH},
        "Only entries that have this tag, exactly.",
    ),
)
STATISTICS_PARAMETERS = (
    Parameter(
        "from", DATE, "First realization date, inclusive, in the caller's time zone."
    ),
    Parameter("to", DATE, "Last realization date, inclusive; not before from."),
    ACCOUNT_FILTER,
)


# --- operations -------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """The document's description of one route, besides its path parameters."""

    operation_id: str
    summary: str
    success: HTTPStatus
    response: str | None = None
    request: type[ApiModel] | None = None
    query: tuple[Parameter, ...] = ()
    # Error statuses besides COMMON_ERRORS.
    errors: tuple[HTTPStatus, ...] = ()
    description: str = ""


BAD_BODY = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
OK, CREATED, NO_CONTENT = HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.NO_CONTENT
NOT_FOUND, CONFLICT = HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT
BAD_REQUEST = HTTPStatus.BAD_REQUEST

OPERATIONS: Mapping[str, Operation] = {
    "GET /profile": Operation(
        "getProfile",
        "Read the caller's profile",
        OK,
        "Profile",
        errors=(CONFLICT,),
        description="The first call creates the profile with defaults (currency "
        "USD, time zone UTC). 409 means a concurrent first call won a race that "
        "left no profile: retry.",
    ),
    "PUT /profile": Operation(
        "replaceProfile",
        "Replace the editable profile fields",
        OK,
        "Profile",
        profile.ProfileUpdate,
        errors=(*BAD_BODY, NOT_FOUND, CONFLICT),
        description="timeZone decides the booking date of every exit.",
    ),
    "GET /accounts": Operation(
        "listAccounts",
        "List the caller's accounts",
        OK,
        "AccountList",
        query=(
            Parameter(
                INCLUDE_ARCHIVED,
                {"type": "string", "enum": ["true", "false"], "default": "false"},
                "List archived accounts too.",
            ),
        ),
        errors=(BAD_REQUEST,),
        description="Any other query parameter is rejected with 400.",
    ),
    "POST /accounts": Operation(
        "createAccount",
        "Create an account",
        CREATED,
        "Account",
        accounts.AccountCreate,
        errors=(*BAD_BODY, CONFLICT),
        description=f"Returns the account at version 1. A caller keeps at most "
        f"{accounts.MAX_ACCOUNTS} accounts, archived ones included; one more gets 409.",
    ),
    "GET /accounts/{accountId}": Operation(
        "getAccount", "Read one account", OK, "Account", errors=(NOT_FOUND,)
    ),
    "PUT /accounts/{accountId}": Operation(
        "replaceAccount",
        "Replace the editable account fields",
        OK,
        "Account",
        accounts.AccountUpdate,
        errors=(*BAD_BODY, NOT_FOUND, CONFLICT),
        description="Cannot set archived.",
    ),
    "POST /accounts/{accountId}/archive": Operation(
        "archiveAccount",
        "Archive an account",
        OK,
        "Account",
        errors=(*BAD_BODY, NOT_FOUND, CONFLICT),
        description="Takes no body: a missing or empty body and the empty object {} "
        "are accepted, and any other body is rejected with 400 on field body. "
        "Archiving an archived account returns it "
        "unchanged. The account's entries stay readable and editable, but no entry "
        "can be created in it or moved into it. No route restores it.",
    ),
    "GET /entries": Operation(
        "listEntries",
        "List entries, newest first, one page at a time",
        OK,
        "EntryPage",
        query=ENTRY_LIST_PARAMETERS,
        errors=(BAD_REQUEST,),
        description="Filters combine, and any other query parameter is rejected "
        "with 400. To read every page, repeat the request with cursor set to the "
        "last nextCursor until it is null.",
    ),
    "POST /entries": Operation(
        "createEntry",
        "Create a journal entry",
        CREATED,
        "Entry",
        entries.EntryCreate,
        errors=(*BAD_BODY, NOT_FOUND, CONFLICT),
        description="The account must be the caller's (404 otherwise) and not "
        "archived (409). The executions must form one trade: an exit larger than the "
        "open position, or a fill after the position is flat, is rejected with 400 "
        "naming the execution. A request that sends a server or derived field "
        "(entryId, netPnl, executionId, ...) is rejected with 400.",
    ),
    "GET /entries/{entryId}": Operation(
        "getEntry",
        "Read one entry with its executions and exits",
        OK,
        "Entry",
        errors=(NOT_FOUND,),
    ),
    "PUT /entries/{entryId}": Operation(
        "replaceEntry",
        "Replace an entry",
        OK,
        "Entry",
        entries.EntryUpdate,
        errors=(*BAD_BODY, NOT_FOUND, CONFLICT),
        description="Replaces the whole entry: an optional field left out is "
        "cleared. Moving the entry to another account needs that account to be open.",
    ),
    "DELETE /entries/{entryId}": Operation(
        "deleteEntry",
        "Delete an entry",
        NO_CONTENT,
        query=(
            Parameter(
                "version",
                {"type": "integer", "minimum": 1},
                "Delete only if the entry is at this version (409 otherwise).",
            ),
        ),
        errors=(BAD_REQUEST, NOT_FOUND, CONFLICT),
    ),
    "GET /statistics": Operation(
        "getStatistics",
        "Statistics of the caller's closed trades",
        OK,
        "Statistics",
        query=STATISTICS_PARAMETERS,
        errors=(BAD_REQUEST,),
        description="Any other query parameter is rejected with 400.",
    ),
    "GET /credentials": Operation(
        "listCredentials",
        "List the caller's broker credentials, without secrets",
        OK,
        "CredentialList",
        query=(ACCOUNT_FILTER,),
        errors=(BAD_REQUEST,),
    ),
    "POST /credentials": Operation(
        "createCredential",
        "Store a broker API key pair, encrypted",
        CREATED,
        "CredentialSummary",
        credentials.CredentialCreate,
        errors=(*BAD_BODY, NOT_FOUND),
        description="The account must be the caller's and not archived (404 "
        "otherwise). The key pair is encrypted with a KMS data key before it is "
        "stored, and no response contains it.",
    ),
    "DELETE /credentials/{credentialId}": Operation(
        "deleteCredential",
        "Delete a broker credential",
        NO_CONTENT,
        errors=(BAD_REQUEST, NOT_FOUND),
    ),
}

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
# Query parameters that the handlers read, which the documented ones must equal.
HANDLER_QUERY_PARAMETERS: Mapping[str, Sequence[str]] = {
    "GET /entries": entries.LIST_PARAMETERS,
    "GET /statistics": statistics.STATISTICS_PARAMETERS,
}


def operation_document(route: routes.Route, operation: Operation) -> Schema:
    """Return the OpenAPI operation object of one route."""
    path_parameters = [
        PATH_PARAMETERS[name].document() for name in _PATH_PARAMETER.findall(route.path)
    ]
    document: Schema = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [route.family],
    }
    if operation.description:
        document["description"] = operation.description
    parameters = path_parameters + [
        parameter.document() for parameter in operation.query
    ]
    if parameters:
        document["parameters"] = parameters
    if operation.request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": ref(operation.request.__name__)}
            },
        }
    document["responses"] = _responses(operation)
    document["security"] = [{SECURITY_SCHEME: []}]
    return document


def _responses(operation: Operation) -> Schema:
    success: Schema = {
        "description": operation.success.phrase,
        "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}},
    }
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": ref(operation.response)}}
    responses: Schema = {str(int(operation.success)): success}
    for status in sorted({*operation.errors, *COMMON_ERRORS}):
        name = ERROR_RESPONSES[status].name
        responses[str(int(status))] = {"$ref": RESPONSE_REF.format(name=name)}
    return responses


def paths() -> Schema:
    """Return the paths object: every route of `routes.ROUTES`, in table order."""
    route_keys = [route.route_key for route in routes.ROUTES]
    check_fields("paths", OPERATIONS, route_keys)
    for route_key, expected in HANDLER_QUERY_PARAMETERS.items():
        documented = [parameter.name for parameter in OPERATIONS[route_key].query]
        check_fields(f"{route_key} query", documented, expected)

    document: Schema = {}
    for route in routes.ROUTES:
        operation = operation_document(route, OPERATIONS[route.route_key])
        document.setdefault(route.path, {})[route.method.lower()] = operation
    return document


# --- the document -----------------------------------------------------------------

REQUEST_MODELS = tuple(
    operation.request for operation in OPERATIONS.values() if operation.request
)


def component_schemas() -> dict[str, Schema]:
    """Return every component schema, failing when two share a name."""
    schemas: dict[str, Schema] = {}
    groups = (
        model_schemas(REQUEST_MODELS, ModelSchemaGenerator),
        response_model_schemas(),
        list_schemas(),
        entry_schemas(),
        {"Statistics": statistics_schema()},
        error_schemas(),
    )
    for group in groups:
        clash = sorted(set(schemas) & set(group))
        if clash:
            raise ValueError(f"component schemas {clash} are defined twice")
        schemas |= group
    return dict(sorted(schemas.items()))


def project_version() -> str:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def build_document() -> Schema:
    """Build the OpenAPI document from the route table and the models."""
    families = {spec.family: spec.description for spec in routes.FUNCTIONS}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "PFMON HTTP API",
            "version": project_version(),
            "description": paragraphs(API_DESCRIPTION),
        },
        "servers": [
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
                "description": "A deployed stack's $default stage: the stack output "
                "apiUrl.",
                "variables": {
                    "apiId": {
                        "default": "apiId",
                        "description": "The HTTP API id, the first label of apiUrl.",
                    },
                    "region": {"default": "us-east-1"},
                },
            },
            {"url": "http://127.0.0.1:5200", "description": "make local"},
        ],
        "security": [{SECURITY_SCHEME: []}],
        "tags": [
            {"name": family, "description": families[family]}
            for family in routes.API_FAMILIES
        ],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID token or access token of the stack's "
                    "user pool, issued to its SPA app client. API Gateway's JWT "
                    "authorizer checks the issuer (the pool), the audience (the app "
                    "client id), the signature and the expiry.",
                }
            },
            "headers": {
                "CacheControl": {
                    "required": True,
                    "schema": {"type": "string", "const": "no-store"},
                    "description": "Responses with user data are never cached.",
                }
            },
            "responses": error_responses(),
            "schemas": component_schemas(),
        },
    }


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.openapi", description=__doc__.split("\n")[0]
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--write", action="store_true", help="write the document to docs/openapi.json"
    )
    action.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when docs/openapi.json differs from the generated document",
    )
    args = parser.parse_args(argv)

    text = render(build_document())
    path = DOCUMENT_PATH
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if args.check:
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        if committed != text:
            print(
                f"{path} is out of date: run make openapi and commit the file",
                file=sys.stderr,
            )
            return 1
        print(f"{path} is up to date")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
