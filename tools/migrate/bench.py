"""Benchmark: the migration's copy against a one-item-at-a-time copy, on moto.

    python -m tools.migrate.bench                 # 2,000 JournalEntries items
    python -m tools.migrate.bench --items 5000 --segments 8

It starts its own moto server on 127.0.0.1 (a free port), seeds `bench-test-
JournalEntries`, and times two copies into `bench-prod-JournalEntries`:

- the migration: segmented Scan and BatchWriteItem, as `python -m tools.migrate copy`;
- one item at a time: a Scan of the keys, then GetItem and PutItem for each item.

Both copies are checked to leave the same target digest. The numbers describe the
emulator, whose per-request and per-attribute costs differ from DynamoDB's, so the
ratio is the result to read, not the items per second.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pfmon_api import tables
from tools.migrate import schema
from tools.migrate.aws import Endpoint, client
from tools.migrate.copy_engine import CopyOptions, CopyRun
from tools.migrate.digest import TableDigest
from tools.migrate.progress import Progress
from tools.migrate.sample_data import load_items, sample_tables
from tools.migrate.scan import MAX_SEGMENTS
from tools.migrate.verify import hash_table

PROJECT = "bench"
REGION = "us-east-1"
DEFINITION = tables.JOURNAL_ENTRIES
SOURCE = DEFINITION.physical_name(PROJECT, "test")
TARGET = DEFINITION.physical_name(PROJECT, "prod")
SERVER_START_SECONDS = 30.0


@dataclass(frozen=True)
class Measurement:
    """One timed copy."""

    method: str
    items: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


@contextmanager
def moto_server() -> Iterator[str]:
    """Run a moto server on 127.0.0.1 in a child process and yield its URL."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def recreate_target(dynamodb: Any) -> None:
    """Give the benchmark an empty target table."""
    existing = dynamodb.list_tables()["TableNames"]
    if TARGET in existing:
        dynamodb.delete_table(TableName=TARGET)
    dynamodb.create_table(**tables.create_table_request(DEFINITION, TARGET))


def copy_with_migration(dynamodb: Any, endpoint: Endpoint, segments: int) -> float:
    """Copy the table with the migration's engine and return the seconds taken."""
    with tempfile.TemporaryDirectory() as directory:
        options = CopyOptions(
            project=PROJECT,
            source_env="test",
            target_env="prod",
            endpoint=endpoint,
            tables=(DEFINITION,),
            segments=segments,
            checkpoint_path=Path(directory) / "bench.checkpoint.json",
        )
        started = time.perf_counter()
        CopyRun(options, dynamodb, Progress(io.StringIO())).run()
        return time.perf_counter() - started


def copy_one_at_a_time(dynamodb: Any) -> float:
    """Copy the table with GetItem and PutItem per item and return the seconds."""
    key_names = schema.key_attributes(DEFINITION)
    started = time.perf_counter()
    request: dict[str, Any] = {
        "TableName": SOURCE,
        "ProjectionExpression": ", ".join(f"#{name}" for name in key_names),
        "ExpressionAttributeNames": {f"#{name}": name for name in key_names},
    }
    while True:
        page = dynamodb.scan(**request)
        for key in page["Items"]:
            item = dynamodb.get_item(TableName=SOURCE, Key=key, ConsistentRead=True)
            dynamodb.put_item(TableName=TARGET, Item=item["Item"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return time.perf_counter() - started


def target_digest(dynamodb: Any) -> TableDigest:
    return hash_table(dynamodb, TARGET, schema.key_attributes(DEFINITION), 1).digest


def run(items: int, segments: int) -> list[Measurement]:
    """Seed the source, time both copies and check that they agree."""
    # moto needs credentials to sign requests with, and these never leave the machine.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with moto_server() as url:
        endpoint = Endpoint(REGION, url)
        dynamodb = client("dynamodb", endpoint, segments * 2)
        dynamodb.create_table(**tables.create_table_request(DEFINITION, SOURCE))
        seeded = sample_tables({DEFINITION.suffix: items})[DEFINITION.suffix]
        load_items(dynamodb, SOURCE, seeded)

        recreate_target(dynamodb)
        migration = copy_with_migration(dynamodb, endpoint, segments)
        migrated = target_digest(dynamodb)

        recreate_target(dynamodb)
        one_by_one = copy_one_at_a_time(dynamodb)
        copied = target_digest(dynamodb)

    if (migrated.count, migrated.hexdigest) != (copied.count, copied.hexdigest):
        raise RuntimeError("the two copies left different targets")
    if migrated.count != items:
        raise RuntimeError(f"the target contains {migrated.count} items, not {items}")
    return [
        Measurement(f"migration, {segments} segments", items, migration),
        Measurement("GetItem + PutItem per item", items, one_by_one),
    ]


def render(measurements: Sequence[Measurement], command: str) -> str:
    """Return the results as a Markdown table with the command and the machine."""
    baseline = measurements[-1].rate
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, moto {metadata.version('moto')}, "
        f"boto3 {metadata.version('boto3')}",
        "",
        "| method | items | seconds | items/s | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {item.method} | {item.items:,} | {item.seconds:.1f} | {item.rate:,.0f} "
        f"| {item.rate / baseline:.1f}x |"
        for item in measurements
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.migrate.bench",
        description="Time the migration's copy against GetItem + PutItem per item.",
    )
    parser.add_argument(
        "--items", type=int, default=2_000, help="JournalEntries items to copy"
    )
    parser.add_argument(
        "--segments", type=int, default=4, help="Scan segments of the migration"
    )
    args = parser.parse_args(argv)
    if args.items < 1 or not 1 <= args.segments <= MAX_SEGMENTS:
        parser.error(f"--items must be at least 1 and --segments 1 to {MAX_SEGMENTS}")
    measurements = run(args.items, args.segments)
    command = "python -m tools.migrate.bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    sys.stdout.write(render(measurements, command.strip()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
