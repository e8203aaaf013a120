"""One warm Lambda instance: a process that imports one handler and runs it per event.

`lambda_runtime.LambdaWorker` starts this file with `python -I` (so neither the
repository root nor PYTHONPATH is on sys.path) and these arguments:

    lambda_worker.py <code root> <module.function> <request fd> <response fd>

Each request and response is a frame: a 4-byte big-endian length and a JSON document.
Once the handler is imported (or failed to import), the worker writes
{"initialized": true or false}. Then each request {"event": ..., "context": {...}}
gets a response {"result": ...} or {"error": {"errorType", "errorMessage",
"stackTrace"}}, the shape of a Lambda function error. The handler's own output (its
logs) goes to stdout and stderr, as in Lambda.

Only the standard library is imported here, before the handler module, so the
handler finds the same modules loaded as in Lambda.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import time
import traceback
from typing import Any

_FRAME_HEADER = struct.Struct(">I")


class LambdaContext:
    """The attributes and method of Lambda's Python context object."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version: str = fields["function_version"]
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(fields["memory_limit_in_mb"])
        self.aws_request_id: str = fields["aws_request_id"]
        self.log_group_name: str = fields["log_group_name"]
        self.log_stream_name: str = fields["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = int(fields["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _read_exactly(descriptor: int, size: int) -> bytes | None:
    chunks = []
    remaining = size
    while remaining:
        chunk = os.read(descriptor, remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(descriptor: int) -> Any:
    header = _read_exactly(descriptor, _FRAME_HEADER.size)
    if header is None:
        return None
    payload = _read_exactly(descriptor, _FRAME_HEADER.unpack(header)[0])
    return None if payload is None else json.loads(payload)


def _write_frame(descriptor: int, document: Any) -> None:
    payload = json.dumps(document).encode()
    data = memoryview(_FRAME_HEADER.pack(len(payload)) + payload)
    while data:
        written = os.write(descriptor, data)
        data = data[written:]


def _error(error_type: str, exc: BaseException) -> dict[str, Any]:
    stack = traceback.format_exception(exc)
    # Lambda prints a function error to the log as "[ERROR] Type: message".
    print(f"[ERROR] {error_type}: {exc}", "".join(stack), sep="\n", file=sys.stderr)
    return {
        "error": {
            "errorType": error_type,
            "errorMessage": str(exc),
            "stackTrace": stack,
        }
    }


def _load_handler(handler_path: str) -> Any:
    module_name, _, function_name = handler_path.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def main(arguments: list[str]) -> int:
    code_root, handler_path, request_fd, response_fd = arguments
    sys.path.insert(0, code_root)
    requests, responses = int(request_fd), int(response_fd)

    init_error: dict[str, Any] | None = None
    handler: Any = None
    try:
        handler = _load_handler(handler_path)
    except Exception as exc:  # noqa: BLE001 - Lambda reports any import failure
        init_error = _error("Runtime.ImportModuleError", exc)
    # The init phase is over; the runner starts the invocation's timeout only now.
    _write_frame(responses, {"initialized": init_error is None})

    while True:
        request = _read_frame(requests)
        if request is None:
            return 0
        if init_error is not None:
            _write_frame(responses, init_error)
            continue
        context = LambdaContext(request["context"])
        try:
            result = handler(request["event"], context)
        except Exception as exc:  # noqa: BLE001 - a function error, as Lambda reports it
            _write_frame(responses, _error(type(exc).__name__, exc))
            continue
        try:
            _write_frame(responses, {"result": result})
        except (TypeError, ValueError) as exc:
            _write_frame(responses, _error("Runtime.MarshalError", exc))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
