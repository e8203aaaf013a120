"""Data access for the JournalEntries table.

TODO: only the table lookup exists. The item operations come with the entries
routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfmon_api import tables
from pfmon_api.data import dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TABLE = tables.JOURNAL_ENTRIES


def table() -> Table:
    """Return the JournalEntries table named by its environment variable."""
    return dynamodb.table(TABLE)
