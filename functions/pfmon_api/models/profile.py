"""The user profile: the stored item, the body of PUT /profile and their field rules."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from pfmon_api import errors
from pfmon_api.models.base import ApiModel, parse_request
from pfmon_api.models.fields import check_display_characters, quote_value

DISPLAY_NAME_MAX_LENGTH = 80
DEFAULT_DISPLAY_NAME = "Trader"
DEFAULT_CURRENCY = "USD"
DEFAULT_TIME_ZONE = "UTC"

MAX_PREFERENCES = 50
MAX_PREFERENCE_TEXT_LENGTH = 1024
PREFERENCE_KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")

# DynamoDB numbers have at most 38 digits and a magnitude from 1E-130 to 9.99...E+125
# (DynamoDB Developer Guide, "Supported data types"). boto3 1.44 raises for more
# digits, trailing zeros included, but sends a larger exponent to the service.
MAX_NUMBER_DIGITS = 38
MIN_NUMBER_EXPONENT = -130
MAX_NUMBER_EXPONENT = 125

# The ISO 4217 codes accepted as a base currency: a fixed list of widely traded ones.
CURRENCIES = frozenset(
    {
        "AED", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK",
        "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "JPY", "KRW", "MXN",
        "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SAR", "SEK", "SGD", "THB",
        "TRY", "TWD", "USD", "ZAR",
    }
)  # fmt: skip

# Fields of the stored profile that only the server writes.
READ_ONLY_FIELDS = ("userId", "email", "createdAt", "updatedAt")

PreferenceValue = str | bool | Decimal


def _check_display_name(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(
            "blank_display_name", "the display name must contain a visible character"
        )
    return check_display_characters(value)


def _check_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise PydanticCustomError(
            "unsupported_currency",
            "'{value}' is not a supported ISO 4217 currency code: use one of {codes}",
            {"value": value, "codes": ", ".join(sorted(CURRENCIES))},
        )
    return value


# The areas of the geographic IANA names, such as America in America/New_York. Names
# outside them, such as "Factory", "EST5EDT", "US/Eastern" or "Etc/GMT+5", are
# rejected, and so are the zoneinfo file names "localtime", "posixrules", "posix/..."
# and "right/...", which the tzdata package does not list.
TIME_ZONE_AREAS = frozenset(
    {
        "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
        "Australia", "Europe", "Indian", "Pacific",
    }
)  # fmt: skip


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Return the accepted time zone names: "UTC" and the Area/Location names.

    The names come from the `zones` list of the tzdata package, which the function
    package vendors, so they do not depend on the zone files of the machine.
    """
    try:
        listed = resources.files("tzdata").joinpath("zones").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise errors.ConfigurationError(
            "the tzdata package is missing: add it to the function package"
        ) from exc
    names = {
        name for name in listed.split() if name.split("/", 1)[0] in TIME_ZONE_AREAS
    }
    return frozenset(names | {DEFAULT_TIME_ZONE})


def _check_time_zone(value: str) -> str:
    if value not in time_zone_names() or not _loads_time_zone(value):
        raise PydanticCustomError(
            "unknown_time_zone",
            "'{value}' is not an IANA time zone name: use UTC or an Area/Location "
            "name such as America/New_York",
            {"value": quote_value(value)},
        )
    return value


def _loads_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_preferences(value: object) -> dict[str, PreferenceValue]:
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            "preferences_type", "preferences must be a JSON object"
        )
    if len(value) > MAX_PREFERENCES:
        raise PydanticCustomError(
            "too_many_preferences",
            "preferences has {count} keys, more than the maximum of {maximum}",
            {"count": len(value), "maximum": MAX_PREFERENCES},
        )
    return {
        _check_preference_key(key): _parse_preference(key, item)
        for key, item in value.items()
    }


def _check_preference_key(key: object) -> str:
    if not isinstance(key, str) or not PREFERENCE_KEY_PATTERN.fullmatch(key):
        raise PydanticCustomError(
            "invalid_preference_key",
            "preference key '{key}' is invalid: use 1 to 64 letters, digits, '_', '.' "
            "or '-', starting with a letter",
            {"key": key},
        )
    return key


def _parse_preference(key: str, value: object) -> PreferenceValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > MAX_PREFERENCE_TEXT_LENGTH:
            raise PydanticCustomError(
                "preference_too_long",
                "preference '{key}' has {length} characters, more than the maximum of "
                "{maximum}",
                {
                    "key": key,
                    "length": len(value),
                    "maximum": MAX_PREFERENCE_TEXT_LENGTH,
                },
            )
        return value
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        _check_number(key, value)
        return value
    raise PydanticCustomError(
        "invalid_preference_type",
        "preference '{key}' must be a string, a boolean or a number",
        {"key": key},
    )


def _check_number(key: str, value: Decimal) -> None:
    digits = len(value.as_tuple().digits)
    if (
        not value.is_finite()
        or digits > MAX_NUMBER_DIGITS
        or not MIN_NUMBER_EXPONENT <= value.adjusted() <= MAX_NUMBER_EXPONENT
    ):
        raise PydanticCustomError(
            "unstorable_number",
            "preference '{key}' must be a number of at most 38 digits "
            "between 1E-130 and 9.9E+125 in magnitude",
            {"key": key},
        )


DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DISPLAY_NAME_MAX_LENGTH),
    AfterValidator(_check_display_name),
]
CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]
# The accounts routes generate account ids, so the model only bounds their shape. The
# profile logic checks that the account is the caller's and not archived.
AccountId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Preferences = Annotated[dict[str, PreferenceValue], PlainValidator(_parse_preferences)]
Version = Annotated[int, Field(ge=1)]


class ProfileSettings(ApiModel):
    """The fields of a profile that the user edits."""

    display_name: DisplayName
    base_currency: CurrencyCode
    time_zone: TimeZoneName
    default_account_id: AccountId | None
    preferences: Preferences


class ProfileUpdate(ProfileSettings):
    """Body of PUT /profile: every editable field, replacing the stored ones.

    `version` is the version the client read, and the update fails with 409 when the
    stored profile has changed since. `defaultAccountId` must be present and either
    null or one of the caller's accounts that is not archived.
    """

    version: Version


class Profile(ProfileSettings):
    """A stored profile, as GET and PUT /profile return it."""

    # Built by the server from keyword arguments, never from a request body.
    model_config = ConfigDict(validate_by_name=True)

    user_id: str
    email: str | None
    version: Version
    created_at: str
    updated_at: str


def parse_profile_update(document: Mapping[str, Any]) -> ProfileUpdate:
    """Validate the body of PUT /profile, raising `ValidationError` on a bad field."""
    for name in READ_ONLY_FIELDS:
        if name in document:
            raise errors.ValidationError(
                f"{name} is set by the server and cannot be changed: remove it from "
                "the request body",
                field=name,
            )
    return parse_request(ProfileUpdate, document)
