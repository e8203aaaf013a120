"""Progress lines: rate-limited, with rate and an estimated time left."""

from __future__ import annotations

import io

from tools.migrate.progress import (
    Progress,
    TableSummary,
    format_duration,
    render_summary,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_rate_limited() -> None:
    # GIVEN a table estimated at 1,000 items and a clock we move by hand
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, interval=1.0, clock=clock)
    progress.start_table("JournalEntries", 1_000)
    # WHEN 10 pages of 25 items arrive within 0.9 s, then one more after 2 s
    for _ in range(10):
        clock.now += 0.09
        progress.add(scanned=25, written=25)
    clock.now += 1.1
    progress.add(scanned=50, written=50, retried=3)
    # THEN only the start line and one progress line were printed
    lines = stream.getvalue().splitlines()
    assert lines == [
        "JournalEntries: started, about 1,000 items (estimate from DescribeTable "
        "ItemCount)",
        "JournalEntries: 300 scanned, 300 written, 3 retried, 150 items/s, about 30% "
        "done, about 5 s left (estimate)",
    ]


def test_progress_without_estimate() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, interval=0.5, clock=clock)
    progress.start_table("AccountData", 0)
    clock.now += 1
    progress.add(scanned=10, written=10)
    lines = stream.getvalue().splitlines()
    assert (
        lines[0]
        == "AccountData: started, no item estimate (DescribeTable ItemCount is 0)"
    )
    assert lines[1] == "AccountData: 10 scanned, 10 written, 0 retried, 10 items/s"


def test_progress_counts_earlier_run() -> None:
    # GIVEN a resumed table of about 1,000 items of which 600 were copied before
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, interval=0, clock=clock)
    progress.start_table("JournalEntries", 1_000, already_done=600)
    clock.now += 2
    progress.add(scanned=200, written=200)
    # THEN the time left counts only the 200 items still to copy
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(", 600 copied before")
    assert lines[1].endswith("100 items/s, about 80% done, about 2 s left (estimate)")


def test_finish_returns_summary() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(stream, clock=clock)
    progress.start_table("UserProfiles", 2)
    progress.add(scanned=2, written=2, retried=1)
    clock.now += 2.5
    summary = progress.finish_table()
    assert summary == TableSummary("UserProfiles", 2, 2, 1, 2.5)
    assert progress.summaries == [summary]
    assert stream.getvalue().splitlines()[-1] == (
        "UserProfiles: finished, 2 scanned, 2 written, 1 retried, 2.5 s"
    )


def test_summary_table_aligned() -> None:
    text = render_summary(
        [
            TableSummary("UserProfiles", 1_000, 1_000, 0, 1.25),
            TableSummary("AccountData", 5, 5, 12, 0.5),
        ]
    )
    assert text.splitlines() == [
        "table         scanned  written  retried  seconds",
        "UserProfiles    1,000    1,000        0      1.2",
        "AccountData         5        5       12      0.5",
    ]


def test_duration_formats() -> None:
    assert format_duration(4.4) == "4 s"
    assert format_duration(200) == "3 min 20 s"
    assert format_duration(7_500) == "2 h 05 min"
