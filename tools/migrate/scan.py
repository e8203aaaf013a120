"""Parallel segmented Scan: pages of one segment, and segments run on threads.

A Scan with Segment and TotalSegments reads a disjoint part of the table, so N threads
read the whole table once between them. Reads are strongly consistent, so an item
written before the scan starts is never missed because of replication lag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from tools.migrate.digest import Item

# Scan accepts TotalSegments from 1 to 1,000,000, but more than 64 threads in one
# process gains nothing, because boto3 calls share one interpreter.
MAX_SEGMENTS = 64

Result = TypeVar("Result")


@dataclass(frozen=True)
class Page:
    """One Scan response: its items and the key to continue from (None at the end)."""

    items: list[Item]
    last_evaluated_key: Item | None


def scan_pages(
    client: Any,
    table_name: str,
    segment: int,
    total_segments: int,
    *,
    start_key: Item | None = None,
    page_size: int | None = None,
) -> Iterator[Page]:
    """Yield the pages of one segment, starting after `start_key` when given."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "Segment": segment,
        "TotalSegments": total_segments,
        "ConsistentRead": True,
    }
    if page_size is not None:
        request["Limit"] = page_size
    key = start_key
    while True:
        if key is not None:
            request["ExclusiveStartKey"] = key
        response = client.scan(**request)
        key = response.get("LastEvaluatedKey")
        yield Page(items=response.get("Items", []), last_evaluated_key=key)
        if key is None:
            return


def has_items(client: Any, table_name: str) -> bool:
    """Return whether a table contains any item (one Scan with Limit=1)."""
    response = client.scan(TableName=table_name, Limit=1, ConsistentRead=True)
    return bool(response.get("Count", 0))


def count_items(client: Any, table_name: str, total_segments: int) -> int:
    """Count a table's items exactly with a segmented Scan that returns no items."""

    def count_segment(segment: int, stop: threading.Event) -> int:
        request: dict[str, Any] = {
            "TableName": table_name,
            "Segment": segment,
            "TotalSegments": total_segments,
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        count = 0
        while not stop.is_set():
            response = client.scan(**request)
            count += int(response.get("Count", 0))
            key = response.get("LastEvaluatedKey")
            if key is None:
                break
            request["ExclusiveStartKey"] = key
        return count

    return sum(run_segments(total_segments, count_segment))


def run_segments(
    total_segments: int, work: Callable[[int, threading.Event], Result]
) -> list[Result]:
    """Run `work(segment, stop)` for every segment on its own thread.

    When a segment raises, or Ctrl-C interrupts the caller, `stop` is set, so the
    other segments return after their current page. Then the error of the lowest
    failed segment is raised. Results come back in segment order.
    """
    stop = threading.Event()
    with ThreadPoolExecutor(
        max_workers=total_segments, thread_name_prefix="scan-segment"
    ) as executor:
        futures = [
            executor.submit(work, segment, stop) for segment in range(total_segments)
        ]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        finally:
            # After a segment error, or Ctrl-C while waiting here, the other segments
            # stop after their current page, and leaving the block waits for them.
            stop.set()
    return [future.result() for future in futures]
