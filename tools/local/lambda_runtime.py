"""Local Lambda runtime: one worker process per function, as one warm Lambda instance.

Each function family of `routes.FUNCTIONS` runs in its own process with only the
environment variables that function gets and with `functions/` as its code root.
AWS_ENDPOINT_URL points at the emulator, so its boto3 calls never leave the machine.
A worker starts on the first invocation (a cold start) and handles one event at a
time. When a source file under `functions/` changed since the worker started, the
next invocation restarts it, so an edited handler takes effect without a restart.

An invocation that runs longer than the function's timeout kills the worker and fails
with `Sandbox.Timedout`, as Lambda's does.
"""

from __future__ import annotations

import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from components.settings import StackSettings
from pfmon_api import routes, tables

logger = logging.getLogger("pfmon.local.lambda")

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
ACCOUNT_ID = "123456789012"
CREDENTIALS_KEY_ENV_VAR = "CREDENTIALS_KEY_ARN"
_FRAME_HEADER = struct.Struct(">I")
# Grace period for a worker to exit after its request pipe closes.
_STOP_TIMEOUT_SECONDS = 2.0
# Lambda's limit for the init phase (importing the handler) of on-demand functions.
_INIT_TIMEOUT_SECONDS = 10.0


class InvocationError(Exception):
    """A function error in Lambda's terms, such as error_type Sandbox.Timedout."""

    def __init__(self, function_name: str, error_type: str, message: str) -> None:
        super().__init__(f"{function_name} failed with {error_type}: {message}")
        self.error_type = error_type
        self.error_message = message


@dataclass(frozen=True)
class FunctionConfig:
    """Settings of one deployed function that the local runtime uses."""

    spec: routes.FunctionSpec
    name: str
    region: str
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.name}"


def function_environment(
    spec: routes.FunctionSpec, settings: StackSettings, credentials_key_arn: str
) -> dict[str, str]:
    """Return the environment variables `ApiFunctions` gives the function.

    NOTE: a copy of `ApiFunctions._environment`, whose module imports pulumi_aws.
    The test of the local environment against the dev stack compares the two.
    """
    environment = {
        tables.TABLE_ENV_VARS[access.table.suffix]: settings.table_name(
            access.table.suffix
        )
        for access in spec.access
    }
    if spec.uses_credentials_key:
        environment[CREDENTIALS_KEY_ENV_VAR] = credentials_key_arn
    environment["POWERTOOLS_SERVICE_NAME"] = f"{settings.project_name}-{spec.family}"
    environment["POWERTOOLS_LOG_LEVEL"] = "INFO"
    environment["PFMON_ENVIRONMENT"] = settings.environment
    return environment


def function_configs(
    settings: StackSettings, credentials_key_arn: str
) -> dict[str, FunctionConfig]:
    """Return the config of every function family, keyed by family."""
    return {
        spec.family: FunctionConfig(
            spec=spec,
            name=settings.function_name(spec.family),
            region=settings.region,
            environment=function_environment(spec, settings, credentials_key_arn),
        )
        for spec in routes.FUNCTIONS
    }


def source_stamp(code_root: Path) -> int:
    """Return a fingerprint of the Python files under code_root.

    It changes when a file is added, removed, renamed or modified, and not for
    __pycache__ or files other than .py, such as an editor's swap files.
    """
    files: list[tuple[str, int]] = []
    pending = [code_root]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    files.append((entry.path, entry.stat().st_mtime_ns))
    return hash(tuple(sorted(files)))


class LambdaWorker:
    """Process of one function, started on demand, one invocation at a time."""

    def __init__(
        self, config: FunctionConfig, code_root: Path, base_environment: dict[str, str]
    ) -> None:
        self.config = config
        self._code_root = code_root
        self._environment = {**base_environment, **self._lambda_variables()}
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: IO[bytes] | None = None
        self._responses: int | None = None
        self._initialized = False
        self._started_stamp = 0

    def _lambda_variables(self) -> dict[str, str]:
        spec = self.config.spec
        return {
            "AWS_LAMBDA_FUNCTION_NAME": self.config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.config.name}",
            "LAMBDA_TASK_ROOT": str(self._code_root),
            "_HANDLER": spec.handler,
            **self.config.environment,
        }

    def invoke(self, event: Any) -> Any:
        """Run the handler on one event and return its result.

        Raises InvocationError for a function error, a timeout or a crash.
        """
        with self._lock:
            stamp = source_stamp(self._code_root)
            if self._process is not None and stamp != self._started_stamp:
                logger.info(
                    "source changed, restarting function",
                    extra={"function": self.config.name},
                )
                self._stop()
            if self._process is None or self._process.poll() is not None:
                self._start(stamp)
            return self._exchange(event)

    def prewarm(self) -> None:
        """Start the worker now, so its imports overlap with the caller's work."""
        with self._lock:
            if self._process is None:
                self._start(source_stamp(self._code_root))

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def close_requests(self) -> None:
        """Close the request pipe, which makes an idle worker exit; see stop()."""
        with self._lock:
            if self._requests is not None:
                self._requests.close()
                self._requests = None

    def _start(self, stamp: int) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        self._process = subprocess.Popen(  # noqa: S603 - fixed interpreter and script
            [
                sys.executable,
                "-I",
                str(WORKER_SCRIPT),
                str(self._code_root),
                self.config.spec.handler,
                str(request_read),
                str(response_write),
            ],
            pass_fds=(request_read, response_write),
            env=self._environment,
            cwd=self._code_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Ctrl-C reaches the whole foreground process group; the worker stops
            # when the runner closes its request pipe instead.
            start_new_session=True,
        )
        os.close(request_read)
        os.close(response_write)
        self._requests = os.fdopen(request_write, "wb")
        self._responses = response_read
        self._initialized = False
        self._started_stamp = stamp
        threading.Thread(
            target=_forward_output,
            args=(self.config.name, self._process),
            name=f"{self.config.name}-logs",
            daemon=True,
        ).start()
        logger.info("function started", extra={"function": self.config.name})

    def _exchange(self, event: Any) -> Any:
        assert self._requests is not None
        assert self._responses is not None
        if not self._initialized:
            self._wait_for_init()
        timeout = self.config.spec.timeout_seconds
        deadline = time.monotonic() + timeout
        request_id = str(uuid.uuid4())
        context = {
            "function_name": self.config.name,
            "function_version": "$LATEST",
            "invoked_function_arn": self.config.arn,
            "memory_limit_in_mb": self.config.spec.memory_mb,
            "aws_request_id": request_id,
            "log_group_name": f"/aws/lambda/{self.config.name}",
            "log_stream_name": f"local/{self.config.name}",
            "deadline_ms": int((time.time() + timeout) * 1000),
        }
        try:
            payload = json.dumps({"event": event, "context": context}).encode()
            self._requests.write(_FRAME_HEADER.pack(len(payload)) + payload)
            self._requests.flush()
            header = self._read(_FRAME_HEADER.size, deadline)
            document = json.loads(self._read(_FRAME_HEADER.unpack(header)[0], deadline))
        except TimeoutError:
            self._stop(kill=True)
            raise InvocationError(
                self.config.name,
                "Sandbox.Timedout",
                f"Task timed out after {timeout:.2f} seconds",
            ) from None
        except (OSError, EOFError) as exc:
            self._stop()
            raise InvocationError(
                self.config.name, "Runtime.ExitError", f"worker process failed: {exc}"
            ) from exc
        error = document.get("error")
        if error is not None:
            raise InvocationError(
                self.config.name, str(error["errorType"]), str(error["errorMessage"])
            )
        return document["result"]

    def _wait_for_init(self) -> None:
        deadline = time.monotonic() + _INIT_TIMEOUT_SECONDS
        try:
            header = self._read(_FRAME_HEADER.size, deadline)
            self._read(_FRAME_HEADER.unpack(header)[0], deadline)
        except TimeoutError:
            self._stop(kill=True)
            raise InvocationError(
                self.config.name,
                "Sandbox.Timedout",
                f"Init phase timed out after {_INIT_TIMEOUT_SECONDS:.0f} seconds",
            ) from None
        except (OSError, EOFError) as exc:
            self._stop()
            raise InvocationError(
                self.config.name, "Runtime.ExitError", f"worker process failed: {exc}"
            ) from exc
        # An import failure is reported by each invocation, as Lambda does.
        self._initialized = True

    def _read(self, size: int, deadline: float) -> bytes:
        assert self._responses is not None
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._responses], [], [], wait)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._responses, remaining)
            if not chunk:
                raise EOFError("the worker process exited")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _stop(self, kill: bool = False) -> None:
        process, self._process = self._process, None
        if self._requests is not None:
            self._requests.close()
            self._requests = None
        if self._responses is not None:
            os.close(self._responses)
            self._responses = None
        if process is None:
            return
        if kill:
            # A timed-out handler is still running and would not read the EOF.
            process.kill()
        try:
            process.wait(timeout=_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _forward_output(function_name: str, process: subprocess.Popen[bytes]) -> None:
    # The handler's log lines, prefixed with the function name as in a log group.
    assert process.stdout is not None
    for line in process.stdout:
        text = line.decode("utf-8", errors="replace").rstrip("\n")
        sys.stderr.write(f"{function_name} | {text}\n")
    process.stdout.close()


def worker_base_environment(region: str, emulator_url: str) -> dict[str, str]:
    """Return the variables every worker starts from, none of them from this shell.

    Fixed dummy credentials, no config files and no instance metadata lookups make
    sure that a handler never reaches a real AWS account, whatever the developer's
    shell holds.
    """
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONUNBUFFERED": "1",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_ENDPOINT_URL": emulator_url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class FunctionRunner:
    """The local Lambda service: invoke a function family by name."""

    def __init__(
        self,
        configs: Mapping[str, FunctionConfig],
        code_root: Path,
        emulator_url: str,
    ) -> None:
        base = worker_base_environment(
            next(iter(configs.values())).region, emulator_url
        )
        self._workers = {
            family: LambdaWorker(config, code_root, base)
            for family, config in configs.items()
        }

    def config(self, family: str) -> FunctionConfig:
        return self._workers[family].config

    def family_of(self, function_name: str) -> str | None:
        """Return the family of a function name such as pfmon-profile-dev, or None."""
        for family, worker in self._workers.items():
            if worker.config.name == function_name:
                return family
        return None

    def invoke(self, family: str, event: Any) -> Any:
        return self._workers[family].invoke(event)

    def prewarm(self, family: str) -> None:
        self._workers[family].prewarm()

    def close(self) -> None:
        """Stop every worker; they exit in parallel once their pipes are closed."""
        for worker in self._workers.values():
            worker.close_requests()
        for worker in self._workers.values():
            worker.stop()
