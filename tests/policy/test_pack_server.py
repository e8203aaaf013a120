"""The policy pack as the Pulumi CLI runs it: a process that serves gRPC on loopback.

The CLI starts `python -m pulumi.policy <engine> .` in the pack's directory with the
stack's config in PULUMI_CONFIG, reads the port from the first line of stdout, then
calls GetAnalyzerInfo, Analyze for each resource and AnalyzeStack. These tests do the
same with the mock runs' resources, so the rules also see pulumi_policy's read-only
property proxies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy.pfmon_rules import ADVISORY_RULES, RULE_NAMES, TIER_RELAXATIONS
from tools.mock_runtime import PROJECT_ROOT, RecordedResource, StackRun

POLICY_DIR = PROJECT_ROOT / "policy"
# The pack starts in well under a second, so this only stops a hung test.
START_TIMEOUT_SECONDS = 30


def _json_value(value: Any) -> Any:
    """Return a property as JSON, with assets and archives as their type name."""
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return type(value).__name__


def _properties(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(_json_value(props), struct_pb2.Struct())


def _analyze_request(record: RecordedResource) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=record.type,
        urn=record.urn,
        name=record.name,
        properties=_properties(record.inputs),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=record.protect),
    )


def _stack_request(run: StackRun) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=record.type,
                urn=record.urn,
                name=record.name,
                properties=_properties(record.outputs),
                options=analyzer_pb2.AnalyzerResourceOptions(protect=record.protect),
            )
            for record in run.resources
        ]
    )


class RunningPack:
    """A started policy pack process and a gRPC stub connected to it."""

    def __init__(self, environment: str) -> None:
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps({"pfmon:environment": environment}),
            "PULUMI_STACK": environment,
            "PULUMI_PROJECT": "pfmon",
            "PULUMI_DRY_RUN": "true",
        }
        # The engine address is unused by the pack, because nothing calls it back.
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
            cwd=Path(POLICY_DIR),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        timer = threading.Timer(START_TIMEOUT_SECONDS, self.process.kill)
        timer.start()
        assert self.process.stdout is not None
        port_line = self.process.stdout.readline().strip()
        timer.cancel()
        if not port_line.isdigit():
            self.stop()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"policy pack did not start: {stderr}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port_line}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def stop(self) -> None:
        if hasattr(self, "channel"):
            self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start(environment: str) -> Iterator[RunningPack]:
    pack = RunningPack(environment)
    try:
        yield pack
    finally:
        pack.stop()


@pytest.fixture(scope="module")
def dev_pack() -> Iterator[RunningPack]:
    yield from _start("dev")


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[RunningPack]:
    yield from _start("prod")


def _levels(pack: RunningPack) -> dict[str, int]:
    info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "pfmon-security"
    return {policy.name: policy.enforcementLevel for policy in info.policies}


def _advisory(levels: dict[str, int]) -> set[str]:
    return {name for name, level in levels.items() if level == analyzer_pb2.ADVISORY}


def test_dev_pack_relaxes_tier_rules(dev_pack: RunningPack) -> None:
    levels = _levels(dev_pack)
    advisory = {
        name for name, level in levels.items() if level == analyzer_pb2.ADVISORY
    }
    relaxed = {n for n, r in TIER_RELAXATIONS.items() if "dev" in r.environments}

    assert set(levels) == set(RULE_NAMES)
    assert advisory == relaxed | set(ADVISORY_RULES)


def test_prod_pack_mandatory_rules(prod_pack: RunningPack) -> None:
    levels = _levels(prod_pack)
    advisory = {
        name for name, level in levels.items() if level == analyzer_pb2.ADVISORY
    }

    assert set(levels) == set(RULE_NAMES)
    assert advisory == set(ADVISORY_RULES)


def test_dev_pack_blocks_open_route(
    dev_pack: RunningPack, stack_runs: dict[str, StackRun]
) -> None:
    route = stack_runs["dev"].named("api-route-get-profile")
    open_route = RecordedResource(
        **{**route.__dict__, "inputs": {**route.inputs, "authorizationType": "NONE"}}
    )

    response = dev_pack.stub.Analyze(_analyze_request(open_route))

    diagnostics = [(d.policyName, d.enforcementLevel) for d in response.diagnostics]
    assert diagnostics == [("apigw-route-jwt-authorizer", analyzer_pb2.MANDATORY)]
    assert "'api-route-get-profile'" in response.diagnostics[0].message


def test_dev_pack_warns_short_retention(
    dev_pack: RunningPack, stack_runs: dict[str, StackRun]
) -> None:
    log_group = stack_runs["dev"].named("api-profile-logs")

    response = dev_pack.stub.Analyze(_analyze_request(log_group))

    diagnostics = [(d.policyName, d.enforcementLevel) for d in response.diagnostics]
    assert diagnostics == [("log-group-retention-one-year", analyzer_pb2.ADVISORY)]


@pytest.mark.parametrize("with_ci_roles", [False, True], ids=["stack-file", "ci-roles"])
def test_prod_pack_passes_prod_stack(
    prod_pack: RunningPack,
    stack_runs: dict[str, StackRun],
    access_runs: dict[str, StackRun],
    with_ci_roles: bool,
) -> None:
    run = access_runs["prod"] if with_ci_roles else stack_runs["prod"]
    diagnostics = [
        (record.name, diagnostic.policyName)
        for record in run.resources
        for diagnostic in prod_pack.stub.Analyze(_analyze_request(record)).diagnostics
    ]
    stack_response = prod_pack.stub.AnalyzeStack(_stack_request(run))

    assert diagnostics == []
    assert list(stack_response.diagnostics) == []
