"""Data access for the JournalEntries table: one item per entry, keyed by `userId` and
`entryId`, with three indexes that list a user's entries newest first.

An item is the entry document that the API returns plus the index keys, which this
module derives from the document:

- `openedAtKey` = "<openedAt>#<entryId>", where openedAt is a UTC time in milliseconds
  such as 2026-01-05T14:30:00.000Z, so the key sorts by time and is unique;
- `userSymbol` = "<userId>#<SYMBOL>" with the instrument's symbol in upper case;
- `userAccount` = "<userId>#<accountId>".

Every partition key of a request is built from the caller's user id, including the
keys decoded from a page cursor, which are checked against the caller and the query
before they reach DynamoDB. Nothing in this module scans the table.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from pfmon_api import errors, tables
from pfmon_api.data import dynamodb
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.entries import ENTRY_ID_PATTERN, LISTED_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TABLE = tables.JOURNAL_ENTRIES
BY_DATE, BY_SYMBOL, BY_ACCOUNT = (index.name for index in TABLE.indexes)
_INDEX_KEYS = {index.name: index.keys for index in TABLE.indexes}
_INDEX_ATTRIBUTES = ("openedAtKey", "userSymbol", "userAccount")

# '$' sorts right after '#', so "<time>$" is above every "<time>#<entryId>".
_KEY_SEPARATOR = "#"
_AFTER_SEPARATOR = "$"
# re.ASCII: without it, \d also matches non-ASCII digits such as "\u0661".
_OPENED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)
_CURSOR_VERSION = 1

# Attributes a statistics request reads: the trade and what it is grouped by.
STATISTICS_ATTRIBUTES = ("entryId", "accountId", "instrument", "executions", "tags")


@dataclass(frozen=True)
class EntryQuery:
    """One user's entries, optionally in one account, of one symbol, with one tag,
    and opened from `opened_from` to `opened_to` (both inclusive, in milliseconds).

    `symbol` is matched in upper case. The query reads the byAccount index when an
    account is given, else bySymbol when a symbol is given, else byDate.
    """

    user_id: str
    account_id: str | None = None
    symbol: str | None = None
    tag: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None

    @property
    def index_name(self) -> str:
        if self.account_id is not None:
            return BY_ACCOUNT
        if self.symbol is not None:
            return BY_SYMBOL
        return BY_DATE

    @property
    def partition(self) -> tuple[str, str]:
        """Return the partition key attribute and value of the chosen index."""
        if self.account_id is not None:
            return "userAccount", _user_account(self.user_id, self.account_id)
        if self.symbol is not None:
            return "userSymbol", _user_symbol(self.user_id, self.symbol)
        return "userId", self.user_id

    @property
    def sort_key_bounds(self) -> tuple[str | None, str | None]:
        """Return the inclusive openedAtKey bounds of the time range."""
        lower = None if self.opened_from is None else format_timestamp(self.opened_from)
        upper = None
        if self.opened_to is not None:
            upper = format_timestamp(self.opened_to) + _AFTER_SEPARATOR
        return lower, upper


@dataclass(frozen=True)
class EntryPage:
    """One page of entries, newest first, and the cursor of the next page or None."""

    entries: list[dict[str, Any]]
    next_cursor: str | None


def table() -> Table:
    """Return the JournalEntries table named by its environment variable."""
    return dynamodb.table(TABLE)


def get_entry(user_id: str, entry_id: str) -> dict[str, Any] | None:
    """Return the entry document, or None if the user has no such entry."""
    entries = table()
    with dynamodb.translate_errors("GetItem", entries.name):
        response = entries.get_item(
            Key={"userId": user_id, "entryId": entry_id}, ConsistentRead=True
        )
    item = response.get("Item")
    return None if item is None else _document_from_item(item)


def create_entry(user_id: str, document: Mapping[str, Any]) -> None:
    """Store a new entry document.

    Raises `ConflictError` if the user has an entry with the same id already.
    """
    entries = table()
    with dynamodb.translate_errors("PutItem", entries.name):
        try:
            entries.put_item(
                Item=_item_from_document(user_id, document),
                ConditionExpression="attribute_not_exists(entryId)",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise errors.ConflictError(
                f"entry {document['entryId']} exists already: retry the request"
            ) from exc


def replace_entry(
    user_id: str, document: Mapping[str, Any], expected_version: int
) -> None:
    """Replace a stored entry with `document` if its version is `expected_version`.

    Raises `NotFoundError` if the user has no such entry and `ConflictError` if the
    stored version differs.
    """
    entry_id = str(document["entryId"])
    entries = table()
    with dynamodb.translate_errors("PutItem", entries.name):
        try:
            entries.put_item(
                Item=_item_from_document(user_id, document),
                ConditionExpression=(
                    "attribute_exists(entryId) AND #version = :expected"
                ),
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":expected": expected_version},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise _condition_error(exc, entry_id, expected_version) from exc


def delete_entry(user_id: str, entry_id: str, expected_version: int | None) -> None:
    """Delete an entry, only at `expected_version` when one is given.

    Raises `NotFoundError` if the user has no such entry and `ConflictError` if the
    stored version differs from `expected_version`.
    """
    condition = "attribute_exists(entryId)"
    request: dict[str, Any] = {}
    if expected_version is not None:
        condition += " AND #version = :expected"
        request = {
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": expected_version},
        }
    entries = table()
    with dynamodb.translate_errors("DeleteItem", entries.name):
        try:
            entries.delete_item(
                Key={"userId": user_id, "entryId": entry_id},
                ConditionExpression=condition,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **request,
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise _condition_error(exc, entry_id, expected_version) from exc


def list_page(query: EntryQuery, limit: int, cursor: str | None) -> EntryPage:
    """Return up to `limit` entries matching the query, newest first.

    With a tag filter, or with both an account and a symbol, DynamoDB applies the
    filter after it reads `limit + 1` items, so a page can hold fewer entries than
    `limit`, even none, while `next_cursor` still continues the list. Raises
    `ValidationError` on field "cursor" for a cursor this query did not produce.
    """
    request = _query_request(query)
    request["ScanIndexForward"] = False
    # One item more than the page shows whether another page follows, so the last
    # page of an unfiltered list never carries a cursor to an empty page.
    request["Limit"] = limit + 1
    # The index keys are read too, because a cursor is built from the last item.
    listed = (*LISTED_FIELDS, *_INDEX_ATTRIBUTES, "userId")
    request["ProjectionExpression"] = _projection(listed, request)
    if cursor is not None:
        request["ExclusiveStartKey"] = _decode_cursor(cursor, query)

    entries = table()
    with dynamodb.translate_errors("Query", entries.name):
        response = entries.query(**request)
    items = response["Items"]

    if len(items) > limit:
        items = items[:limit]
        next_key: Mapping[str, Any] | None = _cursor_key(items[-1], query)
    else:
        next_key = response.get("LastEvaluatedKey")
    return EntryPage(
        entries=[_document_from_item(item) for item in items],
        next_cursor=None if next_key is None else _encode_cursor(next_key),
    )


def query_closed_trades(
    user_id: str,
    account_id: str | None,
    opened_to: datetime | None,
    closed_from: datetime | None,
) -> Iterator[dict[str, Any]]:
    """Yield the closed entries that a statistics request may select, page by page.

    Reads the byAccount index for one account, else byDate, with entries opened up
    to `opened_to` and, by a filter, closed at or after `closed_from`. Each entry has
    only the attributes in `STATISTICS_ATTRIBUTES`.
    """
    query = EntryQuery(user_id=user_id, account_id=account_id, opened_to=opened_to)
    request = _query_request(query)
    filters: ConditionBase = Attr("status").eq("closed")
    if closed_from is not None:
        filters &= Attr("closedAt").gte(format_timestamp(closed_from))
    request["FilterExpression"] = filters
    request["ProjectionExpression"] = _projection(STATISTICS_ATTRIBUTES, request)

    entries = table()
    while True:
        with dynamodb.translate_errors("Query", entries.name):
            response = entries.query(**request)
        for item in response["Items"]:
            yield _document_from_item(item)
        last_key = response.get("LastEvaluatedKey")
        if last_key is None:
            return
        request["ExclusiveStartKey"] = last_key


# --- items and documents -----------------------------------------------------------


def _item_from_document(user_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
    entry_id = str(document["entryId"])
    opened_at = str(document["openedAt"])
    if not _OPENED_AT.fullmatch(opened_at):
        raise ValueError(f"openedAt {opened_at!r} is not a UTC time in milliseconds")
    return {
        **document,
        "userId": user_id,
        "openedAtKey": f"{opened_at}{_KEY_SEPARATOR}{entry_id}",
        "userSymbol": _user_symbol(user_id, str(document["instrument"]["symbol"])),
        "userAccount": _user_account(user_id, str(document["accountId"])),
    }


def _document_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    # The resource API returns every number as a Decimal: version and rating are ints.
    document = {
        name: value
        for name, value in item.items()
        if name != "userId" and name not in _INDEX_ATTRIBUTES
    }
    for name in ("version", "rating", "executionCount"):
        if document.get(name) is not None:
            document[name] = int(document[name])
    return document


def _user_symbol(user_id: str, symbol: str) -> str:
    return f"{user_id}{_KEY_SEPARATOR}{symbol.upper()}"


def _user_account(user_id: str, account_id: str) -> str:
    return f"{user_id}{_KEY_SEPARATOR}{account_id}"


def _condition_error(
    error: ClientError, entry_id: str, expected_version: int | None
) -> errors.ApiError:
    stored = error.response.get("Item")
    if not isinstance(stored, dict) or "version" not in stored:
        return errors.NotFoundError(
            f"no entry {entry_id}: list your entries with GET /entries",
            field="entryId",
        )
    stored_version = TypeDeserializer().deserialize(stored["version"])
    return errors.ConflictError(
        f"version {expected_version} is out of date because entry {entry_id} is at "
        f"version {stored_version}: GET /entries/{entry_id} and retry with the "
        "current version",
        field="version",
    )


# --- query requests ----------------------------------------------------------------


def _query_request(query: EntryQuery) -> dict[str, Any]:
    partition_name, partition_value = query.partition
    condition: ConditionBase = Key(partition_name).eq(partition_value)
    lower, upper = query.sort_key_bounds
    if lower is not None and upper is not None:
        condition &= Key("openedAtKey").between(lower, upper)
    elif lower is not None:
        condition &= Key("openedAtKey").gte(lower)
    elif upper is not None:
        condition &= Key("openedAtKey").lte(upper)

    request: dict[str, Any] = {
        "IndexName": query.index_name,
        "KeyConditionExpression": condition,
    }
    filters: list[ConditionBase] = []
    if query.account_id is not None and query.symbol is not None:
        filters.append(Attr("userSymbol").eq(_user_symbol(query.user_id, query.symbol)))
    if query.tag is not None:
        filters.append(Attr("tags").contains(query.tag))
    if filters:
        combined = filters[0]
        for condition_part in filters[1:]:
            combined &= condition_part
        request["FilterExpression"] = combined
    return request


def _projection(attributes: tuple[str, ...], request: dict[str, Any]) -> str:
    """Return a ProjectionExpression of `attributes` through expression names.

    Names such as "status" and "name" are DynamoDB reserved words, so every attribute
    goes through a placeholder.
    """
    names: dict[str, str] = request.setdefault("ExpressionAttributeNames", {})
    placeholders = []
    for index, attribute in enumerate(dict.fromkeys(attributes)):
        placeholder = f"#p{index}"
        names[placeholder] = attribute
        placeholders.append(placeholder)
    return ", ".join(placeholders)


# --- page cursors ------------------------------------------------------------------


def _cursor_key(item: Mapping[str, Any], query: EntryQuery) -> dict[str, str]:
    """Return the LastEvaluatedKey that DynamoDB would return after `item`."""
    keys = _INDEX_KEYS[query.index_name]
    names = {"userId", "entryId", keys.hash_key, str(keys.range_key)}
    return {name: str(item[name]) for name in sorted(names)}


def _encode_cursor(key: Mapping[str, Any]) -> str:
    payload = {"v": _CURSOR_VERSION, "k": {name: str(key[name]) for name in key}}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str, query: EntryQuery) -> dict[str, str]:
    """Decode a cursor into an ExclusiveStartKey, after checking every key in it.

    The key must have exactly the key attributes of the query's index, belong to the
    caller's partition and lie within the query's time range. A cursor of another
    user, another filter or another time range is rejected, so a forged cursor can
    move through the caller's own entries only.
    """
    key = _cursor_payload(cursor)
    keys = _INDEX_KEYS[query.index_name]
    expected_names = {"userId", "entryId", keys.hash_key, str(keys.range_key)}
    partition_name, partition_value = query.partition
    entry_id = key.get("entryId", "")
    opened_at_key = key.get("openedAtKey", "")
    opened_at, _, key_entry_id = opened_at_key.partition(_KEY_SEPARATOR)
    lower, upper = query.sort_key_bounds

    valid = (
        set(key) == expected_names
        and key["userId"] == query.user_id
        and key[partition_name] == partition_value
        and ENTRY_ID_PATTERN.fullmatch(entry_id) is not None
        and _OPENED_AT.fullmatch(opened_at) is not None
        and key_entry_id == entry_id
        and (lower is None or opened_at_key >= lower)
        and (upper is None or opened_at_key <= upper)
    )
    if not valid:
        raise _invalid_cursor()
    return key


def _cursor_payload(cursor: str) -> dict[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        payload = json.loads(text)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(payload, dict) or payload.get("v") != _CURSOR_VERSION:
        raise _invalid_cursor()
    key = payload.get("k")
    if not isinstance(key, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in key.items()
    ):
        raise _invalid_cursor()
    return key


def _invalid_cursor() -> errors.ValidationError:
    return errors.ValidationError(
        "invalid cursor: pass the nextCursor of the previous page unchanged, with the "
        "same filters",
        field="cursor",
    )
