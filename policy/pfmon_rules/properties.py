"""Readers for resource properties and IAM policy documents.

During `pulumi preview` pulumi_policy hands rules read-only Mapping and Sequence
proxies, not dicts and lists, and reading a value AWS has not computed yet raises
UnknownValueError. The readers below accept both and let that error propagate, so
the CLI reports the rule as not checkable during the preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

PolicyDocument = Mapping[str, Any]
Statement = Mapping[str, Any]


def get_path(props: Mapping[str, Any], *keys: str) -> Any:
    """Return the value at a nested key path, or None where a level is missing."""
    value: Any = props
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_list(value: Any) -> list[Any]:
    """Return a property that may be one value or a list of values as a list."""
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def number(value: Any) -> float | None:
    """Return a numeric property as a float (Pulumi sends numbers as floats)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def show_number(value: float | None) -> str:
    """Return a number for a message: 8 for 8.0, or "not set" for None."""
    return "not set" if value is None else f"{value:g}"


def mappings(value: Any) -> list[Mapping[str, Any]]:
    """Return the objects of a list property, skipping anything that is not one."""
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def parse_document(value: Any) -> PolicyDocument | None:
    """Return a policy document given as a JSON string or an object, or None.

    None means the value is missing or is not a JSON object.
    """
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, Mapping) else None


def statements(document: PolicyDocument) -> list[Statement]:
    """Return a document's statements, whether one object or a list."""
    return mappings(document.get("Statement"))


def is_allow(statement: Statement) -> bool:
    return statement.get("Effect") == "Allow"


def actions(statement: Statement) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action"))]


def resources(statement: Statement) -> list[str]:
    return [str(resource) for resource in as_list(statement.get("Resource"))]


def principals(statement: Statement) -> list[str]:
    """Return every principal of a statement, "*" included, as plain strings."""
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        found: list[str] = []
        for value in principal.values():
            found.extend(str(item) for item in as_list(value))
        return found
    return [str(item) for item in as_list(principal)]


def service_principals(statement: Statement) -> list[str]:
    """Return a statement's AWS service principals, such as lambda.amazonaws.com."""
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return []
    return [str(item) for item in as_list(principal.get("Service"))]


def condition_values(statement: Statement, operator: str, key: str) -> list[str]:
    """Return the values a statement's condition compares `key` with under `operator`.

    Condition keys are case-insensitive in IAM, so `key` matches in any case.
    """
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    block = condition.get(operator)
    if not isinstance(block, Mapping):
        return []
    for name, value in block.items():
        if str(name).lower() == key.lower():
            return [
                str(item).lower() if isinstance(item, bool) else str(item)
                for item in as_list(value)
            ]
    return []


def is_wildcard_action(action: str) -> bool:
    """Return whether an action grants every action, or every action of a service."""
    return action == "*" or action.endswith(":*")
