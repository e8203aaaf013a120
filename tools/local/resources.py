"""Tables and the credentials key of the local environment, made from the dev stack.

Every table comes from `pfmon_api.tables.create_table_request`, the definition the
`DataTables` component deploys, under its dev name (pfmon-dev-UserProfiles, ...).
Creation is idempotent: a table that exists is checked against its definition, and a
different key schema stops the start with the fix (`--reset`), since DynamoDB cannot
change the keys of a table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from components.settings import StackSettings
from pfmon_api.tables import TABLES, TableDefinition, create_table_request
from tools.local.emulator import Emulator, EmulatorCallError, creation_seed

logger = logging.getLogger("pfmon.local.resources")

DYNAMODB = "dynamodb"
KMS = "kms"


class StateDriftError(Exception):
    """Stored local state no longer matches the dev stack's definitions."""


def credentials_key_alias(settings: StackSettings) -> str:
    return f"alias/{settings.resource_name('credentials')}"


def _key_schema(schema: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(str(key["AttributeName"]), str(key["KeyType"])) for key in schema]


def table_shape(description: Mapping[str, Any]) -> dict[str, Any]:
    """Return the keys, attributes and indexes of a CreateTable or DescribeTable."""
    return {
        "keys": _key_schema(description["KeySchema"]),
        "attributes": sorted(
            (str(item["AttributeName"]), str(item["AttributeType"]))
            for item in description["AttributeDefinitions"]
        ),
        "indexes": sorted(
            (str(index["IndexName"]), *_key_schema(index["KeySchema"]))
            for index in description.get("GlobalSecondaryIndexes", [])
        ),
    }


def ensure_tables(emulator: Emulator, settings: StackSettings) -> list[str]:
    """Create the four tables unless they exist; return their names.

    Raises StateDriftError when a stored table has other keys than its definition.
    """
    names = []
    for definition in TABLES:
        name = settings.table_name(definition.suffix)
        names.append(name)
        _ensure_table(emulator, definition, name)
    return names


def _ensure_table(emulator: Emulator, definition: TableDefinition, name: str) -> None:
    request = create_table_request(definition, name)
    try:
        described = emulator.call(DYNAMODB, "DescribeTable", {"TableName": name})
    except EmulatorCallError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
        emulator.call(
            DYNAMODB, "CreateTable", request, seed=creation_seed("CreateTable", request)
        )
        logger.info("table created", extra={"table": name})
        return
    if table_shape(described["Table"]) != table_shape(request):
        raise StateDriftError(
            f"stored table {name} has other keys or indexes than "
            f"functions/pfmon_api/tables.py declares: restart with --reset to "
            "recreate it (this deletes the local data)"
        )


def ensure_credentials_key(emulator: Emulator, settings: StackSettings) -> str:
    """Create the KMS key of the credentials function unless it exists; return its ARN.

    Its alias finds it again after a restart, and its seeded creation gives the same
    key id after `--reset`.
    """
    alias = credentials_key_alias(settings)
    aliases = emulator.call(KMS, "ListAliases", {"Limit": 100}).get("Aliases", [])
    for entry in aliases:
        if entry.get("AliasName") == alias and entry.get("TargetKeyId"):
            key = emulator.call(KMS, "DescribeKey", {"KeyId": entry["TargetKeyId"]})
            return str(key["KeyMetadata"]["Arn"])

    request = {
        "Description": "Local key of the broker credentials function",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
    }
    created = emulator.call(
        KMS, "CreateKey", request, seed=creation_seed("CreateKey", request)
    )
    metadata = created["KeyMetadata"]
    emulator.call(
        KMS, "CreateAlias", {"AliasName": alias, "TargetKeyId": metadata["KeyId"]}
    )
    logger.info("credentials key created", extra={"alias": alias})
    return str(metadata["Arn"])
