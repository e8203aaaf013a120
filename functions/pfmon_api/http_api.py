"""The HTTP side of the route handlers: resolver, caller, request body and responses.

`build_resolver` registers every route of a function family from `routes.ROUTES`, so the
resolver and the deployed API routes come from one table. A route without an endpoint
returns 501. Before an endpoint runs, the resolver takes the caller from the JWT claims,
and every exception an endpoint raises goes through `errors.to_response`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import (
    NotFoundError as ResolverNotFoundError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from pfmon_api import errors, json_codec, routes
from pfmon_api.auth import Caller, caller_from_event

MAX_BODY_BYTES = 64 * 1024

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request: the verified caller, the event and the path parameters."""

    caller: Caller
    event: APIGatewayProxyEventV2
    path_parameters: Mapping[str, str]

    def json_body(self) -> dict[str, Any]:
        """Parse the body as a JSON object of at most 64 KiB.

        Raises `PayloadTooLargeError` for a larger body, and `ValidationError` on field
        "body" for a missing, non-UTF-8 or malformed one.
        """
        raw = self.event.body
        if not raw:
            raise errors.ValidationError(
                "request body is missing: send a JSON object",
                field=json_codec.BODY_FIELD,
            )
        data = _body_bytes(raw, base64_encoded=bool(self.event.is_base64_encoded))
        if len(data) > MAX_BODY_BYTES:
            raise errors.PayloadTooLargeError(
                f"request body is {len(data)} bytes, more than the maximum of "
                f"{MAX_BODY_BYTES} bytes",
                field=json_codec.BODY_FIELD,
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.ValidationError(
                "request body is not valid UTF-8", field=json_codec.BODY_FIELD
            ) from exc
        return json_codec.parse_object(text)


Endpoint = Callable[[ApiRequest], Response[str]]


def build_resolver(
    family: str, endpoints: Mapping[str, Endpoint]
) -> APIGatewayHttpResolver:
    """Build the resolver of one function family from the route table.

    `endpoints` maps route keys such as "GET /profile" to endpoints. Every route of the
    family in `routes.ROUTES` is registered, and a route with no endpoint returns 501.
    Raises ValueError for an unknown family or an endpoint whose route key is not a
    route of the family.
    """
    family_routes = [route for route in routes.ROUTES if route.family == family]
    if not family_routes:
        raise ValueError(
            f"{family!r} has no routes in routes.ROUTES: "
            f"use one of {routes.API_FAMILIES}"
        )
    unknown = set(endpoints) - {route.route_key for route in family_routes}
    if unknown:
        raise ValueError(
            f"endpoints {sorted(unknown)} of {family!r} are not routes of the family "
            "in routes.ROUTES: add the routes there or fix the route keys"
        )

    app = APIGatewayHttpResolver()
    for route in family_routes:
        endpoint = endpoints.get(route.route_key, _not_implemented(route))
        app.route(_resolver_rule(route.path), route.method)(_bind(app, endpoint))

    def route_not_found(_error: ResolverNotFoundError) -> Response[str]:
        event = app.current_event
        route_key = f"{event.request_context.http.method} {event.path}"
        return errors.to_response(
            errors.RouteNotFoundError(f"no route {route_key}"),
            event.request_context.request_id,
        )

    def map_exception(error: Exception) -> Response[str]:
        return errors.to_response(error, app.current_event.request_context.request_id)

    app.not_found(route_not_found)
    app.exception_handler(Exception)(map_exception)
    return app


def json_response(status: HTTPStatus, document: Mapping[str, Any]) -> Response[str]:
    """Build a JSON response with `Cache-Control: no-store`, since it has user data."""
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json_codec.dumps(document),
        headers={"Cache-Control": "no-store"},
    )


def _bind(
    app: APIGatewayHttpResolver, endpoint: Endpoint
) -> Callable[..., Response[str]]:
    def call_endpoint(**path_parameters: str) -> Response[str]:
        event = app.current_event
        request = ApiRequest(
            caller=caller_from_event(event.raw_event),
            event=event,
            path_parameters=path_parameters,
        )
        return endpoint(request)

    return call_endpoint


def _not_implemented(route: routes.Route) -> Endpoint:
    def not_implemented(_request: ApiRequest) -> Response[str]:
        raise errors.NotImplementedYetError(f"{route.route_key} is not implemented yet")

    return not_implemented


def _resolver_rule(path: str) -> str:
    """Turn an API Gateway path such as /entries/{entryId} into /entries/<entryId>."""
    if "+}" in path:
        raise ValueError(f"greedy path parameter in {path!r} is not supported")
    return _PATH_PARAMETER.sub(r"<\1>", path)


def _body_bytes(raw: str, *, base64_encoded: bool) -> bytes:
    if not base64_encoded:
        return raw.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise errors.ValidationError(
            "request body is not valid base64", field=json_codec.BODY_FIELD
        ) from exc
