"""Fixtures of the migration tests: moto in-process, a moto server, seeded tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.tools.migrate.helpers import PROJECT, REGION
from tools.migrate import bench
from tools.migrate.aws import Endpoint, client
from tools.migrate.sample_data import create_tables


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


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """Run a moto server on 127.0.0.1 in its own process; yield its URL."""
    with bench.moto_server() as url:
        yield url
