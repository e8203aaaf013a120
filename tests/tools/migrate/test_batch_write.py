"""BatchWriter: UnprocessedItems resent with bounded, jittered backoff."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.tools.migrate.helpers import UnprocessedClient, scan_all
from tools.migrate.batch_write import BATCH_SIZE, BatchWriter, RetryPolicy, batches
from tools.migrate.errors import UnprocessedItemsError
from tools.migrate.sample_data import sample_tables

TABLE = "pfmon-prod-UserProfiles"


@pytest.fixture
def items() -> list[dict[str, Any]]:
    return sample_tables({"UserProfiles": BATCH_SIZE})["UserProfiles"]


def test_unprocessed_items_resent(tables_created: Any, items: list[Any]) -> None:
    # GIVEN a table whose first 3 calls each leave half of the requests unprocessed
    flaky = UnprocessedClient(tables_created, failures=3)
    delays: list[float] = []
    policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=10)
    rng = random.Random(1)  # noqa: S311 - jitter, not cryptography
    writer = BatchWriter(flaky, policy, sleep=delays.append, rng=rng)
    # WHEN one batch of 25 is written
    resent = writer.write(TABLE, items)
    # THEN every item arrives after 3 resends of 13, 7 and 4 items
    assert len(scan_all(tables_created, TABLE)) == BATCH_SIZE
    assert resent == 13 + 7 + 4
    assert flaky.batch_calls == 4
    # AND each delay lies within its exponential ceiling: 0.2, 0.4, 0.8 s
    assert len(delays) == 3
    for retry, delay in enumerate(delays, start=1):
        assert 0 <= delay <= 0.1 * 2**retry


def test_unprocessed_items_bounded(tables_created: Any, items: list[Any]) -> None:
    # GIVEN a table that leaves items unprocessed on every call
    flaky = UnprocessedClient(tables_created, failures=1_000)
    delays: list[float] = []
    writer = BatchWriter(flaky, RetryPolicy(max_attempts=4), sleep=delays.append)
    # WHEN a batch is written
    with pytest.raises(UnprocessedItemsError) as raised:
        writer.write(TABLE, items)
    # THEN it gives up after 4 calls with a message naming the table and the fix
    assert flaky.batch_calls == 4
    assert len(delays) == 3
    message = str(raised.value)
    assert TABLE in message
    assert "after 4 BatchWriteItem attempts" in message
    assert "--resume" in message


def test_delay_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=2.0)
    rng = random.Random(5)  # noqa: S311 - jitter, not cryptography
    assert all(policy.delay(10, rng) <= 2.0 for _ in range(100))


def test_batch_over_limit_rejected(tables_created: Any, items: list[Any]) -> None:
    with pytest.raises(ValueError, match="at most 25"):
        BatchWriter(tables_created).write(TABLE, [*items, items[0]])


def test_batches_split_at_25() -> None:
    sizes = [len(batch) for batch in batches([{}] * 60)]
    assert sizes == [25, 25, 10]
