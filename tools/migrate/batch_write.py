"""BatchWriteItem in batches of 25 that retries UnprocessedItems.

DynamoDB may accept only part of a batch and return the rest as UnprocessedItems, for
example when a partition is throttled. The BatchWriteItem API reference recommends
resending them with exponential backoff. botocore's own retries do not cover this,
because the call itself succeeded. When no item of a batch can be written, DynamoDB
raises ProvisionedThroughputExceededException instead, which botocore retries.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tools.migrate.digest import Item
from tools.migrate.errors import UnprocessedItemsError

# BatchWriteItem accepts at most 25 put or delete requests per call.
BATCH_SIZE = 25

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter, in seconds."""

    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 5.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Return a random delay in [0, min(max_delay, base_delay * 2**retry)]."""
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return rng.uniform(0.0, ceiling)


def batches(items: Sequence[Item], size: int = BATCH_SIZE) -> Iterator[list[Item]]:
    """Split items into lists of at most `size`."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class BatchWriter:
    """Write batches of at most 25 items into one table, resending unprocessed ones."""

    def __init__(
        self,
        client: Any,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        # Jitter only spreads retries over time, so it needs no cryptographic RNG.
        self._rng = rng or random.Random()  # noqa: S311

    def write(self, table_name: str, items: Sequence[Item]) -> int:
        """Put up to 25 items and return how many were resent as unprocessed."""
        if len(items) > BATCH_SIZE:
            raise ValueError(
                f"a batch contains at most {BATCH_SIZE} items, got {len(items)}"
            )
        requests = [{"PutRequest": {"Item": item}} for item in items]
        resent = 0
        attempt = 1
        while requests:
            response = self._client.batch_write_item(
                RequestItems={table_name: requests}
            )
            requests = response.get("UnprocessedItems", {}).get(table_name, [])
            if not requests:
                break
            if attempt >= self._policy.max_attempts:
                raise UnprocessedItemsError(
                    f"{len(requests)} items of a batch for {table_name} were still "
                    f"unprocessed after {attempt} BatchWriteItem attempts: the table "
                    "is throttled. Run again later or with fewer --segments, and "
                    "resume with --resume"
                )
            delay = self._policy.delay(attempt, self._rng)
            logger.debug(
                "retrying %d unprocessed items for %s in %.2f s (attempt %d of %d)",
                len(requests),
                table_name,
                delay,
                attempt + 1,
                self._policy.max_attempts,
            )
            self._sleep(delay)
            resent += len(requests)
            attempt += 1
        return resent
