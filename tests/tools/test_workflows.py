"""The GitHub Actions workflows: README commands, pins, permissions and deploy order."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.mock_runtime import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
PULL_REQUEST = "pull-request.yml"
DEPLOY = "deploy.yml"
STACKS = ("dev", "test", "prod")
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"\buses: (\S+) # v\d+\.\d+\.\d+$")
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
PULUMI_CLI_ACTION = "pulumi/actions@"
POLICY_PACK = "policy"
# The commands that run the program, and with it the policy pack.
STACK_COMMANDS = ("pulumi preview", "pulumi up")


def load(name: str) -> dict[Any, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(workflow, dict)
    return workflow


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def jobs(name: str) -> dict[str, dict[str, Any]]:
    found = load(name)["jobs"]
    assert isinstance(found, dict)
    return found


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_id, job in jobs(path.name).items():
            yield path.name, job_id, job


def job_stacks(job: dict[str, Any]) -> list[str]:
    """Return the values $STACK takes in a job: its env, expanded over the matrix."""
    stack = str(job.get("env", {}).get("STACK", ""))
    if stack == "${{ matrix.stack }}":
        return [item["stack"] for item in job["strategy"]["matrix"]["include"]]
    return [stack] if stack else []


def commands(job: dict[str, Any]) -> list[str]:
    """Return each run: line of a job with continuations joined, once per stack."""
    lines = []
    for step in job.get("steps", []):
        script = str(step.get("run", "")).replace("\\\n", " ")
        lines += [" ".join(line.split()) for line in script.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    stacks = job_stacks(job) or [""]
    return [
        line.replace('"$STACK"', stack).replace("$STACK", stack)
        for stack in stacks
        for line in lines
    ]


def stacks_running(name: str, command: str) -> set[str]:
    """Return the stacks that a workflow passes to `command` with --stack."""
    pattern = re.compile(rf"^{re.escape(command)} --stack (\w+)\b")
    return {
        match.group(1)
        for job in jobs(name).values()
        for line in commands(job)
        if (match := pattern.match(line))
    }


def readme_commands() -> list[str]:
    """Return the commands in README.md's fenced bash blocks, without comments."""
    text = (PROJECT_ROOT / "README.md").read_text()
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            command = line.split(" #", 1)[0].strip()
            if command:
                found.append(command)
    return found


def uses_lines() -> Iterator[tuple[str, str]]:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if line.strip().startswith(("uses:", "- uses:")):
                yield path.name, line.strip().removeprefix("- ")


# --- the commands the README documents ---------------------------------------------


def test_readme_documents_commands() -> None:
    # The workflows below run these; a README change needs a workflow change too.
    documented = readme_commands()
    assert "make test" in documented
    assert "make venv" in documented
    assert "pulumi preview" in documented
    assert "pulumi up" in documented
    assert any(line.startswith("pulumi stack select ") for line in documented)


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY])
def test_workflow_runs_make_test(name: str) -> None:
    assert "make test" in readme_commands()
    checks = jobs(name)["checks"]
    assert commands(checks) == ["make test"]


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY])
def test_pulumi_jobs_run_make_venv(name: str) -> None:
    # README order: make venv, then the pulumi commands.
    for job in jobs(name).values():
        lines = commands(job)
        pulumi = [i for i, line in enumerate(lines) if line.startswith("pulumi ")]
        if pulumi:
            assert "make venv" in lines
            assert lines.index("make venv") < pulumi[0]


def test_pull_request_previews_every_stack() -> None:
    assert stacks_running(PULL_REQUEST, "pulumi preview") == set(STACKS)


def test_pull_request_never_deploys() -> None:
    lines = [line for job in jobs(PULL_REQUEST).values() for line in commands(job)]
    assert not [
        line for line in lines if line.startswith(("pulumi up", "pulumi destroy"))
    ]


def test_deploy_ups_every_stack() -> None:
    assert stacks_running(DEPLOY, "pulumi up") == set(STACKS)


def test_pulumi_commands_name_stack() -> None:
    # README selects a stack with `pulumi stack select`; CI names it in each command.
    # `pulumi install` installs the policy pack's requirements and needs no stack.
    for name, job_id, job in all_jobs():
        for line in commands(job):
            if line.startswith("pulumi ") and line != "pulumi install":
                assert re.search(r" --stack (dev|test|prod)\b", line), (name, job_id)


def test_gate_runs_on_test_and_prod() -> None:
    gate = "tools.preview_gate --stack"
    preview_gated = {
        line.split(gate)[1].split()[0]
        for line in commands(jobs(PULL_REQUEST)["preview"])
        if gate in line
    }
    assert {"test", "prod"} <= preview_gated


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_deploy_gates_before_up(stack: str) -> None:
    # GIVEN the deploy job of a strict stack
    lines = commands(jobs(DEPLOY)[f"deploy-{stack}"])
    preview = next(
        i
        for i, line in enumerate(lines)
        if line.startswith(
            f"pulumi preview --stack {stack} --policy-pack policy --non-interactive "
            "--json >"
        )
    )
    gate = next(i for i, line in enumerate(lines) if "tools.preview_gate" in line)
    up = lines.index(
        f"pulumi up --stack {stack} --policy-pack policy --yes --non-interactive --diff"
    )
    # THEN it previews, runs the gate on that preview, and only then runs up
    assert preview < gate < up
    assert f"--stack {stack}" in lines[gate]


def test_gate_reads_preview_json() -> None:
    # The gate reads the file the preview step wrote, for the same stack.
    for job in (jobs(PULL_REQUEST)["preview"], jobs(DEPLOY)["deploy-prod"]):
        for stack in job_stacks(job):
            lines = [line.replace(stack, "<stack>") for line in commands(job)]
            written = next(
                line.rsplit(" > ", 1)[1]
                for line in lines
                if line.startswith("pulumi preview")
            )
            gate = next(line for line in lines if "tools.preview_gate" in line)
            assert gate.endswith(written)


# --- the policy pack ---------------------------------------------------------------


def stacks_checked_by_pack(name: str, command: str) -> set[str]:
    """Return the stacks whose `command` in a workflow passes the policy pack."""
    pattern = re.compile(
        rf"^{re.escape(command)} --stack (\w+) .*--policy-pack {POLICY_PACK}( |$)"
    )
    return {
        match.group(1)
        for job in jobs(name).values()
        for line in commands(job)
        if (match := pattern.match(line))
    }


@pytest.mark.parametrize(
    ("name", "command", "stacks"),
    [
        (PULL_REQUEST, "pulumi preview", STACKS),
        # The deploy workflow previews test and prod for the gate, before up.
        (DEPLOY, "pulumi preview", ("test", "prod")),
        (DEPLOY, "pulumi up", STACKS),
    ],
)
def test_pack_checks_every_stack(
    name: str, command: str, stacks: tuple[str, ...]
) -> None:
    assert stacks_checked_by_pack(name, command) == set(stacks)


def test_every_stack_command_passes_pack() -> None:
    for name, job_id, job in all_jobs():
        for line in commands(job):
            if line.startswith(STACK_COMMANDS):
                assert f" --policy-pack {POLICY_PACK} " in line, (name, job_id, line)


def _step_index(
    steps: list[dict[str, Any]], found: Callable[[dict[str, Any]], bool]
) -> int:
    return next(i for i, step in enumerate(steps) if found(step))


def test_pack_installed_before_use() -> None:
    for name, job_id, job in all_jobs():
        steps = job.get("steps", [])
        runs_pack = [
            i
            for i, step in enumerate(steps)
            if f"--policy-pack {POLICY_PACK}" in str(step.get("run", ""))
        ]
        if not runs_pack:
            continue
        # GIVEN a job that runs the pack
        cli = _step_index(
            steps, lambda step: str(step.get("uses", "")).startswith(PULUMI_CLI_ACTION)
        )
        install = _step_index(steps, lambda step: step.get("run") == "pulumi install")
        # THEN it installs the pack's requirements in the pack's directory, with the
        # Pulumi CLI, before the first command that runs the pack
        assert steps[install]["working-directory"] == POLICY_PACK, (name, job_id)
        assert cli < install < runs_pack[0], (name, job_id)


def test_readme_documents_pack_install() -> None:
    # The workflows install the pack as the README does, in the pack's directory.
    assert f"(cd {POLICY_PACK} && pulumi install)" in readme_commands()


def test_pack_directory_is_pack() -> None:
    pack = PROJECT_ROOT / POLICY_PACK
    assert (pack / "PulumiPolicy.yaml").is_file()
    assert (pack / "requirements.txt").is_file()


# --- deploy order and environments -------------------------------------------------


def test_deploy_order() -> None:
    deploy = jobs(DEPLOY)
    assert deploy["deploy-dev"]["needs"] == "checks"
    assert deploy["deploy-test"]["needs"] == "deploy-dev"
    assert deploy["deploy-prod"]["needs"] == "deploy-test"


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_environment_per_stack(stack: str) -> None:
    job = jobs(DEPLOY)[f"deploy-{stack}"]
    assert job["environment"] == stack
    assert job["env"]["STACK"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_concurrency_per_stack(stack: str) -> None:
    concurrency = jobs(DEPLOY)[f"deploy-{stack}"]["concurrency"]
    assert concurrency["group"] == f"pulumi-deploy-{stack}"
    assert concurrency["cancel-in-progress"] is False


def test_preview_concurrency_per_stack() -> None:
    group = jobs(PULL_REQUEST)["preview"]["concurrency"]["group"]
    assert "${{ matrix.stack }}" in group
    assert "${{ github.event.pull_request.number }}" in group


def test_triggers() -> None:
    assert triggers(load(PULL_REQUEST)) == {"pull_request": {"branches": ["main"]}}
    assert triggers(load(DEPLOY)) == {"push": {"branches": ["main"]}}


def test_preview_skips_forks() -> None:
    condition = jobs(PULL_REQUEST)["preview"]["if"]
    assert condition == (
        "github.event.pull_request.head.repo.full_name == github.repository"
    )


# --- pins --------------------------------------------------------------------------


def test_uses_pinned_to_sha() -> None:
    found = list(uses_lines())
    assert found
    for name, line in found:
        match = VERSION_COMMENT.search(line)
        assert match, f"{name}: {line!r} needs '# vX.Y.Z' after the pin"
        assert SHA_PIN.match(match.group(1)), f"{name}: {line!r} is not pinned to a SHA"


def test_same_action_same_sha() -> None:
    pins: dict[str, set[str]] = {}
    for _, line in uses_lines():
        action, _, rest = line.removeprefix("uses: ").partition("@")
        pins.setdefault(action, set()).add(rest)
    for action, refs in pins.items():
        assert len(refs) == 1, f"{action} is pinned to several commits: {refs}"


# --- permissions and credentials ---------------------------------------------------


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY])
def test_top_level_permissions_empty(name: str) -> None:
    assert load(name)["permissions"] == {}


def test_job_permissions_least() -> None:
    for name, job_id, job in all_jobs():
        # GIVEN what the job does
        steps = job.get("steps", [])
        uses_oidc = any(
            str(step.get("uses", "")).startswith(AWS_CREDENTIALS_ACTION)
            for step in steps
        )
        comments = any("/comments" in str(step.get("run", "")) for step in steps)
        # THEN it has exactly the permissions that needs
        expected = {"contents": "read"}
        if uses_oidc:
            expected["id-token"] = "write"
        if comments:
            expected["pull-requests"] = "write"
        assert job["permissions"] == expected, (name, job_id)


def test_aws_role_from_variables() -> None:
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            if not str(step.get("uses", "")).startswith(AWS_CREDENTIALS_ACTION):
                continue
            inputs = step["with"]
            role = inputs["role-to-assume"]
            if role == "${{ matrix.role-arn }}":
                roles = [i["role-arn"] for i in job["strategy"]["matrix"]["include"]]
            else:
                roles = [role]
            for value in roles:
                assert re.fullmatch(
                    r"\$\{\{ vars\.PFMON_\w+_ROLE_ARN_[A-Z]+ \}\}", value
                )
            assert "aws-access-key-id" not in inputs, (name, job_id)
            assert "aws-secret-access-key" not in inputs, (name, job_id)


def test_role_matches_stack() -> None:
    for _, job_id, job in all_jobs():
        for stack in job_stacks(job):
            text = yaml.safe_dump(job)
            if job_id.startswith("deploy-"):
                assert f"vars.PFMON_DEPLOY_ROLE_ARN_{stack.upper()}" in text
            else:
                assert f"vars.PFMON_PREVIEW_ROLE_ARN_{stack.upper()}" in text


def test_pulumi_credentials_from_context() -> None:
    for name, job_id, job in all_jobs():
        env = job.get("env", {})
        if "PULUMI_ACCESS_TOKEN" in env:
            assert env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
            assert env["PULUMI_BACKEND_URL"] == "${{ vars.PFMON_PULUMI_BACKEND_URL }}"
        else:
            assert not any(line.startswith("pulumi ") for line in commands(job)), (
                name,
                job_id,
            )


def test_no_long_lived_aws_keys() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text
        assert "AWS_SECRET_ACCESS_KEY" not in text


def test_no_expressions_in_run() -> None:
    # Values reach scripts through env, never through ${{ }} (template injection).
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            script = str(step.get("run", ""))
            assert "${{" not in script, (name, job_id, step.get("name"))


def test_checkout_drops_credentials() -> None:
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (name, job_id)


# --- linters -----------------------------------------------------------------------


def test_actionlint_clean() -> None:
    workflows = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [str(BIN / "actionlint"), f"-shellcheck={BIN / 'shellcheck'}", *workflows],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_zizmor_clean() -> None:
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            str(BIN / "zizmor"),
            "--offline",
            "--persona=pedantic",
            "--no-progress",
            str(WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
