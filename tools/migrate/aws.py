"""boto3 clients for the region and, for an emulator, the endpoint of a run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from tools.migrate.errors import UsageError

# botocore's standard retry mode retries throttling and 5xx errors with backoff. It does
# not retry UnprocessedItems, which batch_write.BatchWriter handles.
SDK_MAX_ATTEMPTS = 10
# Connections each client keeps open: one per scan segment plus a few spare.
MIN_POOL_CONNECTIONS = 10
# AWS region names such as us-east-1 or us-gov-west-1: the rule components.settings
# applies to aws:region. Without this check a name such as mars-1 reaches the endpoint
# and fails only after every retry.
REGION_FORMAT = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")


@dataclass(frozen=True)
class Endpoint:
    """Target of the AWS calls: a region and, for moto or DynamoDB Local, a URL."""

    region: str
    url: str | None = None


def resolve_endpoint(region: str | None, url: str | None) -> Endpoint:
    """Return the endpoint of --region (or the AWS configuration) and --endpoint-url."""
    if region is not None and not REGION_FORMAT.fullmatch(region):
        raise UsageError(
            f"--region {region!r} is invalid: use an AWS region such as us-east-1"
        )
    resolved = region or boto3.session.Session().region_name
    if not resolved:
        raise UsageError(
            "no AWS region is set: pass --region (for example --region us-east-1) "
            "or set AWS_REGION"
        )
    if not REGION_FORMAT.fullmatch(resolved):
        raise UsageError(
            f"the AWS configuration sets the region {resolved!r}, which is invalid: "
            "pass --region, such as --region us-east-1, or correct AWS_REGION, "
            "AWS_DEFAULT_REGION or the profile's region"
        )
    if url is not None and not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--endpoint-url {url!r} is not an HTTP URL: use a URL such as "
            "http://127.0.0.1:5000"
        )
    return Endpoint(region=resolved, url=url)


def endpoint_options(endpoint: Endpoint) -> list[str]:
    """Return the --region and --endpoint-url arguments that select `endpoint`.

    tools.migrate and the AWS CLI both take these two options, so a printed follow-up
    command reaches the same region and emulator as the run that printed it.
    """
    options = ["--region", endpoint.region]
    if endpoint.url is not None:
        options += ["--endpoint-url", endpoint.url]
    return options


def client(service: str, endpoint: Endpoint, connections: int = 0) -> Any:
    """Create a boto3 client, which threads may share."""
    config = Config(
        retries={"mode": "standard", "max_attempts": SDK_MAX_ATTEMPTS},
        max_pool_connections=max(MIN_POOL_CONNECTIONS, connections),
    )
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=endpoint.region,
        endpoint_url=endpoint.url,
        config=config,
    )
