"""How the pack picks the environment and each rule's enforcement level."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from policy.pfmon_rules import (
    ADVISORY_RULES,
    RESOURCE_RULES,
    RULE_NAMES,
    STACK_RULES,
    TIER_RELAXATIONS,
    build_policies,
    enforcement_level,
    resolve_environment,
)
from tools.mock_runtime import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policy"
DOCS = PROJECT_ROOT / "docs" / "policies.md"


def _config(environment: str) -> str:
    return json.dumps({"pfmon:environment": environment, "aws:region": "us-east-1"})


def test_environment_from_stack_config() -> None:
    environ = {"PULUMI_CONFIG": _config("test"), "PULUMI_STACK": "feature-x"}
    assert resolve_environment(environ) == "test"


def test_environment_config_beats_stack() -> None:
    environ = {"PULUMI_CONFIG": _config("dev"), "PULUMI_STACK": "prod"}
    assert resolve_environment(environ) == "dev"


def test_environment_from_stack_name() -> None:
    environ = {"PULUMI_CONFIG": json.dumps({"aws:region": "us-east-1"})}
    assert resolve_environment({**environ, "PULUMI_STACK": "dev"}) == "dev"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"PULUMI_STACK": "sandbox"},
        {"PULUMI_CONFIG": "not json", "PULUMI_STACK": "sandbox"},
        {"PULUMI_CONFIG": _config("staging")},
        {"PULUMI_CONFIG": "[]"},
    ],
    ids=["nothing", "other-stack", "bad-json", "other-environment", "json-list"],
)
def test_environment_defaults_to_prod(environ: dict[str, str]) -> None:
    assert resolve_environment(environ) == "prod"


def test_prod_mandatory_but_advisory_rules() -> None:
    advisory = {
        name
        for name in RULE_NAMES
        if enforcement_level(name, "prod") == EnforcementLevel.ADVISORY
    }
    assert advisory == set(ADVISORY_RULES)


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_relaxed_rules_advisory(environment: str) -> None:
    advisory = {
        name
        for name in RULE_NAMES
        if enforcement_level(name, environment) == EnforcementLevel.ADVISORY
    }
    relaxed = {
        name
        for name, relaxation in TIER_RELAXATIONS.items()
        if environment in relaxation.environments
    }
    assert advisory == relaxed | set(ADVISORY_RULES)


def test_enforcement_rejects_unknown_environment() -> None:
    with pytest.raises(ValueError, match="'staging' is invalid"):
        enforcement_level("dynamodb-pitr", "staging")


def test_tables_name_real_rules() -> None:
    assert set(TIER_RELAXATIONS) <= set(RULE_NAMES)
    assert set(ADVISORY_RULES) <= set(RULE_NAMES)
    assert not set(TIER_RELAXATIONS) & set(ADVISORY_RULES)


def test_relaxations_stay_outside_prod() -> None:
    for name, relaxation in TIER_RELAXATIONS.items():
        assert relaxation.environments <= {"dev", "test"}, name
        assert relaxation.reason, name


def test_rule_names_unique_and_valid() -> None:
    assert len(RULE_NAMES) == len(set(RULE_NAMES))
    for name in RULE_NAMES:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name), name
        assert name != "all"


@pytest.mark.parametrize("environment", ["dev", "test", "prod"])
def test_build_policies_levels(environment: str) -> None:
    policies = build_policies(environment)

    levels = {policy.name: policy.enforcement_level for policy in policies}
    expected = {name: enforcement_level(name, environment) for name in RULE_NAMES}
    assert levels == expected


def test_build_policies_kinds() -> None:
    policies = {policy.name: policy for policy in build_policies("prod")}
    for rule in RESOURCE_RULES:
        assert isinstance(policies[rule.name], ResourceValidationPolicy)
    for stack_rule in STACK_RULES:
        assert isinstance(policies[stack_rule.name], StackValidationPolicy)


def test_pack_project_file() -> None:
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}


def _pins(path: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (PROJECT_ROOT / path).read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_pack_pins_match_dev_requirements() -> None:
    # The tests run the rules in .venv, so .venv must have the pack's versions.
    pack = _pins("policy/requirements.txt")
    development = {**_pins("requirements.txt"), **_pins("requirements-dev.txt")}
    assert set(pack) == {"pulumi", "pulumi-policy"}
    for package, version in pack.items():
        assert development.get(package) == version, package


def test_docs_list_every_rule() -> None:
    text = DOCS.read_text()
    missing = [name for name in RULE_NAMES if f"`{name}`" not in text]
    assert missing == []
