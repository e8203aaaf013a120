"""The copy engine on small tables in moto: copy, rejects, merge, resume, retries."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pfmon_api import tables
from tests.tools.migrate.helpers import (
    UnprocessedClient,
    copy_options,
    scan_all,
    seed,
)
from tools.migrate import schema
from tools.migrate.batch_write import BatchWriter, RetryPolicy
from tools.migrate.checkpoint import Checkpoint
from tools.migrate.copy_engine import CopyRun
from tools.migrate.errors import (
    CheckpointError,
    KeySchemaMismatchError,
    TableNotFoundError,
    TargetNotEmptyError,
)
from tools.migrate.progress import Progress
from tools.migrate.sample_data import sample_tables
from tools.migrate.verify import compare_tables

COUNTS = {
    "UserProfiles": 12,
    "AccountData": 20,
    "UserCredentials": 9,
    "JournalEntries": 80,
}
TOTAL = sum(COUNTS.values())


class SimulatedCrashError(Exception):
    """Raised by the after-batch hook to simulate a crash."""


@pytest.fixture
def source(tables_created: Any) -> dict[str, list[dict[str, Any]]]:
    """Seed pfmon-test-* with the sample items; return them by table suffix."""
    items = sample_tables(COUNTS)
    seed(tables_created, "test", items)
    return items


def _progress() -> Progress:
    return Progress(io.StringIO(), interval=0)


def _assert_all_equal(dynamodb: Any) -> None:
    for definition in tables.TABLES:
        comparison = compare_tables(
            dynamodb,
            definition.suffix,
            source_name=f"pfmon-test-{definition.suffix}",
            target_name=f"pfmon-prod-{definition.suffix}",
            key_types=schema.key_types(definition),
            segments=2,
        )
        assert comparison.source.count == COUNTS[definition.suffix], definition.suffix
        assert comparison.equal, definition.suffix


def test_copy_all_tables_equal(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN four seeded test tables and four empty prod tables
    run = CopyRun(copy_options(tmp_path / "run.json"), tables_created, _progress())
    # WHEN the copy runs
    summaries = run.run()
    # THEN every prod table equals its test table, item by item
    _assert_all_equal(tables_created)
    assert [summary.table for summary in summaries] == [
        definition.suffix for definition in tables.TABLES
    ]
    assert {summary.table: summary.written for summary in summaries} == COUNTS
    assert {summary.table: summary.scanned for summary in summaries} == COUNTS
    assert Checkpoint.load(tmp_path / "run.json").complete


def test_copy_rejects_nonempty_target(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a prod table that already contains an item
    stray = source["UserProfiles"][0]
    tables_created.put_item(TableName="pfmon-prod-UserProfiles", Item=stray)
    run = CopyRun(copy_options(tmp_path / "run.json"), tables_created, _progress())
    # WHEN the copy runs without --merge
    with pytest.raises(TargetNotEmptyError) as raised:
        run.run()
    # THEN it names the table and the option, and writes nothing anywhere
    assert "pfmon-prod-UserProfiles" in str(raised.value)
    assert "--merge" in str(raised.value)
    assert len(scan_all(tables_created, "pfmon-prod-UserProfiles")) == 1
    for suffix in ("AccountData", "UserCredentials", "JournalEntries"):
        assert scan_all(tables_created, f"pfmon-prod-{suffix}") == [], suffix
    assert not (tmp_path / "run.json").exists()


def test_copy_merge_keeps_target_items(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN prod holding an item only it has, and an older version of a source item
    only_in_target = {"userId": {"S": "prod-only"}, "email": {"S": "p@example.com"}}
    older = {**source["UserProfiles"][0], "displayName": {"S": "old name"}}
    for item in (only_in_target, older):
        tables_created.put_item(TableName="pfmon-prod-UserProfiles", Item=item)
    options = copy_options(
        tmp_path / "run.json", merge=True, tables=(tables.USER_PROFILES,)
    )
    # WHEN the copy runs with --merge
    CopyRun(options, tables_created, _progress()).run()
    # THEN the target keeps its own item and contains the source version of the other
    items = {
        item["userId"]["S"]: item
        for item in scan_all(tables_created, "pfmon-prod-UserProfiles")
    }
    assert items["prod-only"] == only_in_target
    assert items[older["userId"]["S"]] == source["UserProfiles"][0]
    assert len(items) == COUNTS["UserProfiles"] + 1


def test_copy_rejects_key_schema_mismatch(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a prod JournalEntries keyed by userId and openedAtKey instead of entryId
    tables_created.delete_table(TableName="pfmon-prod-JournalEntries")
    tables_created.create_table(
        TableName="pfmon-prod-JournalEntries",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "openedAtKey", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "openedAtKey", "AttributeType": "S"},
        ],
    )
    run = CopyRun(copy_options(tmp_path / "run.json"), tables_created, _progress())
    # WHEN the copy runs
    with pytest.raises(KeySchemaMismatchError) as raised:
        run.run()
    # THEN it names both schemas, and no table was written, not even the earlier ones
    message = str(raised.value)
    assert "pfmon-prod-JournalEntries" in message
    assert "RANGE openedAtKey (S)" in message
    assert "RANGE entryId (S)" in message
    assert scan_all(tables_created, "pfmon-prod-UserProfiles") == []


def test_copy_rejects_missing_target(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    tables_created.delete_table(TableName="pfmon-prod-AccountData")
    run = CopyRun(copy_options(tmp_path / "run.json"), tables_created, _progress())
    with pytest.raises(TableNotFoundError, match="target table pfmon-prod-AccountData"):
        run.run()


def test_copy_rejects_existing_checkpoint(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a checkpoint file left by an earlier run
    path = tmp_path / "run.json"
    path.write_text("{}")
    run = CopyRun(copy_options(path), tables_created, _progress())
    # WHEN a new copy (not --resume) names it
    with pytest.raises(CheckpointError, match="--resume"):
        run.run()
    # THEN the file is untouched and nothing was copied
    assert path.read_text() == "{}"
    assert scan_all(tables_created, "pfmon-prod-UserProfiles") == []


def _interrupted_copy(
    dynamodb: Any, path: Path, table: str, after_batches: int
) -> None:
    batches_written = 0

    def crash_after(suffix: str) -> None:
        nonlocal batches_written
        if suffix != table:
            return
        batches_written += 1
        if batches_written == after_batches:
            raise SimulatedCrashError

    run = CopyRun(copy_options(path), dynamodb, _progress(), after_batch=crash_after)
    with pytest.raises(SimulatedCrashError):
        run.run()


def test_interrupted_copy_resumes(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    # GIVEN a copy that crashed after 4 batches of JournalEntries, the second table
    _interrupted_copy(tables_created, path, "JournalEntries", after_batches=4)
    partial = len(scan_all(tables_created, "pfmon-prod-JournalEntries"))
    assert 0 < partial < COUNTS["JournalEntries"]
    assert scan_all(tables_created, "pfmon-prod-AccountData") == []
    # WHEN the copy resumes from its checkpoint
    options = copy_options(path, resume=True)
    CopyRun(options, tables_created, _progress()).run()
    # THEN every table is complete and identical, with no item twice
    _assert_all_equal(tables_created)
    assert Checkpoint.load(path).complete


def test_resume_of_finished_copy_writes_nothing(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a finished copy, after which a prod item was deleted by hand
    path = tmp_path / "run.json"
    CopyRun(copy_options(path), tables_created, _progress()).run()
    deleted = source["UserProfiles"][0]
    tables_created.delete_item(
        TableName="pfmon-prod-UserProfiles", Key={"userId": deleted["userId"]}
    )
    # WHEN it is resumed
    summaries = CopyRun(
        copy_options(path, resume=True), tables_created, _progress()
    ).run()
    # THEN no table is copied again, so the deleted item stays deleted
    assert summaries == []
    assert (
        len(scan_all(tables_created, "pfmon-prod-UserProfiles"))
        == COUNTS["UserProfiles"] - 1
    )


def test_resume_rejects_other_segments(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    _interrupted_copy(tables_created, path, "UserProfiles", after_batches=2)
    options = copy_options(path, resume=True, segments=4)
    with pytest.raises(CheckpointError) as raised:
        CopyRun(options, tables_created, _progress()).run()
    assert "--segments 3 (this run: 4)" in str(raised.value)


def test_checkpoint_records_written_pages(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a copy that crashed after 5 batches of JournalEntries (pages of 10 items)
    path = tmp_path / "run.json"
    _interrupted_copy(tables_created, path, "JournalEntries", after_batches=5)
    document = json.loads(path.read_text())
    segments = document["tables"]["JournalEntries"]
    # THEN the checkpoint counts only items of completed pages, all of them written
    recorded = sum(segment["itemsWritten"] for segment in segments)
    written = len(scan_all(tables_created, "pfmon-prod-JournalEntries"))
    assert 0 < recorded <= written
    started = [segment for segment in segments if segment["itemsWritten"]]
    assert all(
        segment["done"] or segment["lastEvaluatedKey"] is not None
        for segment in started
    )


def test_copy_retries_unprocessed_items(
    tables_created: Any, source: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a client whose first 5 BatchWriteItem calls leave half the items
    flaky = UnprocessedClient(tables_created, failures=5)
    delays: list[float] = []
    writer = BatchWriter(flaky, RetryPolicy(max_attempts=8), sleep=delays.append)
    options = copy_options(tmp_path / "run.json", segments=1)
    # WHEN the copy runs
    summaries = CopyRun(options, flaky, _progress(), writer=writer).run()
    # THEN every item arrives and the summary counts the resent ones
    _assert_all_equal(tables_created)
    assert sum(summary.retried for summary in summaries) == flaky.unprocessed
    assert flaky.unprocessed > 0
    assert len(delays) == 5
