"""The DynamoDB connection shared by the table modules, and the wrapping of AWS errors.

The boto3 resource is created on first use, not at import, so tests and the local
environment can set the region, the endpoint and the table names first. Table names
come from the environment variables in `pfmon_api.tables.TABLE_ENV_VARS`, which
`ApiFunctions` sets on each function.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pfmon_api import errors, tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_dynamodb.service_resource import Table

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
THROTTLING_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
    }
)


@functools.cache
def dynamodb_resource() -> DynamoDBServiceResource:
    """Return the process-wide boto3 DynamoDB resource, created on the first call."""
    return boto3.resource("dynamodb")


def table(definition: tables.TableDefinition) -> Table:
    """Return the boto3 table named by the definition's environment variable.

    Raises `ConfigurationError` when the variable is unset or empty.
    """
    variable = tables.TABLE_ENV_VARS[definition.suffix]
    name = os.environ.get(variable, "")
    if not name:
        raise errors.ConfigurationError(
            f"environment variable {variable} is not set: it must contain the name of "
            f"the {definition.suffix} table"
        )
    return dynamodb_resource().Table(name)


def error_code(error: ClientError) -> str:
    """Return the AWS error code of a ClientError, such as ThrottlingException."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def translate_errors(operation: str, table_name: str) -> Iterator[None]:
    """Raise the domain error for a botocore error raised inside the block.

    Throttling becomes `ServiceUnavailableError` (503), which the client may retry. Any
    other ClientError, and a BotoCoreError such as a connection failure, becomes
    `DataStoreError` (500). A caller that expects a failed condition catches that
    ClientError inside the block first.
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in THROTTLING_ERROR_CODES:
            raise errors.ServiceUnavailableError(
                "the data store is busy: retry the request after a few seconds"
            ) from exc
        raise errors.DataStoreError(operation, table_name, code) from exc
    except BotoCoreError as exc:
        raise errors.DataStoreError(operation, table_name, type(exc).__name__) from exc
