"""Fixtures of the function tests: fake AWS credentials, moto tables, captured logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pfmon_api import tables
from pfmon_api.data import dynamodb
from pfmon_api.observability import logger

REGION = "us-east-1"


@pytest.fixture(scope="module")
def aws_credentials() -> Iterator[None]:
    """Point boto3 at fake credentials and a fixed region, never at a real account."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_SESSION_TOKEN", "testing")
        for variable in (
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_DYNAMODB",
        ):
            patch.delenv(variable, raising=False)
        yield


@pytest.fixture(scope="module")
def moto_tables(aws_credentials: None) -> Iterator[dict[str, str]]:
    """Create the four tables in moto once per test module and set their variables."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        dynamodb.dynamodb_resource.cache_clear()
        client = boto3.client("dynamodb")
        names: dict[str, str] = {}
        for definition in tables.TABLES:
            name = definition.physical_name("pfmon", "unit")
            client.create_table(**tables.create_table_request(definition, name))
            patch.setenv(tables.TABLE_ENV_VARS[definition.suffix], name)
            names[definition.suffix] = name
        yield names
    dynamodb.dynamodb_resource.cache_clear()


@pytest.fixture
def table_names(moto_tables: dict[str, str]) -> dict[str, str]:
    """Empty the four moto tables and return their names, keyed by suffix."""
    resource = dynamodb.dynamodb_resource()
    for definition in tables.TABLES:
        table = resource.Table(moto_tables[definition.suffix])
        keys = [definition.keys.hash_key]
        if definition.keys.range_key:
            keys.append(definition.keys.range_key)
        items = table.scan(ProjectionExpression=", ".join(keys))["Items"]
        with table.batch_writer() as batch:
            for item in items:
                batch.delete_item(Key=item)
    return moto_tables


@pytest.fixture
def profiles_table(table_names: dict[str, str]) -> Any:
    """Return the moto UserProfiles table, to read and seed items directly."""
    return dynamodb.dynamodb_resource().Table(table_names[tables.USER_PROFILES.suffix])


class LogCapture:
    """JSON log lines written by the functions' logger during one test."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def records(self) -> list[dict[str, Any]]:
        lines = self.stream.getvalue().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [record for record in self.records if record["message"] == message]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Send the functions' log lines to a buffer instead of stdout."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    capture = LogCapture()
    previous = handler.setStream(capture.stream)
    try:
        yield capture
    finally:
        handler.setStream(previous)
