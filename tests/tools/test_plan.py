"""`make plan`: the offline plan of a stack and the generated tier table."""

from __future__ import annotations

import pytest

from tools import plan
from tools.mock_runtime import StackRun


def test_readme_tier_table_current(stack_runs: dict[str, StackRun]) -> None:
    # GIVEN the tier table rendered from the program's three stacks
    table = plan.render_tier_table(stack_runs)
    # THEN the README carries exactly that table between its markers
    readme = plan.README.read_text()
    assert plan.readme_with_table(readme, table) == readme, (
        "README tier table is out of date: run make readme-table"
    )


def test_tier_table_columns(stack_runs: dict[str, StackRun]) -> None:
    table = plan.render_tier_table(stack_runs).splitlines()
    assert table[0] == (
        "| setting | dev (relaxed) | test (moderate) | prod (maximum) |"
    )
    assert (
        "| Cognito MFA | optional (TOTP) | optional (TOTP) | required (TOTP) |" in table
    )
    assert "| access and ID token validity | 24 h | 24 h | 1 h |" in table
    assert "| Lambda reserved concurrency | 10 | 10 | 100 |" in table
    assert (
        "| site domain | CloudFront domain | CloudFront domain | `app.pfmon.com` |"
        in (table)
    )


def test_plan_lists_every_resource(stack_runs: dict[str, StackRun]) -> None:
    run = stack_runs["prod"]
    text = plan.render_stack(run)
    assert text.startswith(f"Stack prod: {len(run.resources)} resources")
    for resource in run.resources:
        if resource.custom:
            assert f"  {resource.type}  {resource.name}" in text


def test_plan_shows_protect_flags(stack_runs: dict[str, StackRun]) -> None:
    prod = plan.render_stack(stack_runs["prod"])
    dev = plan.render_stack(stack_runs["dev"])
    table_line = next(
        line
        for line in prod.splitlines()
        if line.strip().startswith("aws:dynamodb/table:Table")
        and "name=pfmon-prod-UserProfiles" in line
    )
    assert "protect" in table_line.split()
    assert "retainOnDelete" in table_line.split()
    assert "deletionProtectionEnabled=true" in table_line
    assert "retainOnDelete" not in dev


def test_plan_cli_prints_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["prod"]) == 0
    assert capsys.readouterr().out.startswith("Stack prod:")


def test_plan_cli_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an override below the prod floor
    exit_code = plan.main(["prod", "--config", "mfa=optional"])
    # THEN the plan stops with the one-line error and exit status 1
    captured = capsys.readouterr()
    assert exit_code == 1
    assert captured.out == ""
    assert captured.err == (
        "error: pfmon:mfa = 'optional' is invalid: prod requires required. "
        "Fix: pulumi config set mfa <value> -s prod\n"
    )


def test_plan_cli_rejects_bad_pair() -> None:
    with pytest.raises(SystemExit) as caught:
        plan.main(["dev", "--config", "mfa"])
    assert caught.value.code == 2
