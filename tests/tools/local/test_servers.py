"""The loopback HTTP servers: malformed request lines get an error response.

http.server responds to a request line it cannot parse with 400, and to one longer
than 65536 bytes with 414, before it sets the request's path. The request handler's
logging must not read the path then.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from tests.tools.local.conftest import GARBAGE, LONG_URI, raw_exchange
from tools.local.emulator import EmulatorRequestHandler
from tools.local.servers import (
    BackgroundServer,
    QuietRequestHandler,
    bind_socket,
)
from tools.local.wsgi import RawResponse, StartResponse

VALID = b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def status_line(response: bytes) -> bytes:
    return response.split(b"\r\n", 1)[0]


def ok_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    return RawResponse(200, [("Content-Type", "text/plain")], b"ok").send(
        start_response
    )


@pytest.fixture(scope="module", params=[QuietRequestHandler, EmulatorRequestHandler])
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    """A server on a free port with the API's or the emulator's request handler."""
    listener = bind_socket(0, "test", "--test-port", "PFMON_TEST_PORT")
    running = BackgroundServer("test", listener, ok_app, request.param)
    running.start()
    yield running
    running.stop()


def test_bad_request_line_400(
    server: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pfmon.local.http")
    response = raw_exchange(server.port, GARBAGE)
    assert status_line(response) == b"HTTP/1.1 400 Bad request syntax ('GARBAGE')"
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "HTTP request failed: code 400, message Bad request syntax ('GARBAGE')"
    ]


def test_long_uri_414(server: BackgroundServer) -> None:
    response = raw_exchange(server.port, LONG_URI)
    assert status_line(response) == b"HTTP/1.1 414 Request-URI Too Long"


def test_serves_after_malformed(server: BackgroundServer) -> None:
    raw_exchange(server.port, GARBAGE)
    raw_exchange(server.port, LONG_URI)
    response = raw_exchange(server.port, VALID)
    assert status_line(response) == b"HTTP/1.1 200 OK"
    assert response.endswith(b"\r\n\r\nok")


def test_logged_error_truncated(
    server: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a request line of 60,000 bytes with four words, which http.server quotes
    caplog.set_level(logging.INFO, logger="pfmon.local.http")
    line = b"GET /" + b"B" * 60_000 + b" extra HTTP/1.1\r\n\r\n"
    response = raw_exchange(server.port, line)
    assert status_line(response).startswith(b"HTTP/1.1 400 Bad request syntax")
    # THEN the log line quotes only its start
    (record,) = caplog.records
    assert len(record.getMessage()) < 250
    assert record.getMessage().endswith("...")
