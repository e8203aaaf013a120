"""PFMON's CrossGuard policy pack, run by `pulumi preview --policy-pack policy`.

The Pulumi CLI starts this file with the stack's config in PULUMI_CONFIG and the stack
name in PULUMI_STACK, so the pack reads the environment before it registers its
policies. Every rule is mandatory in prod, and dev and test relax the rules listed in
`pfmon_rules.enforcement.TIER_RELAXATIONS` to advisory.
"""

import os

from pfmon_rules import build_policies, resolve_environment
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="pfmon-security",
    policies=build_policies(resolve_environment(os.environ)),
    # Every policy sets its own level, so this pack default applies to none.
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Security and reliability rules of the PFMON dev, test and prod stacks",
)
