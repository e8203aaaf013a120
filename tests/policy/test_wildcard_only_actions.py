"""The pack's list of wildcard-only actions, checked against AWS's IAM definitions.

The pack cannot import parliament at run time, so it carries its own list. These
tests compare that list with the Service Authorization Reference data that parliament
bundles, and with what the program grants.
"""

from __future__ import annotations

import json
import re

import pytest

from policy.pfmon_rules.wildcard_only_actions import (
    WILDCARD_ONLY_ACTIONS,
    is_wildcard_only,
)
from tests.policy.iam_reference import PARLIAMENT_VERSION, action_definition
from tools.mock_runtime import StackRun

ACTION_NAME = re.compile(r"[a-z0-9-]+:[A-Za-z0-9]+")
XRAY_PUT_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# Listed for the X-Ray SDK inside a function, though no policy grants them today.
XRAY_SAMPLING_ACTIONS = frozenset(
    {
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    }
)


@pytest.mark.parametrize("action", sorted(WILDCARD_ONLY_ACTIONS))
def test_listed_action_has_no_resource_type(action: str) -> None:
    definition = action_definition(action)

    assert definition is not None, (
        f"{action} is unknown to parliament {PARLIAMENT_VERSION}"
    )
    assert definition.wildcard_only, definition.resource_types


def test_reference_knows_scoped_actions() -> None:
    # The data the test above relies on does tell the two kinds apart.
    create_key = action_definition("kms:CreateKey")
    schedule_deletion = action_definition("kms:ScheduleKeyDeletion")

    assert create_key is not None
    assert schedule_deletion is not None
    assert create_key.wildcard_only
    assert not schedule_deletion.wildcard_only


def test_listed_names_exact_and_unique() -> None:
    lower_case = [action.lower() for action in WILDCARD_ONLY_ACTIONS]
    assert len(set(lower_case)) == len(lower_case)
    for action, reason in WILDCARD_ONLY_ACTIONS.items():
        assert ACTION_NAME.fullmatch(action), action
        assert reason, action


def test_xray_put_actions_listed() -> None:
    for action in XRAY_PUT_ACTIONS:
        assert is_wildcard_only(action), action


def test_lookup_ignores_case() -> None:
    assert is_wildcard_only("KMS:createkey")


@pytest.mark.parametrize(
    "action", ["xray:Put*", "xray:*", "*", "kms:ScheduleKeyDeletion", "kms:CreateKeys"]
)
def test_lookup_rejects_others(action: str) -> None:
    assert not is_wildcard_only(action)


def _wildcard_actions(run: StackRun) -> set[str]:
    """Return the actions of every Allow statement with Resource "*" in a run."""
    found: set[str] = set()
    for policy in run.of_type("aws:iam/policy:Policy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            resources = statement["Resource"]
            if "*" in ([resources] if isinstance(resources, str) else resources):
                action = statement["Action"]
                found.update([action] if isinstance(action, str) else action)
    return found


def test_listed_actions_granted_somewhere(
    stack_runs: dict[str, StackRun], access_runs: dict[str, StackRun]
) -> None:
    # GIVEN every stack, with and without its CI roles
    granted: set[str] = set()
    for run in [*stack_runs.values(), *access_runs.values()]:
        granted |= _wildcard_actions(run)

    # THEN every listed action but the X-Ray sampling ones is granted on "*"
    unused = set(WILDCARD_ONLY_ACTIONS) - granted - XRAY_SAMPLING_ACTIONS
    assert unused == set()
