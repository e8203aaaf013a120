"""Command line of the migration tools: copy, verify and drill.

Exit status: 0 on success, 1 when a step fails or tables differ, 2 for an invalid
option, 130 after Ctrl-C (a copy then resumes with --resume).
"""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from pfmon_api import tables
from tools.migrate import schema
from tools.migrate.aws import Endpoint, client, endpoint_options, resolve_endpoint
from tools.migrate.copy_engine import (
    CREDENTIALS_SUFFIX,
    CopyOptions,
    CopyRun,
    render_dry_run,
)
from tools.migrate.credentials import CREDENTIAL_ENVELOPE, check_key_arn
from tools.migrate.drill import (
    DEFAULT_POLL_SECONDS,
    Drill,
    DrillOptions,
    RestoreSource,
    render_drill,
)
from tools.migrate.errors import MigrationError, UsageError
from tools.migrate.progress import DEFAULT_INTERVAL, Progress, render_summary
from tools.migrate.scan import MAX_SEGMENTS
from tools.migrate.verify import (
    DEFAULT_MAX_DIFFERENCES,
    compare_tables,
    render_comparison,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_SEGMENTS = 4
DEFAULT_TIMEOUT_MINUTES = 240
# A checkpoint stores table keys (user ids), so by default it goes to a directory that
# .gitignore lists, below the current directory.
CHECKPOINT_DIRECTORY = Path(".migrate")

logger = logging.getLogger("tools.migrate")

# Recovery points of DynamoDB tables: arn:aws:backup:...:recovery-point:<id> when AWS
# Backup manages them fully, arn:aws:dynamodb:...:table/<name>/backup/<id> otherwise.
_RECOVERY_POINT = re.compile(
    r"^arn:aws[a-z-]*:(?:backup:[a-z0-9-]+:\d{12}:recovery-point:[A-Za-z0-9-]+"
    r"|dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]+/backup/[0-9a-z-]+)$"
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of `python -m tools.migrate`."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.migrate",
        description="Copy, verify and restore-drill PFMON's DynamoDB tables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_copy(commands)
    _add_verify(commands)
    _add_drill(commands)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        default=schema.DEFAULT_PROJECT,
        help="project name, the prefix of every table name (default: %(default)s)",
    )
    parser.add_argument("--region", help="AWS region (default: the AWS configuration)")
    parser.add_argument(
        "--endpoint-url",
        help="DynamoDB, KMS and AWS Backup endpoint, such as a moto server",
    )
    parser.add_argument(
        "--segments",
        default=str(DEFAULT_SEGMENTS),
        help=f"parallel Scan segments, 1 to {MAX_SEGMENTS} (default: %(default)s)",
    )


def _add_pair(parser: argparse.ArgumentParser) -> None:
    envs = ", ".join(schema.ENVIRONMENTS)
    parser.add_argument("--source-env", required=True, help=f"one of {envs}")
    parser.add_argument("--target-env", required=True, help=f"one of {envs}")
    parser.add_argument(
        "--tables",
        help="comma-separated table suffixes, such as UserProfiles,AccountData "
        "(default: all four)",
    )


def _add_copy(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "copy",
        help="copy tables from one environment to another",
        description="Copy every item of the selected tables from the source "
        "environment to the target. Nothing is deleted and no table is created.",
    )
    _add_pair(parser)
    _add_common(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="count the items and check the tables, but write nothing",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="write into target tables that already hold items",
    )
    parser.add_argument(
        "--checkpoint",
        help="checkpoint file, which stores table keys (default: .migrate/migrate-"
        "<project>-<source>-to-<target>.checkpoint.json in the current directory)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run recorded in --checkpoint",
    )
    parser.add_argument(
        "--reencrypt-credentials",
        action="store_true",
        help="re-encrypt each UserCredentials data key for --target-key-arn",
    )
    parser.add_argument(
        "--target-key-arn", help="KMS key ARN of the target's credentials key"
    )
    parser.add_argument("--page-size", help="items per Scan page (default: 1 MB pages)")
    parser.add_argument(
        "--progress-interval",
        default=str(DEFAULT_INTERVAL),
        help="seconds between progress lines on stderr (default: %(default)s)",
    )


def _add_verify(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify",
        help="compare the tables of two environments item by item",
        description="Compare item counts and content digests of each table, and "
        "list the keys of items missing, extra or changed in the target.",
    )
    _add_pair(parser)
    _add_common(parser)
    parser.add_argument(
        "--max-differences",
        default=str(DEFAULT_MAX_DIFFERENCES),
        help="differences listed per table, after which they are only counted "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--reencrypted-credentials",
        action="store_true",
        help="leave the data key and key ARN of UserCredentials items out of the "
        "comparison, after a copy with --reencrypt-credentials",
    )


def _add_drill(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "drill",
        help="restore one table into a new table and compare it with the source",
        description="Restore a table from PITR or an AWS Backup recovery point into "
        "a new table, wait for it, and compare it with the source. Nothing is "
        "removed, the drill table included.",
    )
    parser.add_argument("--env", required=True, help="environment of the table")
    parser.add_argument(
        "--table", required=True, help="table suffix, such as JournalEntries"
    )

    restore = parser.add_mutually_exclusive_group(required=True)
    restore.add_argument(
        "--point-in-time",
        help="ISO 8601 time with a UTC offset, such as 2026-01-31T09:30:00Z",
    )
    restore.add_argument(
        "--latest", action="store_true", help="the latest restorable time"
    )
    restore.add_argument("--recovery-point-arn", help="AWS Backup recovery point ARN")

    parser.add_argument(
        "--target-name",
        help="name of the new table (default: <source>-drill-<UTC timestamp>)",
    )
    parser.add_argument(
        "--kms-key-arn",
        help="KMS key for a table restored from a recovery point "
        "(default: the source table's key)",
    )
    parser.add_argument(
        "--iam-role-arn",
        help="role AWS Backup restores with (default: <project>-<env>-backup-role)",
    )

    parser.add_argument(
        "--timeout-minutes",
        default=str(DEFAULT_TIMEOUT_MINUTES),
        help="minutes to wait for the restore (default: %(default)s)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 when the restored table differs from the source",
    )
    _add_common(parser)


def parse_whole_number(option: str, value: str, low: int, high: int | None) -> int:
    """Return an integer in [low, high], or raise UsageError naming the range."""
    allowed = (
        f"a whole number from {low} to {high}"
        if high is not None
        else f"a whole number of at least {low}"
    )
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a number: use {allowed}") from None
    if number < low or (high is not None and number > high):
        raise UsageError(f"{option} {value} is out of range: use {allowed}")
    return number


def parse_seconds(option: str, value: str) -> float:
    """Return a positive number of seconds, or raise UsageError."""
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a number: use seconds, such as 1 or 0.5"
        ) from None
    if not seconds > 0:
        raise UsageError(f"{option} {value} is not positive: use seconds, such as 1")
    return seconds


def parse_point_in_time(value: str, now: datetime) -> datetime:
    """Return an aware UTC datetime in the past, or raise UsageError."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--point-in-time {value!r} is not an ISO 8601 time: use a form such as "
            "2026-01-31T09:30:00Z"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(
            f"--point-in-time {value!r} has no UTC offset: add Z for UTC, such as "
            f"{value}Z"
        )
    moment = moment.astimezone(UTC)
    if moment >= now:
        raise UsageError(
            f"--point-in-time {value!r} is not in the past: use an earlier time or "
            "--latest"
        )
    return moment


def _check_pair(args: argparse.Namespace) -> tuple[str, str]:
    source = schema.check_environment("--source-env", args.source_env)
    target = schema.check_environment("--target-env", args.target_env)
    if source == target:
        raise UsageError(
            f"--source-env and --target-env are both {source!r}: choose two "
            "different environments, such as --source-env test --target-env prod"
        )
    return source, target


def copy_options(args: argparse.Namespace) -> CopyOptions:
    """Validate the copy options, raising UsageError on the first invalid one."""
    source, target = _check_pair(args)
    definitions = schema.parse_table_list(args.tables)
    segments = parse_whole_number("--segments", args.segments, 1, MAX_SEGMENTS)
    page_size = (
        None
        if args.page_size is None
        else parse_whole_number("--page-size", args.page_size, 1, None)
    )
    key_arn = _reencrypt_key_arn(args, definitions)
    if args.dry_run and args.resume:
        raise UsageError(
            "--dry-run and --resume cannot be combined: a dry run reads the whole "
            "source. Leave out one of them"
        )
    checkpoint = (
        Path(args.checkpoint)
        if args.checkpoint
        else CHECKPOINT_DIRECTORY
        / f"migrate-{args.project}-{source}-to-{target}.checkpoint.json"
    )
    endpoint = resolve_endpoint(args.region, args.endpoint_url)
    schema.table_pairs(args.project, source, target, definitions)
    return CopyOptions(
        project=args.project,
        source_env=source,
        target_env=target,
        endpoint=endpoint,
        tables=definitions,
        segments=segments,
        checkpoint_path=checkpoint,
        merge=args.merge,
        resume=args.resume,
        reencrypt_key_arn=key_arn,
        page_size=page_size,
    )


def _reencrypt_key_arn(
    args: argparse.Namespace, definitions: Sequence[tables.TableDefinition]
) -> str | None:
    if not args.reencrypt_credentials:
        if args.target_key_arn is not None:
            raise UsageError(
                f"--target-key-arn {args.target_key_arn!r} is set without "
                "--reencrypt-credentials: add --reencrypt-credentials or leave out "
                "--target-key-arn"
            )
        return None
    if args.target_key_arn is None:
        raise UsageError(
            "--reencrypt-credentials needs --target-key-arn: pass the ARN of the "
            "target environment's credentials key (alias pfmon-<env>-credentials)"
        )
    if CREDENTIALS_SUFFIX not in {definition.suffix for definition in definitions}:
        raise UsageError(
            f"--reencrypt-credentials has nothing to do: --tables leaves out "
            f"{CREDENTIALS_SUFFIX}: add it or leave out --reencrypt-credentials"
        )
    return check_key_arn(args.target_key_arn)


def run_copy(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `copy` (or its dry run) and return the exit status."""
    options = copy_options(args)
    interval = parse_seconds("--progress-interval", args.progress_interval)
    connections = options.segments * 2
    dynamodb = client("dynamodb", options.endpoint, connections)
    kms = client("kms", options.endpoint) if options.reencrypt_key_arn else None
    run = CopyRun(options, dynamodb, Progress(err, interval), kms=kms)

    if args.dry_run:
        would_start = render_dry_run(run.dry_run(), options.merge, out)
        return EXIT_OK if would_start else EXIT_FAILED

    logger.info(
        "copy started: %s to %s, tables %s, %d segments, checkpoint %s",
        options.source_env,
        options.target_env,
        ",".join(pair.suffix for pair in run.pairs),
        options.segments,
        options.checkpoint_path,
    )
    try:
        summaries = run.run()
    except KeyboardInterrupt:
        if not run.checkpoint_opened:
            err.write("interrupted before anything was written\n")
            return EXIT_INTERRUPTED
        err.write(
            f"interrupted: resume with the same options and --resume "
            f"--checkpoint {options.checkpoint_path}\n"
        )
        return EXIT_INTERRUPTED
    except (MigrationError, ClientError, BotoCoreError):
        if run.checkpoint_opened:
            logger.error(
                "copy stopped, progress saved in %s: fix the error below, then run "
                "the same command with --resume",
                options.checkpoint_path,
            )
        raise
    if summaries:
        out.write(render_summary(summaries) + "\n")
    out.write(f"copy complete. Check it with: {verify_command(options)}\n")
    return EXIT_OK


def verify_command(options: CopyOptions) -> str:
    """Return the verify command for a copy, with every option that selects tables.

    The region is always spelled out, so that the command does not depend on the
    AWS configuration of the shell it is pasted into.
    """
    arguments = [
        "python",
        "-m",
        "tools.migrate",
        "verify",
        "--source-env",
        options.source_env,
        "--target-env",
        options.target_env,
        "--project",
        options.project,
        *endpoint_options(options.endpoint),
    ]
    if options.tables != tables.TABLES:
        suffixes = ",".join(definition.suffix for definition in options.tables)
        arguments += ["--tables", suffixes]
    if options.reencrypt_key_arn is not None:
        arguments.append("--reencrypted-credentials")
    return shlex.join(arguments)


def run_verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `verify` and return 0 when every table is equal, else 1."""
    source, target = _check_pair(args)
    definitions = schema.parse_table_list(args.tables)
    segments = parse_whole_number("--segments", args.segments, 1, MAX_SEGMENTS)
    limit = parse_whole_number("--max-differences", args.max_differences, 0, None)
    endpoint = resolve_endpoint(args.region, args.endpoint_url)
    pairs = schema.table_pairs(args.project, source, target, definitions)
    dynamodb = client("dynamodb", endpoint, segments * 2)
    progress = Progress(err)

    equal = True
    for pair in pairs:
        for name, role in ((pair.source_name, "source"), (pair.target_name, "target")):
            described = schema.describe_table(dynamodb, name, role)
            schema.check_key_schema(described, pair.definition, role)
        ignore: tuple[str, ...] = ()
        if args.reencrypted_credentials and pair.suffix == CREDENTIALS_SUFFIX:
            ignore = (
                CREDENTIAL_ENVELOPE.data_key_attribute,
                CREDENTIAL_ENVELOPE.key_arn_attribute,
            )
        comparison = compare_tables(
            dynamodb,
            pair.suffix,
            source_name=pair.source_name,
            target_name=pair.target_name,
            key_types=schema.key_types(pair.definition),
            segments=segments,
            ignore=ignore,
            max_differences=limit,
            progress=progress,
        )
        render_comparison(comparison, out)
        equal = equal and comparison.equal
    out.write("verify: all tables equal\n" if equal else "verify: tables differ\n")
    return EXIT_OK if equal else EXIT_FAILED


def drill_options(args: argparse.Namespace, now: datetime) -> DrillOptions:
    """Validate the drill options, raising UsageError on the first invalid one."""
    environment = schema.check_environment("--env", args.env)
    definition = schema.parse_table("--table", args.table)
    if args.point_in_time is not None:
        source = RestoreSource(
            "point-in-time", point_in_time=parse_point_in_time(args.point_in_time, now)
        )
    elif args.latest:
        source = RestoreSource("latest")
    else:
        source = RestoreSource(
            "recovery-point",
            recovery_point_arn=_check_recovery_point(args.recovery_point_arn),
        )
    if args.target_name is not None:
        schema.check_table_name("--target-name", args.target_name)
    if args.kms_key_arn is not None:
        check_key_arn(args.kms_key_arn, "--kms-key-arn")
    if args.kms_key_arn is not None and source.kind != "recovery-point":
        raise UsageError(
            "--kms-key-arn applies to --recovery-point-arn only: a point-in-time "
            "restore keeps the source table's encryption, so leave it out"
        )
    minutes = parse_whole_number("--timeout-minutes", args.timeout_minutes, 1, None)
    return DrillOptions(
        project=args.project,
        environment=environment,
        table=definition,
        source=source,
        target_name=args.target_name,
        kms_key_arn=args.kms_key_arn,
        iam_role_arn=args.iam_role_arn,
        segments=parse_whole_number("--segments", args.segments, 1, MAX_SEGMENTS),
        timeout_seconds=minutes * 60.0,
        poll_seconds=DEFAULT_POLL_SECONDS,
        strict=args.strict,
    )


def _check_recovery_point(value: str) -> str:
    if not _RECOVERY_POINT.fullmatch(value):
        raise UsageError(
            f"--recovery-point-arn {value!r} is not a recovery point ARN: copy the "
            "RecoveryPointArn that aws backup list-recovery-points-by-resource prints"
        )
    return value


def run_drill(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `drill` and return 0 when it passes."""
    options = drill_options(args, datetime.now(UTC))
    endpoint: Endpoint = resolve_endpoint(args.region, args.endpoint_url)
    dynamodb = client("dynamodb", endpoint, options.segments * 2)
    recovery_point = options.source.kind == "recovery-point"
    drill = Drill(
        options,
        dynamodb,
        backup=client("backup", endpoint) if recovery_point else None,
        sts=client("sts", endpoint) if recovery_point else None,
        progress=Progress(err),
    )
    logger.info(
        "drill started: %s from %s", options.source_name, options.source.describe()
    )
    result = drill.run()
    passed = render_drill(result, options, out, endpoint=endpoint)
    return EXIT_OK if passed else EXIT_FAILED


_COMMANDS = {"copy": run_copy, "verify": run_verify, "drill": run_drill}


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command and return its exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return _COMMANDS[args.command](args, out, err)
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_USAGE
    except MigrationError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as exc:
        err.write(f"error: AWS call failed: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_INTERRUPTED
    finally:
        logger.removeHandler(handler)
