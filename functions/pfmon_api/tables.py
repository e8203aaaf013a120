"""Key schemas of PFMON's four DynamoDB tables: the one definition that the Pulumi
program, the functions and the local environment all read.

Only key and index attributes are declared, because DynamoDB rejects a table whose
attribute definitions name an attribute that no key uses. Every access pattern of the
API is a GetItem or a Query on these keys; none needs a Scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AttributeType = Literal["S", "N", "B"]


@dataclass(frozen=True)
class KeySchema:
    """Partition key and optional sort key of a table or index."""

    hash_key: str
    range_key: str | None = None


@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index, projecting every attribute."""

    name: str
    keys: KeySchema
    access_pattern: str


@dataclass(frozen=True)
class TableDefinition:
    """One table: the logical id, the physical name suffix and the keys."""

    logical_id: str
    suffix: str
    keys: KeySchema
    attributes: dict[str, AttributeType]
    indexes: tuple[GlobalIndex, ...] = ()
    access_pattern: str = ""

    def physical_name(self, project_name: str, environment: str) -> str:
        return f"{project_name}-{environment}-{self.suffix}"


USER_PROFILES = TableDefinition(
    logical_id="user-profiles",
    suffix="UserProfiles",
    keys=KeySchema("userId"),
    attributes={"userId": "S"},
    access_pattern="GetItem: the caller's profile",
)

# openedAtKey is "<UTC ISO-8601 timestamp>#<entryId>", so it sorts by time and is
# unique; userSymbol and userAccount are "<userId>#<symbol>" and "<userId>#<accountId>".
JOURNAL_ENTRIES = TableDefinition(
    logical_id="journal-entries",
    suffix="JournalEntries",
    keys=KeySchema("userId", "entryId"),
    attributes={
        "userId": "S",
        "entryId": "S",
        "openedAtKey": "S",
        "userSymbol": "S",
        "userAccount": "S",
    },
    indexes=(
        GlobalIndex(
            "byDate",
            KeySchema("userId", "openedAtKey"),
            "Query: the caller's entries newest first, optionally in a date range",
        ),
        GlobalIndex(
            "bySymbol",
            KeySchema("userSymbol", "openedAtKey"),
            "Query: the caller's entries for one symbol, newest first",
        ),
        GlobalIndex(
            "byAccount",
            KeySchema("userAccount", "openedAtKey"),
            "Query: the caller's entries in one account, newest first",
        ),
    ),
    access_pattern="GetItem: one entry of the caller",
)

USER_CREDENTIALS = TableDefinition(
    logical_id="user-credentials",
    suffix="UserCredentials",
    keys=KeySchema("userId", "credentialId"),
    attributes={"userId": "S", "credentialId": "S"},
    access_pattern="Query: the caller's stored broker credentials",
)

ACCOUNT_DATA = TableDefinition(
    logical_id="account-data",
    suffix="AccountData",
    keys=KeySchema("userId", "accountId"),
    attributes={"userId": "S", "accountId": "S"},
    access_pattern="Query: the caller's broker accounts",
)

TABLES: tuple[TableDefinition, ...] = (
    USER_PROFILES,
    JOURNAL_ENTRIES,
    USER_CREDENTIALS,
    ACCOUNT_DATA,
)

# Environment variables through which each function learns its table names.
TABLE_ENV_VARS: dict[str, str] = {
    USER_PROFILES.suffix: "USER_PROFILES_TABLE",
    JOURNAL_ENTRIES.suffix: "JOURNAL_ENTRIES_TABLE",
    USER_CREDENTIALS.suffix: "USER_CREDENTIALS_TABLE",
    ACCOUNT_DATA.suffix: "ACCOUNT_DATA_TABLE",
}


def create_table_request(
    definition: TableDefinition, table_name: str
) -> dict[str, object]:
    """Return the boto3 `create_table` arguments for a definition, billed on demand.

    The local environment and the moto tests create their tables with this, so they have
    exactly the keys and indexes that `DataTables` deploys.
    """

    def key_schema(keys: KeySchema) -> list[dict[str, str]]:
        schema = [{"AttributeName": keys.hash_key, "KeyType": "HASH"}]
        if keys.range_key:
            schema.append({"AttributeName": keys.range_key, "KeyType": "RANGE"})
        return schema

    request: dict[str, object] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema(definition.keys),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in definition.attributes.items()
        ],
    }
    if definition.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.keys),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in definition.indexes
        ]
    return request
