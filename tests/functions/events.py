"""Builders of the events that API Gateway and Cognito send to PFMON's functions.

`http_event` builds an HTTP API payload 2.0 event as the JWT authorizer passes it on,
with the caller's claims in `requestContext.authorizer.jwt.claims`. `invoke` calls a
handler with a Lambda context and parses the JSON response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pfmon_api import json_codec

USER_A = "0a1b2c3d-0000-4000-8000-00000000000a"
USER_B = "0a1b2c3d-0000-4000-8000-00000000000b"
API_REQUEST_ID = "api-request-1"
LAMBDA_REQUEST_ID = "lambda-request-1"


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context that Powertools' logger reads."""

    aws_request_id: str = LAMBDA_REQUEST_ID
    function_name: str = "pfmon-profile-unit"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:pfmon-profile-unit"
    )


@dataclass(frozen=True)
class HttpResult:
    """A handler's HTTP response with the JSON body parsed (numbers as Decimal)."""

    status: int
    headers: Mapping[str, str]
    body: Any


def http_event(
    method: str,
    path: str,
    *,
    sub: str | None = USER_A,
    email: str | None = "alice@example.com",
    body: Any = None,
    raw_body: str | None = None,
    base64_body: bool = False,
    query: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    route_key: str | None = None,
    stage: str = "$default",
    request_id: str = API_REQUEST_ID,
) -> dict[str, Any]:
    """Build an HTTP API payload 2.0 event for a request to `path`.

    `body` is written as JSON, and `raw_body` is sent as given. `sub=None` leaves out
    the sub claim, as a route without the JWT authorizer would.
    """
    claims: dict[str, str] = {"token_use": "id", "iss": "https://issuer.example"}
    if sub is not None:
        claims["sub"] = sub
    if email is not None:
        claims["email"] = email

    text = raw_body if raw_body is not None else None
    if body is not None:
        text = json_codec.dumps(body)
    if text is not None and base64_body:
        text = base64.b64encode(text.encode("utf-8")).decode("ascii")

    raw_path = path if stage == "$default" else f"/{stage}{path}"
    query_string = "&".join(f"{key}={value}" for key, value in (query or {}).items())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": raw_path,
        "rawQueryString": query_string,
        "headers": {
            "authorization": "Bearer header.payload.signature",
            "content-type": "application/json",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "domainName": "api-id.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api-id",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "pytest",
            },
            "requestId": request_id,
            "routeKey": route_key or f"{method} {path}",
            "stage": stage,
            "time": "31/Jan/2026:09:30:00 +0000",
            "timeEpoch": 1769851800000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text is not None:
        event["body"] = text
    return event


def post_confirmation_event(
    trigger_source: str = "PostConfirmation_ConfirmSignUp",
    *,
    sub: str = USER_A,
    email: str = "alice@example.com",
) -> dict[str, Any]:
    """Build the event that Cognito sends to a post-confirmation trigger."""
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_unit",
        "userName": sub,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": "client-id",
        },
        "triggerSource": trigger_source,
        "request": {
            "userAttributes": {
                "sub": sub,
                "email": email,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
            }
        },
        "response": {},
    }


def invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], event: dict[str, Any]
) -> HttpResult:
    """Call an HTTP handler and parse its JSON response body."""
    response = handler(event, LambdaContext())
    body = response.get("body")
    parsed = json.loads(body, parse_float=Decimal) if body else None
    return HttpResult(
        status=response["statusCode"], headers=response.get("headers", {}), body=parsed
    )
