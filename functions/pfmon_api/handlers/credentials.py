"""GET and POST /credentials, DELETE /credentials/{credentialId}: broker API keys.

No response contains an API key, an API secret or a ciphertext: only the id, account,
label, the last 4 characters of the API key and the creation time. The plaintext pair
stays in the Lambda event and the parsed request until the invocation ends, because
Python has no way to erase a str, so only the copies that encryption makes are wiped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import http_api, routes
from pfmon_api.http_api import ApiRequest
from pfmon_api.logic import credentials
from pfmon_api.models.credentials import (
    parse_account_filter,
    parse_credential_create,
)
from pfmon_api.observability import inject_http_context


def list_credentials(request: ApiRequest) -> Response[str]:
    account_id = parse_account_filter(request.event.get_query_string_value("accountId"))
    summaries = credentials.list_credentials(request.caller.user_id, account_id)
    document = {"credentials": [summary.model_dump() for summary in summaries]}
    return http_api.json_response(HTTPStatus.OK, document)


def create_credential(request: ApiRequest) -> Response[str]:
    create = parse_credential_create(request.json_body())
    summary = credentials.create_credential(
        request.caller.user_id, create, datetime.now(UTC)
    )
    return http_api.json_response(HTTPStatus.CREATED, summary.model_dump())


def delete_credential(request: ApiRequest) -> Response[str]:
    credential_id = request.path_parameters["credentialId"]
    credentials.delete_credential(request.caller.user_id, credential_id)
    return Response(
        status_code=int(HTTPStatus.NO_CONTENT),
        headers={"Cache-Control": "no-store"},
    )


app = http_api.build_resolver(
    routes.CREDENTIALS.family,
    {
        "GET /credentials": list_credentials,
        "POST /credentials": create_credential,
        "DELETE /credentials/{credentialId}": delete_credential,
    },
)


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
