"""The caller's broker accounts: create, list, read, update and archive."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import errors, http_api, json_codec, routes
from pfmon_api.http_api import ApiRequest
from pfmon_api.logic import accounts
from pfmon_api.models.accounts import parse_account_create, parse_account_update
from pfmon_api.observability import inject_http_context

INCLUDE_ARCHIVED = "includeArchived"


def list_accounts(request: ApiRequest) -> Response[str]:
    include_archived = _include_archived(request)
    found = accounts.list_accounts(
        request.caller.user_id, include_archived=include_archived
    )
    return http_api.json_response(
        HTTPStatus.OK, {"accounts": [account.model_dump() for account in found]}
    )


def create_account(request: ApiRequest) -> Response[str]:
    body = parse_account_create(request.json_body())
    account = accounts.create_account(request.caller.user_id, body, datetime.now(UTC))
    return http_api.json_response(HTTPStatus.CREATED, account.model_dump())


def get_account(request: ApiRequest) -> Response[str]:
    account = accounts.get_account(
        request.caller.user_id, request.path_parameters["accountId"]
    )
    return http_api.json_response(HTTPStatus.OK, account.model_dump())


def put_account(request: ApiRequest) -> Response[str]:
    update = parse_account_update(request.json_body())
    account = accounts.update_account(
        request.caller.user_id,
        request.path_parameters["accountId"],
        update,
        datetime.now(UTC),
    )
    return http_api.json_response(HTTPStatus.OK, account.model_dump())


def archive_account(request: ApiRequest) -> Response[str]:
    _reject_body(request, "POST /accounts/{accountId}/archive")
    account = accounts.archive_account(
        request.caller.user_id, request.path_parameters["accountId"], datetime.now(UTC)
    )
    return http_api.json_response(HTTPStatus.OK, account.model_dump())


def _reject_body(request: ApiRequest, route_key: str) -> None:
    """Reject a request body other than none, an empty one or the empty object {}."""
    if not request.event.body:
        return
    if request.json_body():
        raise errors.ValidationError(
            f"{route_key} takes no request body: send no body or {{}}",
            field=json_codec.BODY_FIELD,
        )


def _include_archived(request: ApiRequest) -> bool:
    parameters = request.event.query_string_parameters or {}
    unknown = sorted(set(parameters) - {INCLUDE_ARCHIVED})
    if unknown:
        raise errors.ValidationError(
            f"unknown query parameter {unknown[0]}: GET /accounts takes only "
            f"{INCLUDE_ARCHIVED}",
            field=unknown[0],
        )
    value = parameters.get(INCLUDE_ARCHIVED, "false")
    if value not in {"true", "false"}:
        raise errors.ValidationError(
            f"invalid {INCLUDE_ARCHIVED} {value[:20]!r}: use true or false",
            field=INCLUDE_ARCHIVED,
        )
    return value == "true"


app = http_api.build_resolver(
    routes.ACCOUNTS.family,
    {
        "GET /accounts": list_accounts,
        "POST /accounts": create_account,
        "GET /accounts/{accountId}": get_account,
        "PUT /accounts/{accountId}": put_account,
        "POST /accounts/{accountId}/archive": archive_account,
    },
)


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
