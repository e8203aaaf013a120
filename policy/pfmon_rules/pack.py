"""The pack's policies: every rule with the enforcement level of one environment."""

from __future__ import annotations

from pulumi_policy import Policy, ResourceValidationPolicy, StackValidationPolicy

from . import api_rules, data_rules, function_rules, identity_rules, site_rules
from .enforcement import enforcement_level
from .registry import ResourceRule, StackRule

RESOURCE_RULES: tuple[ResourceRule, ...] = (
    *api_rules.RULES,
    *function_rules.RULES,
    *data_rules.RULES,
    *identity_rules.RULES,
    *site_rules.RULES,
)
STACK_RULES: tuple[StackRule, ...] = (
    *function_rules.STACK_RULES,
    *data_rules.STACK_RULES,
    *site_rules.STACK_RULES,
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RESOURCE_RULES) + tuple(
    rule.name for rule in STACK_RULES
)


def build_policies(environment: str) -> list[Policy]:
    """Return a pulumi_policy policy per rule, enforced as `environment` requires.

    Raises ValueError for an environment other than dev, test or prod.
    """
    policies: list[Policy] = [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=rule.validate,
            enforcement_level=enforcement_level(rule.name, environment),
            severity=rule.severity,
        )
        for rule in RESOURCE_RULES
    ]
    policies += [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=rule.validate,
            enforcement_level=enforcement_level(rule.name, environment),
            severity=rule.severity,
        )
        for rule in STACK_RULES
    ]
    return policies
