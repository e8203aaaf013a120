"""JSON parsing and writing that keeps numbers exact.

Request bodies are parsed with every non-integer number as a `Decimal` built from its
text, so `0.1` stays `Decimal("0.1")`. Responses write a `Decimal` as a JSON number with
the same digits, because `json.dumps` rejects `Decimal` and Powertools' encoder turns it
into a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pfmon_api import errors

BODY_FIELD = "body"
# Maximum length of a number literal in a request body. Every number field of the API
# fits in far fewer characters, because DynamoDB keeps 38 digits. The bound also keeps
# int() below Python's limit of 4300 digits for converting text to an integer.
MAX_NUMBER_LENGTH = 100
# Error messages quote at most this many characters of a duplicate key.
MAX_QUOTED_KEY = 40
# A written Decimal must have a magnitude that DynamoDB can store, from 1E-130 to
# 9.99...E+125, so that its plain notation has at most about 130 digits.
MIN_WRITTEN_EXPONENT = -130
MAX_WRITTEN_EXPONENT = 125


class _RejectedDocumentError(ValueError):
    """A parse hook rejected part of the document, with a message safe to return."""


def parse_object(text: str) -> dict[str, Any]:
    """Parse a JSON document that must be an object.

    Raises `ValidationError` on field "body" for malformed JSON, `NaN` or `Infinity`,
    a number literal of more than `MAX_NUMBER_LENGTH` characters, a duplicate key, a
    lone surrogate escape such as "\\ud800", nesting too deep for the parser, or a
    document that is not an object.
    """
    try:
        document = json.loads(
            text,
            parse_float=_parse_decimal,
            parse_int=_parse_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except json.JSONDecodeError as exc:
        position = f"line {exc.lineno} column {exc.colno}"
        raise errors.ValidationError(
            f"request body is not valid JSON: {exc.msg} at {position}", field=BODY_FIELD
        ) from exc
    except RecursionError as exc:
        raise errors.ValidationError(
            "request body is nested too deeply", field=BODY_FIELD
        ) from exc
    except _RejectedDocumentError as exc:
        raise errors.ValidationError(str(exc), field=BODY_FIELD) from exc

    if not isinstance(document, dict):
        raise errors.ValidationError(
            f"request body must be a JSON object, not {_json_type(document)}",
            field=BODY_FIELD,
        )
    _check_strings(document)
    return document


def dumps(value: object) -> str:
    """Write a value of dicts, lists, strings, booleans, None, ints and finite Decimals.

    A Decimal is written in plain notation with its exact digits, such as 0.0000000001
    for 1E-10 and 1000 for 1E+3. Raises TypeError for any other type, floats
    included, and ValueError for a Decimal that is NaN, infinite, or outside the
    magnitudes from 1E-130 to 9.99...E+125.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def write_decimal(value: Decimal) -> str:
    """Write a finite Decimal as a JSON number in plain notation, never with "E"."""
    if not value.is_finite():
        raise ValueError(f"cannot write {value} as a JSON number")
    if not value.is_zero() and not (
        MIN_WRITTEN_EXPONENT <= value.adjusted() <= MAX_WRITTEN_EXPONENT
    ):
        raise ValueError(
            f"cannot write {value} as a JSON number: its magnitude is outside 1E-130 "
            "to 9.99E+125"
        )
    # format(..., "f") keeps every digit, including trailing zeros such as 12.50.
    return format(value, "f")


def _write(value: object, parts: list[str]) -> None:
    if value is None or isinstance(value, bool | int | str):
        parts.append(json.dumps(value))
    elif isinstance(value, Decimal):
        parts.append(write_decimal(value))
    elif isinstance(value, Mapping):
        _write_object(value, parts)
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_object(value: Mapping[object, object], parts: list[str]) -> None:
    parts.append("{")
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(key, str):
            raise TypeError(
                f"JSON object keys must be strings, not {type(key).__name__}"
            )
        if index:
            parts.append(",")
        parts.append(json.dumps(key))
        parts.append(":")
        _write(item, parts)
    parts.append("}")


def _reject_constant(name: str) -> None:
    raise _RejectedDocumentError(
        f"request body is not valid JSON: {name} is not a JSON number"
    )


def _check_number_length(literal: str) -> None:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _RejectedDocumentError(
            f"request body contains a number of {len(literal)} characters, more than "
            f"the maximum of {MAX_NUMBER_LENGTH}: it starts {literal[:20]}..."
        )


def _parse_int(literal: str) -> int:
    _check_number_length(literal)
    return int(literal)


def _parse_decimal(literal: str) -> Decimal:
    _check_number_length(literal)
    return Decimal(literal)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            quoted = key if len(key) <= MAX_QUOTED_KEY else f"{key[:MAX_QUOTED_KEY]}..."
            raise _RejectedDocumentError(
                f"request body is not valid JSON: duplicate key {quoted!r}"
            )
        document[key] = value
    return document


def _check_strings(value: object) -> None:
    """Reject strings that cannot be encoded as UTF-8, so boto3 cannot send them."""
    if isinstance(value, str):
        _check_string(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_string(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise errors.ValidationError(
            "request body contains a lone surrogate escape (\\ud800 to \\udfff): "
            "send valid Unicode text",
            field=BODY_FIELD,
        ) from exc


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
