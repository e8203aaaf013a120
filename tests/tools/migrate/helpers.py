"""Helpers of the migration tests: seeding, reading, unprocessed-item clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pfmon_api import tables
from tools.migrate.aws import Endpoint
from tools.migrate.copy_engine import CopyOptions
from tools.migrate.sample_data import load_items

REGION = "us-east-1"
PROJECT = "pfmon"


def seed(dynamodb: Any, environment: str, items: dict[str, list[Any]]) -> None:
    """Write items, keyed by table suffix, into an environment's tables."""
    for suffix, table_items in items.items():
        load_items(dynamodb, f"{PROJECT}-{environment}-{suffix}", table_items)


def scan_all(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Return every item of a table."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name}
    while True:
        response = dynamodb.scan(**request)
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def copy_options(checkpoint: Path, **overrides: Any) -> CopyOptions:
    """Return options that copy all four tables from test to prod."""
    values: dict[str, Any] = {
        "project": PROJECT,
        "source_env": "test",
        "target_env": "prod",
        "endpoint": Endpoint(REGION),
        "tables": tables.TABLES,
        "segments": 3,
        "checkpoint_path": checkpoint,
        "page_size": 10,
    }
    values.update(overrides)
    return CopyOptions(**values)


class UnprocessedClient:
    """A DynamoDB client whose first BatchWriteItem calls leave items unprocessed.

    Each of the first `failures` calls writes only the first half of its requests
    through the real client and returns the other half as UnprocessedItems, as
    DynamoDB does under throttling. Every other call goes to the real client.
    """

    def __init__(self, inner: Any, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.batch_calls = 0
        self.unprocessed = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.batch_calls += 1
        if self.batch_calls > self.failures:
            response: dict[str, Any] = self.inner.batch_write_item(
                RequestItems=RequestItems
            )
            return response
        ((table, requests),) = RequestItems.items()
        half = len(requests) // 2
        if half:
            self.inner.batch_write_item(RequestItems={table: requests[:half]})
        self.unprocessed += len(requests) - half
        return {"UnprocessedItems": {table: requests[half:]}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
