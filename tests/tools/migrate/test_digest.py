"""Canonical item encoding and the order-independent table digest."""

from __future__ import annotations

import random

from tools.migrate.digest import (
    TableDigest,
    canonical_json,
    canonical_number,
    item_hash,
    key_string,
)
from tools.migrate.sample_data import sample_tables


def test_number_spellings_equal() -> None:
    assert canonical_number("1.50") == canonical_number("1.5") == "1.5"
    assert canonical_number("100") == canonical_number("1E+2") == "100"
    assert canonical_number("-0.000") == canonical_number("0") == "0"
    assert canonical_number("0.0001500") == "0.00015"


def test_number_keeps_every_digit() -> None:
    # DynamoDB numbers carry up to 38 significant digits; a float would drop some.
    text = "1234567890123456789012345678901234567.8"
    assert canonical_number(text) == text


def test_sets_ignore_order() -> None:
    first = {
        "s": {"SS": ["b", "a"]},
        "n": {"NS": ["10", "9.50"]},
        "b": {"BS": [b"y", b"x"]},
    }
    second = {
        "s": {"SS": ["a", "b"]},
        "n": {"NS": ["9.5", "10"]},
        "b": {"BS": [b"x", b"y"]},
    }
    assert canonical_json(first) == canonical_json(second)


def test_lists_keep_order() -> None:
    first = {"l": {"L": [{"N": "1"}, {"N": "2"}]}}
    second = {"l": {"L": [{"N": "2"}, {"N": "1"}]}}
    assert canonical_json(first) != canonical_json(second)


def test_map_keys_sorted() -> None:
    first = {"m": {"M": {"a": {"S": "x"}, "b": {"N": "1.0"}}}}
    second = {"m": {"M": {"b": {"N": "1"}, "a": {"S": "x"}}}}
    assert canonical_json(first) == canonical_json(second)


def test_types_distinguished() -> None:
    # The string "1" and the number 1 are different values in DynamoDB.
    assert item_hash({"v": {"S": "1"}}) != item_hash({"v": {"N": "1"}})
    assert item_hash({"v": {"NULL": True}}) != item_hash({"v": {"BOOL": True}})
    assert item_hash({"v": {"B": b"\x00"}}) != item_hash({"v": {"S": "AA=="}})


def test_hash_ignores_listed_attributes() -> None:
    item = {"id": {"S": "a"}, "keyArn": {"S": "arn:one"}}
    other = {"id": {"S": "a"}, "keyArn": {"S": "arn:two"}}
    assert item_hash(item, ignore=("keyArn",)) == item_hash(other, ignore=("keyArn",))
    assert item_hash(item) != item_hash(other)


def test_digest_order_independent() -> None:
    items = sample_tables({"JournalEntries": 60})["JournalEntries"]
    forward, shuffled = TableDigest(), TableDigest()
    for item in items:
        forward.add(item_hash(item))
    mixed = list(items)
    random.Random(3).shuffle(mixed)  # noqa: S311 - a fixed test order
    for item in mixed:
        shuffled.add(item_hash(item))
    assert forward.hexdigest == shuffled.hexdigest
    assert forward.count == shuffled.count == 60


def test_digest_merge_equals_sequential() -> None:
    items = sample_tables({"AccountData": 10})["AccountData"]
    whole, first, second = TableDigest(), TableDigest(), TableDigest()
    for index, item in enumerate(items):
        whole.add(item_hash(item))
        (first if index % 2 else second).add(item_hash(item))
    first.merge(second)
    assert first.hexdigest == whole.hexdigest
    assert first.count == whole.count


def test_digest_changes_with_one_item() -> None:
    items = sample_tables({"UserProfiles": 5})["UserProfiles"]
    before, after = TableDigest(), TableDigest()
    for item in items:
        before.add(item_hash(item))
    changed = [*items[:-1], {**items[-1], "baseCurrency": {"S": "EUR"}}]
    for item in changed:
        after.add(item_hash(item))
    assert before.hexdigest != after.hexdigest


def test_digest_equal_items_do_not_cancel() -> None:
    # With XOR two equal hashes would give the digest of an empty table.
    twice = TableDigest()
    digest = item_hash({"id": {"S": "a"}})
    twice.add(digest)
    twice.add(digest)
    assert twice.hexdigest != TableDigest().hexdigest


def test_key_string_readable() -> None:
    item = {"userId": {"S": "u-1"}, "entryId": {"S": "e-2"}, "pnl": {"N": "5"}}
    assert key_string(item, ("userId", "entryId")) == '{"entryId":"e-2","userId":"u-1"}'
