"""10,000 items on a moto server: a copy crashes midway, resumes, and ends equal.

This is the one large test, and the slowest of the suite. moto 5.2.5 serializes every
attribute value of a Scan response through its generic response serializer (about
0.1 ms each, measured on 2 cores), so each full read of these tables takes about
15 s. A server process runs that work beside the client's, and the source digest is
computed from the seeded items instead of a second read. The verify command itself
is tested on small tables.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.tools.migrate.helpers import PROJECT, REGION, copy_options, seed
from tools.migrate import schema
from tools.migrate.aws import Endpoint, client
from tools.migrate.cli import main
from tools.migrate.copy_engine import CopyRun
from tools.migrate.digest import TableDigest, item_hash
from tools.migrate.progress import Progress
from tools.migrate.sample_data import create_tables, sample_tables
from tools.migrate.verify import hash_table

COUNTS = {
    "UserProfiles": 1_000,
    "AccountData": 1_500,
    "UserCredentials": 500,
    "JournalEntries": 7_000,
}
SEGMENTS = 2
# JournalEntries takes 280 batches of 25; the crash comes after 100 of them.
CRASH_AFTER_BATCHES = 100


class SimulatedCrashError(Exception):
    """Raised by the after-batch hook in place of a killed process."""


def _crash_in_journal_entries() -> Any:
    written = 0

    def after_batch(suffix: str) -> None:
        nonlocal written
        if suffix == "JournalEntries":
            written += 1
            if written == CRASH_AFTER_BATCHES:
                raise SimulatedCrashError

    return after_batch


def _count(dynamodb: Any, table_name: str) -> int:
    total = 0
    request: dict[str, Any] = {"TableName": table_name, "Select": "COUNT"}
    while True:
        response = dynamodb.scan(**request)
        total += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return total
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def test_large_copy_resumes_equal(moto_server: str, tmp_path: Path) -> None:
    dynamodb = client("dynamodb", Endpoint(REGION, moto_server), SEGMENTS * 2)
    create_tables(dynamodb, PROJECT, ("test", "prod"))
    seeded = sample_tables(COUNTS)
    seed(dynamodb, "test", seeded)
    checkpoint = tmp_path / "large.checkpoint.json"
    endpoint_options = ["--region", REGION, "--endpoint-url", moto_server]

    # GIVEN a copy of 10,000 items that crashed in the middle of JournalEntries
    options = copy_options(
        checkpoint,
        endpoint=Endpoint(REGION, moto_server),
        segments=SEGMENTS,
        page_size=1000,
    )
    crashed = CopyRun(
        options,
        dynamodb,
        Progress(io.StringIO(), interval=0),
        after_batch=_crash_in_journal_entries(),
    )
    with pytest.raises(SimulatedCrashError):
        crashed.run()
    partial = _count(dynamodb, "pfmon-prod-JournalEntries")
    assert 0 < partial < COUNTS["JournalEntries"]
    assert _count(dynamodb, "pfmon-prod-UserProfiles") == COUNTS["UserProfiles"]
    assert _count(dynamodb, "pfmon-prod-AccountData") == 0
    recorded = json.loads(checkpoint.read_text())["tables"]["JournalEntries"]
    assert sum(segment["itemsWritten"] for segment in recorded) <= partial

    # WHEN the command line resumes it from the checkpoint
    out, err = io.StringIO(), io.StringIO()
    status = main(
        [
            "copy",
            "--source-env=test",
            "--target-env=prod",
            f"--segments={SEGMENTS}",
            f"--checkpoint={checkpoint}",
            "--resume",
            *endpoint_options,
        ],
        out,
        err,
    )
    assert status == 0, err.getvalue()

    # THEN every target table contains exactly the seeded items: same count and digest
    for suffix, items in seeded.items():
        definition = schema.TABLES_BY_SUFFIX[suffix]
        target = hash_table(
            dynamodb,
            f"pfmon-prod-{suffix}",
            schema.key_attributes(definition),
            SEGMENTS,
        )
        expected = TableDigest()
        for item in items:
            expected.add(item_hash(item))
        assert target.digest.count == COUNTS[suffix], suffix
        assert target.digest.hexdigest == expected.hexdigest, suffix
