"""Base model of the API and the conversion of pydantic errors into domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from pfmon_api import errors


class ApiModel(BaseModel):
    """Base of every model: camelCase JSON names, strict types, no unknown fields.

    Strict mode rejects "5" for a number and 1 for a boolean. Validation accepts only
    the camelCase names, so a snake_case key such as "display_name" is an unknown field.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


ModelT = TypeVar("ModelT", bound=ApiModel)


def parse_request(model: type[ModelT], document: Mapping[str, Any]) -> ModelT:
    """Validate a request body, raising `ValidationError` on the first bad field."""
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as exc:
        raise _validation_error(exc) from exc


def format_timestamp(moment: datetime) -> str:
    """Format a moment as UTC ISO 8601 in milliseconds: 2026-01-31T09:30:00.000Z."""
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def field_path(location: Sequence[int | str]) -> str:
    """Join a pydantic error location into a field path such as executions[3].price."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _validation_error(exc: pydantic.ValidationError) -> errors.ValidationError:
    details = exc.errors()
    # An unknown field explains a missing one when the client misspelled a name.
    details.sort(key=lambda detail: detail["type"] != "extra_forbidden")
    first = details[0]

    field = field_path(first["loc"]) or "body"
    if first["type"] == "extra_forbidden":
        message = f"unknown field {field}: remove it from the request body"
    elif first["type"] == "missing":
        message = f"missing required field {field}"
    else:
        message = f"invalid {field}: {first['msg']}"
    if len(details) > 1:
        message += f" ({len(details) - 1} more problems in the request body)"
    return errors.ValidationError(message, field=field)
