"""The pack's rules on the real program: what passes, and what each stack relaxes.

Each check runs on the stacks as their files define them and again with the CI roles
of `DeployAccess` (the `access_runs` fixture), whose policies need Resource "*" for
actions that have no resource type.
"""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel

from pfmon_api import tables
from policy.pfmon_rules import (
    ADVISORY_RULES,
    RESOURCE_RULES,
    STACK_RULES,
    TIER_RELAXATIONS,
    ResourceRule,
    StackRule,
    enforcement_level,
)
from policy.pfmon_rules.data_rules import CREDENTIALS_TABLE_SUFFIX
from tests.policy.adapter import (
    pack_violations,
    resource_rule_messages,
    stack_rule_messages,
)
from tools.mock_runtime import StackRun, run_stack

STACKS = ("dev", "test", "prod")
RUN_KINDS = ("stack-files", "deploy-access")


@pytest.fixture(params=RUN_KINDS)
def runs(
    request: pytest.FixtureRequest,
    stack_runs: dict[str, StackRun],
    access_runs: dict[str, StackRun],
) -> dict[str, StackRun]:
    """Return every stack's run, first without and then with the CI roles."""
    return stack_runs if request.param == "stack-files" else access_runs


def _mandatory_stacks(rule_name: str) -> list[str]:
    return [
        stack
        for stack in STACKS
        if enforcement_level(rule_name, stack) == EnforcementLevel.MANDATORY
    ]


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda rule: rule.name)
def test_resource_rule_passes_where_mandatory(
    rule: ResourceRule, runs: dict[str, StackRun]
) -> None:
    for stack in _mandatory_stacks(rule.name):
        messages = resource_rule_messages(rule, runs[stack].resources)
        assert messages == [], f"stack {stack}"


@pytest.mark.parametrize("rule", STACK_RULES, ids=lambda rule: rule.name)
def test_stack_rule_passes_where_mandatory(
    rule: StackRule, runs: dict[str, StackRun]
) -> None:
    for stack in _mandatory_stacks(rule.name):
        messages = stack_rule_messages(rule, runs[stack].resources)
        assert messages == [], f"stack {stack}"


@pytest.mark.parametrize("rule", RESOURCE_RULES, ids=lambda rule: rule.name)
def test_resource_rule_sees_prod_resources(
    rule: ResourceRule, stack_runs: dict[str, StackRun]
) -> None:
    # Prod creates a resource of each rule's types, so a rule that passes there has
    # checked something.
    prod_types = {record.type for record in stack_runs["prod"].resources}
    assert rule.resource_types & prod_types


def test_credentials_suffix_matches_tables() -> None:
    assert f"-{tables.USER_CREDENTIALS.suffix}" == CREDENTIALS_TABLE_SUFFIX


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_advisory_findings_match_relaxations(
    stack: str, runs: dict[str, StackRun]
) -> None:
    violations = pack_violations(stack, runs[stack].resources)
    mandatory = [v for v in violations if v.level == EnforcementLevel.MANDATORY]
    advisory_rules = {
        v.rule for v in violations if v.level == EnforcementLevel.ADVISORY
    }
    relaxed = {
        name
        for name, relaxation in TIER_RELAXATIONS.items()
        if stack in relaxation.environments
    }

    assert mandatory == []
    assert advisory_rules == relaxed


def test_prod_reports_nothing(runs: dict[str, StackRun]) -> None:
    assert pack_violations("prod", runs["prod"].resources) == []


def _wildcard_statements(run: StackRun) -> list[tuple[str, str]]:
    """Return (policy logical name, statement id) of each Resource "*" statement."""
    found = []
    for policy in run.of_type("aws:iam/policy:Policy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            if "*" in statement["Resource"]:
                found.append((policy.name, statement["Sid"]))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_access_uses_wildcard_resources(
    stack: str, access_runs: dict[str, StackRun]
) -> None:
    # The CI roles' Resource "*" statements are what the wildcard-resource rule
    # accepts in the runs above, so each role must have some.
    policies = {name for name, _ in _wildcard_statements(access_runs[stack])}
    assert "ci-deploy-data-policy" in policies
    assert "ci-preview-data-policy" in policies


def test_dev_and_test_relaxations_differ() -> None:
    # The dev tier allows CORS from a local React dev server, and the test tier does
    # not.
    dev = {n for n, r in TIER_RELAXATIONS.items() if "dev" in r.environments}
    test = {n for n, r in TIER_RELAXATIONS.items() if "test" in r.environments}
    assert dev - test == {"apigw-cors-https-origins"}
    assert test - dev == set()


def test_prod_concurrency_opt_out_advisory() -> None:
    # GIVEN prod with reservedConcurrency=none, for an account with a small quota
    run = run_stack("prod", {"reservedConcurrency": "none"})

    # WHEN the pack checks it
    violations = pack_violations("prod", run.resources)

    # THEN only the reserved concurrency rule reports, and only as advisory
    assert {v.rule for v in violations} == set(ADVISORY_RULES)
    assert {v.level for v in violations} == {EnforcementLevel.ADVISORY}
    functions = run.of_type("aws:lambda/function:Function")
    assert len(violations) == len(functions)
