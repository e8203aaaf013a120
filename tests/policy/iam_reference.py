"""AWS's IAM action definitions, read offline from the copy that parliament bundles.

parliament ships the AWS Service Authorization Reference as `iam_definition.json`: per
service its actions, each with an access level and the resource types it takes, and
per resource type its condition keys. The data is as fresh as the parliament release
(`PARLIAMENT_VERSION`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

with warnings.catch_warnings():
    # parliament 1.6.4 imports pkg_resources, which warns that it is deprecated.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import parliament

PARLIAMENT_VERSION: str = parliament.__version__


@dataclass(frozen=True)
class ActionDefinition:
    """One IAM action as the Service Authorization Reference defines it."""

    name: str
    access_level: str
    # Resource types the action takes, "*" marking a required one; empty when the
    # action accepts only Resource "*".
    resource_types: tuple[str, ...]
    # Condition keys of the action and of its resource types, in lower case.
    condition_keys: frozenset[str]

    @property
    def wildcard_only(self) -> bool:
        return not self.resource_types


def _resource_condition_keys(service: Mapping[str, Any]) -> dict[str, set[str]]:
    return {
        str(resource["resource"]): {
            str(key).lower() for key in resource.get("condition_keys", [])
        }
        for resource in service.get("resources", [])
    }


def _definition(
    prefix: str,
    privilege: Mapping[str, Any],
    resource_keys: Mapping[str, set[str]],
) -> ActionDefinition:
    types = tuple(
        str(entry["resource_type"])
        for entry in privilege["resource_types"]
        if entry["resource_type"]
    )
    keys = {
        str(key).lower()
        for entry in privilege["resource_types"]
        for key in entry["condition_keys"]
    }
    for resource_type in types:
        keys |= resource_keys.get(resource_type.rstrip("*"), set())
    return ActionDefinition(
        name=f"{prefix}:{privilege['privilege']}",
        access_level=str(privilege["access_level"]),
        resource_types=types,
        condition_keys=frozenset(keys),
    )


def _merge(first: ActionDefinition, second: ActionDefinition) -> ActionDefinition:
    """Combine two definitions of one action, as services that share a prefix have."""
    return ActionDefinition(
        name=first.name,
        access_level=first.access_level,
        resource_types=first.resource_types
        + tuple(t for t in second.resource_types if t not in first.resource_types),
        condition_keys=first.condition_keys | second.condition_keys,
    )


@cache
def _definitions() -> dict[str, ActionDefinition]:
    found: dict[str, ActionDefinition] = {}
    for service in parliament.iam_definition:
        prefix = str(service["prefix"])
        resource_keys = _resource_condition_keys(service)
        for privilege in service["privileges"]:
            definition = _definition(prefix, privilege, resource_keys)
            key = definition.name.lower()
            known = found.get(key)
            found[key] = definition if known is None else _merge(known, definition)
    return found


def action_definition(action: str) -> ActionDefinition | None:
    """Return the definition of an exact action name, or None for an unknown one.

    IAM compares action names without regard to case, and so does this lookup.
    """
    return _definitions().get(action.lower())
