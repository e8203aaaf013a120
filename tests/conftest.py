"""Shared fixtures: each stack runs once per session under Pulumi's mock runtime."""

from __future__ import annotations

import pytest

from tools.mock_runtime import StackRun, run_stack

STACKS = ("dev", "test", "prod")


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, StackRun]:
    """Return the offline run of every stack, keyed by stack name."""
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def stack_run(
    request: pytest.FixtureRequest, stack_runs: dict[str, StackRun]
) -> StackRun:
    """Return one stack's run; a test using it runs once per stack."""
    return stack_runs[request.param]
