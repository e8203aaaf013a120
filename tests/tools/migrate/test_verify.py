"""`verify`: counts, digests and item-by-item differences with their keys."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.tools.migrate.helpers import copy_options, seed
from tools.migrate.cli import main
from tools.migrate.copy_engine import CopyRun
from tools.migrate.progress import Progress
from tools.migrate.sample_data import sample_tables

COUNTS = {
    "UserProfiles": 6,
    "AccountData": 8,
    "UserCredentials": 4,
    "JournalEntries": 40,
}
JOURNAL = "pfmon-prod-JournalEntries"


@pytest.fixture
def copied(tables_created: Any, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Seed test, copy it to prod, and return the seeded items."""
    items = sample_tables(COUNTS)
    seed(tables_created, "test", items)
    options = copy_options(tmp_path / "run.json")
    CopyRun(options, tables_created, Progress(io.StringIO(), interval=0)).run()
    return items


def _verify(*options: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(
        ["verify", "--source-env=test", "--target-env=prod", *options],
        out,
        io.StringIO(),
    )
    return status, out.getvalue()


def _key(item: dict[str, Any]) -> str:
    key = {"userId": item["userId"]["S"], "entryId": item["entryId"]["S"]}
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def test_verify_equal_tables(copied: dict[str, Any]) -> None:
    status, report = _verify()
    assert status == 0
    assert "JournalEntries: equal, 40 items" in report
    assert report.endswith("verify: all tables equal\n")


def test_verify_reports_changed_item(
    tables_created: Any, copied: dict[str, Any]
) -> None:
    # GIVEN a target entry whose price and notes were changed after the copy
    entry = copied["JournalEntries"][1]
    changed = {**entry, "entryPrice": {"N": "1.00"}, "notes": {"S": "edited"}}
    tables_created.put_item(TableName=JOURNAL, Item=changed)
    # WHEN verify runs
    status, report = _verify()
    # THEN it fails and names the item's key and the changed attributes
    assert status == 1
    assert "JournalEntries: DIFFERENT, pfmon-test-JournalEntries has 40 items" in report
    assert f"changed: {_key(entry)} (attributes: entryPrice, notes)" in report
    assert "UserProfiles: equal" in report
    assert report.endswith("verify: tables differ\n")


def test_verify_reports_missing_and_extra(
    tables_created: Any, copied: dict[str, Any]
) -> None:
    # GIVEN a target that lost one entry and gained one the source lacks
    lost = copied["JournalEntries"][2]
    key = {"userId": lost["userId"], "entryId": lost["entryId"]}
    tables_created.delete_item(TableName=JOURNAL, Key=key)
    stray = {**lost, "entryId": {"S": "stray-entry"}}
    tables_created.put_item(TableName=JOURNAL, Item=stray)
    # WHEN verify runs
    status, report = _verify("--tables=JournalEntries")
    # THEN both are listed with their keys; counts match but digests differ
    assert status == 1
    assert f"missing in target: {_key(lost)}" in report
    assert f"extra in target: {_key(stray)}" in report
    assert "has 40 items" in report
    assert "UserProfiles" not in report


def test_verify_output_bounded(tables_created: Any, copied: dict[str, Any]) -> None:
    # GIVEN 30 changed entries in the target
    for entry in copied["JournalEntries"][:30]:
        tables_created.put_item(TableName=JOURNAL, Item={**entry, "side": {"S": "x"}})
    # WHEN verify runs with at most 5 differences listed
    status, report = _verify("--tables=JournalEntries", "--max-differences=5")
    # THEN 5 are listed and the other 25 are counted
    assert status == 1
    assert report.count("  changed: ") == 5
    assert (
        "... and 25 more differences (0 missing in target, 0 extra in target, "
        "30 changed in all)" in report
    )


def test_verify_number_spelling_equal(
    tables_created: Any, copied: dict[str, Any]
) -> None:
    # GIVEN a target price spelled with two more trailing zeros: "187.4567" as
    # "187.456700", as another client library may write it
    entry = copied["JournalEntries"][3]
    longer = entry["entryPrice"]["N"] + "00"
    tables_created.put_item(
        TableName=JOURNAL, Item={**entry, "entryPrice": {"N": longer}}
    )
    key = {"userId": entry["userId"], "entryId": entry["entryId"]}
    stored = tables_created.get_item(TableName=JOURNAL, Key=key)["Item"]
    assert stored["entryPrice"]["N"] == longer
    # WHEN verify runs
    status, report = _verify("--tables=JournalEntries")
    # THEN the two spellings of one number compare equal
    assert status == 0, report
