"""PFMON's CrossGuard rules, importable without starting a policy pack.

`policy/__main__.py` passes `build_policies(resolve_environment(os.environ))` to
`PolicyPack`. Tests import this package instead, because constructing `PolicyPack`
starts a gRPC server and blocks.
"""

from .enforcement import (
    ADVISORY_RULES,
    ENVIRONMENTS,
    TIER_RELAXATIONS,
    Relaxation,
    enforcement_level,
    resolve_environment,
)
from .pack import RESOURCE_RULES, RULE_NAMES, STACK_RULES, build_policies
from .registry import Finding, ResourceRule, StackRule, violation_message

__all__ = [
    "ADVISORY_RULES",
    "ENVIRONMENTS",
    "RESOURCE_RULES",
    "RULE_NAMES",
    "STACK_RULES",
    "TIER_RELAXATIONS",
    "Finding",
    "Relaxation",
    "ResourceRule",
    "StackRule",
    "build_policies",
    "enforcement_level",
    "resolve_environment",
    "violation_message",
]
