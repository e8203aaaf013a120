"""ApiFunctions under Pulumi mocks: functions, roles, HTTP API and alarms per stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.api_functions import check_allowed_origins
from components.packaging import (
    SOURCE_DIR,
    source_code_hash,
    vendored_package_dir,
    zip_package,
)
from components.static_site import LOCAL_DEV_ORIGINS
from pfmon_api import routes
from tools.mock_runtime import ACCOUNT_ID, RecordedResource, StackRun, run_stack

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROUTE = "aws:apigatewayv2/route:Route"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

FAMILIES = [spec.family for spec in routes.FUNCTIONS]
RETENTION_DAYS = {"dev": 14, "test": 30, "prod": 365}
RESERVED_CONCURRENCY = {"dev": 10, "test": 10, "prod": 100}
# (burst limit in requests, rate limit in requests per second)
THROTTLING = {"dev": (100, 50), "test": (100, 50), "prod": (1000, 500)}
LAYER = "arn:aws:lambda:{region}:017000801446:layer:{name}:{version}"
LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"

GET = "dynamodb:GetItem"
QUERY = "dynamodb:Query"
PUT = "dynamodb:PutItem"
UPDATE = "dynamodb:UpdateItem"
DELETE = "dynamodb:DeleteItem"
# The contract of each role: (table suffix, actions, index access) per function.
TABLE_ACCESS: dict[str, list[tuple[str, list[str], bool]]] = {
    "profile": [
        ("UserProfiles", [GET, PUT, UPDATE], False),
        ("AccountData", [GET], False),
    ],
    "post-confirmation": [("UserProfiles", [PUT], False)],
    "accounts": [("AccountData", [GET, QUERY, PUT, UPDATE], False)],
    "entries": [
        ("JournalEntries", [GET, QUERY, PUT, UPDATE, DELETE], True),
        ("AccountData", [GET], False),
        ("UserProfiles", [GET], False),
    ],
    "statistics": [
        ("JournalEntries", [QUERY], True),
        ("UserProfiles", [GET], False),
    ],
    "credentials": [
        ("UserCredentials", [GET, QUERY, PUT, UPDATE, DELETE], False),
        ("AccountData", [GET], False),
    ],
}
TABLE_ENV = {
    "UserProfiles": "USER_PROFILES_TABLE",
    "JournalEntries": "JOURNAL_ENTRIES_TABLE",
    "UserCredentials": "USER_CREDENTIALS_TABLE",
    "AccountData": "ACCOUNT_DATA_TABLE",
}
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "sub": "$context.authorizer.claims.sub",
    "latency": "$context.responseLatency",
}


@pytest.fixture(scope="module")
def unreserved_dev() -> StackRun:
    return run_stack("dev", {"reservedConcurrency": "none"})


@pytest.fixture(scope="module")
def other_region_dev() -> StackRun:
    return run_stack("dev", {"aws:region": "eu-west-1", "powertoolsLayerVersion": "31"})


def children(run: StackRun, type_token: str | None = None) -> list[RecordedResource]:
    """Return the resources ApiFunctions created, optionally of one type."""
    component = run.one("pfmon:components:ApiFunctions")
    return [
        r
        for r in run.children_of(component)
        if type_token is None or r.type == type_token
    ]


def function(run: StackRun, family: str) -> RecordedResource:
    return run.one(FUNCTION, f"api-{family}")


def mock_id(resource: RecordedResource) -> str:
    # tools.mock_runtime gives a resource without a computed id the id "<name>-id".
    return f"{resource.name}-id"


def table_arn(run: StackRun, suffix: str) -> str:
    table_name = f"pfmon-{run.stack}-{suffix}"
    tables = [
        r
        for r in run.of_type("aws:dynamodb/table:Table")
        if r.inputs["name"] == table_name
    ]
    assert len(tables) == 1, table_name
    return str(tables[0].outputs["arn"])


def policy_document(run: StackRun, family: str) -> dict[str, Any]:
    policy = run.one(POLICY, f"api-{family}-policy")
    document: dict[str, Any] = json.loads(policy.inputs["policy"])
    return document


def credentials_key_arns(run: StackRun) -> set[str]:
    """Return the ARNs of the KMS keys that DataTables created."""
    component = run.one("pfmon:components:DataTables")
    return {
        str(r.outputs["arn"])
        for r in run.children_of(component)
        if r.type == "aws:kms/key:Key"
    }


# Functions


def test_six_functions_named_per_stack(stack_run: StackRun) -> None:
    names = sorted(r.inputs["name"] for r in children(stack_run, FUNCTION))

    assert names == sorted(f"pfmon-{family}-{stack_run.stack}" for family in FAMILIES)


def test_function_runtime_and_arm64(stack_run: StackRun) -> None:
    for family in FAMILIES:
        inputs = function(stack_run, family).inputs
        assert inputs["runtime"] == "python3.13", family
        assert inputs["architectures"] == ["arm64"], family


@pytest.mark.parametrize(
    ("family", "memory_mb", "timeout_seconds"),
    [
        ("profile", 256, 10),
        ("post-confirmation", 256, 5),
        ("accounts", 256, 10),
        ("entries", 512, 10),
        ("statistics", 1024, 25),
        ("credentials", 256, 10),
    ],
)
def test_function_memory_and_timeout(
    stack_run: StackRun, family: str, memory_mb: int, timeout_seconds: int
) -> None:
    inputs = function(stack_run, family).inputs

    assert inputs["memorySize"] == memory_mb
    assert inputs["timeout"] == timeout_seconds


def test_function_handler_and_description(stack_run: StackRun) -> None:
    for spec in routes.FUNCTIONS:
        inputs = function(stack_run, spec.family).inputs
        module = spec.family.replace("-", "_")
        assert inputs["handler"] == f"pfmon_api.handlers.{module}.handler"
        assert inputs["description"] == spec.description


def test_function_layer_default_region(stack_run: StackRun) -> None:
    expected = LAYER.format(region="us-east-1", name=LAYER_NAME, version=27)

    for family in FAMILIES:
        assert function(stack_run, family).inputs["layers"] == [expected], family


def test_function_layer_follows_config(other_region_dev: StackRun) -> None:
    expected = LAYER.format(region="eu-west-1", name=LAYER_NAME, version=31)

    for family in FAMILIES:
        assert function(other_region_dev, family).inputs["layers"] == [expected]


def test_function_code_is_package(stack_run: StackRun) -> None:
    vendored = (vendored_package_dir("tzdata"),)
    expected_hash = source_code_hash(zip_package(SOURCE_DIR, vendored)[0])

    for family in FAMILIES:
        inputs = function(stack_run, family).inputs
        assert inputs["code"].path.endswith("build/functions.zip"), family
        assert inputs["sourceCodeHash"] == expected_hash, family


def test_handlers_in_package() -> None:
    # An entry point missing from the zip fails every invocation with ImportModuleError.
    entries = set(zip_package(SOURCE_DIR)[1])

    for spec in routes.FUNCTIONS:
        module_path = spec.handler.rsplit(".", 1)[0].replace(".", "/")
        assert f"{module_path}.py" in entries, spec.handler


def test_function_env_exact(stack_run: StackRun) -> None:
    env = stack_run.stack
    key_arns = credentials_key_arns(stack_run)

    for family, accesses in TABLE_ACCESS.items():
        variables = dict(function(stack_run, family).inputs["environment"]["variables"])
        key_arn = variables.pop("CREDENTIALS_KEY_ARN", None)
        expected = {
            TABLE_ENV[suffix]: f"pfmon-{env}-{suffix}" for suffix, _, _ in accesses
        }
        expected["POWERTOOLS_SERVICE_NAME"] = f"pfmon-{family}"
        expected["POWERTOOLS_LOG_LEVEL"] = "INFO"
        expected["PFMON_ENVIRONMENT"] = env
        assert variables == expected, family
        if family == "credentials":
            assert key_arn in key_arns
        else:
            assert key_arn is None, family


def test_function_logs_json_to_own_group(stack_run: StackRun) -> None:
    for family in FAMILIES:
        config = function(stack_run, family).inputs["loggingConfig"]
        assert config == {
            "logFormat": "JSON",
            "logGroup": f"/aws/lambda/pfmon-{family}-{stack_run.stack}",
            "applicationLogLevel": "INFO",
            "systemLogLevel": "WARN",
        }


def test_tracing_active_only_in_prod(stack_run: StackRun) -> None:
    for family in FAMILIES:
        inputs = function(stack_run, family).inputs
        if stack_run.stack == "prod":
            assert inputs["tracingConfig"] == {"mode": "Active"}, family
        else:
            assert "tracingConfig" not in inputs, family


def test_reserved_concurrency_per_tier(stack_run: StackRun) -> None:
    expected = RESERVED_CONCURRENCY[stack_run.stack]

    for family in FAMILIES:
        inputs = function(stack_run, family).inputs
        assert inputs["reservedConcurrentExecutions"] == expected, family


def test_reserved_concurrency_none_unset(unreserved_dev: StackRun) -> None:
    for family in FAMILIES:
        inputs = function(unreserved_dev, family).inputs
        assert "reservedConcurrentExecutions" not in inputs, family


def test_log_groups_retention_per_tier(stack_run: StackRun) -> None:
    for family in FAMILIES:
        log_group = stack_run.one(LOG_GROUP, f"api-{family}-logs")
        name = f"/aws/lambda/pfmon-{family}-{stack_run.stack}"
        assert log_group.inputs["name"] == name
        assert log_group.inputs["retentionInDays"] == RETENTION_DAYS[stack_run.stack]


def test_function_waits_for_log_group(stack_run: StackRun) -> None:
    for family in FAMILIES:
        log_group = stack_run.one(LOG_GROUP, f"api-{family}-logs")
        attachment = stack_run.one(ATTACHMENT, f"api-{family}-policy-attachment")
        depends_on = function(stack_run, family).depends_on
        assert log_group.urn in depends_on, family
        assert attachment.urn in depends_on, family


def test_post_confirmation_attribute(stack_runs: dict[str, StackRun]) -> None:
    api = stack_runs["dev"].program["api"]

    assert api.post_confirmation is api.functions["post-confirmation"]


# IAM


def expected_statements(run: StackRun, family: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for suffix, actions, indexes in TABLE_ACCESS[family]:
        arn = table_arn(run, suffix)
        statements.append(
            {
                "Sid": f"DynamoDb{suffix}",
                "Effect": "Allow",
                "Action": actions,
                "Resource": [arn, f"{arn}/index/*"] if indexes else [arn],
            }
        )
    log_group = run.one(LOG_GROUP, f"api-{family}-logs")
    statements.append(
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group.outputs['arn']}:*"],
        }
    )
    return statements


def test_policy_statements_exact(stack_run: StackRun) -> None:
    for family in FAMILIES:
        statements = policy_document(stack_run, family)["Statement"]
        expected = expected_statements(stack_run, family)
        assert statements[: len(expected)] == expected, family


def test_policy_extra_statements_per_tier(stack_run: StackRun) -> None:
    # GIVEN the table and log statements checked above
    # THEN only the credentials key and, in prod, X-Ray follow them
    for family in FAMILIES:
        statements = policy_document(stack_run, family)["Statement"]
        extra = [s["Sid"] for s in statements[len(TABLE_ACCESS[family]) + 1 :]]
        expected = ["UseCredentialsKey"] if family == "credentials" else []
        if stack_run.stack == "prod":
            expected.append("WriteXRayTraces")
        assert extra == expected, family


def test_no_star_action(stack_run: StackRun) -> None:
    for family in FAMILIES:
        for statement in policy_document(stack_run, family)["Statement"]:
            for action in statement["Action"]:
                assert "*" not in action, (family, action)


def test_star_resource_only_xray(stack_run: StackRun) -> None:
    for family in FAMILIES:
        for statement in policy_document(stack_run, family)["Statement"]:
            if "*" not in statement["Resource"]:
                continue
            assert stack_run.stack == "prod", family
            assert statement["Resource"] == ["*"]
            assert statement["Action"] == [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ]


def test_kms_only_for_credentials(stack_run: StackRun) -> None:
    key_arns = credentials_key_arns(stack_run)

    for family in FAMILIES:
        kms = [
            statement
            for statement in policy_document(stack_run, family)["Statement"]
            if any(action.startswith("kms:") for action in statement["Action"])
        ]
        if family != "credentials":
            assert kms == [], family
            continue
        assert len(kms) == 1
        assert kms[0]["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
        assert len(kms[0]["Resource"]) == 1
        assert kms[0]["Resource"][0] in key_arns


def test_trust_policy_lambda_only(stack_run: StackRun) -> None:
    for family in FAMILIES:
        role = stack_run.one(ROLE, f"api-{family}-role")
        assert role.inputs["name"] == f"pfmon-{family}-{stack_run.stack}-role"
        assert json.loads(role.inputs["assumeRolePolicy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "LambdaAssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
                }
            ],
        }


def test_roles_no_inline_or_managed(stack_run: StackRun) -> None:
    for role in children(stack_run, ROLE):
        assert "inlinePolicies" not in role.inputs, role.name
        assert "managedPolicyArns" not in role.inputs, role.name
    assert children(stack_run, "aws:iam/rolePolicy:RolePolicy") == []


def test_one_own_policy_per_role(stack_run: StackRun) -> None:
    attachments = children(stack_run, ATTACHMENT)

    assert len(attachments) == len(FAMILIES)
    for family in FAMILIES:
        attachment = stack_run.one(ATTACHMENT, f"api-{family}-policy-attachment")
        policy = stack_run.one(POLICY, f"api-{family}-policy")
        assert attachment.inputs["role"] == f"pfmon-{family}-{stack_run.stack}-role"
        assert attachment.inputs["policyArn"] == policy.outputs["arn"]
        assert ":aws:policy/" not in attachment.inputs["policyArn"]


def test_function_uses_own_role(stack_run: StackRun) -> None:
    for family in FAMILIES:
        role = stack_run.one(ROLE, f"api-{family}-role")
        assert function(stack_run, family).inputs["role"] == role.outputs["arn"]


# HTTP API


def test_api_is_http_with_name(stack_run: StackRun) -> None:
    api = stack_run.one("aws:apigatewayv2/api:Api")

    assert api.inputs["protocolType"] == "HTTP"
    assert api.inputs["name"] == f"pfmon-{stack_run.stack}-api"


def test_cors_exact(stack_run: StackRun) -> None:
    cors = stack_run.one("aws:apigatewayv2/api:Api").inputs["corsConfiguration"]
    site_url = stack_run.outputs["siteUrl"]
    origins = [site_url, *LOCAL_DEV_ORIGINS] if stack_run.stack == "dev" else [site_url]

    assert cors["allowOrigins"] == origins
    assert cors["allowMethods"] == ["DELETE", "GET", "POST", "PUT"]
    assert cors["allowHeaders"] == ["authorization", "content-type"]
    assert cors["maxAge"] == 600


def test_authorizer_matches_pool(stack_run: StackRun) -> None:
    authorizer = stack_run.one("aws:apigatewayv2/authorizer:Authorizer")
    pool_id = stack_run.outputs["userPoolId"]
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"

    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["identitySources"] == ["$request.header.Authorization"]
    assert authorizer.inputs["jwtConfiguration"] == {
        "issuer": issuer,
        "audiences": [stack_run.outputs["userPoolClientId"]],
    }


def test_routes_exactly_route_table(stack_run: StackRun) -> None:
    route_keys = sorted(r.inputs["routeKey"] for r in stack_run.of_type(ROUTE))

    assert route_keys == sorted(route.route_key for route in routes.ROUTES)
    assert "$default" not in route_keys


def test_every_route_needs_jwt(stack_run: StackRun) -> None:
    authorizer = stack_run.one("aws:apigatewayv2/authorizer:Authorizer")

    for route in stack_run.of_type(ROUTE):
        assert route.inputs["authorizationType"] == "JWT", route.name
        assert route.inputs["authorizerId"] == mock_id(authorizer), route.name


def test_route_targets_its_family(stack_run: StackRun) -> None:
    by_key = {r.inputs["routeKey"]: r for r in stack_run.of_type(ROUTE)}

    for route in routes.ROUTES:
        integration = stack_run.one(
            "aws:apigatewayv2/integration:Integration",
            f"api-{route.family}-integration",
        )
        target = by_key[route.route_key].inputs["target"]
        assert target == f"integrations/{mock_id(integration)}", route.route_key


def test_integrations_proxy_v2(stack_run: StackRun) -> None:
    integrations = stack_run.of_type("aws:apigatewayv2/integration:Integration")

    assert sorted(i.name for i in integrations) == sorted(
        f"api-{family}-integration" for family in routes.API_FAMILIES
    )
    for integration in integrations:
        family = integration.name.removeprefix("api-").removesuffix("-integration")
        invoke_arn = function(stack_run, family).outputs["invokeArn"]
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["payloadFormatVersion"] == "2.0"
        assert integration.inputs["integrationUri"] == invoke_arn


def test_stage_default_auto_deploy(stack_run: StackRun) -> None:
    stage = stack_run.one("aws:apigatewayv2/stage:Stage")

    assert stage.inputs["name"] == "$default"
    assert stage.inputs["autoDeploy"] is True


def test_stage_throttling_both_limits(stack_run: StackRun) -> None:
    settings = stack_run.one("aws:apigatewayv2/stage:Stage").inputs[
        "defaultRouteSettings"
    ]
    burst, rate = THROTTLING[stack_run.stack]

    assert settings["throttlingBurstLimit"] == burst
    assert settings["throttlingRateLimit"] == rate
    assert settings["throttlingBurstLimit"] > 0
    assert settings["throttlingRateLimit"] > 0


def test_access_log_json_fields(stack_run: StackRun) -> None:
    settings = stack_run.one("aws:apigatewayv2/stage:Stage").inputs["accessLogSettings"]

    assert json.loads(settings["format"]) == ACCESS_LOG_FIELDS


def test_access_log_group(stack_run: StackRun) -> None:
    log_group = stack_run.one(LOG_GROUP, "api-access-logs")
    stage = stack_run.one("aws:apigatewayv2/stage:Stage")

    assert log_group.inputs["name"] == f"/aws/vendedlogs/pfmon-{stack_run.stack}-api"
    assert log_group.inputs["retentionInDays"] == RETENTION_DAYS[stack_run.stack]
    assert (
        stage.inputs["accessLogSettings"]["destinationArn"]
        == (log_group.outputs["arn"])
    )


def test_invoke_permissions_scoped(stack_run: StackRun) -> None:
    execution_arn = stack_run.one("aws:apigatewayv2/api:Api").outputs["executionArn"]
    permissions = children(stack_run, "aws:lambda/permission:Permission")

    assert sorted(p.inputs["function"] for p in permissions) == sorted(
        f"pfmon-{family}-{stack_run.stack}" for family in routes.API_FAMILIES
    )
    for permission in permissions:
        assert permission.inputs["principal"] == "apigateway.amazonaws.com"
        assert permission.inputs["action"] == "lambda:InvokeFunction"
        assert permission.inputs["sourceArn"] == f"{execution_arn}/*/*"


def test_api_url_without_slash(stack_run: StackRun) -> None:
    stage = stack_run.one("aws:apigatewayv2/stage:Stage")

    assert stack_run.outputs["apiUrl"] == stage.outputs["invokeUrl"].rstrip("/")
    assert not stack_run.outputs["apiUrl"].endswith("/")


@pytest.mark.parametrize(
    "origins",
    [[], ["*"], ["https://app.pfmon.com/"], ["https://*.pfmon.com"], ["http://x.com"]],
)
def test_origins_rejected(origins: list[str]) -> None:
    with pytest.raises(ValueError, match=r"allowed_origins is empty|is invalid"):
        check_allowed_origins(origins)


def test_origins_accepted() -> None:
    origins = ["https://app.pfmon.com", "http://localhost:5173"]

    assert check_allowed_origins(origins) == origins


# Alarms


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_no_alarms_outside_prod(stack_runs: dict[str, StackRun], stack: str) -> None:
    for type_token in (ALARM, "aws:sns/topic:Topic", "aws:kms/key:Key"):
        assert children(stack_runs[stack], type_token) == [], type_token


def test_prod_alarm_topic_encrypted(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    topic = prod.one("aws:sns/topic:Topic")
    key = prod.one("aws:kms/key:Key", "api-alarms-key")

    assert topic.inputs["name"] == "pfmon-prod-alarms"
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect is True


def test_prod_alarm_key_allows_cloudwatch(stack_runs: dict[str, StackRun]) -> None:
    key = stack_runs["prod"].one("aws:kms/key:Key", "api-alarms-key")
    statements = json.loads(key.inputs["policy"])["Statement"]
    cloudwatch = [
        s
        for s in statements
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]

    assert cloudwatch == [
        {
            "Sid": "CloudWatchPublishesAlarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]
    assert all(s["Action"] != "*" for s in statements)


def test_prod_subscription_is_email(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    subscription = prod.one("aws:sns/topicSubscription:TopicSubscription")
    topic = prod.one("aws:sns/topic:Topic")

    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "ops@pfmon.com"
    assert subscription.inputs["topic"] == topic.outputs["arn"]


def alarms_by_name(run: StackRun) -> dict[str, RecordedResource]:
    return {str(alarm.inputs["name"]): alarm for alarm in children(run, ALARM)}


def test_prod_alarm_set_exact(stack_runs: dict[str, StackRun]) -> None:
    alarms = alarms_by_name(stack_runs["prod"])
    expected = {"pfmon-prod-api-5xx"}
    for family in FAMILIES:
        expected |= {f"pfmon-{family}-prod-errors", f"pfmon-{family}-prod-throttles"}
    for suffix in TABLE_ENV:
        expected |= {
            f"pfmon-prod-{suffix}-read-throttles",
            f"pfmon-prod-{suffix}-write-throttles",
        }

    assert set(alarms) == expected


def test_prod_alarms_notify_topic(stack_runs: dict[str, StackRun]) -> None:
    topic_arn = stack_runs["prod"].one("aws:sns/topic:Topic").outputs["arn"]

    for name, alarm in alarms_by_name(stack_runs["prod"]).items():
        assert alarm.inputs["alarmActions"] == [topic_arn], name
        assert alarm.inputs["statistic"] == "Sum", name
        assert alarm.inputs["period"] == 300, name
        assert alarm.inputs["evaluationPeriods"] == 1, name
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_prod_function_alarm_metrics(stack_runs: dict[str, StackRun]) -> None:
    alarms = alarms_by_name(stack_runs["prod"])

    for family in FAMILIES:
        name = f"pfmon-{family}-prod"
        for suffix, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            alarm = alarms[f"{name}-{suffix}"].inputs
            assert alarm["namespace"] == "AWS/Lambda"
            assert alarm["metricName"] == metric
            assert alarm["dimensions"] == {"FunctionName": name}
            assert alarm["threshold"] == 1


def test_prod_api_5xx_alarm(stack_runs: dict[str, StackRun]) -> None:
    prod = stack_runs["prod"]
    alarm = alarms_by_name(prod)["pfmon-prod-api-5xx"].inputs
    api_id = prod.one("aws:apigatewayv2/stage:Stage").inputs["apiId"]

    assert alarm["namespace"] == "AWS/ApiGateway"
    assert alarm["metricName"] == "5xx"
    assert alarm["dimensions"] == {"ApiId": api_id}
    assert alarm["threshold"] == 5


def test_prod_table_throttle_alarms(stack_runs: dict[str, StackRun]) -> None:
    alarms = alarms_by_name(stack_runs["prod"])

    for suffix in TABLE_ENV:
        table_name = f"pfmon-prod-{suffix}"
        for kind, metric in (
            ("read", "ReadThrottleEvents"),
            ("write", "WriteThrottleEvents"),
        ):
            alarm = alarms[f"{table_name}-{kind}-throttles"].inputs
            assert alarm["namespace"] == "AWS/DynamoDB"
            assert alarm["metricName"] == metric
            assert alarm["dimensions"] == {"TableName": table_name}
            assert alarm["threshold"] == 1
