"""Backup drill: PITR restores in moto, and AWS Backup restore jobs against a fake."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from pfmon_api import tables
from tests.tools.migrate.helpers import REGION, scan_all, seed
from tools.migrate.aws import Endpoint, client
from tools.migrate.cli import main
from tools.migrate.drill import (
    Drill,
    DrillOptions,
    RestoreSource,
    default_target_name,
    point_in_time_request,
    render_drill,
    restore_job_request,
)
from tools.migrate.errors import RestoreError
from tools.migrate.sample_data import sample_tables

SOURCE = "pfmon-prod-JournalEntries"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DRILL_TABLE = f"{SOURCE}-drill-20260102T030405Z"
RECOVERY_POINT = "arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0"
RUNBOOK = Path(__file__).resolve().parents[3] / "docs" / "restore-runbook.md"
# The table names that the runbook's permissions table grants for restored tables.
DRILL_SCOPE = "pfmon-prod-*-drill-*"


@pytest.fixture
def prod_entries(tables_created: Any) -> list[dict[str, Any]]:
    """Seed prod JournalEntries, turn on its PITR, and return the items."""
    items = sample_tables({"JournalEntries": 30})["JournalEntries"]
    seed(tables_created, "prod", {"JournalEntries": items})
    tables_created.update_continuous_backups(
        TableName=SOURCE,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    return items


def _options(source: RestoreSource, **overrides: Any) -> DrillOptions:
    values: dict[str, Any] = {
        "project": "pfmon",
        "environment": "prod",
        "table": tables.JOURNAL_ENTRIES,
        "source": source,
        "segments": 2,
        "timeout_seconds": 60,
        "poll_seconds": 5,
    }
    values.update(overrides)
    return DrillOptions(**values)


class RecordingClient:
    """A DynamoDB client that records restores and can run a step after one."""

    def __init__(self, inner: Any, after_restore: Any = None) -> None:
        self.inner = inner
        self.after_restore = after_restore
        self.restores: list[dict[str, Any]] = []

    def restore_table_to_point_in_time(self, **request: Any) -> Any:
        self.restores.append(request)
        response = self.inner.restore_table_to_point_in_time(**request)
        if self.after_restore is not None:
            self.after_restore()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_drill_latest_restores_equal(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    recording = RecordingClient(tables_created)
    drill = Drill(_options(RestoreSource("latest")), recording, now=lambda: NOW)
    # WHEN the drill restores the latest restorable time
    result = drill.run()
    # THEN it restored into a new timestamped table that equals the source
    assert recording.restores == [
        {
            "SourceTableName": SOURCE,
            "TargetTableName": DRILL_TABLE,
            "UseLatestRestorableTime": True,
        }
    ]
    assert result.target_name == DRILL_TABLE
    assert result.comparison.equal
    assert result.comparison.target.count == 30
    # AND the source is untouched and the drill table stays
    assert len(scan_all(tables_created, SOURCE)) == 30
    assert DRILL_TABLE in tables_created.list_tables()["TableNames"]


def test_drill_point_in_time_request(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    # GIVEN a time inside the restorable window that DescribeContinuousBackups reports
    backups = tables_created.describe_continuous_backups(TableName=SOURCE)
    window = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    moment = window["LatestRestorableDateTime"]
    recording = RecordingClient(tables_created)
    options = _options(
        RestoreSource("point-in-time", point_in_time=moment), target_name="drill-at"
    )
    # WHEN the drill restores that time
    result = Drill(options, recording).run()
    # THEN the request names the time and the given table
    assert recording.restores == [
        {
            "SourceTableName": SOURCE,
            "TargetTableName": "drill-at",
            "RestoreDateTime": moment,
        }
    ]
    assert result.comparison.equal


def test_drill_reports_later_writes(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    # GIVEN a source that gets a new entry and a changed entry after the restore point
    changed = {**prod_entries[0], "notes": {"S": "edited after the backup"}}
    added = {**prod_entries[1], "entryId": {"S": "written-after-the-backup"}}

    def write_after_restore() -> None:
        for item in (changed, added):
            tables_created.put_item(TableName=SOURCE, Item=item)

    recording = RecordingClient(tables_created, after_restore=write_after_restore)
    options = _options(RestoreSource("latest"))
    # WHEN the drill runs
    result = Drill(options, recording, now=lambda: NOW).run()
    out = io.StringIO()
    passed = render_drill(result, options, out, endpoint=Endpoint(REGION))
    # THEN both items are reported, explained, and the drill still passes
    report = out.getvalue()
    assert not result.comparison.equal
    assert '"entryId":"written-after-the-backup"' in report
    assert "missing in restored" in report
    assert "changed: " in report
    assert "(attributes: notes)" in report
    assert "do not by themselves mean the backup is bad" in report
    assert (
        f"aws dynamodb delete-table --table-name {DRILL_TABLE} --region {REGION}\n"
        in report
    )
    assert passed
    # AND with strict it fails
    strict = _options(RestoreSource("latest"), strict=True)
    assert not render_drill(result, strict, io.StringIO(), endpoint=Endpoint(REGION))


def test_drill_delete_hint_emulator(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    # GIVEN a drill against an emulator at an endpoint URL
    options = _options(RestoreSource("latest"))
    result = Drill(options, tables_created, now=lambda: NOW).run()
    emulator = Endpoint("eu-west-1", "http://127.0.0.1:5100")
    out = io.StringIO()
    render_drill(result, options, out, endpoint=emulator)
    # THEN the delete command targets the same region and emulator, not AWS
    last_line = out.getvalue().splitlines()[-1]
    assert last_line.endswith(
        f"when done: aws dynamodb delete-table --table-name {DRILL_TABLE} "
        "--region eu-west-1 --endpoint-url http://127.0.0.1:5100"
    )


def test_drill_rejects_pitr_off(tables_created: Any) -> None:
    drill = Drill(_options(RestoreSource("latest")), tables_created, now=lambda: NOW)
    with pytest.raises(RestoreError, match="point-in-time recovery is off"):
        drill.run()
    assert DRILL_TABLE not in tables_created.list_tables()["TableNames"]


def test_drill_rejects_time_outside_window(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    too_early = datetime.now(UTC) - timedelta(days=40)
    options = _options(RestoreSource("point-in-time", point_in_time=too_early))
    with pytest.raises(RestoreError, match="outside the restorable window"):
        Drill(options, tables_created, now=lambda: NOW).run()


def test_drill_rejects_existing_target(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    recording = RecordingClient(tables_created)
    options = _options(RestoreSource("latest"), target_name="pfmon-prod-UserProfiles")
    with pytest.raises(RestoreError, match="already exists"):
        Drill(options, recording).run()
    assert recording.restores == []


def test_point_in_time_request_exact() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    source = RestoreSource("point-in-time", point_in_time=moment)
    assert point_in_time_request("a-table", "b-table", source) == {
        "SourceTableName": "a-table",
        "TargetTableName": "b-table",
        "RestoreDateTime": moment,
    }


def test_restore_job_request_exact() -> None:
    role = "arn:aws:iam::123456789012:role/pfmon-prod-backup-role"
    key = "arn:aws:kms:us-east-1:123456789012:key/1234"
    assert restore_job_request(RECOVERY_POINT, "drill", role, key) == {
        "RecoveryPointArn": RECOVERY_POINT,
        "IamRoleArn": role,
        "ResourceType": "DynamoDB",
        "Metadata": {
            "targetTableName": "drill",
            "encryptionType": "KMS",
            "kmsMasterKeyArn": key,
        },
        "IdempotencyToken": "drill",
    }
    without_key = restore_job_request(RECOVERY_POINT, "drill", role, None)
    assert without_key["Metadata"] == {"targetTableName": "drill"}


class FakeBackup:
    """AWS Backup restore jobs, which moto 5.2.5 does not implement.

    The job reports the given statuses in turn. On COMPLETED it creates the table
    with a moto PITR restore of `source`, in place of AWS Backup's restore.
    """

    def __init__(self, dynamodb: Any, source: str, statuses: list[str]) -> None:
        self.dynamodb = dynamodb
        self.source = source
        self.statuses = statuses
        self.requests: list[dict[str, Any]] = []

    def start_restore_job(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"RestoreJobId": "job-1"}

    def describe_restore_job(self, RestoreJobId: str) -> dict[str, Any]:  # noqa: N803
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status == "COMPLETED":
            target = self.requests[0]["Metadata"]["targetTableName"]
            if target not in self.dynamodb.list_tables()["TableNames"]:
                self.dynamodb.restore_table_to_point_in_time(
                    SourceTableName=self.source, TargetTableName=target
                )
        job = {"RestoreJobId": RestoreJobId, "Status": status}
        if status == "FAILED":
            job["StatusMessage"] = "Access denied to the recovery point"
        return job


@pytest.fixture
def encrypted_source(tables_created: Any, kms: Any) -> str:
    """Recreate prod JournalEntries encrypted with a customer-managed key."""
    key_arn: str = kms.create_key(Description="pfmon-prod tables")["KeyMetadata"]["Arn"]
    tables_created.delete_table(TableName=SOURCE)
    request = tables.create_table_request(tables.JOURNAL_ENTRIES, SOURCE)
    request["SSESpecification"] = {
        "Enabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": key_arn,
    }
    tables_created.create_table(**request)
    seed(tables_created, "prod", sample_tables({"JournalEntries": 12}))
    return key_arn


def test_drill_recovery_point_job(tables_created: Any, encrypted_source: str) -> None:
    # GIVEN a restore job that runs for two polls and then completes
    backup = FakeBackup(tables_created, SOURCE, ["RUNNING", "RUNNING", "COMPLETED"])
    sleeps: list[float] = []
    options = _options(
        RestoreSource("recovery-point", recovery_point_arn=RECOVERY_POINT)
    )
    drill = Drill(
        options,
        tables_created,
        backup=backup,
        sts=client("sts", Endpoint(REGION)),
        sleep=sleeps.append,
        now=lambda: NOW,
    )

    # WHEN the drill runs
    result = drill.run()

    # THEN the job used the stack's backup role and the source table's key
    assert backup.requests == [
        {
            "RecoveryPointArn": RECOVERY_POINT,
            "IamRoleArn": "arn:aws:iam::123456789012:role/pfmon-prod-backup-role",
            "ResourceType": "DynamoDB",
            "Metadata": {
                "targetTableName": DRILL_TABLE,
                "encryptionType": "KMS",
                "kmsMasterKeyArn": encrypted_source,
            },
            "IdempotencyToken": DRILL_TABLE,
        }
    ]
    assert sleeps == [5, 5]
    assert result.comparison.equal
    assert result.comparison.target.count == 12


def test_drill_recovery_point_failure(
    tables_created: Any, prod_entries: list[Any]
) -> None:
    backup = FakeBackup(tables_created, SOURCE, ["RUNNING", "FAILED"])
    options = _options(
        RestoreSource("recovery-point", recovery_point_arn=RECOVERY_POINT),
        iam_role_arn="arn:aws:iam::123456789012:role/restorer",
    )
    drill = Drill(options, tables_created, backup=backup, sleep=lambda _: None)
    with pytest.raises(RestoreError) as raised:
        drill.run()
    assert "restore job job-1 is FAILED" in str(raised.value)
    assert "Access denied to the recovery point" in str(raised.value)


def test_drill_wait_times_out(tables_created: Any, prod_entries: list[Any]) -> None:
    # GIVEN a job that never finishes and a clock that advances 5 s per poll
    backup = FakeBackup(tables_created, SOURCE, ["RUNNING"])
    ticks = iter(range(0, 1_000, 5))
    options = _options(
        RestoreSource("recovery-point", recovery_point_arn=RECOVERY_POINT),
        iam_role_arn="arn:aws:iam::123456789012:role/restorer",
        timeout_seconds=20,
    )
    drill = Drill(
        options,
        tables_created,
        backup=backup,
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
    )
    # WHEN the drill waits, THEN it raises once the timeout has passed
    with pytest.raises(RestoreError, match="timed out after 20 s"):
        drill.run()


def test_drill_command_latest(tables_created: Any, prod_entries: list[Any]) -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(
        [
            "drill",
            "--env=prod",
            "--table=JournalEntries",
            "--latest",
            "--target-name=d-1",
        ],
        out,
        err,
    )
    report = out.getvalue()
    assert status == 0, err.getvalue()
    assert (
        "drill: restored pfmon-prod-JournalEntries from the latest restorable" in report
    )
    assert "JournalEntries: equal, 30 items" in report
    assert f"aws dynamodb delete-table --table-name d-1 --region {REGION}\n" in report


def test_runbook_tables_in_drill_scope() -> None:
    text = RUNBOOK.read_text()
    live = {f"pfmon-prod-{definition.suffix}" for definition in tables.TABLES}
    # GIVEN the permissions table's scope for restored tables
    assert f"`{DRILL_SCOPE}`" in text
    # THEN the drill's default name falls inside it
    assert fnmatchcase(default_target_name(SOURCE, NOW), DRILL_SCOPE)
    # AND so does the example name the runbook's commands use
    restored = re.search(r"^RESTORED=(\S+)", text, re.MULTILINE)
    assert restored is not None
    assert fnmatchcase(restored.group(1), DRILL_SCOPE)
    # AND every command names a live table or that example, never another name
    names = re.findall(r"--(?:target|table)-name[ =]+(\S+)", text)
    outside = [name for name in names if name not in live and name != '"$RESTORED"']
    assert outside == []
