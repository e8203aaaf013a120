"""Parsing of query string parameters, each error naming the parameter.

API Gateway passes the query string as `queryStringParameters`, a map of names to
decoded values in which a repeated name carries its values joined by commas.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

from pydantic_core import PydanticCustomError

from pfmon_api import errors
from pfmon_api.models.accounts import ACCOUNT_ID_PATTERN
from pfmon_api.models.fields import (
    check_single_line,
    parse_iso_date,
    parse_timestamp,
)

_DATE_LENGTH = len("2026-01-31")
_MAX_VERSION_DIGITS = 18


def reject_unknown_parameters(
    parameters: Mapping[str, str], allowed: Collection[str], route: str
) -> None:
    """Raise `ValidationError` naming the first parameter that is not in `allowed`."""
    unknown = sorted(set(parameters) - set(allowed))
    if unknown:
        raise errors.ValidationError(
            f"unknown query parameter {unknown[0][:40]}: {route} takes "
            f"{', '.join(allowed)}",
            field=unknown[0][:40],
        )


def parse_limit(parameters: Mapping[str, str], default: int, maximum: int) -> int:
    """Return the page size from `limit`: a whole number from 1 to `maximum`."""
    text = parameters.get("limit")
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)) + 3:
        raise errors.ValidationError(
            f"invalid limit {text[:20]!r}: use a whole number from 1 to {maximum}",
            field="limit",
        )
    limit = int(text)
    if limit < 1:
        raise errors.ValidationError(
            f"limit {limit} is too small: use a whole number from 1 to {maximum}",
            field="limit",
        )
    if limit > maximum:
        raise errors.ValidationError(
            f"limit {limit} is over the maximum page size of {maximum}: use a limit "
            f"from 1 to {maximum} and follow nextCursor for more",
            field="limit",
        )
    return limit


def parse_date(parameters: Mapping[str, str], name: str) -> date | None:
    """Return a parameter written YYYY-MM-DD, from 1970 to 2099, or None if absent."""
    text = parameters.get(name)
    if text is None:
        return None
    # parse_iso_date keeps the date within 1970 to 2099. A date bound becomes a time
    # in the caller's time zone, and datetime overflows past 9999-12-31 in UTC.
    try:
        return parse_iso_date(text)
    except PydanticCustomError as exc:
        raise errors.ValidationError(
            f"invalid {name} {text[:40]!r}: {exc.message()}", field=name
        ) from exc


def parse_moment_or_date(
    parameters: Mapping[str, str], name: str
) -> date | datetime | None:
    """Return a parameter that is a date (YYYY-MM-DD) or an ISO 8601 time with offset.

    A `+` in an offset must be sent percent-encoded as %2B, because a query string
    decodes a plain `+` as a space.
    """
    text = parameters.get(name)
    if text is None:
        return None
    if len(text) == _DATE_LENGTH:
        return parse_date(parameters, name)
    try:
        return parse_timestamp(text)
    except PydanticCustomError as exc:
        raise errors.ValidationError(
            f"invalid {name} {text[:40]!r}: expected a date such as 2026-01-31 or a "
            "time with an offset such as 2026-01-31T14:30:00Z",
            field=name,
        ) from exc


def parse_text(parameters: Mapping[str, str], name: str, max_length: int) -> str | None:
    """Return a one-line text parameter of 1 to `max_length` characters."""
    text = parameters.get(name)
    if text is None:
        return None
    try:
        if len(text) > max_length:
            raise PydanticCustomError(
                "too_long",
                "it is longer than {maximum} characters",
                {"maximum": max_length},
            )
        return check_single_line(text)
    except PydanticCustomError as exc:
        raise errors.ValidationError(
            f"invalid {name} {text[:40]!r}: {exc.message()}", field=name
        ) from exc


def parse_account_id(parameters: Mapping[str, str], name: str) -> str | None:
    """Return an account id parameter: 1 to 64 letters, digits, '_' or '-'."""
    text = parameters.get(name)
    if text is None:
        return None
    if not ACCOUNT_ID_PATTERN.fullmatch(text):
        raise errors.ValidationError(
            f"invalid {name} {text[:40]!r}: use an accountId from GET /accounts",
            field=name,
        )
    return text


def parse_version(parameters: Mapping[str, str]) -> int | None:
    """Return the `version` parameter, a whole number of 1 or more, or None."""
    text = parameters.get("version")
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_VERSION_DIGITS:
        raise errors.ValidationError(
            f"invalid version {text[:20]!r}: use the version of GET /entries/{{id}}",
            field="version",
        )
    version = int(text)
    if version < 1:
        raise errors.ValidationError(
            "invalid version 0: versions start at 1", field="version"
        )
    return version
