"""The local site (a React build with a generated config.json) and `make demo`."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.tools.local.conftest import (
    PROJECT_ROOT,
    RunningEnvironment,
    bearer,
    clean_environment,
    http,
    sign_in,
    sign_up,
    unique_email,
)
from tools.local.demo import (
    EXIT_NOT_BUILT,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    ApiClient,
    StepFailedError,
)


def site(
    env: RunningEnvironment, path: str
) -> tuple[int, str | None, str | None, bytes]:
    assert env.endpoints.site_url is not None
    response = http(env.endpoints.site_url + path)
    return (
        response.status,
        response.header("Content-Type"),
        response.header("Cache-Control"),
        response.body,
    )


def test_index_not_cached(local_env: RunningEnvironment) -> None:
    status, content_type, cache, body = site(local_env, "/")
    assert status == 200
    assert content_type == "text/html; charset=utf-8"
    assert cache == "no-cache"
    assert body.startswith(b"<!doctype html>")


def test_deep_link_gets_index(local_env: RunningEnvironment) -> None:
    status, content_type, _cache, body = site(local_env, "/trades/42")
    assert status == 200
    assert content_type == "text/html; charset=utf-8"
    assert body.startswith(b"<!doctype html>")


def test_hashed_asset_immutable(local_env: RunningEnvironment) -> None:
    status, content_type, cache, _body = site(local_env, "/assets/index-BX3k9aZq.js")
    assert status == 200
    assert content_type == "text/javascript; charset=utf-8"
    assert cache == "public, max-age=31536000, immutable"


def test_missing_asset_404(local_env: RunningEnvironment) -> None:
    # A missing file with an extension stays an error, never the HTML page.
    status, _type, _cache, body = site(local_env, "/assets/gone-AbCd1234.js")
    assert status == 404
    assert not body.startswith(b"<!doctype html>")


def test_path_outside_build_404(local_env: RunningEnvironment) -> None:
    status, *_rest = site(local_env, "/%2e%2e/%2e%2e/%2e%2e/etc/ld.so.conf")
    assert status == 404


def test_config_points_at_local(local_env: RunningEnvironment) -> None:
    endpoints = local_env.endpoints
    assert endpoints.site_url is not None
    response = http(f"{endpoints.site_url}/config.json")
    assert response.status == 200
    assert response.header("Cache-Control") == "no-cache"
    assert response.json() == {
        "apiUrl": endpoints.api_url,
        "region": endpoints.region,
        "userPoolId": endpoints.user_pool_id,
        "userPoolClientId": endpoints.client_id,
        "cognitoEndpoint": endpoints.emulator_url,
    }


def test_site_rejects_writes(local_env: RunningEnvironment) -> None:
    assert local_env.endpoints.site_url is not None
    assert http(local_env.endpoints.site_url + "/", "POST", body={}).status == 405


def run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "tools.local.demo", "--data-dir", str(data_dir)],
        cwd=PROJECT_ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_demo_runs_or_names_unbuilt_route(local_env: RunningEnvironment) -> None:
    result = run_demo(local_env.data_dir)
    # The demo always gets as far as the profile that the trigger created.
    assert "4. Read the profile" in result.stdout
    assert '"email": "trader-' in result.stdout
    assert result.returncode in {EXIT_OK, EXIT_NOT_BUILT}, result.stderr
    if result.returncode == EXIT_OK:
        # THEN the three trades are listed and counted by the statistics
        assert "<- 3 entries:" in result.stdout
        assert re.search(r"tradeCount\s+3\n", result.stdout)
    else:
        # THEN the message names a route, and that route really returns 501
        match = re.search(r"stopped: (GET|POST) (/\S+) is not built yet", result.stderr)
        assert match is not None, result.stderr
        method, path = match.groups()
        email = unique_email("demo-check")
        sign_up(local_env.endpoints, email)
        token = sign_in(local_env.endpoints, email)["IdToken"]
        response = http(
            f"{local_env.endpoints.api_url}{path}",
            method,
            {**bearer(token), "Content-Type": "application/json"},
            {} if method == "POST" else None,
        )
        assert response.status == 501


def test_demo_without_environment(tmp_path: Path) -> None:
    result = run_demo(tmp_path)
    assert result.returncode == EXIT_NOT_RUNNING
    assert "start `make local`" in result.stderr


def test_api_port_serves_no_site(local_env: RunningEnvironment) -> None:
    # The API port serves only API routes; the site has a port of its own.
    assert http(local_env.endpoints.api_url + "/config.json").status == 404


class NotImplementedHandler(BaseHTTPRequestHandler):
    """Returns 501 to every request, as a route without an endpoint does."""

    def do_POST(self) -> None:
        body = b'{"error": {"code": "NotImplemented"}}'
        self.send_response(501)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_demo_stops_at_501() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotImplementedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = ApiClient(f"http://127.0.0.1:{server.server_address[1]}", "token")
        with pytest.raises(StepFailedError) as caught:
            client.request("POST", "/entries", {})
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.exit_status == EXIT_NOT_BUILT
    assert str(caught.value).startswith("POST /entries is not built yet")
