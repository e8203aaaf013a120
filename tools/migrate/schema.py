"""Environments, physical table names and key schema checks.

Physical names follow the naming contract `<project>-<env>-<suffix>`, and the key
schemas come from `pfmon_api.tables`, the definition the Pulumi program deploys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pfmon_api import tables
from tools.migrate.errors import KeySchemaMismatchError, TableNotFoundError, UsageError

# The stacks of the Pulumi program, the keys of components.settings.TIERS.
ENVIRONMENTS = ("dev", "test", "prod")
DEFAULT_PROJECT = "pfmon"

TABLES_BY_SUFFIX: Mapping[str, tables.TableDefinition] = {
    definition.suffix: definition for definition in tables.TABLES
}

# DynamoDB table names: 3 to 255 characters from this set.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True)
class TablePair:
    """One table definition with its physical name in the source and the target."""

    definition: tables.TableDefinition
    source_name: str
    target_name: str

    @property
    def suffix(self) -> str:
        return self.definition.suffix

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return key_attributes(self.definition)


def key_attributes(definition: tables.TableDefinition) -> tuple[str, ...]:
    """Return the partition key and, when the table has one, the sort key."""
    keys = definition.keys
    if keys.range_key is None:
        return (keys.hash_key,)
    return (keys.hash_key, keys.range_key)


def key_types(definition: tables.TableDefinition) -> dict[str, str]:
    """Return {key attribute: DynamoDB type} in key order, such as {"userId": "S"}."""
    return {name: definition.attributes[name] for name in key_attributes(definition)}


def check_environment(option: str, value: str) -> str:
    """Return the environment name, or raise UsageError naming the allowed ones."""
    if value not in ENVIRONMENTS:
        raise UsageError(
            f"{option} {value!r} is not an environment: "
            f"use one of {', '.join(ENVIRONMENTS)}"
        )
    return value


def check_table_name(option: str, name: str) -> str:
    """Return a DynamoDB table name, or raise UsageError with the naming rule."""
    if not _TABLE_NAME.fullmatch(name):
        raise UsageError(
            f"{option} gives the table name {name!r}, which DynamoDB rejects: "
            "use 3 to 255 letters, digits, '_', '-' or '.'"
        )
    return name


def physical_name(project: str, environment: str, suffix: str) -> str:
    """Return a table's physical name, such as pfmon-prod-UserProfiles."""
    return check_table_name(
        "--project", TABLES_BY_SUFFIX[suffix].physical_name(project, environment)
    )


def parse_table_list(value: str | None) -> tuple[tables.TableDefinition, ...]:
    """Return the definitions named in a comma-separated list, or all four tables."""
    if value is None:
        return tables.TABLES
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise UsageError(
            f"--tables {value!r} names no table: use a comma-separated list of "
            f"{', '.join(TABLES_BY_SUFFIX)}, or leave it out to use all four"
        )
    unknown = [name for name in names if name not in TABLES_BY_SUFFIX]
    if unknown:
        raise UsageError(
            f"--tables names unknown tables {', '.join(map(repr, unknown))}: "
            f"use table suffixes from {', '.join(TABLES_BY_SUFFIX)}"
        )
    # Keep the order of pfmon_api.tables and drop duplicates.
    return tuple(
        definition for definition in tables.TABLES if definition.suffix in names
    )


def parse_table(option: str, value: str) -> tables.TableDefinition:
    """Return the definition of one table suffix, such as JournalEntries."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if len(names) > 1:
        raise UsageError(
            f"{option} {value!r} must name exactly one table: use one of "
            f"{', '.join(TABLES_BY_SUFFIX)}"
        )
    definition = TABLES_BY_SUFFIX.get(value.strip())
    if definition is None:
        raise UsageError(
            f"{option} {value!r} is not a table suffix: use one of "
            f"{', '.join(TABLES_BY_SUFFIX)}"
        )
    return definition


def table_pairs(
    project: str,
    source_env: str,
    target_env: str,
    definitions: Sequence[tables.TableDefinition],
) -> tuple[TablePair, ...]:
    """Return each definition with its source and target physical names."""
    return tuple(
        TablePair(
            definition=definition,
            source_name=physical_name(project, source_env, definition.suffix),
            target_name=physical_name(project, target_env, definition.suffix),
        )
        for definition in definitions
    )


def describe_table(client: Any, name: str, role: str) -> dict[str, Any]:
    """Return DescribeTable's `Table` for an ACTIVE table, or raise TableNotFoundError.

    `role` ("source", "target", "restored") only words the error message.
    """
    try:
        description: dict[str, Any] = client.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        fix = (
            "deploy its stack first (pulumi up -s <env>) or check --project, "
            "--region and the AWS account"
        )
        raise TableNotFoundError(f"{role} table {name} not found: {fix}") from exc
    status = description.get("TableStatus")
    if status != "ACTIVE":
        raise TableNotFoundError(
            f"{role} table {name} is {status}, not ACTIVE: wait until it is ACTIVE "
            "and run the command again"
        )
    return description


def key_schema_of(description: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Return {key type: (attribute name, attribute type)} from a table description."""
    types = {
        attribute["AttributeName"]: attribute["AttributeType"]
        for attribute in description.get("AttributeDefinitions", [])
    }
    return {
        element["KeyType"]: (
            element["AttributeName"],
            types.get(element["AttributeName"], "?"),
        )
        for element in description.get("KeySchema", [])
    }


def expected_key_schema(
    definition: tables.TableDefinition,
) -> dict[str, tuple[str, str]]:
    """Return the key schema that pfmon_api.tables declares for a table."""
    keys = definition.keys
    schema: dict[str, tuple[str, str]] = {
        "HASH": (keys.hash_key, definition.attributes[keys.hash_key])
    }
    if keys.range_key is not None:
        schema["RANGE"] = (keys.range_key, definition.attributes[keys.range_key])
    return schema


def check_key_schema(
    description: Mapping[str, Any], definition: tables.TableDefinition, role: str
) -> None:
    """Raise KeySchemaMismatchError unless the table has the declared key schema."""
    actual = key_schema_of(description)
    expected = expected_key_schema(definition)
    if actual != expected:
        raise KeySchemaMismatchError(
            f"{role} table {description.get('TableName')} has the key schema "
            f"{_describe_schema(actual)}, but pfmon_api.tables declares "
            f"{_describe_schema(expected)} for {definition.suffix}: copy only "
            "between tables deployed from the same definition"
        )


def _describe_schema(schema: Mapping[str, tuple[str, str]]) -> str:
    parts = [
        f"{key_type} {name} ({kind})"
        for key_type, (name, kind) in sorted(schema.items())
    ]
    return ", ".join(parts) or "no keys"
