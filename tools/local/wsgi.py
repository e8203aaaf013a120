"""WSGI plumbing shared by the emulator, the HTTP API and the site server."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import get_input_stream

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class RawResponse:
    """A complete HTTP response: status, headers in order, and the body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300  # noqa: PLR2004

    def send(self, start_response: StartResponse) -> list[bytes]:
        """Start the WSGI response and return its body iterable."""
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(status_line(self.status), headers)
        return [self.body]


def json_response(
    status: int, document: object, headers: Iterable[tuple[str, str]] = ()
) -> RawResponse:
    body = json.dumps(document, separators=(",", ":")).encode()
    return RawResponse(status, [("Content-Type", "application/json"), *headers], body)


def status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and put it back, so the app can read it again."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = True
    return body


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """Return the request headers of a WSGI environ with their usual spelling."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = str(environ[key])
    return headers


def call_app(app: WsgiApp, environ: dict[str, Any]) -> RawResponse:
    """Call a WSGI app and collect its whole response."""
    captured: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = list(headers)
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return RawResponse(captured["status"], captured["headers"], body)
