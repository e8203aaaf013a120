"""Rules for the HTTP API: routes, authorizer, stage, CORS and invoke permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pulumi_policy import Severity

from .properties import as_list, get_path, number, show_number
from .registry import Finding, ResourceRule, ResourceView

API = "aws:apigatewayv2/api:Api"
ROUTE = "aws:apigatewayv2/route:Route"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
STAGE = "aws:apigatewayv2/stage:Stage"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"

AUTHORIZATION_HEADER = "$request.header.Authorization"
COGNITO_ISSUER_PREFIX = "https://cognito-idp."


def check_route_authorized(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("routeKey") == "$default":
        yield Finding(
            "the route key is $default, a catch-all route that answers every method "
            "and path.",
            "remove the $default route and declare one route per method and path.",
        )
    authorization_type = props.get("authorizationType")
    if authorization_type != "JWT":
        yield Finding(
            f"authorizationType is {authorization_type!r}, so the route accepts "
            "requests without a Cognito token.",
            'set authorization_type="JWT" on the route.',
        )
    if not props.get("authorizerId"):
        yield Finding(
            "authorizerId is missing, so no authorizer checks the token.",
            "set authorizer_id to the id of the Cognito JWT authorizer.",
        )


def check_authorizer_cognito_jwt(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("authorizerType") != "JWT":
        yield Finding(
            f"authorizerType is {props.get('authorizerType')!r}.",
            'set authorizer_type="JWT" with the Cognito user pool as issuer.',
        )
    if AUTHORIZATION_HEADER not in as_list(props.get("identitySources")):
        yield Finding(
            f"identitySources does not include {AUTHORIZATION_HEADER}.",
            f'set identity_sources=["{AUTHORIZATION_HEADER}"].',
        )
    issuer = get_path(props, "jwtConfiguration", "issuer")
    if not isinstance(issuer, str) or not issuer.startswith(COGNITO_ISSUER_PREFIX):
        yield Finding(
            f"the JWT issuer is {issuer!r}, not a Cognito user pool.",
            "set jwt_configuration.issuer to "
            "https://cognito-idp.<region>.amazonaws.com/<user pool id>.",
        )
    if not as_list(get_path(props, "jwtConfiguration", "audiences")):
        yield Finding(
            "the JWT audience list is empty, so tokens of any app client pass.",
            "set jwt_configuration.audiences to the app client id.",
        )


def check_stage_throttling(resource: ResourceView) -> Iterator[Finding]:
    settings = resource.props.get("defaultRouteSettings")
    for key in ("throttlingBurstLimit", "throttlingRateLimit"):
        limit = number(get_path(settings or {}, key))
        if limit is None or limit <= 0:
            yield Finding(
                f"defaultRouteSettings.{key} is {show_number(limit)}. Without a "
                "limit the stage is not throttled, and a limit of 0 rejects every "
                "request with 429.",
                "set default_route_settings with both throttling_burst_limit and "
                "throttling_rate_limit above 0.",
            )


def check_stage_access_logs(resource: ResourceView) -> Iterator[Finding]:
    settings = resource.props.get("accessLogSettings")
    fix = (
        "set access_log_settings with destination_arn (a log group ARN) and format "
        "(a JSON object of $context variables, including requestId)."
    )
    if not get_path(settings or {}, "destinationArn"):
        yield Finding("the stage writes no access logs.", fix)
        return
    log_format = get_path(settings or {}, "format")
    try:
        parsed = json.loads(log_format) if isinstance(log_format, str) else None
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or "requestId" not in parsed:
        yield Finding(
            "the access log format is not a JSON object with a requestId field.", fix
        )


def check_cors_no_wildcard(resource: ResourceView) -> Iterator[Finding]:
    origins = as_list(get_path(resource.props, "corsConfiguration", "allowOrigins"))
    wildcards = [origin for origin in origins if "*" in str(origin)]
    if wildcards:
        yield Finding(
            f"the CORS allow-list contains {wildcards}, so any web site may call the "
            "API from a user's browser.",
            "list the site's exact origins in cors_configuration.allow_origins.",
        )


def check_cors_https_origins(resource: ResourceView) -> Iterator[Finding]:
    origins = as_list(get_path(resource.props, "corsConfiguration", "allowOrigins"))
    plain = [origin for origin in origins if not str(origin).startswith("https://")]
    if plain:
        yield Finding(
            f"the CORS allow-list contains origins without https: {plain}.",
            "allow only https:// origins in cors_configuration.allow_origins.",
        )


def check_permission_source_arn(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    principal = props.get("principal")
    source_arn = props.get("sourceArn")
    if principal in (None, "", "*"):
        yield Finding(
            f"principal is {principal!r}, so any AWS account may invoke the function.",
            "set principal to the invoking service, such as apigateway.amazonaws.com.",
        )
        return
    if str(principal).endswith(".amazonaws.com") and not source_arn:
        yield Finding(
            f"{principal} may invoke the function from any resource of any account, "
            "because sourceArn is missing.",
            "set source_arn to the invoking resource, such as "
            'api.execution_arn.apply(lambda arn: f"{arn}/*/*").',
        )
        return
    if principal == "apigateway.amazonaws.com" and ":execute-api:" not in str(
        source_arn
    ):
        yield Finding(
            f"sourceArn {source_arn!r} is not an execute-api ARN of the HTTP API.",
            "set source_arn to the API's execution ARN followed by /*/*.",
        )


RULES = (
    ResourceRule(
        name="apigw-route-jwt-authorizer",
        description="Every HTTP API route needs a Cognito JWT, and no $default "
        "catch-all route exists.",
        resource_types=frozenset({ROUTE}),
        severity=Severity.CRITICAL,
        check=check_route_authorized,
    ),
    ResourceRule(
        name="apigw-authorizer-cognito-jwt",
        description="The HTTP API authorizer checks Cognito JWTs from the "
        "Authorization header against an app client audience.",
        resource_types=frozenset({AUTHORIZER}),
        severity=Severity.CRITICAL,
        check=check_authorizer_cognito_jwt,
    ),
    ResourceRule(
        name="apigw-stage-throttling",
        description="The HTTP API stage sets both a burst and a rate throttling limit.",
        resource_types=frozenset({STAGE}),
        severity=Severity.HIGH,
        check=check_stage_throttling,
    ),
    ResourceRule(
        name="apigw-stage-json-access-logs",
        description="The HTTP API stage writes JSON access logs to a log group.",
        resource_types=frozenset({STAGE}),
        severity=Severity.MEDIUM,
        check=check_stage_access_logs,
    ),
    ResourceRule(
        name="apigw-cors-no-wildcard",
        description="The HTTP API's CORS allow-list names exact origins, no wildcard.",
        resource_types=frozenset({API}),
        severity=Severity.HIGH,
        check=check_cors_no_wildcard,
    ),
    ResourceRule(
        name="apigw-cors-https-origins",
        description="The HTTP API's CORS allow-list contains https origins only.",
        resource_types=frozenset({API}),
        severity=Severity.MEDIUM,
        check=check_cors_https_origins,
    ),
    ResourceRule(
        name="lambda-permission-source-arn",
        description="A Lambda invoke permission for an AWS service names the "
        "invoking resource in sourceArn.",
        resource_types=frozenset({LAMBDA_PERMISSION}),
        severity=Severity.CRITICAL,
        check=check_permission_source_arn,
    ),
)
