"""Measure what the journal API reads from DynamoDB, its import time and package size.

    python -m tools.bench_api                 # 10,000 closed trades, as in the docs
    python -m tools.bench_api --trades 500    # a quick run

The run seeds one user's closed trades through POST /entries into moto's DynamoDB in
this process, with no AWS account and no network. It then calls GET /entries and
GET /statistics through their Lambda handlers, while botocore hooks count the
DynamoDB requests and the bytes of their responses. moto reports a fixed consumed
capacity, so read capacity is estimated from the stored item sizes instead, with
the sizing rules of the DynamoDB Developer Guide ("DynamoDB item sizes and formats",
docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
a Query sums the sizes of the items it reads, rounds up to 4 KB, and an eventually
consistent read costs half a unit per 4 KB. Timings on moto are not Lambda timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from moto import mock_aws

from components.packaging import build_package

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
# The functions live in functions/, which `python -m tools.bench_api` does not put on
# sys.path.
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

from pfmon_api import json_codec, tables  # noqa: E402
from pfmon_api.data import dynamodb, journal_entries  # noqa: E402
from pfmon_api.handlers import accounts, entries  # noqa: E402
from pfmon_api.handlers import statistics as statistics_handler  # noqa: E402
from pfmon_api.logic import trade_records  # noqa: E402
from pfmon_api.logic.statistics import JournalTrade, compute_statistics  # noqa: E402
from pfmon_api.observability import logger  # noqa: E402

USER_ID = "bench-0000-4000-8000-000000000001"
REGION = "us-east-1"
SYMBOLS = tuple(f"SYM{index:02d}" for index in range(20))
TAGS = ("breakout", "pullback", "news", "scalp", "swing")
HANDLER_MODULES = (
    "pfmon_api.handlers.entries",
    "pfmon_api.handlers.statistics",
    "pfmon_api.handlers.accounts",
)
READ_UNIT_BYTES = 4096


@dataclass
class DynamoDbMeter:
    """Counts of DynamoDB calls and the bytes and items of their responses."""

    calls: dict[str, int] = field(default_factory=dict)
    response_bytes: int = 0
    items_read: int = 0
    read_units: float = 0.0
    item_sizes: Mapping[str, int] = field(default_factory=dict)

    def before_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def after_call(
        self, http_response: Any, parsed: Mapping[str, Any], **_: Any
    ) -> None:
        self.response_bytes += len(http_response.content)
        items = parsed.get("Items")
        if items is None:
            return
        # Without a filter that drops items, the items read are the items returned.
        self.items_read += int(parsed.get("ScannedCount", len(items)))
        read_bytes = sum(self.item_sizes.get(_entry_id(item), 0) for item in items)
        self.read_units += 0.5 * max(1, math.ceil(read_bytes / READ_UNIT_BYTES))


def _entry_id(item: Mapping[str, Any]) -> str:
    # boto3's resource layer may have deserialized {"S": "..."} before this hook runs.
    value = item["entryId"]
    return str(value["S"] if isinstance(value, Mapping) else value)


@contextmanager
def metered(client: Any, item_sizes: Mapping[str, int]) -> Iterator[DynamoDbMeter]:
    """Count the DynamoDB calls a block makes through `client`."""
    meter = DynamoDbMeter(item_sizes=item_sizes)
    events = client.meta.events
    events.register("before-call.dynamodb", meter.before_call, unique_id="bench-b")
    events.register("after-call.dynamodb", meter.after_call, unique_id="bench-a")
    try:
        yield meter
    finally:
        events.unregister("before-call.dynamodb", unique_id="bench-b")
        events.unregister("after-call.dynamodb", unique_id="bench-a")


def item_size(value: object) -> int:
    """Estimate the DynamoDB size in bytes of an attribute value (names excluded)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | Decimal):
        digits = len(Decimal(value).normalize().as_tuple().digits)
        return math.ceil(digits / 2) + 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, Mapping):
        return 3 + sum(
            len(str(name).encode("utf-8")) + item_size(item) + 1
            for name, item in value.items()
        )
    if isinstance(value, list | tuple):
        return 3 + sum(item_size(item) + 1 for item in value)
    raise TypeError(f"cannot size {type(value).__name__}")


def trade_body(account_id: str, index: int, rng: random.Random) -> dict[str, Any]:
    """Return a POST /entries body of a closed stock trade with two or three fills."""
    opened = datetime(2024, 1, 2, 14, 30, tzinfo=UTC) + timedelta(
        minutes=index * 105 + rng.randrange(60)
    )
    quantity = rng.randrange(10, 500)
    entry_price = Decimal(rng.randrange(1_000, 50_000)) / 100
    fills = [
        _fill("buy", quantity, entry_price, opened, "1.00"),
    ]
    exit_price = entry_price + Decimal(rng.randrange(-300, 400)) / 100
    closing = opened + timedelta(minutes=rng.randrange(5, 90))
    if index % 3 == 0:
        half = quantity // 2
        fills.append(_fill("sell", half, exit_price, closing, "0.50"))
        fills.append(
            _fill("sell", quantity - half, exit_price, closing + timedelta(hours=20))
        )
    else:
        fills.append(_fill("sell", quantity, exit_price, closing, "1.00"))
    return {
        "accountId": account_id,
        "instrument": {"kind": "stock", "symbol": rng.choice(SYMBOLS)},
        "executions": fills,
        "tags": rng.sample(TAGS, k=rng.randrange(0, 3)),
        "notes": "Entered on the retest of the opening range high.",
        "rating": rng.randrange(1, 6),
        "plannedStop": str(entry_price - Decimal("1.00")),
    }


def _fill(
    side: str, quantity: int, price: Decimal, at: datetime, fees: str = "0"
) -> dict[str, Any]:
    return {
        "side": side,
        "quantity": quantity,
        "price": str(price),
        "executedAt": at.isoformat().replace("+00:00", "Z"),
        "fees": fees,
    }


def http_event(
    method: str, path: str, body: object = None, query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Build a minimal HTTP API payload 2.0 event of the benchmark user."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "authorizer": {"jwt": {"claims": {"sub": USER_ID}, "scopes": None}},
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
            "requestId": "bench",
            "routeKey": f"{method} {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if body is not None:
        event["body"] = json_codec.dumps(body)
    return event


@dataclass(frozen=True)
class LambdaContext:
    aws_request_id: str = "bench"
    function_name: str = "pfmon-bench"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"


def call(handler: Callable[..., dict[str, Any]], event: dict[str, Any]) -> Any:
    """Invoke a handler and return the parsed body, raising on an error status."""
    response = handler(event, LambdaContext())
    if response["statusCode"] >= HTTPStatus.BAD_REQUEST:
        raise RuntimeError(f"{event['routeKey']} failed: {response['body']}")
    return (
        json.loads(response["body"], parse_float=Decimal) if response["body"] else None
    )


def import_seconds(module: str, runs: int) -> float:
    """Return the median time to import a module in a fresh interpreter."""
    code = (
        "import time; start = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - start)"
    )
    environment = {**os.environ, "PYTHONPATH": str(FUNCTIONS_DIR)}
    samples = []
    for _ in range(runs):
        # The command is this interpreter and a fixed script: no outside input.
        output = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env=environment,
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def package_size() -> tuple[int, int]:
    """Build the function package into a temporary file; return its bytes and files."""
    with tempfile.TemporaryDirectory() as directory:
        package = build_package(output_path=Path(directory) / "functions.zip")
        return package.path.stat().st_size, len(package.entries)


def run(trades: int, seed: int) -> dict[str, Any]:
    """Seed the trades, take every measurement and return the results."""
    # Fake credentials for moto, so that boto3 never finds and uses real ones.
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106
    )
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(variable, None)

    with mock_aws():
        dynamodb.dynamodb_resource.cache_clear()
        client = boto3.client("dynamodb", region_name=REGION)
        for definition in tables.TABLES:
            name = definition.physical_name("pfmon", "bench")
            request: Any = tables.create_table_request(definition, name)
            client.create_table(**request)
            os.environ[tables.TABLE_ENV_VARS[definition.suffix]] = name
        return _measure(trades, seed)


def _measure(trades: int, seed: int) -> dict[str, Any]:
    logger.setLevel("WARNING")
    # A seeded generator makes the workload repeatable; nothing here is secret.
    rng = random.Random(seed)  # noqa: S311
    account = call(
        accounts.handler,
        http_event(
            "POST",
            "/accounts",
            {
                "name": "Bench",
                "broker": "Bench",
                "currency": "USD",
                "startingBalance": "100000",
                "accountType": "margin",
            },
        ),
    )
    client = dynamodb.dynamodb_resource().meta.client

    item_sizes: dict[str, int] = {}
    started = time.perf_counter()
    with metered(client, item_sizes) as write_meter:
        for index in range(trades):
            body = trade_body(account["accountId"], index, rng)
            document = call(entries.handler, http_event("POST", "/entries", body))
            item_sizes[document["entryId"]] = _stored_size(document)
    seed_seconds = time.perf_counter() - started

    results: dict[str, Any] = {
        "trades": trades,
        "seed_seconds": seed_seconds,
        "create_calls": {k: v / trades for k, v in write_meter.calls.items()},
        "mean_item_bytes": statistics.mean(item_sizes.values()),
        "total_item_bytes": sum(item_sizes.values()),
    }
    for name, handler, path, query in (
        ("list_50", entries.handler, "/entries", {}),
        ("list_200", entries.handler, "/entries", {"limit": "200"}),
        ("statistics_all", statistics_handler.handler, "/statistics", {}),
        (
            "statistics_2024_q1",
            statistics_handler.handler,
            "/statistics",
            {"from": "2024-01-01", "to": "2024-03-31"},
        ),
    ):
        with metered(client, item_sizes) as meter:
            started = time.perf_counter()
            body = call(handler, http_event("GET", path, query=query))
            seconds = time.perf_counter() - started
        results[name] = {
            "calls": dict(meter.calls),
            "response_bytes": meter.response_bytes,
            "items_read": meter.items_read,
            "read_units": meter.read_units,
            "seconds": seconds,
            "returned": len(body["entries"])
            if "entries" in body
            else body["tradeCount"],
        }
    results["derive_seconds"] = _derive_seconds()
    return results


def _stored_size(document: Mapping[str, Any]) -> int:
    item = {
        **document,
        "userId": USER_ID,
        "openedAtKey": f"{document['openedAt']}#{document['entryId']}",
        "userSymbol": f"{USER_ID}#{document['instrument']['symbol']}",
        "userAccount": f"{USER_ID}#{document['accountId']}",
    }
    return item_size(item) - 3 - len(item)


def _derive_seconds() -> float:
    """Time the CPU part of GET /statistics: deriving and summarizing every trade."""
    documents = list(journal_entries.query_closed_trades(USER_ID, None, None, None))
    zone = ZoneInfo("America/New_York")
    started = time.perf_counter()
    trades = [
        JournalTrade(
            trade_records.derive_entry_trade(
                document["instrument"], document["executions"], zone
            ),
            account_id=document["accountId"],
            tags=frozenset(document["tags"]),
        )
        for document in documents
    ]
    compute_statistics(trades)
    return time.perf_counter() - started


def report(
    results: Mapping[str, Any], imports: Mapping[str, float], package: Any
) -> str:
    """Format the results as the Markdown tables of docs/benchmark-api.md."""
    lines = [
        f"Seeded {results['trades']:,} closed trades through POST /entries in "
        f"{results['seed_seconds']:.0f} s; stored items average "
        f"{results['mean_item_bytes']:.0f} bytes "
        f"({results['total_item_bytes'] / 1_000_000:.1f} MB in all).",
        "",
        "DynamoDB calls per POST /entries: "
        + ", ".join(f"{k} {v:g}" for k, v in sorted(results["create_calls"].items())),
        "",
        "| request | DynamoDB calls | items read | response bytes | est. read units "
        "| returned | time on moto |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    labels = {
        "list_50": "GET /entries (limit 50)",
        "list_200": "GET /entries?limit=200",
        "statistics_all": "GET /statistics (all)",
        "statistics_2024_q1": "GET /statistics?from=2024-01-01&to=2024-03-31",
    }
    for key, label in labels.items():
        row = results[key]
        calls = ", ".join(
            f"{name} {count}" for name, count in sorted(row["calls"].items())
        )
        lines.append(
            f"| {label} | {calls} | {row['items_read']:,} | "
            f"{row['response_bytes']:,} | {row['read_units']:g} | "
            f"{row['returned']:,} | {row['seconds']:.2f} s |"
        )
    lines += [
        "",
        f"Deriving and summarizing all {results['trades']:,} trades (the CPU part of "
        f"GET /statistics, without DynamoDB): {results['derive_seconds']:.2f} s.",
        "",
        "| handler module | cold import (median of runs) |",
        "| --- | --- |",
    ]
    lines += [
        f"| `{module}` | {seconds * 1000:.0f} ms |"
        for module, seconds in imports.items()
    ]
    size, files = package
    lines += [
        "",
        f"Function package: {size:,} bytes ({size / 1024:.0f} KiB), {files} files.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trades", type=int, default=10_000, help="closed trades to seed (10000)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument(
        "--import-runs", type=int, default=7, help="fresh interpreters per module (7)"
    )
    arguments = parser.parse_args(argv)
    if arguments.trades < 1:
        parser.error(f"--trades must be 1 or more, not {arguments.trades}")

    results = run(arguments.trades, arguments.seed)
    imports = {
        module: import_seconds(module, arguments.import_runs)
        for module in HANDLER_MODULES
    }
    print(report(results, imports, package_size()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
