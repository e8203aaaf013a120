"""Progress lines on stderr and the per-table summary of a long run.

The expected total comes from DescribeTable's ItemCount, which DynamoDB refreshes
about every six hours, so the percentage and the time left are estimates: a table
written to since the last refresh may show more or fewer items than it holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

# At most one progress line per this many seconds.
DEFAULT_INTERVAL = 1.0
SECONDS_PER_MINUTE = 60
MINUTES_PER_HOUR = 60


@dataclass
class TableSummary:
    """Totals of one table: items scanned, written and retried, and seconds taken."""

    table: str
    scanned: int = 0
    written: int = 0
    retried: int = 0
    seconds: float = 0.0


class Progress:
    """Thread-safe counters of the current table, with rate-limited progress lines."""

    def __init__(
        self,
        stream: TextIO,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self.summaries: list[TableSummary] = []
        self._current: TableSummary | None = None
        self._estimate = 0
        self._already_done = 0
        self._started = 0.0
        self._last_line = 0.0

    def start_table(
        self, table: str, estimated_items: int, already_done: int = 0
    ) -> None:
        """Start counting `table`.

        `estimated_items` is DescribeTable's ItemCount, and `already_done` the items an
        interrupted run copied before, which the time left leaves out.
        """
        with self._lock:
            self._current = TableSummary(table=table)
            self._estimate = estimated_items
            self._already_done = already_done
            self._started = self._clock()
            self._last_line = self._started
        estimate = (
            f"about {estimated_items:,} items (estimate from DescribeTable ItemCount)"
            if estimated_items
            else "no item estimate (DescribeTable ItemCount is 0)"
        )
        resumed = f", {already_done:,} copied before" if already_done else ""
        self._write(f"{table}: started, {estimate}{resumed}")

    def add(self, scanned: int = 0, written: int = 0, retried: int = 0) -> None:
        """Count items of the current table and print a line when one is due."""
        with self._lock:
            current = self._require_table()
            current.scanned += scanned
            current.written += written
            current.retried += retried
            now = self._clock()
            if now - self._last_line < self._interval:
                return
            self._last_line = now
            line = self._line_locked(now)
        self._write(line)

    def finish_table(self) -> TableSummary:
        """Stop counting for the current table, print its totals and return them."""
        with self._lock:
            current = self._require_table()
            current.seconds = self._clock() - self._started
            self.summaries.append(current)
            self._current = None
        self._write(
            f"{current.table}: finished, {current.scanned:,} scanned, "
            f"{current.written:,} written, {current.retried:,} retried, "
            f"{current.seconds:.1f} s"
        )
        return current

    def _require_table(self) -> TableSummary:
        if self._current is None:
            raise RuntimeError("Progress.start_table must be called first")
        return self._current

    def _line_locked(self, now: float) -> str:
        current = self._require_table()
        elapsed = max(now - self._started, 1e-9)
        rate = current.scanned / elapsed
        parts = [
            f"{current.table}: {current.scanned:,} scanned",
            f"{current.written:,} written",
            f"{current.retried:,} retried",
            f"{rate:,.0f} items/s",
        ]
        if self._estimate and rate > 0:
            done = self._already_done + current.scanned
            remaining = max(self._estimate - done, 0)
            percent = min(100.0, 100.0 * done / self._estimate)
            parts.append(
                f"about {percent:.0f}% done, about {format_duration(remaining / rate)} "
                "left (estimate)"
            )
        return ", ".join(parts)

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()


def format_duration(seconds: float) -> str:
    """Return a duration such as '45 s', '3 min 20 s' or '2 h 05 min'."""
    whole = round(seconds)
    if whole < SECONDS_PER_MINUTE:
        return f"{whole} s"
    minutes, secs = divmod(whole, SECONDS_PER_MINUTE)
    if minutes < MINUTES_PER_HOUR:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, MINUTES_PER_HOUR)
    return f"{hours} h {minutes:02d} min"


def render_summary(summaries: list[TableSummary]) -> str:
    """Return a table of per-table totals: scanned, written, retried and seconds."""
    rows = [("table", "scanned", "written", "retried", "seconds")]
    rows += [
        (
            summary.table,
            f"{summary.scanned:,}",
            f"{summary.written:,}",
            f"{summary.retried:,}",
            f"{summary.seconds:.1f}",
        )
        for summary in summaries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
