"""Field types shared by the accounts and entries models: numbers, text, dates.

A money, price or quantity field accepts a JSON number (parsed as an exact `Decimal`
by `json_codec`) or a string of decimal digits such as "12.50", never a boolean. Its
number of decimal places and its range are bounded, so that every value and every
amount derived from it fits a DynamoDB number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Annotated

from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

from pfmon_api.logic.matching import EXACT_CONTEXT, decimal_places

# Brokers report prices and fees with up to 9 decimal places (IBKR commissions such as
# 2.119713626) and crypto quantities with 8, so 10 places leave room.
MAX_DECIMAL_PLACES = 10
# The largest magnitude of a price, quantity, fee or balance: 10**12 - 10**-10.
MAX_AMOUNT = Decimal("1E+12")

# Executions and entries carry times between these bounds, which catch a mistyped year.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)

# Error messages quote at most this many characters of a rejected value.
MAX_QUOTED_LENGTH = 40

# Input patterns use [0-9], because \d also matches non-ASCII digits such as the
# fullwidth "\uff11" and the Arabic-Indic "\u0661", which Decimal() and date parsing
# accept as 1.
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# YYYY-MM-DDTHH:MM[:SS[.fraction]] with Z or a +HH:MM / -HH:MM offset.
_ISO_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)

# Invisible characters that can make a one-line name display differently from what it
# stores: the bidirectional embeddings and overrides U+202A to U+202E, the isolates
# U+2066 to U+2069, the zero-width space, non-joiner and joiner U+200B to U+200D, the
# word joiner U+2060 and the byte order mark U+FEFF.
HIDDEN_CHARACTERS = frozenset(
    [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
    + [chr(code) for code in range(0x200B, 0x200E)]
    + ["\u2060", "\ufeff"]
)
ZERO_WIDTH_JOINER = "\u200d"
# Unicode categories rejected in one-line text: control characters (Cc), the line
# separator U+2028 (Zl) and the paragraph separator U+2029 (Zp).
_LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# The characters an emoji ZWJ sequence joins: emoji (So), skin tone modifiers (Sk)
# and the emoji variation selector U+FE0F.
_EMOJI_CATEGORIES = frozenset({"So", "Sk"})
EMOJI_VARIATION_SELECTOR = "\ufe0f"


def plain_decimal(number: Decimal) -> Decimal:
    """Drop trailing zeros after the decimal point, as DynamoDB does when it stores.

    12.50 becomes 12.5, 0E-20 and -0 become 0, and 1E+3 becomes 1000.
    """
    if number.is_zero():
        return Decimal(0)
    with localcontext(EXACT_CONTEXT):
        trimmed = number.normalize()
        if decimal_places(trimmed) == 0:
            # normalize() writes 10.0 as 1E+1, so quantize to a plain integer.
            return trimmed.quantize(Decimal(1))
    return trimmed


def quote_value(text: str, limit: int = MAX_QUOTED_LENGTH) -> str:
    """Shorten a rejected value for an error message, marking a cut with "...".

    A value of more than `limit` characters becomes its first `limit` characters,
    "..." and its length, such as "1234567890... (45 characters)".
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise PydanticCustomError(
            "decimal_type", "expected a number or a decimal string, not a boolean"
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise PydanticCustomError("decimal_finite", "expected a finite number")
        return value
    if isinstance(value, str):
        if not _DECIMAL_TEXT.fullmatch(value):
            raise PydanticCustomError(
                "decimal_text",
                "'{value}' is not a decimal number: send digits with an optional "
                'sign and decimal point, such as "12.50"',
                {"value": quote_value(value)},
            )
        return Decimal(value)
    raise PydanticCustomError(
        "decimal_type", 'expected a number or a decimal string such as "12.50"'
    )


def decimal_parser(
    *,
    minimum: Decimal,
    minimum_exclusive: bool = False,
    maximum: Decimal = MAX_AMOUNT,
    places: int = MAX_DECIMAL_PLACES,
) -> Callable[[object], Decimal]:
    """Build a validator of an exact number in a range with at most `places` places.

    The range is from `minimum` (excluded when `minimum_exclusive`) up to but
    excluding `maximum`. The validator returns the number without trailing zeros.
    """
    bound = "greater than" if minimum_exclusive else "at least"

    def parse(value: object) -> Decimal:
        number = _to_decimal(value)
        too_small = number <= minimum if minimum_exclusive else number < minimum
        if too_small or number >= maximum:
            raise PydanticCustomError(
                "decimal_range",
                "{value} is out of range: expected a number {bound} {minimum} and "
                "less than {maximum}",
                {
                    "value": quote_value(str(number)),
                    "bound": bound,
                    "minimum": str(minimum),
                    "maximum": f"{maximum:f}",
                },
            )
        if decimal_places(number) > places:
            raise PydanticCustomError(
                "decimal_places",
                "{value} has more than {places} decimal places",
                {"value": quote_value(str(number)), "places": places},
            )
        return plain_decimal(number)

    return parse


def check_single_line(value: str) -> str:
    """Reject empty text, leading or trailing spaces and hidden or control characters.

    The character rule is `check_display_characters`.
    """
    if value != value.strip() or not value:
        raise PydanticCustomError(
            "text_spaces",
            "expected non-empty text without leading or trailing spaces",
        )
    return check_display_characters(value)


def check_display_characters(value: str) -> str:
    """Reject characters that break or hide part of a one-line display string.

    This is the rule of every name, label, symbol, tag and setup: no control
    characters, no line or paragraph separators and none of `HIDDEN_CHARACTERS`. The
    one exception is a zero-width joiner inside an emoji sequence, such as the one in
    "\U0001f469\u200d\U0001f4bb" (woman technologist).
    """
    for index, character in enumerate(value):
        if unicodedata.category(character) in _LINE_BREAKING_CATEGORIES:
            raise PydanticCustomError(
                "control_character",
                "the text must not contain control characters or line breaks: found "
                "U+{code} at position {position}",
                {"code": f"{ord(character):04X}", "position": index},
            )
        if character in HIDDEN_CHARACTERS and not _joins_emoji(value, index):
            raise PydanticCustomError(
                "hidden_character",
                "the text must not contain invisible formatting characters such as "
                "bidirectional overrides or zero-width spaces: found U+{code} at "
                "position {position}",
                {"code": f"{ord(character):04X}", "position": index},
            )
    return value


def _joins_emoji(value: str, index: int) -> bool:
    """Return whether the character at `index` is a joiner between two emoji."""
    if value[index] != ZERO_WIDTH_JOINER or not 0 < index < len(value) - 1:
        return False
    before, after = value[index - 1], value[index + 1]
    return (
        before == EMOJI_VARIATION_SELECTOR
        or unicodedata.category(before) in _EMOJI_CATEGORIES
    ) and unicodedata.category(after) == "So"


def check_multiline(value: str) -> str:
    """Reject text with control characters other than line breaks and tabs."""
    if any(
        unicodedata.category(character) == "Cc" and character not in "\r\n\t"
        for character in value
    ):
        raise PydanticCustomError(
            "control_character",
            "the text must not contain control characters other than line breaks "
            "and tabs",
        )
    return value


def parse_timestamp(value: object) -> datetime:
    """Parse an ISO 8601 time with an offset, raising a pydantic error otherwise."""
    if not isinstance(value, str) or not _ISO_TIMESTAMP.fullmatch(value):
        raise PydanticCustomError(
            "timestamp_format",
            "expected an ISO 8601 time with an offset, such as "
            "2026-01-05T09:30:00-05:00 or 2026-01-05T14:30:00Z",
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "timestamp_value", "'{value}' is not a valid time", {"value": value}
        ) from exc
    if not EARLIEST_TIME <= moment < LATEST_TIME:
        raise PydanticCustomError(
            "timestamp_range",
            "'{value}' is outside the years 1970 to 2099",
            {"value": value},
        )
    return moment


def parse_iso_date(value: object) -> date:
    """Parse a date written YYYY-MM-DD from 1970 to 2099, raising a pydantic error.

    The years are those of `EARLIEST_TIME` and `LATEST_TIME`, as for times.
    """
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError(
            "date_format", "expected a date written YYYY-MM-DD, such as 2026-03-20"
        )
    try:
        parsed = date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "date_value", "'{value}' is not a valid date", {"value": value}
        ) from exc
    first, last = EARLIEST_TIME.date(), LATEST_TIME.date() - timedelta(days=1)
    if not first <= parsed <= last:
        raise PydanticCustomError(
            "date_range",
            "'{value}' is outside the years 1970 to 2099: use a date from {first} "
            "to {last}",
            {"value": value, "first": str(first), "last": str(last)},
        )
    return parsed


def format_moment(moment: datetime) -> str:
    """Write an aware time in ISO 8601 with its own offset, UTC as Z.

    Microseconds are kept when present, so an edited entry keeps its exact times.
    """
    text = moment.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


Timestamp = Annotated[datetime, PlainValidator(parse_timestamp)]
IsoDate = Annotated[date, PlainValidator(parse_iso_date)]
