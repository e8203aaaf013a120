"""Rule types: a check plus the metadata CrossGuard shows, and the violation message.

A rule's `validate` method has the signature of a pulumi_policy validate callback, so
the pack passes it to `ResourceValidationPolicy` or `StackValidationPolicy` and tests
call it directly with `ResourceValidationArgs` or `StackValidationArgs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)


@dataclass(frozen=True)
class Finding:
    """A problem found in a resource and its fix, both as full sentences."""

    problem: str
    fix: str


@dataclass(frozen=True)
class ResourceView:
    """The parts of a resource that a check reads: its inputs and `protect` option."""

    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool


ResourceCheck = Callable[[ResourceView], Iterable[Finding]]
StackCheck = Callable[
    [Sequence[PolicyResource]], Iterable[tuple[PolicyResource, Finding]]
]


def violation_message(resource_type: str, name: str, finding: Finding) -> str:
    """Return the message of one violation: resource type and name, problem, fix."""
    return f"{resource_type} {name!r}: {finding.problem} Fix: {finding.fix}"


@dataclass(frozen=True)
class ResourceRule:
    """A rule that checks the inputs of each resource of some types."""

    name: str
    description: str
    resource_types: frozenset[str]
    severity: Severity
    check: ResourceCheck

    def validate(
        self, args: ResourceValidationArgs, report_violation: ReportViolation
    ) -> None:
        """Report one violation per finding, and nothing for other resource types."""
        if args.resource_type not in self.resource_types:
            return
        view = ResourceView(
            type=args.resource_type,
            name=args.name,
            props=args.props,
            protect=bool(args.opts.protect),
        )
        for finding in self.check(view):
            message = violation_message(args.resource_type, args.name, finding)
            report_violation(message, None)


@dataclass(frozen=True)
class StackRule:
    """A rule that checks several resources together, such as a bucket and its policy.

    Stack rules see each resource's outputs after the update, or during a preview the
    inputs with unknown values where AWS computes them.
    """

    name: str
    description: str
    severity: Severity
    check: StackCheck

    def validate(
        self, args: StackValidationArgs, report_violation: ReportViolation
    ) -> None:
        """Report one violation per finding, on the resource that has it."""
        for resource, finding in self.check(args.resources):
            message = violation_message(resource.resource_type, resource.name, finding)
            report_violation(message, resource.urn)


def resources_of_type(
    resources: Sequence[PolicyResource], resource_type: str
) -> list[PolicyResource]:
    """Return the resources of one type, in stack order."""
    return [r for r in resources if r.resource_type == resource_type]
