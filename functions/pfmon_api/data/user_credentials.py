"""Data access for the UserCredentials table.

TODO: only the table lookup exists. The item operations come with the credentials
routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pfmon_api import tables
from pfmon_api.data import dynamodb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TABLE = tables.USER_CREDENTIALS


def table() -> Table:
    """Return the UserCredentials table named by its environment variable."""
    return dynamodb.table(TABLE)
