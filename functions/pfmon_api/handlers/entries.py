"""Journal entries of the caller: each route of the family returns 501 for now."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import http_api, routes
from pfmon_api.observability import inject_http_context

# TODO: no endpoints yet, so build_resolver returns 501 NotImplemented on each route.
app = http_api.build_resolver(routes.ENTRIES.family, endpoints={})


@inject_http_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
