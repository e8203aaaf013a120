"""The local HTTP API without servers: routing, the 2.0 event, responses, CORS."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from pfmon_api import routes
from tests.tools.local.conftest import forge_token, moto_public_jwks
from tools.local.gateway import (
    CORS_ALLOW_HEADERS,
    LOCALHOST_DEV_ORIGINS,
    CorsConfig,
    Gateway,
    GatewayRequest,
    MalformedResultError,
    RouteTable,
    build_event,
    gateway_claims,
    response_from_result,
)
from tools.local.jwt_verify import JwtAuthorizer, VerifiedToken
from tools.local.lambda_runtime import InvocationError

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_gw"
CLIENT_ID = "gateway-client"
ORIGIN = "http://localhost:5173"


def request(
    method: str = "GET",
    path: str = "/profile",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> GatewayRequest:
    return GatewayRequest(
        method=method,
        raw_path=path,
        raw_query=query,
        headers={"host": "127.0.0.1:5200", **(headers or {})},
        body=body,
        source_ip="127.0.0.1",
    )


def token(sub: str = "user-a") -> VerifiedToken:
    return VerifiedToken(
        claims={"sub": sub, "token_use": "id", "exp": 1800000000},
        scopes=None,
    )


# Route table


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable(routes.ROUTES)


def test_every_route_matches_itself(table: RouteTable) -> None:
    for route in routes.ROUTES:
        path = route.path.replace("{", "id-").replace("}", "")
        match = table.match(route.method, path)
        assert match is not None, route.route_key
        assert match.route == route


def test_path_parameter_decoded(table: RouteTable) -> None:
    match = table.match("GET", "/entries/2026%2F11%2Fa")
    assert match is not None
    assert match.path_parameters == {"entryId": "2026/11/a"}


def test_literal_segment_beats_parameter(table: RouteTable) -> None:
    match = table.match("POST", "/accounts/acc-1/archive")
    assert match is not None
    assert match.route.route_key == "POST /accounts/{accountId}/archive"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/profile"),
        ("GET", "/profile/"),
        ("GET", "/entries/"),
        ("GET", "/unknown"),
        ("DELETE", "/accounts/acc-1"),
        ("GET", "/accounts/acc-1/archive"),
    ],
)
def test_no_route_matches(table: RouteTable, method: str, path: str) -> None:
    assert table.match(method, path) is None


# Event


def test_event_top_level_fields(table: RouteTable) -> None:
    match = table.match("PUT", "/entries/e-1")
    assert match is not None
    event = build_event(
        request("PUT", "/entries/e-1", "b=2&a=1&a=3", body=b'{"x":1}'),
        match,
        token(),
        "req-1",
        1_800_000_000.5,
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PUT /entries/{entryId}"
    assert event["rawPath"] == "/entries/e-1"
    assert event["rawQueryString"] == "b=2&a=1&a=3"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
    assert event["pathParameters"] == {"entryId": "e-1"}
    assert event["body"] == '{"x":1}'
    assert event["isBase64Encoded"] is False


def test_event_request_context(table: RouteTable) -> None:
    match = table.match("GET", "/profile")
    assert match is not None
    verified = VerifiedToken(
        claims={"sub": "user-a", "exp": 1800003600, "cognito:groups": ["a", "b"]},
        scopes=["aws.cognito.signin.user.admin"],
    )
    event = build_event(
        request(headers={"user-agent": "test/1"}), match, verified, "req-2", 1.5
    )
    context = event["requestContext"]
    assert context["requestId"] == "req-2"
    assert context["routeKey"] == "GET /profile"
    assert context["stage"] == "$default"
    assert context["time"] == "01/Jan/1970:00:00:01 +0000"
    assert context["timeEpoch"] == 1500
    assert context["http"] == {
        "method": "GET",
        "path": "/profile",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "test/1",
    }
    assert context["authorizer"]["jwt"] == {
        "claims": {"sub": "user-a", "exp": "1800003600", "cognito:groups": "[a b]"},
        "scopes": ["aws.cognito.signin.user.admin"],
    }


def test_event_without_optional_fields(table: RouteTable) -> None:
    match = table.match("GET", "/profile")
    assert match is not None
    event = build_event(request(), match, token(), "req-3", 0.0)
    for absent in ("queryStringParameters", "pathParameters", "body", "cookies"):
        assert absent not in event
    assert event["isBase64Encoded"] is False


def test_event_cookies_split_out(table: RouteTable) -> None:
    match = table.match("GET", "/profile")
    assert match is not None
    headers = {"cookie": "a=1; b=2", "x-custom": "v"}
    event = build_event(request(headers=headers), match, token(), "r", 0.0)
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v"


def test_binary_body_base64(table: RouteTable) -> None:
    match = table.match("POST", "/entries")
    assert match is not None
    event = build_event(
        request("POST", "/entries", body=b"\xff\x00"), match, token(), "r", 0
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_claims_become_strings() -> None:
    assert gateway_claims(
        {"email_verified": True, "auth_time": 17, "email": "a@b.c", "groups": ["x"]}
    ) == {
        "email_verified": "true",
        "auth_time": "17",
        "email": "a@b.c",
        "groups": "[x]",
    }


# Function results


def test_result_with_status_code() -> None:
    response = response_from_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Multi": ["a", "b"]},
            "cookies": ["s=1; HttpOnly"],
            "body": '{"ok":true}',
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert response.header("Content-Type") == "application/json"
    assert response.header("X-Multi") == "a,b"
    assert response.header("Set-Cookie") == "s=1; HttpOnly"
    assert response.body == b'{"ok":true}'


def test_result_base64_body() -> None:
    body = base64.b64encode(b"\x89PNG").decode()
    response = response_from_result(
        {"statusCode": 200, "body": body, "isBase64Encoded": True}
    )
    assert response.body == b"\x89PNG"


@pytest.mark.parametrize("result", [{"items": [1]}, [1, 2], "text", None])
def test_result_without_status_code(result: Any) -> None:
    # Format 2.0 assumes 200 and JSON when the function returns no statusCode.
    response = response_from_result(result)
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == result


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "body": {"not": "a string"}},
    ],
)
def test_malformed_result(result: dict[str, Any]) -> None:
    with pytest.raises(MalformedResultError):
        response_from_result(result)


# CORS configuration


def test_cors_preflight_headers() -> None:
    cors = CorsConfig(
        (ORIGIN,), ("GET", "PUT"), CORS_ALLOW_HEADERS, max_age_seconds=600
    )
    assert cors.preflight_headers(ORIGIN) == [
        ("Access-Control-Allow-Origin", ORIGIN),
        ("Access-Control-Allow-Methods", "GET,PUT"),
        ("Access-Control-Allow-Headers", "authorization,content-type"),
        ("Access-Control-Max-Age", "600"),
    ]


def test_cors_allows_listed_origin_only() -> None:
    cors = CorsConfig((ORIGIN,), ("GET",), CORS_ALLOW_HEADERS)
    assert cors.allows(ORIGIN) is True
    assert cors.allows("http://localhost:5174") is False
    assert cors.allows("https://evil.example") is False
    assert cors.allows(None) is False


# Gateway with a stub runner


class StubRunner:
    """Records invocations and returns a fixed result or raises a function error."""

    def __init__(
        self, result: Any = None, error: InvocationError | None = None
    ) -> None:
        self.result = result
        self.error = error
        self.events: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, family: str, event: dict[str, Any]) -> Any:
        self.events.append((family, event))
        if self.error is not None:
            raise self.error
        return self.result


def gateway(runner: StubRunner) -> Gateway:
    authorizer = JwtAuthorizer(ISSUER, [CLIENT_ID], moto_public_jwks)
    cors = CorsConfig(LOCALHOST_DEV_ORIGINS, ("GET", "PUT"), CORS_ALLOW_HEADERS, 0)
    return Gateway(RouteTable(routes.ROUTES), authorizer, runner, cors)  # type: ignore[arg-type]


def valid_token() -> str:
    now = int(time.time())
    return forge_token(
        {
            "iss": ISSUER,
            "sub": "user-a",
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 60,
        }
    )


def test_preflight_needs_no_token() -> None:
    runner = StubRunner()
    response = gateway(runner).handle(
        request(
            "OPTIONS",
            "/profile",
            headers={"origin": ORIGIN, "access-control-request-method": "PUT"},
        )
    )
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == ORIGIN
    assert response.header("Access-Control-Allow-Methods") == "GET,PUT"
    assert runner.events == []


def test_preflight_other_origin_gets_no_cors() -> None:
    response = gateway(StubRunner()).handle(
        request(
            "OPTIONS",
            "/profile",
            headers={
                "origin": "https://evil.example",
                "access-control-request-method": "GET",
            },
        )
    )
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") is None


def test_unknown_route_404_before_auth() -> None:
    response = gateway(StubRunner()).handle(request("GET", "/nowhere"))
    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found"}


def test_missing_token_401() -> None:
    runner = StubRunner()
    response = gateway(runner).handle(request("GET", "/profile"))
    assert response.status == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}
    assert response.header("www-authenticate") == "Bearer"
    assert runner.events == []


def test_function_cors_headers_replaced() -> None:
    runner = StubRunner(
        {
            "statusCode": 200,
            "headers": {"Access-Control-Allow-Origin": "*", "X-Kept": "1"},
            "body": "{}",
        }
    )
    response = gateway(runner).handle(
        request(headers={"authorization": valid_token(), "origin": ORIGIN})
    )
    assert response.status == 200
    assert response.header("X-Kept") == "1"
    assert [
        v for k, v in response.headers if k.lower() == "access-control-allow-origin"
    ] == [ORIGIN]
    assert response.header("apigw-requestid")


def test_invocation_gets_route_family() -> None:
    runner = StubRunner({"statusCode": 204})
    gateway(runner).handle(
        request("DELETE", "/entries/e-9", headers={"authorization": valid_token()})
    )
    family, event = runner.events[0]
    assert family == "entries"
    assert event["pathParameters"] == {"entryId": "e-9"}
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "user-a"


def test_function_error_500() -> None:
    runner = StubRunner(error=InvocationError("f", "ValueError", "boom"))
    response = gateway(runner).handle(request(headers={"authorization": valid_token()}))
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}


def test_malformed_result_500() -> None:
    runner = StubRunner({"statusCode": "teapot"})
    response = gateway(runner).handle(request(headers={"authorization": valid_token()}))
    assert response.status == 500
