"""Every route of `routes.ROUTES` reaches the handler of its family, and no other."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from pfmon_api import http_api, routes
from tests.functions.events import http_event, invoke

HandlerFunction = Callable[[dict[str, Any], Any], dict[str, Any]]


def load_handler(spec: routes.FunctionSpec) -> HandlerFunction:
    """Import the function named by a spec's handler path, as Lambda does."""
    module_name, _, attribute = spec.handler.rpartition(".")
    handler: HandlerFunction = getattr(importlib.import_module(module_name), attribute)
    return handler


def concrete_path(template: str) -> str:
    """Fill each {parameter} of a route path with a sample value."""
    return re.sub(r"\{(\w+)\}", lambda match: f"sample-{match.group(1)}", template)


def route_event(route: routes.Route, **kwargs: Any) -> dict[str, Any]:
    body = {} if route.method in {"POST", "PUT"} else None
    return http_event(
        route.method,
        concrete_path(route.path),
        route_key=route.route_key,
        body=body,
        **kwargs,
    )


@pytest.mark.parametrize("spec", routes.FUNCTIONS, ids=lambda spec: spec.family)
def test_function_handler_is_callable(spec: routes.FunctionSpec) -> None:
    assert callable(load_handler(spec))


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda route: route.route_key)
@pytest.mark.usefixtures("table_names")
def test_route_reaches_family_handler(route: routes.Route) -> None:
    handler = load_handler(routes.function_spec(route.family))

    result = invoke(handler, route_event(route))

    assert result.body is not None
    if result.status == 404:
        assert result.body["error"]["code"] != "RouteNotFound"
    # Every family serves its routes, so none returns 501 NotImplemented.
    assert result.status != 501


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda route: route.route_key)
def test_route_without_sub_is_401(route: routes.Route) -> None:
    handler = load_handler(routes.function_spec(route.family))

    result = invoke(handler, route_event(route, sub=None))

    assert result.status == 401
    assert result.body["error"]["code"] == "Unauthorized"


@pytest.mark.parametrize("family", routes.API_FAMILIES)
def test_foreign_route_not_served(family: str) -> None:
    handler = load_handler(routes.function_spec(family))
    foreign = next(route for route in routes.ROUTES if route.family != family)

    result = invoke(handler, route_event(foreign))

    assert result.status == 404
    assert result.body["error"]["code"] == "RouteNotFound"


def test_unknown_path_is_route_not_found() -> None:
    handler = load_handler(routes.ACCOUNTS)

    result = invoke(handler, http_event("GET", "/accounts/a/b/c"))

    assert result.status == 404
    assert result.body == {
        "error": {
            "code": "RouteNotFound",
            "message": "no route GET /accounts/a/b/c",
            "field": None,
        }
    }


@pytest.mark.usefixtures("table_names")
def test_named_stage_prefix_is_stripped() -> None:
    # An HTTP API stage other than $default puts its name in front of the path.
    handler = load_handler(routes.PROFILE)

    result = invoke(handler, http_event("GET", "/profile", stage="dev"))

    assert result.status == 200


def test_every_api_family_has_routes() -> None:
    families_with_routes = {route.family for route in routes.ROUTES}
    api_families = {spec.family for spec in routes.FUNCTIONS} - {
        routes.POST_CONFIRMATION.family
    }

    assert families_with_routes == api_families


def unused_endpoint(request: http_api.ApiRequest) -> Any:
    raise AssertionError("an endpoint of a rejected resolver must not run")


def test_resolver_rejects_unknown_route_key() -> None:
    with pytest.raises(ValueError, match="GET /profiles"):
        http_api.build_resolver("profile", {"GET /profiles": unused_endpoint})


def test_resolver_rejects_other_family_route() -> None:
    with pytest.raises(ValueError, match="GET /accounts"):
        http_api.build_resolver("profile", {"GET /accounts": unused_endpoint})


def test_resolver_rejects_unknown_family() -> None:
    with pytest.raises(ValueError, match="'ledger'"):
        http_api.build_resolver("ledger", {})
