"""The journal of acknowledged writes: format, torn lines, locking, what counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.local.persistence import (
    DataDirLockedError,
    DataDirUnusableError,
    Journal,
    JournalEntry,
    JournalError,
    action_name,
    changes_state,
    replayable_headers,
)


def entry(number: int) -> JournalEntry:
    return JournalEntry(
        seed=number,
        method="POST",
        path="/",
        query="",
        headers={"X-Amz-Target": "DynamoDB_20120810.PutItem"},
        body=f'{{"n": {number}}}'.encode() + b"\xff",
    )


def test_entries_read_back_in_order(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        for number in range(3):
            journal.append(entry(number))
    with Journal(tmp_path) as journal:
        assert list(journal.entries()) == [entry(0), entry(1), entry(2)]


def test_torn_last_line_dropped(tmp_path: Path) -> None:
    # GIVEN a crash in the middle of writing the third entry
    with Journal(tmp_path) as journal:
        journal.append(entry(1))
        journal.append(entry(2))
    with (tmp_path / "journal.jsonl").open("ab") as file:
        file.write(entry(3).to_line()[:20])
    # WHEN the journal is opened again
    with Journal(tmp_path) as journal:
        # THEN the two complete entries remain and the torn one is gone from disk
        assert [item.seed for item in journal.entries()] == [1, 2]
    assert (tmp_path / "journal.jsonl").read_bytes().endswith(b"\n")


def test_corrupt_middle_line_raises(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(entry(1).to_line() + b"{not json\n" + entry(2).to_line())
    with Journal(tmp_path) as journal, pytest.raises(JournalError) as caught:
        list(journal.entries())
    assert "line 2" in str(caught.value)
    assert "--reset" in str(caught.value)


def test_second_writer_locked_out(tmp_path: Path) -> None:
    with Journal(tmp_path), pytest.raises(DataDirLockedError) as caught:
        Journal(tmp_path).open()
    assert str(tmp_path) in str(caught.value)
    assert "--data-dir" in str(caught.value)


def test_lock_released_on_close(tmp_path: Path) -> None:
    first = Journal(tmp_path)
    first.open()
    first.close()
    with Journal(tmp_path) as second:
        assert list(second.entries()) == []


def test_data_dir_is_file(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("not a directory\n")
    with pytest.raises(DataDirUnusableError) as caught:
        Journal(path).open()
    assert str(caught.value) == (
        f"data directory {path} is not a directory. Choose another directory with "
        "--data-dir or PFMON_LOCAL_DATA_DIR."
    )


def test_data_dir_not_creatable(tmp_path: Path) -> None:
    # GIVEN a directory path whose parent is a file
    (tmp_path / "file").write_text("")
    path = tmp_path / "file" / "data"
    with pytest.raises(DataDirUnusableError) as caught:
        Journal(path).open()
    assert str(caught.value) == (
        f"data directory {path} cannot be created (Not a directory). Choose another "
        "directory with --data-dir or PFMON_LOCAL_DATA_DIR."
    )


def test_journal_open_failure_unlocks(tmp_path: Path) -> None:
    # GIVEN a directory where the journal file should be
    (tmp_path / "journal.jsonl").mkdir()
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path).open()
    assert str(tmp_path / "journal.jsonl") in str(caught.value)
    # THEN the failed open released the lock
    (tmp_path / "journal.jsonl").rmdir()
    with Journal(tmp_path) as journal:
        assert list(journal.entries()) == []


def test_reset_empties_journal(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.append(entry(1))
    journal = Journal(tmp_path)
    journal.open(reset=True)
    try:
        assert list(journal.entries()) == []
    finally:
        journal.close()


@pytest.mark.parametrize(
    ("method", "action", "expected"),
    [
        ("POST", "PutItem", True),
        ("POST", "UpdateItem", True),
        ("POST", "BatchWriteItem", True),
        ("POST", "SignUp", True),
        ("POST", "InitiateAuth", True),
        ("POST", "CreateKey", True),
        ("POST", "GetItem", False),
        ("POST", "Query", False),
        ("POST", "Scan", False),
        ("POST", "BatchGetItem", False),
        ("POST", "DescribeTable", False),
        ("POST", "ListUserPools", False),
        ("POST", "AdminGetUser", False),
        ("POST", "Encrypt", False),
        ("POST", "Decrypt", False),
        ("POST", "GenerateDataKey", False),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("GET", None, False),
        ("GET", "PutItem", False),
    ],
)
def test_changes_state(method: str, action: str | None, expected: bool) -> None:
    assert changes_state(method, action) is expected


def test_action_from_target() -> None:
    headers = {"x-amz-target": "AWSCognitoIdentityProviderService.SignUp"}
    assert action_name(headers, b"{}") == "SignUp"


def test_action_from_query_body() -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    body = b"Action=CreateQueue&QueueName=q&Version=2012-11-05"
    assert action_name(headers, body) == "CreateQueue"


def test_rest_request_has_no_action() -> None:
    assert action_name({"Content-Type": "application/octet-stream"}, b"data") is None


def test_connection_headers_not_stored() -> None:
    headers = {
        "Content-Length": "10",
        "Connection": "keep-alive",
        "Transfer-Encoding": "chunked",
        "X-Amz-Target": "TrentService.CreateKey",
    }
    assert replayable_headers(headers) == {"X-Amz-Target": "TrentService.CreateKey"}
