"""GET /statistics: trading statistics of the caller by date range and account."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import http_api, routes
from pfmon_api.http_api import ApiRequest
from pfmon_api.logic import journal_statistics
from pfmon_api.models.statistics import parse_statistics_query
from pfmon_api.observability import inject_http_context


def get_statistics(request: ApiRequest) -> Response[str]:
    query = parse_statistics_query(request.event.query_string_parameters or {})
    document = journal_statistics.caller_statistics(request.caller.user_id, query)
    return http_api.json_response(HTTPStatus.OK, document)


app = http_api.build_resolver(
    routes.STATISTICS.family, {"GET /statistics": get_statistics}
)


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
