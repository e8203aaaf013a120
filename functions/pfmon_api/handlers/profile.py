"""GET and PUT /profile: the caller's profile, created with defaults on first read."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import http_api, routes
from pfmon_api.http_api import ApiRequest
from pfmon_api.logic import profiles
from pfmon_api.models.profile import parse_profile_update
from pfmon_api.observability import inject_http_context


def get_profile(request: ApiRequest) -> Response[str]:
    caller = request.caller
    profile = profiles.get_or_create_profile(
        caller.user_id, caller.email, datetime.now(UTC)
    )
    return http_api.json_response(HTTPStatus.OK, profile.model_dump())


def put_profile(request: ApiRequest) -> Response[str]:
    update = parse_profile_update(request.json_body())
    profile = profiles.update_profile(request.caller.user_id, update, datetime.now(UTC))
    return http_api.json_response(HTTPStatus.OK, profile.model_dump())


app = http_api.build_resolver(
    routes.PROFILE.family,
    {"GET /profile": get_profile, "PUT /profile": put_profile},
)


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
