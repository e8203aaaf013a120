"""GET and PUT /profile through the Lambda handler, against moto's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from pfmon_api.data import dynamodb, user_profiles
from pfmon_api.handlers import profile
from pfmon_api.logic import profiles
from tests.functions.events import USER_A, USER_B, HttpResult, http_event, invoke
from tests.functions.journal_requests import account_request, create_account

SETTINGS: dict[str, Any] = {
    "displayName": "Alice Trader",
    "baseCurrency": "EUR",
    "timeZone": "Europe/Berlin",
    # PUT rejects the id of an account that does not exist, so only TestDefaultAccount
    # sends ids, of accounts it creates first.
    "defaultAccountId": None,
    "preferences": {"theme": "dark", "compact": True, "riskPercent": Decimal("0.5")},
}


def get_profile(sub: str | None = USER_A, **kwargs: Any) -> HttpResult:
    return invoke(profile.handler, http_event("GET", "/profile", sub=sub, **kwargs))


def put_profile(body: Any, sub: str | None = USER_A, **kwargs: Any) -> HttpResult:
    event = http_event("PUT", "/profile", sub=sub, body=body, **kwargs)
    return invoke(profile.handler, event)


def error_of(result: HttpResult) -> dict[str, Any]:
    assert set(result.body) == {"error"}
    error: dict[str, Any] = result.body["error"]
    return error


@pytest.mark.usefixtures("table_names")
class TestGetProfile:
    def test_first_get_creates_defaults(self) -> None:
        result = get_profile()

        assert result.status == 200
        assert result.body["userId"] == USER_A
        assert result.body["email"] == "alice@example.com"
        assert result.body["displayName"] == "alice"
        assert result.body["baseCurrency"] == "USD"
        assert result.body["timeZone"] == "UTC"
        assert result.body["defaultAccountId"] is None
        assert result.body["preferences"] == {}
        assert result.body["version"] == 1
        assert result.body["createdAt"] == result.body["updatedAt"]
        assert result.body["createdAt"].endswith("Z")

    def test_two_gets_store_one_item(self, profiles_table: Any) -> None:
        first = get_profile()
        second = get_profile()

        items = profiles_table.scan()["Items"]
        assert len(items) == 1
        assert second.body["createdAt"] == first.body["createdAt"]
        assert second.body == first.body

    def test_get_without_email_claim(self) -> None:
        # Access tokens carry no email claim.
        result = get_profile(email=None)

        assert result.status == 200
        assert result.body["email"] is None
        assert result.body["displayName"] == "Trader"

    def test_get_returns_no_store(self) -> None:
        result = get_profile()

        assert result.headers["Cache-Control"] == "no-store"
        assert result.headers["Content-Type"] == "application/json"

    def test_missing_sub_is_401(self, profiles_table: Any) -> None:
        result = get_profile(sub=None)

        assert result.status == 401
        assert error_of(result)["code"] == "Unauthorized"
        assert profiles_table.scan()["Items"] == []

    def test_empty_sub_is_401(self) -> None:
        assert get_profile(sub="").status == 401

    def test_forged_query_user_ignored(self) -> None:
        # GIVEN user B has a profile with a distinct name
        put_b = get_profile(sub=USER_B, email="bob@example.com")
        assert put_b.body["displayName"] == "bob"

        # WHEN user A requests B's profile through the query string and path parameters
        result = get_profile(
            query={"userId": USER_B},
            path_parameters={"userId": USER_B},
        )

        # THEN A gets A's own profile
        assert result.body["userId"] == USER_A
        assert result.body["displayName"] == "alice"


@pytest.mark.usefixtures("table_names")
class TestPutProfile:
    def test_put_replaces_settings(self) -> None:
        created = get_profile()

        result = put_profile({**SETTINGS, "version": 1})

        assert result.status == 200
        for name, value in SETTINGS.items():
            assert result.body[name] == value, name
        assert result.body["version"] == 2
        assert result.body["createdAt"] == created.body["createdAt"]
        assert result.body["updatedAt"] >= created.body["updatedAt"]
        assert result.body["userId"] == USER_A
        assert result.body["email"] == "alice@example.com"

    def test_put_is_read_back(self) -> None:
        get_profile()
        put_profile({**SETTINGS, "version": 1})

        result = get_profile()

        assert result.body["preferences"] == SETTINGS["preferences"]
        assert result.body["version"] == 2

    def test_decimal_preference_keeps_digits(self, profiles_table: Any) -> None:
        get_profile()
        preferences = {"tick": Decimal("0.0000125"), "lots": 3}

        result = put_profile({**SETTINGS, "preferences": preferences, "version": 1})

        assert result.body["preferences"] == preferences
        stored = profiles_table.get_item(Key={"userId": USER_A})["Item"]
        assert stored["preferences"]["tick"] == Decimal("0.0000125")

    def test_stale_version_is_409(self, profiles_table: Any) -> None:
        # GIVEN the profile was updated to version 2
        get_profile()
        put_profile({**SETTINGS, "version": 1})
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        # WHEN a client that read version 1 writes
        result = put_profile({**SETTINGS, "displayName": "Stale", "version": 1})

        # THEN the write is rejected and the item is unchanged
        assert result.status == 409
        assert error_of(result)["code"] == "Conflict"
        assert error_of(result)["field"] == "version"
        assert "GET /profile" in error_of(result)["message"]
        after = profiles_table.get_item(Key={"userId": USER_A})["Item"]
        assert after == before

    def test_future_version_is_409(self) -> None:
        get_profile()

        result = put_profile({**SETTINGS, "version": 7})

        assert result.status == 409

    def test_put_before_get_is_404(self, profiles_table: Any) -> None:
        result = put_profile({**SETTINGS, "version": 1})

        assert result.status == 404
        assert error_of(result)["code"] == "NotFound"
        assert profiles_table.scan()["Items"] == []

    def test_unknown_field_names_it(self) -> None:
        get_profile()

        result = put_profile({**SETTINGS, "version": 1, "isAdmin": True})

        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == "isAdmin"
        assert "isAdmin" in error_of(result)["message"]

    def test_snake_case_field_is_unknown(self) -> None:
        get_profile()
        body = {**SETTINGS, "version": 1, "display_name": "x"}

        result = put_profile(body)

        assert result.status == 400
        assert error_of(result)["field"] == "display_name"

    @pytest.mark.parametrize("field", ["userId", "email", "createdAt", "updatedAt"])
    def test_read_only_field_is_400(self, field: str, profiles_table: Any) -> None:
        get_profile()
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        result = put_profile({**SETTINGS, "version": 1, field: "forged"})

        assert result.status == 400
        assert error_of(result)["field"] == field
        assert profiles_table.get_item(Key={"userId": USER_A})["Item"] == before

    def test_missing_version_is_400(self) -> None:
        get_profile()

        result = put_profile(SETTINGS)

        assert result.status == 400
        assert error_of(result)["field"] == "version"
        assert "missing" in error_of(result)["message"]

    def test_missing_setting_is_400(self) -> None:
        # PUT replaces every editable field, so each one must be present.
        get_profile()
        body = {**SETTINGS, "version": 1}
        del body["defaultAccountId"]

        result = put_profile(body)

        assert result.status == 400
        assert error_of(result)["field"] == "defaultAccountId"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("timeZone", "Mars/Olympus_Mons"),
            ("timeZone", "../../etc/passwd"),
            ("timeZone", "utc"),
            ("baseCurrency", "XYZ"),
            ("baseCurrency", "usd"),
            ("displayName", ""),
            ("displayName", "a" * 81),
            ("displayName", "line\nbreak"),
            ("version", "1"),
            ("version", True),
            ("version", 0),
            ("defaultAccountId", "acc/1"),
            ("preferences", {"nested": {"a": 1}}),
        ],
    )
    def test_invalid_value_names_field(self, field: str, value: object) -> None:
        get_profile()

        result = put_profile({**SETTINGS, "version": 1, field: value})

        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == field

    def test_missing_sub_is_401(self) -> None:
        result = put_profile({**SETTINGS, "version": 1}, sub=None)

        assert result.status == 401

    def test_forged_user_in_body_rejected(self, profiles_table: Any) -> None:
        # GIVEN both users have profiles
        get_profile()
        get_profile(sub=USER_B, email="bob@example.com")
        before_b = profiles_table.get_item(Key={"userId": USER_B})["Item"]

        # WHEN A sends B's id in the body
        result = put_profile({**SETTINGS, "version": 1, "userId": USER_B})

        # THEN the request is rejected and B's profile is unchanged
        assert result.status == 400
        assert profiles_table.get_item(Key={"userId": USER_B})["Item"] == before_b

    def test_forged_query_user_updates_caller(self, profiles_table: Any) -> None:
        # GIVEN both users have profiles at version 1
        get_profile()
        get_profile(sub=USER_B, email="bob@example.com")
        before_b = profiles_table.get_item(Key={"userId": USER_B})["Item"]

        # WHEN A names B in the query string and path parameters
        result = put_profile(
            {**SETTINGS, "version": 1},
            query={"userId": USER_B},
            path_parameters={"userId": USER_B},
        )

        # THEN A's profile changes and B's does not
        assert result.body["userId"] == USER_A
        assert profiles_table.get_item(Key={"userId": USER_B})["Item"] == before_b
        stored_a = profiles_table.get_item(Key={"userId": USER_A})["Item"]
        assert stored_a["displayName"] == SETTINGS["displayName"]

    def test_users_see_own_profiles(self) -> None:
        # GIVEN A changed A's profile
        get_profile()
        put_profile({**SETTINGS, "version": 1})

        # WHEN B reads and updates B's profile
        read_b = get_profile(sub=USER_B, email="bob@example.com")
        write_b = put_profile(
            {**SETTINGS, "displayName": "Bob", "version": 1}, sub=USER_B
        )

        # THEN B gets only B's data, and A's profile keeps A's settings
        assert read_b.body["userId"] == USER_B
        assert read_b.body["displayName"] == "bob"
        assert read_b.body["version"] == 1
        assert write_b.body["version"] == 2
        read_a = get_profile()
        assert read_a.body["displayName"] == SETTINGS["displayName"]
        assert read_a.body["version"] == 2


@pytest.mark.usefixtures("table_names")
class TestDefaultAccount:
    def test_own_account_accepted(self) -> None:
        account_id = create_account()
        get_profile()

        result = put_profile({**SETTINGS, "defaultAccountId": account_id, "version": 1})

        assert result.status == 200
        assert result.body["defaultAccountId"] == account_id
        assert get_profile().body["defaultAccountId"] == account_id

    def test_null_accepted(self) -> None:
        get_profile()

        result = put_profile({**SETTINGS, "defaultAccountId": None, "version": 1})

        assert result.status == 200
        assert result.body["defaultAccountId"] is None

    def test_unknown_account_is_400(self, profiles_table: Any) -> None:
        get_profile()
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        result = put_profile({**SETTINGS, "defaultAccountId": "acc-1", "version": 1})

        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == "defaultAccountId"
        assert "acc-1" in error_of(result)["message"]
        assert "GET /accounts" in error_of(result)["message"]
        assert profiles_table.get_item(Key={"userId": USER_A})["Item"] == before

    def test_other_users_account_is_400(self, profiles_table: Any) -> None:
        # GIVEN an account of user B
        account_id = create_account(sub=USER_B)
        get_profile()
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        # WHEN user A makes it A's default
        result = put_profile({**SETTINGS, "defaultAccountId": account_id, "version": 1})

        # THEN the error is the one for an unknown id and A's profile is unchanged
        assert result.status == 400
        assert error_of(result)["field"] == "defaultAccountId"
        assert "is not one of your accounts" in error_of(result)["message"]
        assert profiles_table.get_item(Key={"userId": USER_A})["Item"] == before

    def test_archived_account_is_400(self, profiles_table: Any) -> None:
        # GIVEN an archived account of the caller
        account_id = create_account()
        archived = account_request("POST", account_id, suffix="/archive")
        assert archived.body["archived"] is True
        get_profile()
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        # WHEN the caller makes it the default
        result = put_profile({**SETTINGS, "defaultAccountId": account_id, "version": 1})

        # THEN the request is rejected and the profile is unchanged
        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == "defaultAccountId"
        assert "archived" in error_of(result)["message"]
        assert profiles_table.get_item(Key={"userId": USER_A})["Item"] == before

    def test_check_is_one_get_item(self, table_names: dict[str, str]) -> None:
        # The profile function's IAM policy allows only GetItem on AccountData.
        account_id = create_account()
        get_profile()
        calls: list[tuple[str, str]] = []

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.append((model.name, params.get("TableName", "")))

        events = dynamodb.dynamodb_resource().meta.client.meta.events
        events.register("provide-client-params.dynamodb", record)
        try:
            put_profile({**SETTINGS, "defaultAccountId": account_id, "version": 1})
        finally:
            events.unregister("provide-client-params.dynamodb", record)

        accounts_table = table_names["AccountData"]
        assert [call for call in calls if call[1] == accounts_table] == [
            ("GetItem", accounts_table)
        ]


@pytest.mark.usefixtures("table_names")
def test_racing_create_returns_winner(
    monkeypatch: pytest.MonkeyPatch, profiles_table: Any
) -> None:
    # GIVEN another request stored the profile after this request's first read
    winner = profiles.new_profile(
        USER_A, "winner@example.com", datetime(2026, 1, 1, tzinfo=UTC)
    )
    real_get = user_profiles.get_profile
    reads: list[str] = []

    def get_after_race(user_id: str) -> Any:
        reads.append(user_id)
        if len(reads) == 1:
            user_profiles.create_profile(winner)
            return None
        return real_get(user_id)

    monkeypatch.setattr(user_profiles, "get_profile", get_after_race)

    # WHEN the request creates the profile
    result = get_profile()

    # THEN its conditional put fails and it returns the winner's profile
    assert result.body["email"] == "winner@example.com"
    assert result.body["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert len(profiles_table.scan()["Items"]) == 1
