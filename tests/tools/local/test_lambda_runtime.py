"""The local Lambda runtime with small handlers written into a temporary code root."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfmon_api import routes
from tools.local.environment import load_dev_settings
from tools.local.lambda_runtime import (
    FunctionConfig,
    FunctionRunner,
    InvocationError,
    function_environment,
)

HANDLERS = """
import os
import time

LOADED_AT = time.time()


def echo(event, context):
    return {
        "event": event,
        "function": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "table": os.environ.get("USER_PROFILES_TABLE"),
        "other_table": os.environ.get("JOURNAL_ENTRIES_TABLE"),
        "shell_only": os.environ.get("PFMON_SHELL_ONLY"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "loaded_at": LOADED_AT,
    }


def fail(event, context):
    raise ValueError("bad input")


def slow(event, context):
    time.sleep(5)


def unserializable(event, context):
    return {"when": object()}
"""


def spec(handler: str, timeout: int = 3) -> routes.FunctionSpec:
    return routes.FunctionSpec(
        family=handler,
        handler=f"handlers.{handler}",
        description="test",
        memory_mb=128,
        timeout_seconds=timeout,
        access=(),
    )


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    (tmp_path / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (tmp_path / "broken.py").write_text("import missing_module_for_test\n")
    return tmp_path


@pytest.fixture
def runner(code_root: Path) -> Iterator[FunctionRunner]:
    specs = [
        spec("echo"),
        spec("fail"),
        spec("slow", timeout=1),
        spec("unserializable"),
    ]
    configs = {
        item.family: FunctionConfig(
            spec=item,
            name=f"pfmon-{item.family}-dev",
            region="us-east-1",
            environment={"USER_PROFILES_TABLE": "pfmon-dev-UserProfiles"},
        )
        for item in specs
    }
    broken = routes.FunctionSpec("broken", "broken.handler", "test", 128, 3, ())
    configs["broken"] = FunctionConfig(broken, "pfmon-broken-dev", "us-east-1")
    started = FunctionRunner(configs, code_root, "http://127.0.0.1:9")
    yield started
    started.close()


def test_result_and_context(runner: FunctionRunner) -> None:
    result = runner.invoke("echo", {"n": 1})
    assert result["event"] == {"n": 1}
    assert result["function"] == "pfmon-echo-dev"
    assert 0 < result["remaining_ms"] <= 3000


def test_only_own_variables(
    runner: FunctionRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a variable of the developer's shell, which no Lambda function would have
    monkeypatch.setenv("PFMON_SHELL_ONLY", "secret")
    result = runner.invoke("echo", {})
    assert result["table"] == "pfmon-dev-UserProfiles"
    assert result["other_table"] is None
    assert result["shell_only"] is None
    assert result["endpoint"] == "http://127.0.0.1:9"


def test_worker_stays_warm(runner: FunctionRunner) -> None:
    first = runner.invoke("echo", {})
    second = runner.invoke("echo", {})
    assert first["loaded_at"] == second["loaded_at"]


def test_source_change_restarts(runner: FunctionRunner, code_root: Path) -> None:
    first = runner.invoke("echo", {})
    handlers = code_root / "handlers.py"
    later = time.time() + 5
    os.utime(handlers, (later, later))
    second = runner.invoke("echo", {})
    assert second["loaded_at"] != first["loaded_at"]


def test_function_error(runner: FunctionRunner) -> None:
    with pytest.raises(InvocationError) as caught:
        runner.invoke("fail", {})
    assert caught.value.error_type == "ValueError"
    assert caught.value.error_message == "bad input"


def test_timeout_kills_worker(runner: FunctionRunner) -> None:
    started = time.monotonic()
    with pytest.raises(InvocationError) as caught:
        runner.invoke("slow", {})
    assert caught.value.error_type == "Sandbox.Timedout"
    assert time.monotonic() - started < 3


def test_import_error_reported(runner: FunctionRunner) -> None:
    with pytest.raises(InvocationError) as caught:
        runner.invoke("broken", {})
    assert caught.value.error_type == "Runtime.ImportModuleError"
    assert "missing_module_for_test" in caught.value.error_message


def test_unserializable_result(runner: FunctionRunner) -> None:
    with pytest.raises(InvocationError) as caught:
        runner.invoke("unserializable", {})
    assert caught.value.error_type == "Runtime.MarshalError"


def test_family_of_function_name(runner: FunctionRunner) -> None:
    assert runner.family_of("pfmon-echo-dev") == "echo"
    assert runner.family_of("pfmon-unknown-dev") is None


def test_credentials_key_only_where_used() -> None:
    settings = load_dev_settings()
    credentials = function_environment(routes.CREDENTIALS, settings, "arn:key")
    profile = function_environment(routes.PROFILE, settings, "arn:key")
    assert credentials["CREDENTIALS_KEY_ARN"] == "arn:key"
    assert "CREDENTIALS_KEY_ARN" not in profile
    assert profile["USER_PROFILES_TABLE"] == "pfmon-dev-UserProfiles"
