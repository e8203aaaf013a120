"""Data access for the AccountData table.

TODO: only the table lookup exists. The item operations come with the accounts
routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfmon_api import tables
from pfmon_api.data import dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TABLE = tables.ACCOUNT_DATA


def table() -> Table:
    """Return the AccountData table named by its environment variable."""
    return dynamodb.table(TABLE)
