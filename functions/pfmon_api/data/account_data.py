"""Data access for the AccountData table: one item per account, keyed by `userId` and
`accountId`.

Every write is conditional. A create succeeds only if the id is new, an update only if
the stored `version` is the one the client read, and an archive only if the account
exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from pfmon_api import errors, tables
from pfmon_api.data import dynamodb
from pfmon_api.models.accounts import Account, AccountFields

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TABLE = tables.ACCOUNT_DATA

# Expression names for the editable attributes, so no attribute name can collide with
# a DynamoDB reserved word such as "name".
_EDITABLE_ATTRIBUTES = {
    "#name": "name",
    "#broker": "broker",
    "#currency": "currency",
    "#startingBalance": "startingBalance",
    "#accountType": "accountType",
}


def table() -> Table:
    """Return the AccountData table named by its environment variable."""
    return dynamodb.table(TABLE)


def get_account(user_id: str, account_id: str) -> Account | None:
    """Return one account of the user, or None if the user has no such account."""
    accounts = table()
    with dynamodb.translate_errors("GetItem", accounts.name):
        response = accounts.get_item(
            Key={"userId": user_id, "accountId": account_id}, ConsistentRead=True
        )
    item = response.get("Item")
    return None if item is None else _account_from_item(item)


def list_accounts(user_id: str) -> list[Account]:
    """Return every account of the user, reading all pages of the Query."""
    accounts = table()
    found: list[Account] = []
    # A consistent read lists an account created by the previous request.
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user_id),
        "ConsistentRead": True,
    }
    while True:
        with dynamodb.translate_errors("Query", accounts.name):
            response = accounts.query(**request)
        found.extend(_account_from_item(item) for item in response["Items"])
        last_key = response.get("LastEvaluatedKey")
        if last_key is None:
            return found
        request["ExclusiveStartKey"] = last_key


def count_accounts(user_id: str) -> int:
    """Return the number of accounts of the user, archived ones included."""
    accounts = table()
    count = 0
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user_id),
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    while True:
        with dynamodb.translate_errors("Query", accounts.name):
            response = accounts.query(**request)
        count += response["Count"]
        last_key = response.get("LastEvaluatedKey")
        if last_key is None:
            return count
        request["ExclusiveStartKey"] = last_key


def create_account(user_id: str, account: Account) -> None:
    """Store a new account of the user.

    Raises `ConflictError` if the user has an account with the same id already.
    """
    accounts = table()
    with dynamodb.translate_errors("PutItem", accounts.name):
        try:
            accounts.put_item(
                Item={"userId": user_id, **account.model_dump()},
                ConditionExpression="attribute_not_exists(accountId)",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise errors.ConflictError(
                f"account {account.account_id} exists already: retry the request"
            ) from exc


def update_account(
    user_id: str,
    account_id: str,
    fields: AccountFields,
    expected_version: int,
    updated_at: str,
) -> Account:
    """Replace the editable fields of an account and increment its version.

    Raises `NotFoundError` if the user has no such account and `ConflictError` if the
    stored version is not `expected_version`.
    """
    editable = fields.model_dump(include=set(AccountFields.model_fields))
    values: dict[str, Any] = {f":{name}": value for name, value in editable.items()}
    values |= {":expected": expected_version, ":one": 1, ":updatedAt": updated_at}
    assignments = ", ".join(f"{name} = :{name[1:]}" for name in _EDITABLE_ATTRIBUTES)

    accounts = table()
    with dynamodb.translate_errors("UpdateItem", accounts.name):
        try:
            response = accounts.update_item(
                Key={"userId": user_id, "accountId": account_id},
                UpdateExpression=(
                    f"SET {assignments}, #updatedAt = :updatedAt, "
                    "#version = #version + :one"
                ),
                ConditionExpression=(
                    "attribute_exists(accountId) AND #version = :expected"
                ),
                ExpressionAttributeNames={
                    **_EDITABLE_ATTRIBUTES,
                    "#updatedAt": "updatedAt",
                    "#version": "version",
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise _update_condition_error(exc, account_id, expected_version) from exc
    return _account_from_item(response["Attributes"])


def archive_account(user_id: str, account_id: str, updated_at: str) -> Account:
    """Mark an account archived and increment its version.

    Archiving an archived account changes nothing and returns it as stored. Raises
    `NotFoundError` if the user has no such account.
    """
    accounts = table()
    with dynamodb.translate_errors("UpdateItem", accounts.name):
        try:
            response = accounts.update_item(
                Key={"userId": user_id, "accountId": account_id},
                UpdateExpression=(
                    "SET #archived = :true, #updatedAt = :updatedAt, "
                    "#version = #version + :one"
                ),
                ConditionExpression=(
                    "attribute_exists(accountId) AND #archived = :false"
                ),
                ExpressionAttributeNames={
                    "#archived": "archived",
                    "#updatedAt": "updatedAt",
                    "#version": "version",
                },
                ExpressionAttributeValues={
                    ":true": True,
                    ":false": False,
                    ":one": 1,
                    ":updatedAt": updated_at,
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            stored = exc.response.get("Item")
            if not isinstance(stored, dict) or not stored:
                raise _not_found(account_id) from exc
            return _account_from_item(_deserialize(stored))
    return _account_from_item(response["Attributes"])


def _update_condition_error(
    error: ClientError, account_id: str, expected_version: int
) -> errors.ApiError:
    stored = error.response.get("Item")
    if not isinstance(stored, dict) or "version" not in stored:
        return _not_found(account_id)
    stored_version = TypeDeserializer().deserialize(stored["version"])
    return errors.ConflictError(
        f"version {expected_version} is out of date because account {account_id} is "
        f"at version {stored_version}: GET /accounts/{account_id} and retry the "
        "update with the current version",
        field="version",
    )


def _not_found(account_id: str) -> errors.NotFoundError:
    return errors.NotFoundError(
        f"no account {account_id}: list your accounts with GET /accounts",
        field="accountId",
    )


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def _account_from_item(item: dict[str, Any]) -> Account:
    # The resource API returns every number as a Decimal, and `version` is an int.
    fields = {name: value for name, value in item.items() if name != "userId"}
    return Account.model_validate({**fields, "version": int(item["version"])})
