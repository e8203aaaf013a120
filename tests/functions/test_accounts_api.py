"""The accounts routes through the Lambda handler, against moto's DynamoDB."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from pfmon_api import tables
from pfmon_api.data import dynamodb
from pfmon_api.models.accounts import MAX_ACCOUNTS
from tests.functions.events import USER_A, USER_B
from tests.functions.journal_requests import (
    ACCOUNT,
    account_request,
    create_account,
    error_of,
    list_accounts,
    post_account,
)

UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


@pytest.fixture
def accounts_table(table_names: dict[str, str]) -> Any:
    """Return the moto AccountData table, to read and seed items directly."""
    name = table_names[tables.ACCOUNT_DATA.suffix]
    return dynamodb.dynamodb_resource().Table(name)


def stored(accounts_table: Any, account_id: str, user_id: str = USER_A) -> Any:
    key = {"userId": user_id, "accountId": account_id}
    return accounts_table.get_item(Key=key).get("Item")


def update_body(**changes: Any) -> dict[str, Any]:
    return {**ACCOUNT, "version": 1, **changes}


@pytest.mark.usefixtures("table_names")
class TestCreateAccount:
    def test_create_returns_account(self) -> None:
        result = post_account(ACCOUNT)

        assert result.status == 201
        assert UUID.fullmatch(result.body["accountId"])
        assert result.body["name"] == "Main margin"
        assert result.body["broker"] == "Interactive Brokers"
        assert result.body["currency"] == "USD"
        assert result.body["startingBalance"] == Decimal("25000")
        assert result.body["accountType"] == "margin"
        assert result.body["archived"] is False
        assert result.body["version"] == 1
        assert result.body["createdAt"] == result.body["updatedAt"]
        assert "userId" not in result.body

    def test_create_stores_caller_item(self, accounts_table: Any) -> None:
        account_id = create_account()

        item = stored(accounts_table, account_id)

        assert item["userId"] == USER_A
        assert item["startingBalance"] == Decimal("25000")
        assert item["archived"] is False

    @pytest.mark.parametrize(
        "balance", [Decimal("1234.5"), 1234, "1234.50", "0", Decimal("0.0000000001")]
    )
    def test_balance_number_or_text(self, balance: object) -> None:
        result = post_account({**ACCOUNT, "startingBalance": balance})

        assert result.status == 201
        assert result.body["startingBalance"] == Decimal(str(balance))

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", ""),
            ("name", " padded"),
            ("name", "a" * 81),
            ("name", "line\nbreak"),
            ("broker", "b" * 81),
            ("currency", "usd"),
            ("currency", "XYZ"),
            ("startingBalance", "-1"),
            ("startingBalance", Decimal("0.00000000001")),
            ("startingBalance", Decimal("1E+12")),
            ("startingBalance", "12,50"),
            ("startingBalance", "1e3"),
            ("startingBalance", True),
            ("startingBalance", None),
            ("accountType", "crypto"),
            ("accountType", "Cash"),
        ],
    )
    def test_invalid_value_names_field(self, field: str, value: object) -> None:
        result = post_account({**ACCOUNT, field: value})

        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == field

    @pytest.mark.parametrize("field", ["accountId", "userId", "createdAt", "archived"])
    def test_server_field_is_400(self, field: str, accounts_table: Any) -> None:
        result = post_account({**ACCOUNT, field: "forged"})

        assert result.status == 400
        assert error_of(result)["field"] == field
        assert accounts_table.scan()["Items"] == []

    def test_missing_field_is_400(self) -> None:
        body = dict(ACCOUNT)
        del body["currency"]

        result = post_account(body)

        assert result.status == 400
        assert error_of(result)["field"] == "currency"

    def test_unknown_field_is_400(self) -> None:
        result = post_account({**ACCOUNT, "leverage": 4})

        assert result.status == 400
        assert error_of(result)["field"] == "leverage"

    def test_account_limit_is_409(self, accounts_table: Any) -> None:
        # GIVEN the caller has the maximum number of accounts
        with accounts_table.batch_writer() as batch:
            for index in range(MAX_ACCOUNTS):
                batch.put_item(Item={"userId": USER_A, "accountId": f"seed-{index}"})

        # WHEN the caller creates one more
        result = post_account(ACCOUNT)

        # THEN it is rejected, and another user can still create accounts
        assert result.status == 409
        assert str(MAX_ACCOUNTS) in error_of(result)["message"]
        assert post_account(ACCOUNT, sub=USER_B).status == 201


@pytest.mark.usefixtures("table_names")
class TestListAccounts:
    def test_list_oldest_first(self) -> None:
        first = create_account(name="First")
        second = create_account(name="Second")

        result = list_accounts()

        assert result.status == 200
        ids = [account["accountId"] for account in result.body["accounts"]]
        assert ids == [first, second]

    def test_archived_left_out(self) -> None:
        kept = create_account(name="Kept")
        archived = create_account(name="Old")
        account_request("POST", archived, suffix="/archive")

        result = list_accounts()

        assert [a["accountId"] for a in result.body["accounts"]] == [kept]

    def test_include_archived_lists_all(self) -> None:
        kept = create_account(name="Kept")
        archived = create_account(name="Old")
        account_request("POST", archived, suffix="/archive")

        result = list_accounts({"includeArchived": "true"})

        listed = {a["accountId"]: a["archived"] for a in result.body["accounts"]}
        assert listed == {kept: False, archived: True}

    def test_other_users_not_listed(self) -> None:
        create_account(sub=USER_B, name="Bob's")

        result = list_accounts({"includeArchived": "true"})

        assert result.body == {"accounts": []}

    @pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
    def test_invalid_include_archived(self, value: str) -> None:
        result = list_accounts({"includeArchived": value})

        assert result.status == 400
        assert error_of(result)["field"] == "includeArchived"

    def test_unknown_parameter_is_400(self) -> None:
        result = list_accounts({"userId": USER_B})

        assert result.status == 400
        assert error_of(result)["field"] == "userId"


@pytest.mark.usefixtures("table_names")
class TestReadAccount:
    def test_get_returns_account(self) -> None:
        account_id = create_account()

        result = account_request("GET", account_id)

        assert result.status == 200
        assert result.body["accountId"] == account_id
        assert result.body["name"] == "Main margin"

    def test_other_users_account_is_404(self) -> None:
        account_id = create_account()

        result = account_request("GET", account_id, sub=USER_B)

        assert result.status == 404
        assert error_of(result)["code"] == "NotFound"
        assert error_of(result)["field"] == "accountId"

    @pytest.mark.parametrize("account_id", ["missing", "a" * 65, "a%2Fb", "x y"])
    def test_unknown_id_is_404(self, account_id: str) -> None:
        result = account_request("GET", account_id)

        assert result.status == 404


@pytest.mark.usefixtures("table_names")
class TestUpdateAccount:
    def test_put_replaces_fields(self) -> None:
        account_id = create_account()
        changes = {
            "name": "Roth IRA",
            "broker": "Schwab",
            "currency": "EUR",
            "startingBalance": "100.25",
            "accountType": "ira",
        }

        result = account_request("PUT", account_id, body=update_body(**changes))

        assert result.status == 200
        assert result.body["name"] == "Roth IRA"
        assert result.body["broker"] == "Schwab"
        assert result.body["currency"] == "EUR"
        assert result.body["startingBalance"] == Decimal("100.25")
        assert result.body["accountType"] == "ira"
        assert result.body["version"] == 2
        assert account_request("GET", account_id).body == result.body

    def test_stale_version_is_409(self, accounts_table: Any) -> None:
        # GIVEN the account was updated to version 2
        account_id = create_account()
        account_request("PUT", account_id, body=update_body(name="Two"))
        before = stored(accounts_table, account_id)

        # WHEN a client that read version 1 writes
        result = account_request("PUT", account_id, body=update_body(name="Stale"))

        # THEN the write is rejected and the item is unchanged
        assert result.status == 409
        assert error_of(result)["field"] == "version"
        assert stored(accounts_table, account_id) == before

    def test_other_users_put_is_404(self, accounts_table: Any) -> None:
        account_id = create_account()
        before = stored(accounts_table, account_id)

        result = account_request(
            "PUT", account_id, body=update_body(name="Hijack"), sub=USER_B
        )

        assert result.status == 404
        assert stored(accounts_table, account_id) == before
        assert stored(accounts_table, account_id, USER_B) is None

    def test_archived_field_is_400(self) -> None:
        account_id = create_account()

        result = account_request("PUT", account_id, body=update_body(archived=False))

        assert result.status == 400
        assert error_of(result)["field"] == "archived"
        assert "/archive" in error_of(result)["message"]

    def test_missing_version_is_400(self) -> None:
        account_id = create_account()

        result = account_request("PUT", account_id, body=ACCOUNT)

        assert result.status == 400
        assert error_of(result)["field"] == "version"


@pytest.mark.usefixtures("table_names")
class TestArchiveAccount:
    def test_archive_sets_flag(self) -> None:
        account_id = create_account()

        result = account_request("POST", account_id, suffix="/archive")

        assert result.status == 200
        assert result.body["archived"] is True
        assert result.body["version"] == 2
        assert account_request("GET", account_id).body["archived"] is True

    def test_archive_twice_unchanged(self) -> None:
        account_id = create_account()
        first = account_request("POST", account_id, suffix="/archive")

        second = account_request("POST", account_id, suffix="/archive")

        assert second.status == 200
        assert second.body == first.body

    def test_other_users_archive_is_404(self, accounts_table: Any) -> None:
        account_id = create_account()
        before = stored(accounts_table, account_id)

        result = account_request("POST", account_id, suffix="/archive", sub=USER_B)

        assert result.status == 404
        assert stored(accounts_table, account_id) == before

    def test_archived_account_still_editable(self) -> None:
        account_id = create_account()
        account_request("POST", account_id, suffix="/archive")

        result = account_request(
            "PUT", account_id, body=update_body(name="Closed 2025", version=2)
        )

        assert result.status == 200
        assert result.body["name"] == "Closed 2025"
        assert result.body["archived"] is True
