"""Field rules of the profile and the defaults of a new profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from pfmon_api import errors
from pfmon_api.logic import profiles
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.profile import (
    MAX_PREFERENCES,
    ProfileUpdate,
    parse_profile_update,
)

BODY: dict[str, Any] = {
    "displayName": "Alice",
    "baseCurrency": "USD",
    "timeZone": "UTC",
    "defaultAccountId": None,
    "preferences": {},
    "version": 1,
}


def parse_with(**changes: Any) -> ProfileUpdate:
    return parse_profile_update({**BODY, **changes})


def rejection(**changes: Any) -> errors.ValidationError:
    with pytest.raises(errors.ValidationError) as raised:
        parse_with(**changes)
    return raised.value


class TestProfileUpdate:
    def test_valid_body_parses(self) -> None:
        update = parse_with(preferences={"theme": "dark", "size": 3})

        assert update.display_name == "Alice"
        assert update.version == 1
        assert update.preferences == {"theme": "dark", "size": Decimal(3)}

    @pytest.mark.parametrize("name", ["Zoë Ågren", "a" * 80, "李小龍", "👩‍💻 trader"])
    def test_display_name_accepted(self, name: str) -> None:
        assert parse_with(displayName=name).display_name == name

    @pytest.mark.parametrize(
        "name", ["", "   ", "a" * 81, "tab\there", "bell\x07", "del\x7f", "c1\x85"]
    )
    def test_display_name_rejected(self, name: str) -> None:
        assert rejection(displayName=name).field == "displayName"

    def test_control_character_message(self) -> None:
        message = rejection(displayName="two\nlines").message

        assert "control characters" in message

    @pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
    def test_time_zone_accepted(self, zone: str) -> None:
        assert parse_with(timeZone=zone).time_zone == zone

    @pytest.mark.parametrize(
        "zone", ["", "Mars/Base", "/etc/localtime", "America/../UTC", "utc", 5]
    )
    def test_time_zone_rejected(self, zone: object) -> None:
        assert rejection(timeZone=zone).field == "timeZone"

    @pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "CHF"])
    def test_currency_accepted(self, code: str) -> None:
        assert parse_with(baseCurrency=code).base_currency == code

    @pytest.mark.parametrize("code", ["usd", "US", "USDT", "XAU", "", None])
    def test_currency_rejected(self, code: object) -> None:
        error = rejection(baseCurrency=code)

        assert error.field == "baseCurrency"

    def test_currency_message_lists_codes(self) -> None:
        assert "EUR" in rejection(baseCurrency="XYZ").message

    @pytest.mark.parametrize(
        "account", ["acc-1", "0f8fad5b-d9cb-469f-a165-70867728950e"]
    )
    def test_account_accepted(self, account: str) -> None:
        assert parse_with(defaultAccountId=account).default_account_id == account

    @pytest.mark.parametrize("account", ["", "a/b", "a" * 65, 7])
    def test_account_rejected(self, account: object) -> None:
        assert rejection(defaultAccountId=account).field == "defaultAccountId"

    @pytest.mark.parametrize("version", [0, -1, "1", 1.0, Decimal("1.0"), True, None])
    def test_version_rejected(self, version: object) -> None:
        assert rejection(version=version).field == "version"

    def test_extra_field_reported_first(self) -> None:
        # A misspelled name is unknown and its real name is missing: report the unknown.
        body = dict(BODY)
        body["timezone"] = body.pop("timeZone")

        with pytest.raises(errors.ValidationError) as raised:
            parse_profile_update(body)

        assert raised.value.field == "timezone"
        assert "1 more problems" in raised.value.message


class TestPreferences:
    def test_fifty_keys_accepted(self) -> None:
        preferences = {f"key{index}": index for index in range(MAX_PREFERENCES)}

        assert len(parse_with(preferences=preferences).preferences) == MAX_PREFERENCES

    def test_fifty_one_keys_rejected(self) -> None:
        preferences = {f"key{index}": index for index in range(MAX_PREFERENCES + 1)}

        error = rejection(preferences=preferences)

        assert error.field == "preferences"
        assert "51" in error.message

    @pytest.mark.parametrize(
        "value",
        [None, [1], {"a": 1}, "x" * 1025, Decimal("NaN"), Decimal("1" * 39)],
        ids=["null", "list", "object", "long-text", "nan", "39-digits"],
    )
    def test_value_rejected(self, value: object) -> None:
        error = rejection(preferences={"theme": value})

        assert error.field == "preferences"
        assert "'theme'" in error.message

    @pytest.mark.parametrize("key", ["", "1abc", "a b", "a" * 65, "ключ"])
    def test_key_rejected(self, key: str) -> None:
        assert rejection(preferences={key: 1}).field == "preferences"

    @pytest.mark.parametrize(
        "value", ["x" * 1024, True, False, 0, Decimal("-0.000001"), Decimal("1" * 38)]
    )
    def test_value_accepted(self, value: object) -> None:
        assert parse_with(preferences={"k": value}).preferences["k"] == value

    @given(st.decimals(allow_nan=False, allow_infinity=False))
    def test_accepted_numbers_are_storable(self, value: Decimal) -> None:
        try:
            update = parse_with(preferences={"n": value})
        except errors.ValidationError:
            return
        # boto3 raises for numbers DynamoDB cannot store exactly.
        TypeSerializer().serialize(update.preferences["n"])

    @pytest.mark.parametrize(
        "value", [Decimal("1E+126"), Decimal("1E-131"), Decimal("0E-200")]
    )
    def test_out_of_range_rejected(self, value: Decimal) -> None:
        assert rejection(preferences={"n": value}).field == "preferences"


class TestDefaults:
    @pytest.mark.parametrize(
        ("email", "expected"),
        [
            ("alice@example.com", "alice"),
            ("first.last+tag@example.com", "first.last+tag"),
            ("@example.com", "Trader"),
            ("no-at-sign", "no-at-sign"),
            ("tab\t@example.com", "tab"),
            ("x" * 100 + "@example.com", "x" * 80),
            ("", "Trader"),
            (None, "Trader"),
        ],
    )
    def test_display_name_from_email(self, email: str | None, expected: str) -> None:
        assert profiles.default_display_name(email) == expected

    @pytest.mark.parametrize("email", ["alice@example.com", "\x00\x01@x", None])
    def test_new_profile_is_valid(self, email: str | None) -> None:
        profile = profiles.new_profile(
            "user-1", email, datetime(2026, 1, 31, tzinfo=UTC)
        )

        # A default profile must pass the same rules as an update.
        document = profile.model_dump()
        update = {name: document[name] for name in BODY if name != "version"}
        assert parse_profile_update({**update, "version": 1}).display_name
        assert profile.version == 1
        assert profile.created_at == "2026-01-31T00:00:00.000Z"


def test_timestamp_is_utc() -> None:
    moment = datetime(
        2026, 1, 31, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))
    )

    assert format_timestamp(moment) == "2026-01-31T09:30:05.123Z"
