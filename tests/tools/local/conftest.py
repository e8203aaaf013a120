"""Fixtures of the local environment tests: running environments, users and tokens.

End-to-end tests start `python -m tools.local` as a subprocess on free ports (port 0)
with a temporary data directory, read where it listens from its endpoints.json, and
talk to it over HTTP on 127.0.0.1 only. moto keeps its state in module globals, so
the environment never runs inside the pytest process.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import moto.kms.models
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from tools.local.endpoints import Endpoints, read_endpoints

PROJECT_ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_SECONDS = 30.0
PASSWORD = "Local-Test-2026"


@dataclass
class RunningEnvironment:
    """A `python -m tools.local` subprocess and the endpoints it wrote."""

    process: subprocess.Popen[bytes]
    endpoints: Endpoints
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send a signal and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)


LOCAL_ENVIRONMENT = (sys.executable, "-m", "tools.local")


def local_command(data_dir: Path, *extra: str) -> list[str]:
    """Return the command that starts the environment on free ports."""
    return [
        *LOCAL_ENVIRONMENT,
        "--emulator-port",
        "0",
        "--api-port",
        "0",
        "--site-port",
        "0",
        "--data-dir",
        str(data_dir),
        *extra,
    ]


def clean_environment() -> dict[str, str]:
    """Return this process's variables without the local environment's own."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PFMON_LOCAL_")
    }


def start_environment(data_dir: Path, *extra: str) -> RunningEnvironment:
    """Start the local environment and wait until it wrote its endpoints."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "endpoints.json").unlink(missing_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            local_command(data_dir, *extra),
            cwd=PROJECT_ROOT,
            env=clean_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        endpoints = read_endpoints(data_dir)
        if endpoints is not None:
            return RunningEnvironment(process, endpoints, data_dir, log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.fail(f"local environment did not start:\n{log_path.read_text()}")


@pytest.fixture(autouse=True)
def restore_moto_patches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo what an in-process Emulator changes in moto, after each test.

    `Emulator` replaces moto's KMS key generator, and the replay sets moto's TOTP
    variable; other test modules use moto too.
    """
    monkeypatch.setattr(
        moto.kms.models, "generate_master_key", moto.kms.models.generate_master_key
    )
    monkeypatch.delenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", raising=False)


@pytest.fixture(scope="session")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A React build with an index page and one content-hashed asset."""
    build = tmp_path_factory.mktemp("build")
    (build / "index.html").write_text("<!doctype html><title>PFMON</title>\n")
    (build / "assets").mkdir()
    (build / "assets" / "index-BX3k9aZq.js").write_text("console.log('pfmon');\n")
    (build / "robots.txt").write_text("User-agent: *\n")
    return build


@pytest.fixture(scope="session")
def local_env(
    tmp_path_factory: pytest.TempPathFactory, site_build: Path
) -> Iterator[RunningEnvironment]:
    """One local environment for the tests that only read or add their own users."""
    running = start_environment(
        tmp_path_factory.mktemp("shared") / "data", "--site-dir", str(site_build)
    )
    yield running
    running.stop()


@functools.cache
def _client(service: str, emulator_url: str, region: str, signed: bool) -> Any:
    # Creating a boto3 client costs about 50 ms, so each one is made once.
    return boto3.client(
        service,
        endpoint_url=emulator_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=None if signed else Config(signature_version=UNSIGNED),
    )


def cognito_client(endpoints: Endpoints) -> Any:
    """Return an unsigned Cognito client for the emulator, as a browser calls it."""
    return _client("cognito-idp", endpoints.emulator_url, endpoints.region, False)


def aws_client(endpoints: Endpoints, service: str) -> Any:
    """Return a signed boto3 client for the emulator, with dummy credentials."""
    return _client(service, endpoints.emulator_url, endpoints.region, True)


def unique_email(label: str) -> str:
    return f"{label}-{time.monotonic_ns()}@example.com"


def sign_up(endpoints: Endpoints, email: str, client_id: str | None = None) -> str:
    """Sign up and confirm a user through the emulator; return the user's sub."""
    cognito = cognito_client(endpoints)
    client = client_id or endpoints.client_id
    response = cognito.sign_up(
        ClientId=client,
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode="1")
    return str(response["UserSub"])


def sign_in(
    endpoints: Endpoints, email: str, client_id: str | None = None
) -> dict[str, str]:
    """Sign in with USER_PASSWORD_AUTH; return IdToken, AccessToken, RefreshToken."""
    result = cognito_client(endpoints).initiate_auth(
        ClientId=client_id or endpoints.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return dict(result["AuthenticationResult"])


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def http(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: object | None = None,
) -> HttpResult:
    """Send one request and return the response, whatever its status."""
    data = None if body is None else json.dumps(body).encode()
    # Every URL here comes from endpoints.json: http://127.0.0.1 only.
    request = urllib.request.Request(  # noqa: S310
        url, data=data, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return HttpResult(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return HttpResult(exc.code, dict(exc.headers), exc.read())


# A request line that http.server cannot parse, and one longer than the 65536 bytes
# it reads.
GARBAGE = b"GARBAGE\r\n\r\n"
LONG_URI = b"GET /entries?cursor=" + b"A" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def raw_exchange(port: int, payload: bytes) -> bytes:
    """Send raw bytes to 127.0.0.1:port; return every byte until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def moto_signing_key() -> RSAKey:
    """Return the private key moto signs every pool's tokens with (kid "dummy")."""
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def moto_public_jwks() -> dict[str, Any]:
    return dict(load_resource("cognitoidp/resources/jwks-public.json"))


def forge_token(
    claims: Mapping[str, Any],
    header: Mapping[str, Any] | None = None,
    key: RSAKey | None = None,
) -> str:
    """Sign claims with moto's pool key, so only the claims decide the outcome."""
    return jwt.encode(
        {"alg": "RS256", "kid": "dummy", **(header or {})},
        dict(claims),
        key or moto_signing_key(),
    )


def id_token_claims(
    endpoints: Endpoints, sub: str = "user-1", **changes: Any
) -> dict[str, Any]:
    """Return the claims of a valid ID token of the local pool, with changes."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": endpoints.issuer,
        "sub": sub,
        "aud": endpoints.client_id,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "email": "forged@example.com",
    }
    claims.update(changes)
    return claims
