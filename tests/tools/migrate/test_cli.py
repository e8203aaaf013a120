"""Command-line validation: each invalid value exits 2 with its name and the fix."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from components.settings import TIERS, ConfigError, build_settings
from tests.tools.migrate.helpers import REGION, scan_all, seed
from tools.migrate import schema
from tools.migrate.aws import REGION_FORMAT, Endpoint, client
from tools.migrate.cli import CHECKPOINT_DIRECTORY, main
from tools.migrate.sample_data import sample_tables
from tools.mock_runtime import stack_config

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]

# Every test runs under moto, so a command that passes validation by mistake calls
# the emulator and never AWS.
pytestmark = pytest.mark.usefixtures("moto")

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
COPY = ["copy", "--source-env=test", "--target-env=prod"]


def _run(arguments: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(arguments, out, err)
    return status, out.getvalue(), err.getvalue()


def test_environments_match_stacks() -> None:
    assert tuple(TIERS) == schema.ENVIRONMENTS


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "ap-southeast-5",
        "mars-1",
        "US-EAST-1",
        "us-east-1a",
        "us-east",
        "local",
    ],
)
def test_region_rule_matches_settings(region: str) -> None:
    # GIVEN the test stack's config, which components.settings validates
    config = stack_config("test")
    values = {
        key.split(":", 1)[1]: value
        for key, value in config.items()
        if key.startswith("pfmon:")
    }
    try:
        build_settings(values, "test", region)
    except ConfigError:
        settings_accepts = False
    else:
        settings_accepts = True
    # THEN the migration tools accept exactly the regions the program accepts
    assert bool(REGION_FORMAT.fullmatch(region)) == settings_accepts


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["copy", "--source-env=staging", "--target-env=prod"],
            "--source-env 'staging' is not an environment: use one of dev, test, prod",
        ),
        (
            ["copy", "--source-env=test", "--target-env=test"],
            "--source-env and --target-env are both 'test': choose two different",
        ),
        (
            [*COPY, "--segments=0"],
            "--segments 0 is out of range: use a whole number from 1 to 64",
        ),
        ([*COPY, "--segments=65"], "--segments 65 is out of range"),
        ([*COPY, "--segments=four"], "--segments 'four' is not a number"),
        ([*COPY, "--page-size=0"], "--page-size 0 is out of range"),
        (
            [*COPY, "--tables=UserProfiles,Trades"],
            "--tables names unknown tables 'Trades': use table suffixes from "
            "UserProfiles, JournalEntries, UserCredentials, AccountData",
        ),
        ([*COPY, "--tables=,"], "--tables ',' names no table"),
        (
            [*COPY, "--reencrypt-credentials"],
            "--reencrypt-credentials needs --target-key-arn: pass the ARN",
        ),
        (
            [*COPY, f"--target-key-arn={KEY}"],
            "is set without --reencrypt-credentials",
        ),
        (
            [*COPY, "--reencrypt-credentials", "--target-key-arn=alias/x"],
            "--target-key-arn 'alias/x' is not a KMS key ARN",
        ),
        (
            [
                *COPY,
                "--tables=UserProfiles",
                "--reencrypt-credentials",
                f"--target-key-arn={KEY}",
            ],
            "--reencrypt-credentials has nothing to do: --tables leaves out "
            "UserCredentials",
        ),
        ([*COPY, "--dry-run", "--resume"], "--dry-run and --resume cannot be combined"),
        (
            [*COPY, "--endpoint-url=127.0.0.1:5000"],
            "--endpoint-url '127.0.0.1:5000' is not an HTTP URL",
        ),
        (
            [*COPY, "--project=pf mon"],
            "--project gives the table name 'pf mon-test-UserProfiles', which "
            "DynamoDB rejects",
        ),
        ([*COPY, "--progress-interval=0"], "--progress-interval 0 is not positive"),
        (
            ["verify", "--source-env=prod", "--target-env=prod"],
            "both 'prod'",
        ),
        (
            [
                "verify",
                "--source-env=test",
                "--target-env=prod",
                "--max-differences=-1",
            ],
            "--max-differences -1 is out of range",
        ),
        (
            ["drill", "--env=qa", "--table=JournalEntries", "--latest"],
            "--env 'qa' is not an environment",
        ),
        (
            ["drill", "--env=prod", "--table=UserProfiles,AccountData", "--latest"],
            "--table 'UserProfiles,AccountData' must name exactly one table",
        ),
        (
            ["drill", "--env=prod", "--table=Nope", "--latest"],
            "--table 'Nope' is not a table suffix: use one of UserProfiles, "
            "JournalEntries, UserCredentials, AccountData",
        ),
        (
            ["drill", "--env=prod", "--table=", "--latest"],
            "--table '' is not a table suffix",
        ),
        ([*COPY, "--region=mars-1"], "--region 'mars-1' is invalid: use an AWS"),
        (
            ["verify", "--source-env=test", "--target-env=prod", "--region=mars-1"],
            "--region 'mars-1' is invalid",
        ),
        (
            ["drill", "--env=prod", "--table=JournalEntries", "--latest", "--region=x"],
            "--region 'x' is invalid",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--point-in-time=2026-01-01",
            ],
            "has no UTC offset: add Z for UTC",
        ),
        (
            ["drill", "--env=prod", "--table=JournalEntries", "--point-in-time=soon"],
            "--point-in-time 'soon' is not an ISO 8601 time",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--point-in-time=2999-01-01T00:00:00Z",
            ],
            "is not in the past",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--latest",
                f"--kms-key-arn={KEY}",
            ],
            "--kms-key-arn applies to --recovery-point-arn only",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--recovery-point-arn=arn:aws:backup:us-east-1:123456789012:recovery-point:AB-1",
                "--kms-key-arn=alias/pfmon-prod-tables",
            ],
            "--kms-key-arn 'alias/pfmon-prod-tables' is not a KMS key ARN",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--recovery-point-arn=recovery-point-1",
            ],
            "--recovery-point-arn 'recovery-point-1' is not a recovery point ARN",
        ),
        (
            [
                "drill",
                "--env=prod",
                "--table=JournalEntries",
                "--latest",
                "--target-name=a b",
            ],
            "--target-name gives the table name 'a b', which DynamoDB rejects",
        ),
    ],
)
def test_invalid_option_exits_2(arguments: list[str], expected: str) -> None:
    status, out, err = _run(arguments)
    assert status == 2
    assert expected in err
    assert out == ""


def test_drill_table_error_names_option() -> None:
    status, _, err = _run(["drill", "--env=prod", "--table=Nope", "--latest"])
    assert status == 2
    assert "--tables" not in err


def test_configured_region_invalid_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no --region and an AWS configuration whose region is not a region name
    monkeypatch.setenv("AWS_DEFAULT_REGION", "mars-1")
    status, out, err = _run(COPY)
    assert status == 2
    assert out == ""
    assert err == (
        "error: the AWS configuration sets the region 'mars-1', which is invalid: "
        "pass --region, such as --region us-east-1, or correct AWS_REGION, "
        "AWS_DEFAULT_REGION or the profile's region\n"
    )


def test_missing_region_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    status, _, err = _run(COPY)
    assert status == 2
    assert "no AWS region is set: pass --region" in err


def test_resume_without_checkpoint_exits_1(tables_created: Any, tmp_path: Path) -> None:
    status, _, err = _run([*COPY, "--resume", f"--checkpoint={tmp_path / 'none.json'}"])
    assert status == 1
    assert "none.json not found" in err


def test_dry_run_writes_nothing(tables_created: Any, tmp_path: Path) -> None:
    # GIVEN seeded test tables and empty prod tables
    counts = {
        "UserProfiles": 4,
        "AccountData": 6,
        "UserCredentials": 3,
        "JournalEntries": 25,
    }
    seed(tables_created, "test", sample_tables(counts))
    checkpoint = tmp_path / "run.json"
    # WHEN a dry run runs
    status, out, _ = _run([*COPY, "--dry-run", f"--checkpoint={checkpoint}"])
    # THEN it reports the exact counts, writes no item and no checkpoint
    assert status == 0
    assert (
        "JournalEntries: would copy 25 items from pfmon-test-JournalEntries to "
        "pfmon-prod-JournalEntries" in out
    )
    assert (
        "dry run: 38 items in 4 tables, the copy would start; nothing was written"
        in out
    )
    for suffix in counts:
        assert scan_all(tables_created, f"pfmon-prod-{suffix}") == [], suffix
    assert not checkpoint.exists()


def test_dry_run_reports_rejection(tables_created: Any, tmp_path: Path) -> None:
    # GIVEN a prod table that already contains an item
    items = sample_tables({"UserProfiles": 3})
    seed(tables_created, "test", items)
    tables_created.put_item(
        TableName="pfmon-prod-UserProfiles", Item=items["UserProfiles"][0]
    )
    # WHEN a dry run runs without --merge, THEN it reports a rejected copy
    status, out, _ = _run(
        [*COPY, "--dry-run", "--tables=UserProfiles", f"--checkpoint={tmp_path / 'c'}"]
    )
    assert status == 1
    assert "REJECTED: the target contains items and --merge is not set" in out
    assert len(scan_all(tables_created, "pfmon-prod-UserProfiles")) == 1
    # AND with --merge it would start
    status, out, _ = _run(
        [
            *COPY,
            "--dry-run",
            "--merge",
            "--tables=UserProfiles",
            f"--checkpoint={tmp_path / 'c'}",
        ]
    )
    assert status == 0
    assert "the target contains items, which --merge keeps" in out


def test_copy_command_summary(tables_created: Any, tmp_path: Path) -> None:
    counts = {"UserProfiles": 5, "AccountData": 4}
    seed(tables_created, "test", sample_tables(counts))
    status, out, err = _run(
        [
            *COPY,
            "--tables=UserProfiles,AccountData",
            f"--checkpoint={tmp_path / 'run.json'}",
            "--segments=2",
        ]
    )
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["table", "scanned", "written", "retried", "seconds"]
    assert lines[1].split()[:4] == ["UserProfiles", "5", "5", "0"]
    assert lines[2].split()[:4] == ["AccountData", "4", "4", "0"]
    assert "UserProfiles: started, about 5 items" in err
    assert "UserProfiles: finished, 5 scanned, 5 written, 0 retried" in err


def test_failed_copy_names_resume(tables_created: Any, tmp_path: Path) -> None:
    # GIVEN a credential item without a data key, which re-encryption rejects
    key_arn = client("kms", Endpoint(REGION)).create_key()["KeyMetadata"]["Arn"]
    tables_created.put_item(
        TableName="pfmon-test-UserCredentials",
        Item={"userId": {"S": "user-1"}, "credentialId": {"S": "cred-1"}},
    )
    checkpoint = tmp_path / "run.json"

    # WHEN the copy re-encrypts the credentials
    status, _, err = _run(
        [
            *COPY,
            "--tables=UserCredentials",
            "--reencrypt-credentials",
            f"--target-key-arn={key_arn}",
            f"--checkpoint={checkpoint}",
        ]
    )

    # THEN it fails naming the item, and prints how to resume after the fix
    assert status == 1
    assert "credential item (userId=user-1, credentialId=cred-1) has no" in err
    assert "copy stopped, progress saved in" in err
    assert "then run the same command with --resume" in err
    assert checkpoint.exists()


def test_default_checkpoint_ignored_dir(
    tables_created: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a copy run without --checkpoint from a working directory
    seed(tables_created, "test", sample_tables({"UserProfiles": 2}))
    monkeypatch.chdir(tmp_path)
    status, _, err = _run([*COPY, "--tables=UserProfiles"])
    assert status == 0, err
    # THEN the checkpoint is in the ignored directory, readable by its owner only
    checkpoint = tmp_path / ".migrate" / "migrate-pfmon-test-to-prod.checkpoint.json"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".migrate"]
    assert stat.S_IMODE(checkpoint.stat().st_mode) == 0o600
    assert stat.S_IMODE(checkpoint.parent.stat().st_mode) == 0o700
    assert json.loads(checkpoint.read_text())["run"]["tables"] == ["UserProfiles"]


def test_checkpoint_dir_git_ignored() -> None:
    lines = (REPOSITORY_ROOT / ".gitignore").read_text().splitlines()
    assert f"{CHECKPOINT_DIRECTORY}/" in lines


def test_unwritable_checkpoint_exits_1(tables_created: Any, tmp_path: Path) -> None:
    # GIVEN a --checkpoint whose directory is a file
    parent = tmp_path / "notes.txt"
    parent.write_text("")
    checkpoint = parent / "run.json"
    seed(tables_created, "test", sample_tables({"UserProfiles": 2}))
    status, _, err = _run(
        [*COPY, "--tables=UserProfiles", f"--checkpoint={checkpoint}"]
    )
    assert status == 1
    assert f"error: checkpoint {checkpoint} cannot be written (" in err
    assert "make its directory writable or pass another --checkpoint" in err
    assert scan_all(tables_created, "pfmon-prod-UserProfiles") == []


def test_copy_hint_repeats_selection(tables_created: Any, tmp_path: Path) -> None:
    # GIVEN a copy of two tables that re-encrypts credentials
    key_arn = client("kms", Endpoint(REGION)).create_key()["KeyMetadata"]["Arn"]
    status, out, err = _run(
        [
            *COPY,
            "--tables=UserCredentials,AccountData",
            "--reencrypt-credentials",
            f"--target-key-arn={key_arn}",
            f"--checkpoint={tmp_path / 'run.json'}",
        ]
    )
    assert status == 0, err
    # THEN the hint names the region, the project, the tables and the re-encryption
    assert out.splitlines()[-1] == (
        "copy complete. Check it with: python -m tools.migrate verify "
        "--source-env test --target-env prod --project pfmon --region us-east-1 "
        "--tables UserCredentials,AccountData --reencrypted-credentials"
    )
