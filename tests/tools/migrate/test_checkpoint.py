"""Checkpoint file: atomic saves, round trips and mismatched runs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tools.migrate.checkpoint import Checkpoint, RunIdentity, write_atomically
from tools.migrate.errors import CheckpointError

RUN = RunIdentity(
    project="pfmon",
    source_env="test",
    target_env="prod",
    region="us-east-1",
    endpoint_url=None,
    tables=("UserProfiles", "JournalEntries"),
    total_segments=2,
    merge=False,
    reencrypt_key_arn=None,
)


def test_create_starts_every_segment(tmp_path: Path) -> None:
    checkpoint = Checkpoint.create(tmp_path / "run.json", RUN)
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["format"] == 1
    assert document["run"]["tables"] == ["UserProfiles", "JournalEntries"]
    assert document["tables"]["JournalEntries"] == [
        {"lastEvaluatedKey": None, "done": False, "itemsWritten": 0},
        {"lastEvaluatedKey": None, "done": False, "itemsWritten": 0},
    ]
    assert not checkpoint.complete


def test_round_trip_keeps_binary_key(tmp_path: Path) -> None:
    # GIVEN a page recorded with a key holding string, number and binary values
    path = tmp_path / "run.json"
    checkpoint = Checkpoint.create(path, RUN)
    key = {"userId": {"S": "u-1"}, "entryId": {"B": b"\x00\xff"}, "n": {"N": "1.5"}}
    checkpoint.record_page("JournalEntries", 1, key, 25)
    # WHEN the file is loaded again
    loaded = Checkpoint.load(path)
    # THEN the segment resumes at the same key, with its count
    segment = loaded.segment("JournalEntries", 1)
    assert segment.last_evaluated_key == key
    assert segment.items_written == 25
    assert not segment.done
    assert loaded.run == RUN


def test_last_page_marks_segment_done(tmp_path: Path) -> None:
    checkpoint = Checkpoint.create(tmp_path / "run.json", RUN)
    for table in RUN.tables:
        for segment in range(RUN.total_segments):
            checkpoint.record_page(table, segment, None, 3)
    assert Checkpoint.load(tmp_path / "run.json").complete
    assert checkpoint.items_written("UserProfiles") == 6


def test_atomic_write_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    write_atomically(path, "first")
    write_atomically(path, "second")
    assert path.read_text() == "second"
    assert [child.name for child in tmp_path.iterdir()] == ["file.json"]


def test_atomic_write_keeps_old_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a file, and a rename that fails as a full disk or a crash would
    path = tmp_path / "file.json"
    write_atomically(path, "old")

    def failing_replace(source: str, target: Path) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr("tools.migrate.checkpoint.os.replace", failing_replace)
    # WHEN a new version is written
    with pytest.raises(OSError, match="rename failed"):
        write_atomically(path, "new")
    # THEN the old content stays and the temporary file is gone
    assert path.read_text() == "old"
    assert [child.name for child in tmp_path.iterdir()] == ["file.json"]


def test_mismatch_names_option(tmp_path: Path) -> None:
    checkpoint = Checkpoint.create(tmp_path / "run.json", RUN)
    other = replace(RUN, target_env="dev", merge=True)
    with pytest.raises(CheckpointError) as raised:
        checkpoint.check_matches(other)
    message = str(raised.value)
    assert "--target-env prod (this run: dev)" in message
    assert "--merge False (this run: True)" in message


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        Checkpoint.load(tmp_path / "absent.json")


def test_corrupt_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"format": 1, "run": ')
    with pytest.raises(CheckpointError, match="unreadable"):
        Checkpoint.load(path)


def test_other_format_rejected(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    Checkpoint.create(path, RUN)
    document = json.loads(path.read_text())
    document["format"] = 2
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="not a format 1 checkpoint"):
        Checkpoint.load(path)
