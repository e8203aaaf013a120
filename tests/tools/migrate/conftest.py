"""Fixtures of the migration tests: moto in-process, a moto server, seeded tables."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.tools.migrate.helpers import PROJECT, REGION
from tools.migrate.aws import Endpoint, client
from tools.migrate.sample_data import create_tables

# How long a moto server may take to start (it imports every service).
SERVER_START_SECONDS = 30.0


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give boto3 fake credentials and a region, and no endpoint or profile."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(moto: None) -> Any:
    return client("dynamodb", Endpoint(REGION))


@pytest.fixture
def kms(moto: None) -> Any:
    return client("kms", Endpoint(REGION))


@pytest.fixture
def tables_created(dynamodb: Any) -> Any:
    """Create the four tables of test and prod; return the DynamoDB client."""
    create_tables(dynamodb, PROJECT, ("test", "prod"))
    return dynamodb


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """Run a moto server on 127.0.0.1 in its own process; yield its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
