"""The local HTTP API: what API Gateway's HTTP API does in front of the functions.

For each request, in API Gateway's order:

1. The gateway responds to a CORS preflight (OPTIONS with Origin and
   Access-Control-Request-Method) itself, without a route and without a token.
2. The method and path select a route of `routes.ROUTES`. Without a match the
   response is 404 {"message":"Not Found"}.
3. The JWT authorizer checks the Authorization header (`jwt_verify`). A failure is a
   401 {"message":"Unauthorized"} with a www-authenticate header.
4. The route's function gets an HTTP API payload format 2.0 event, and its result
   becomes the response. A function error is a 500 {"message":"Internal Server
   Error"}.
5. For an allowed Origin the CORS headers are added, and CORS headers the function
   set are dropped, since API Gateway ignores them when the API has a CORS
   configuration.

Sources: "Create AWS Lambda proxy integrations for HTTP APIs" (payload format 2.0 and
the response rules) and "Configure CORS for HTTP APIs" in the API Gateway Developer
Guide.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from components.settings import StackSettings
from pfmon_api import routes
from tools.local.jwt_verify import JwtAuthorizer, TokenRejectedError, VerifiedToken
from tools.local.lambda_runtime import ACCOUNT_ID, FunctionRunner, InvocationError
from tools.local.wsgi import (
    RawResponse,
    StartResponse,
    json_response,
    read_body,
    request_headers,
)

logger = logging.getLogger("pfmon.local.api")

NOT_FOUND = {"message": "Not Found"}
UNAUTHORIZED = {"message": "Unauthorized"}
INTERNAL_SERVER_ERROR = {"message": "Internal Server Error"}
# NOTE: API Gateway documents no body for a request above its payload quota; this
# body follows the shape of its other errors.
PAYLOAD_TOO_LARGE = {"message": "Request Entity Too Large"}
# API Gateway's HTTP API quota for a request payload, 10 MB.
MAX_BODY_BYTES = 10 * 1024 * 1024
API_ID = "local"
STAGE = "$default"
# Origins of the React dev servers (Create React App, Vite) that the dev tier allows.
LOCALHOST_DEV_ORIGINS = ("http://localhost:3000", "http://localhost:5173")
CORS_ALLOW_HEADERS = ("authorization", "content-type")
CORS_MAX_AGE_SECONDS = 600
# requestContext.time has English month names, whatever the locale.
_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_PARAMETER = re.compile(r"^\{(\w+)\}$")


@dataclass(frozen=True)
class CorsConfig:
    """The HTTP API's CORS configuration (allowOrigins, allowMethods, ...)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int = 0
    allow_credentials: bool = False

    def allows(self, origin: str | None) -> bool:
        return origin is not None and (
            origin in self.allow_origins or "*" in self.allow_origins
        )

    def preflight_headers(self, origin: str) -> list[tuple[str, str]]:
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ",".join(self.allow_methods)),
            ("Access-Control-Allow-Headers", ",".join(self.allow_headers)),
        ]
        if self.max_age_seconds:
            headers.append(("Access-Control-Max-Age", str(self.max_age_seconds)))
        return headers + self._credentials_header()

    def response_headers(self, origin: str) -> list[tuple[str, str]]:
        headers = [("Access-Control-Allow-Origin", origin)]
        if self.expose_headers:
            headers.append(
                ("Access-Control-Expose-Headers", ",".join(self.expose_headers))
            )
        return headers + self._credentials_header()

    def _credentials_header(self) -> list[tuple[str, str]]:
        if self.allow_credentials:
            return [("Access-Control-Allow-Credentials", "true")]
        return []


def cors_config(settings: StackSettings, site_origins: Sequence[str]) -> CorsConfig:
    """Return the dev stack's CORS rules, with the local site's origins added.

    NOTE: a copy of the corsConfiguration that `ApiFunctions` and `StaticSite` give
    the dev stack's HTTP API, without its CloudFront origin. The test against the
    dev stack compares the two.
    """
    origins = [*site_origins]
    if settings.tier.cors_localhost:
        origins.extend(LOCALHOST_DEV_ORIGINS)
    methods = sorted({route.method for route in routes.ROUTES})
    return CorsConfig(
        allow_origins=tuple(dict.fromkeys(origins)),
        allow_methods=tuple(methods),
        allow_headers=CORS_ALLOW_HEADERS,
        max_age_seconds=CORS_MAX_AGE_SECONDS,
    )


@dataclass(frozen=True)
class RouteMatch:
    route: routes.Route
    path_parameters: dict[str, str]


class RouteTable:
    """Lookup of the route of `routes.ROUTES` for a method and a raw path.

    A `{name}` segment matches one non-empty path segment. A route with fewer
    parameters wins, so a literal segment beats a parameter as in API Gateway.
    """

    def __init__(self, table: Iterable[routes.Route]) -> None:
        self._routes = sorted(table, key=lambda route: route.path.count("{"))

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")
        for route in self._routes:
            if route.method != method:
                continue
            parameters = _match_segments(route.path.split("/"), segments)
            if parameters is not None:
                return RouteMatch(route, parameters)
        return None


def _match_segments(
    template: Sequence[str], segments: Sequence[str]
) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    parameters: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        name = _PARAMETER.match(expected)
        if name is not None:
            if not actual:
                return None
            parameters[name.group(1)] = unquote(actual)
        elif unquote(actual) != expected:
            return None
    return parameters


@dataclass(frozen=True)
class GatewayRequest:
    """An HTTP request as API Gateway receives it."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Return claims as API Gateway passes them, with every value a string.

    Numbers and booleans become their JSON text, such as "true" for email_verified.
    A list becomes its items joined by spaces in brackets, "[a b]".
    NOTE: AWS does not document the list form. It is the form users report for
    cognito:groups in HTTP API events.
    """
    converted: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, str):
            converted[name] = value
        elif isinstance(value, list):
            converted[name] = "[" + " ".join(str(item) for item in value) + "]"
        else:
            converted[name] = json.dumps(value)
    return converted


def new_request_id() -> str:
    """Return a request id shaped like API Gateway's, such as Mc7UVioPPHcEKPA=."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def _request_time(epoch_seconds: float) -> str:
    moment = time.gmtime(epoch_seconds)
    month = _MONTHS[moment.tm_mon - 1]
    return time.strftime(f"%d/{month}/%Y:%H:%M:%S +0000", moment)


def build_event(
    request: GatewayRequest,
    match: RouteMatch,
    token: VerifiedToken,
    request_id: str,
    epoch_seconds: float,
) -> dict[str, Any]:
    """Build the HTTP API payload format 2.0 event of a request."""
    headers = dict(request.headers)
    cookie_header = headers.pop("cookie", None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookie_header:
        event["cookies"] = [
            cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()
        ]
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query

    event["requestContext"] = _request_context(
        request, match, token, request_id, epoch_seconds
    )
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if request.body:
        event["body"], event["isBase64Encoded"] = _event_body(request.body)
    else:
        event["isBase64Encoded"] = False
    return event


def _request_context(
    request: GatewayRequest,
    match: RouteMatch,
    token: VerifiedToken,
    request_id: str,
    epoch_seconds: float,
) -> dict[str, Any]:
    domain_name = (request.header("host") or "127.0.0.1").split(":")[0]
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "authorizer": {
            "jwt": {"claims": gateway_claims(token.claims), "scopes": token.scopes}
        },
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": STAGE,
        "time": _request_time(epoch_seconds),
        "timeEpoch": int(epoch_seconds * 1000),
    }


def _query_parameters(raw_query: str) -> dict[str, str]:
    # Format 2.0 joins repeated parameters with commas.
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = (
            f"{parameters[name]},{value}" if name in parameters else value
        )
    return parameters


def _event_body(body: bytes) -> tuple[str, bool]:
    # NOTE: API Gateway does not document in detail which bodies it base64-encodes.
    # Here a body that is valid UTF-8 passes as text, and any other as base64.
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


class MalformedResultError(ValueError):
    """A function result that API Gateway cannot turn into a response."""


def response_from_result(result: Any) -> RawResponse:
    """Turn a function's result into the HTTP response, by format 2.0 rules.

    A JSON object with statusCode is a response description. Any other result
    becomes a 200 with Content-Type application/json and the result as its body.
    Raises MalformedResultError for a response description API Gateway rejects.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode()
        return RawResponse(200, [("Content-Type", "application/json")], body)

    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if (
        not isinstance(status, int)
        or isinstance(status, bool)
        or not (
            100 <= status <= 599  # noqa: PLR2004 - the range of HTTP status codes
        )
    ):
        raise MalformedResultError(f"statusCode {status!r} is not an HTTP status")

    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        headers.append((str(name), text))
    for cookie in result.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))

    return RawResponse(status, headers, _result_body(result))


def _result_body(result: Mapping[str, Any]) -> bytes:
    text = result.get("body")
    if text is None:
        return b""
    if not isinstance(text, str):
        raise MalformedResultError("body must be a string")
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise MalformedResultError("body is not valid base64") from exc
    return text.encode("utf-8")


class Gateway:
    """The WSGI app of the local HTTP API."""

    def __init__(
        self,
        route_table: RouteTable,
        authorizer: JwtAuthorizer,
        runner: FunctionRunner,
        cors: CorsConfig,
    ) -> None:
        self._routes = route_table
        self._authorizer = authorizer
        self._runner = runner
        self._cors = cors

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        raw_uri = str(environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "")))
        raw_path, _, raw_query = raw_uri.partition("?")
        request = GatewayRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            raw_path=raw_path,
            raw_query=raw_query,
            headers={
                name.lower(): value for name, value in request_headers(environ).items()
            },
            body=read_body(environ),
            source_ip=str(environ.get("REMOTE_ADDR", "127.0.0.1")),
        )
        return self.handle(request).send(start_response)

    def handle(self, request: GatewayRequest) -> RawResponse:
        started = time.monotonic()
        request_id = new_request_id()
        origin = request.header("origin")
        response, family = self._respond(request, request_id)
        headers = list(response.headers)
        if (
            origin is not None
            and self._cors.allows(origin)
            and not _is_preflight(request)
        ):
            headers.extend(self._cors.response_headers(origin))
        headers.append(("apigw-requestid", request_id))
        logger.info(
            "%s %s %s",
            request.method,
            request.raw_path,
            response.status,
            extra={
                "function": family,
                "request_id": request_id,
                "milliseconds": round((time.monotonic() - started) * 1000),
            },
        )
        return RawResponse(response.status, headers, response.body)

    def _respond(
        self, request: GatewayRequest, request_id: str
    ) -> tuple[RawResponse, str | None]:
        if _is_preflight(request):
            return self._preflight(request), None
        if len(request.body) > MAX_BODY_BYTES:
            return json_response(413, PAYLOAD_TOO_LARGE), None

        match = self._routes.match(request.method, request.raw_path)
        if match is None:
            return json_response(404, NOT_FOUND), None
        try:
            token = self._authorizer.verify(request.header("authorization"))
        except TokenRejectedError as exc:
            logger.info(
                "token rejected",
                extra={"request_id": request_id, "reason": exc.description},
            )
            return json_response(
                401, UNAUTHORIZED, [("www-authenticate", exc.www_authenticate)]
            ), None

        family = match.route.family
        event = build_event(request, match, token, request_id, time.time())
        try:
            result = self._runner.invoke(family, event)
            return _without_cors_headers(response_from_result(result)), family
        except InvocationError as exc:
            logger.error(
                "function error",
                extra={
                    "request_id": request_id,
                    "function": family,
                    "error_type": exc.error_type,
                    "error_message": exc.error_message,
                },
            )
        except MalformedResultError as exc:
            logger.error(
                "malformed function response",
                extra={"request_id": request_id, "function": family, "error": str(exc)},
            )
        return json_response(500, INTERNAL_SERVER_ERROR), family

    def _preflight(self, request: GatewayRequest) -> RawResponse:
        origin = request.header("origin")
        if origin is None or not self._cors.allows(origin):
            # A disallowed origin gets a response without CORS headers, which the
            # browser treats as a rejection.
            return RawResponse(204)
        return RawResponse(204, self._cors.preflight_headers(origin))


def _without_cors_headers(response: RawResponse) -> RawResponse:
    headers = [
        (name, value)
        for name, value in response.headers
        if not name.lower().startswith("access-control-")
    ]
    return RawResponse(response.status, headers, response.body)


def _is_preflight(request: GatewayRequest) -> bool:
    return (
        request.method == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )
