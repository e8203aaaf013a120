"""The user profile: the stored item, the body of PUT /profile and their field rules."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
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
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise PydanticCustomError(
            "control_character",
            "the display name must not contain control characters such as line breaks",
        )
    return value


def _check_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise PydanticCustomError(
            "unsupported_currency",
            "'{value}' is not a supported ISO 4217 currency code: use one of {codes}",
            {"value": value, "codes": ", ".join(sorted(CURRENCIES))},
        )
    return value


@functools.cache
def _time_zone_names() -> frozenset[str]:
    names = frozenset(zoneinfo.available_timezones())
    if not names:
        # NOTE: zoneinfo reads the system's /usr/share/zoneinfo or the tzdata package.
        # A Lambda image without the first needs tzdata in the deployment package.
        raise errors.ConfigurationError(
            "no IANA time zone database found: add the tzdata package to the function"
        )
    return names


def _check_time_zone(value: str) -> str:
    if value not in _time_zone_names():
        raise PydanticCustomError(
            "unknown_time_zone",
            "'{value}' is not an IANA time zone name such as America/New_York or UTC",
            {"value": value},
        )
    return value


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
# The accounts routes generate account ids, so this only bounds their shape.
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
    stored profile has changed since. `defaultAccountId` must be present but may be
    null.
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
