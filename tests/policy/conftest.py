"""Fixtures of the pack tests: each stack also runs once with its CI roles."""

from __future__ import annotations

import pytest

from tests.conftest import STACKS
from tests.policy.access import deploy_access_config
from tools.mock_runtime import StackRun, run_stack


@pytest.fixture(scope="session")
def access_runs() -> dict[str, StackRun]:
    """Return the offline run of every stack with its deploy and preview roles."""
    return {stack: run_stack(stack, deploy_access_config(stack)) for stack in STACKS}
