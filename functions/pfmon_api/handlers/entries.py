"""The caller's journal entries: create, read, replace, delete and list."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import http_api, routes
from pfmon_api.http_api import ApiRequest
from pfmon_api.logic import entries
from pfmon_api.models import queries
from pfmon_api.models.entries import (
    parse_entry_create,
    parse_entry_list_query,
    parse_entry_update,
)
from pfmon_api.observability import inject_http_context


def list_entries(request: ApiRequest) -> Response[str]:
    query = parse_entry_list_query(request.event.query_string_parameters or {})
    page = entries.list_entries(request.caller.user_id, query)
    return http_api.json_response(
        HTTPStatus.OK, {"entries": page.entries, "nextCursor": page.next_cursor}
    )


def create_entry(request: ApiRequest) -> Response[str]:
    body = parse_entry_create(request.json_body())
    entry = entries.create_entry(request.caller.user_id, body, datetime.now(UTC))
    return http_api.json_response(HTTPStatus.CREATED, entry)


def get_entry(request: ApiRequest) -> Response[str]:
    entry = entries.get_entry(
        request.caller.user_id, request.path_parameters["entryId"]
    )
    return http_api.json_response(HTTPStatus.OK, entry)


def put_entry(request: ApiRequest) -> Response[str]:
    body = parse_entry_update(request.json_body())
    entry = entries.update_entry(
        request.caller.user_id,
        request.path_parameters["entryId"],
        body,
        datetime.now(UTC),
    )
    return http_api.json_response(HTTPStatus.OK, entry)


def delete_entry(request: ApiRequest) -> Response[str]:
    parameters = request.event.query_string_parameters or {}
    queries.reject_unknown_parameters(
        parameters, ("version",), "DELETE /entries/{entryId}"
    )
    entries.delete_entry(
        request.caller.user_id,
        request.path_parameters["entryId"],
        queries.parse_version(parameters),
    )
    return Response(
        status_code=int(HTTPStatus.NO_CONTENT), headers={"Cache-Control": "no-store"}
    )


app = http_api.build_resolver(
    routes.ENTRIES.family,
    {
        "GET /entries": list_entries,
        "POST /entries": create_entry,
        "GET /entries/{entryId}": get_entry,
        "PUT /entries/{entryId}": put_entry,
        "DELETE /entries/{entryId}": delete_entry,
    },
)


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
