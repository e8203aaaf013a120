"""Feed the resources of an offline stack run to the pack's policies, as the CLI would.

Resource policies get each resource's inputs and its `protect` option, stack policies
get every resource's outputs, as `pulumi preview` and `pulumi up` pass them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.pfmon_rules import ResourceRule, StackRule, build_policies
from tools.mock_runtime import RecordedResource


@dataclass(frozen=True)
class Violation:
    """One violation a policy reported, with the level the pack gave it."""

    rule: str
    level: EnforcementLevel
    message: str


def policy_options(record: RecordedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=record.protect,
        ignore_changes=list(record.ignore_changes),
        delete_before_replace=None,
        aliases=list(record.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=record.parent or None,
    )


def resource_args(record: RecordedResource) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type=record.type,
        props=record.inputs,
        urn=record.urn,
        name=record.name,
        opts=policy_options(record),
        provider=None,
    )


def stack_args(records: Iterable[RecordedResource]) -> StackValidationArgs:
    resources = [
        PolicyResource(
            resource_type=record.type,
            props=record.outputs,
            urn=record.urn,
            name=record.name,
            opts=policy_options(record),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
        for record in records
    ]
    return StackValidationArgs(resources)


def _finish(result: Awaitable[Any] | None) -> None:
    """Run what a validate callback returned, when it returned an awaitable."""
    if result is not None and inspect.isawaitable(result):

        async def wait() -> None:
            await result

        asyncio.run(wait())


def _collector(messages: list[str]) -> Callable[[str, str | None], None]:
    """Return a report_violation callback that appends each message to `messages`."""

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    return report


def resource_rule_messages(
    rule: ResourceRule, records: Iterable[RecordedResource]
) -> list[str]:
    """Return every message `rule` reports for these resources."""
    messages: list[str] = []
    for record in records:
        rule.validate(resource_args(record), _collector(messages))
    return messages


def stack_rule_messages(
    rule: StackRule, records: Iterable[RecordedResource]
) -> list[str]:
    """Return every message `rule` reports for this set of resources."""
    messages: list[str] = []
    rule.validate(stack_args(records), _collector(messages))
    return messages


def _policy_violations(
    policy: Policy, records: list[RecordedResource]
) -> list[Violation]:
    level = policy.enforcement_level or EnforcementLevel.ADVISORY
    found: list[Violation] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(Violation(policy.name, level, message))

    if isinstance(policy, ResourceValidationPolicy):
        for record in records:
            _finish(policy.validate(resource_args(record), report))
    elif isinstance(policy, StackValidationPolicy):
        _finish(policy.validate(stack_args(records), report))
    return found


def pack_violations(
    environment: str, records: list[RecordedResource]
) -> list[Violation]:
    """Return what the pack's policies report for a stack in `environment`."""
    violations: list[Violation] = []
    for policy in build_policies(environment):
        violations += _policy_violations(policy, records)
    return violations
