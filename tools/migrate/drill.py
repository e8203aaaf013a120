"""Backup drill: restore one table into a new table and compare it with the source.

A drill proves that a backup can be restored. It restores into a NEW table (by default
`<source>-drill-<UTC timestamp>`), waits until that table is ACTIVE, and compares it
with the live source table. It never deletes or changes anything, the drill table
included: delete it when the drill is done.

Three sources of a restore:

- `point-in-time`: DynamoDB RestoreTableToPointInTime at a given instant;
- `latest`: the same at LatestRestorableDateTime (typically about 5 minutes ago);
- `recovery-point`: AWS Backup StartRestoreJob for a recovery point of the backup
  vault, run by the stack's backup role.

The source may have changed after the restore point, so differences are reported and
explained. They fail the drill only with `strict`.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from botocore.exceptions import ClientError

from pfmon_api import tables
from tools.migrate import schema
from tools.migrate.aws import Endpoint, endpoint_options
from tools.migrate.errors import RestoreError
from tools.migrate.progress import Progress
from tools.migrate.verify import TableComparison, compare_tables, render_comparison

RestoreKind = Literal["point-in-time", "latest", "recovery-point"]

# A PITR restore of a large table can take hours, so the wait allows this long.
DEFAULT_TIMEOUT_SECONDS = 4 * 60 * 60
DEFAULT_POLL_SECONDS = 20.0

# AWS Backup restore job states that end the job.
_JOB_FAILED = ("ABORTED", "FAILED")


@dataclass(frozen=True)
class RestoreSource:
    """Backup that a drill restores: a PITR time, latest, or a recovery point."""

    kind: RestoreKind
    point_in_time: datetime | None = None
    recovery_point_arn: str | None = None

    def describe(self) -> str:
        if self.kind == "point-in-time" and self.point_in_time is not None:
            return f"point in time {self.point_in_time.isoformat()}"
        if self.kind == "recovery-point":
            return f"recovery point {self.recovery_point_arn}"
        return "the latest restorable time"


@dataclass(frozen=True)
class DrillOptions:
    """Validated settings of one drill."""

    project: str
    environment: str
    table: tables.TableDefinition
    source: RestoreSource
    target_name: str | None = None
    kms_key_arn: str | None = None
    iam_role_arn: str | None = None
    segments: int = 4
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    poll_seconds: float = DEFAULT_POLL_SECONDS
    strict: bool = False

    @property
    def source_name(self) -> str:
        return schema.physical_name(self.project, self.environment, self.table.suffix)


@dataclass(frozen=True)
class DrillResult:
    """The drill table and its comparison with the source table."""

    target_name: str
    comparison: TableComparison


def default_target_name(source_name: str, now: datetime) -> str:
    """Return `<source>-drill-<UTC timestamp>`, such as ...-drill-20260101T030000Z."""
    return f"{source_name}-drill-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def point_in_time_request(
    source_name: str, target_name: str, source: RestoreSource
) -> dict[str, Any]:
    """Build the RestoreTableToPointInTime arguments.

    The restored table keeps the source's encryption settings, indexes and billing
    mode. PITR, TTL, tags, alarms and deletion protection are not restored.
    """
    request: dict[str, Any] = {
        "SourceTableName": source_name,
        "TargetTableName": target_name,
    }
    if source.kind == "latest":
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreDateTime"] = source.point_in_time
    return request


def restore_job_request(
    recovery_point_arn: str,
    target_name: str,
    iam_role_arn: str,
    kms_key_arn: str | None,
) -> dict[str, Any]:
    """Build the AWS Backup StartRestoreJob arguments for a DynamoDB recovery point.

    Without a KMS key AWS Backup encrypts the restored table with a DynamoDB-owned key,
    so a key should be given for prod data. The idempotency token is the table name,
    so a repeated request starts no second job.

    NOTE: moto 5.2.5 returns "Not yet implemented" for StartRestoreJob, so only
    tests of this request run. The metadata keys follow the AWS Backup developer
    guide's DynamoDB restore section and are not checked against AWS here.
    """
    metadata = {"targetTableName": target_name}
    if kms_key_arn is not None:
        metadata["encryptionType"] = "KMS"
        metadata["kmsMasterKeyArn"] = kms_key_arn
    return {
        "RecoveryPointArn": recovery_point_arn,
        "IamRoleArn": iam_role_arn,
        "ResourceType": "DynamoDB",
        "Metadata": metadata,
        "IdempotencyToken": target_name,
    }


class Drill:
    """One restore drill. Tests replace `sleep`, `clock` and `now`."""

    def __init__(
        self,
        options: DrillOptions,
        dynamodb: Any,
        *,
        backup: Any = None,
        sts: Any = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.options = options
        self._dynamodb = dynamodb
        self._backup = backup
        self._sts = sts
        self._progress = progress
        self._sleep = sleep
        self._clock = clock
        self._now = now

    def run(self) -> DrillResult:
        """Restore, wait for the table, and compare it with the source."""
        options = self.options
        source_name = options.source_name
        source = schema.describe_table(self._dynamodb, source_name, "source")
        schema.check_key_schema(source, options.table, "source")
        target_name = options.target_name or default_target_name(
            source_name, self._now()
        )
        self._check_absent(target_name)

        if options.source.kind == "recovery-point":
            self._start_restore_job(source, target_name)
        else:
            self._restore_point_in_time(source_name, target_name)

        restored = self._wait_for_table(target_name)
        schema.check_key_schema(restored, options.table, "restored")
        comparison = compare_tables(
            self._dynamodb,
            options.table.suffix,
            source_name=source_name,
            target_name=target_name,
            key_types=schema.key_types(options.table),
            segments=options.segments,
            progress=self._progress,
        )
        return DrillResult(target_name=target_name, comparison=comparison)

    def _check_absent(self, target_name: str) -> None:
        try:
            self._dynamodb.describe_table(TableName=target_name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        raise RestoreError(
            f"table {target_name} already exists: a drill restores into a new table, "
            "so choose another --target-name or leave it out for a timestamped name"
        )

    def _restore_point_in_time(self, source_name: str, target_name: str) -> None:
        self._check_restore_window(source_name)
        request = point_in_time_request(source_name, target_name, self.options.source)
        try:
            self._dynamodb.restore_table_to_point_in_time(**request)
        except ClientError as exc:
            raise RestoreError(
                f"RestoreTableToPointInTime of {source_name} into {target_name} "
                f"failed: {exc.response['Error'].get('Message', exc)}"
            ) from exc

    def _check_restore_window(self, source_name: str) -> None:
        backups = self._dynamodb.describe_continuous_backups(TableName=source_name)
        recovery = backups["ContinuousBackupsDescription"].get(
            "PointInTimeRecoveryDescription", {}
        )
        if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
            raise RestoreError(
                f"point-in-time recovery is off for {source_name}: the prod tier "
                "turns it on, so use --recovery-point-arn for an AWS Backup recovery "
                "point instead"
            )
        point = self.options.source.point_in_time
        earliest = recovery.get("EarliestRestorableDateTime")
        latest = recovery.get("LatestRestorableDateTime")
        if point is None or earliest is None or latest is None:
            return
        if not earliest <= point <= latest:
            raise RestoreError(
                f"--point-in-time {point.isoformat()} is outside the restorable "
                f"window of {source_name}, {earliest.isoformat()} to "
                f"{latest.isoformat()}: choose a time inside it or use --latest"
            )

    def _start_restore_job(self, source: dict[str, Any], target_name: str) -> None:
        options = self.options
        arn = options.source.recovery_point_arn
        if arn is None or self._backup is None:
            raise RuntimeError(
                "a recovery-point drill needs its ARN and a backup client"
            )
        role = options.iam_role_arn or self._default_role_arn()
        # Keep the restored data under the source table's customer-managed key.
        kms_key = options.kms_key_arn or source.get("SSEDescription", {}).get(
            "KMSMasterKeyArn"
        )
        request = restore_job_request(arn, target_name, role, kms_key)
        try:
            job_id = self._backup.start_restore_job(**request)["RestoreJobId"]
        except ClientError as exc:
            raise RestoreError(
                f"AWS Backup StartRestoreJob for {arn} failed: "
                f"{exc.response['Error'].get('Message', exc)}. Check the recovery "
                f"point ARN and that {role} may restore it"
            ) from exc
        self._wait_for_job(job_id)

    def _default_role_arn(self) -> str:
        if self._sts is None:
            raise RuntimeError("the default backup role needs an STS client")
        caller = self._sts.get_caller_identity()
        partition = str(caller["Arn"]).split(":")[1]
        role = f"{self.options.project}-{self.options.environment}-backup-role"
        return f"arn:{partition}:iam::{caller['Account']}:role/{role}"

    def _wait_for_job(self, job_id: str) -> None:
        deadline = self._clock() + self.options.timeout_seconds
        while True:
            job = self._backup.describe_restore_job(RestoreJobId=job_id)
            status = job.get("Status")
            if status == "COMPLETED":
                return
            if status in _JOB_FAILED:
                raise RestoreError(
                    f"AWS Backup restore job {job_id} is {status}: "
                    f"{job.get('StatusMessage', 'no status message')}"
                )
            self._pause(deadline, f"AWS Backup restore job {job_id} ({status})")

    def _wait_for_table(self, target_name: str) -> dict[str, Any]:
        deadline = self._clock() + self.options.timeout_seconds
        while True:
            try:
                table: dict[str, Any] = self._dynamodb.describe_table(
                    TableName=target_name
                )["Table"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                table = {"TableStatus": "not created yet"}
            if table.get("TableStatus") == "ACTIVE":
                return table
            self._pause(deadline, f"table {target_name} ({table.get('TableStatus')})")

    def _pause(self, deadline: float, waiting_for: str) -> None:
        if self._clock() >= deadline:
            raise RestoreError(
                f"timed out after {self.options.timeout_seconds:.0f} s waiting for "
                f"{waiting_for}: the restore may still finish, so check it in the "
                "console and compare later with a longer --timeout-minutes"
            )
        self._sleep(self.options.poll_seconds)


def render_drill(
    result: DrillResult, options: DrillOptions, out: TextIO, *, endpoint: Endpoint
) -> bool:
    """Write the drill report and return whether the drill passes.

    The delete command it prints carries the drill's region and endpoint, so that
    pasting it never reaches another region or, after an emulator run, AWS itself.
    """
    comparison = result.comparison
    out.write(
        f"drill: restored {comparison.source_name} from "
        f"{options.source.describe()} into {result.target_name}\n"
    )
    render_comparison(comparison, out, target_role="restored")
    if not comparison.equal:
        out.write(
            "The restored table contains the source as it was at the restore point. "
            "Items written, changed or deleted since then show as differences and "
            "do not by themselves mean the backup is bad.\n"
        )
    delete = shlex.join(
        [
            "aws",
            "dynamodb",
            "delete-table",
            "--table-name",
            result.target_name,
            *endpoint_options(endpoint),
        ]
    )
    out.write(
        f"The drill table {result.target_name} remains and is billed. Delete it "
        f"when done: {delete}\n"
    )
    return comparison.equal or not options.strict
