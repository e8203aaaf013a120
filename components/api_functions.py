"""ApiFunctions: PFMON's Lambda functions, their IAM roles and the HTTP API in front.

The constructor builds one function per `routes.FUNCTIONS` spec, each with its own log
group, execution role and customer-managed policy. `serve_http_api` then adds the HTTP
API with a Cognito JWT authorizer on every route, once the user pool exists. The pool
needs the post-confirmation function first, which is why the API comes in a second
step. Monitoring follows the tier: X-Ray tracing and alarms to an SNS topic when
`tier.alarms` and `tier.tracing` are on, logs with retention in every tier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components import iam_policies
from components.data_tables import DataTables
from components.packaging import FunctionPackage, build_package
from components.settings import StackSettings
from pfmon_api import routes
from pfmon_api import tables as schema

if TYPE_CHECKING:
    from components.auth_pool import AuthPool

TYPE_TOKEN = "pfmon:components:ApiFunctions"  # noqa: S105 - a type token, not a secret

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
# AWS publishes the Powertools for AWS Lambda (Python) layers from this account.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"
# Lambda's advanced logging controls set AWS_LAMBDA_LOG_LEVEL, which Powertools reads
# before POWERTOOLS_LOG_LEVEL, so both carry the same level.
APPLICATION_LOG_LEVEL = "INFO"
SYSTEM_LOG_LEVEL = "WARN"
CREDENTIALS_KEY_ENV_VAR = "CREDENTIALS_KEY_ARN"

# An HTTP API integration times out after at most 30 seconds, so a function behind
# the API must finish sooner to return its own error instead of the gateway's.
MAX_API_TIMEOUT_SECONDS = 29
CORS_ALLOW_HEADERS = ("authorization", "content-type")
CORS_MAX_AGE_SECONDS = 600
# Origins the browser sends: https with a host and optional port, or plain http on
# the loopback interface for a local dev server. No path, no wildcard.
_ORIGIN = re.compile(
    r"https://[a-z0-9.-]+(?::\d{1,5})?|http://(?:localhost|127\.0\.0\.1)(?::\d{1,5})?",
    re.IGNORECASE,
)

# One JSON object per request. Claims appear only after the authorizer accepts a token.
ACCESS_LOG_FORMAT: Mapping[str, str] = {
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

# Every alarm sums its metric over 5 minutes and fires on the first period that
# breaches. Missing data counts as not breaching, because these metrics report
# nothing for a period without events.
ALARM_PERIOD_SECONDS = 300
ALARM_EVALUATION_PERIODS = 1
# Any unhandled error or timeout of a function is worth a look.
FUNCTION_ERRORS_THRESHOLD = 1
# A throttled invocation means the reserved concurrency is too low for the load.
FUNCTION_THROTTLES_THRESHOLD = 1
# Function errors have their own alarm, so the API alarm allows a few transient
# gateway errors and catches integration failures such as a missing permission.
API_5XX_THRESHOLD = 5
# On-demand tables throttle only under unusual load (above twice the previous peak,
# a hot partition key or a table quota), so every throttled request is worth a look.
TABLE_THROTTLES_THRESHOLD = 1
# Deletion waits 30 days, the maximum, so a deletion by mistake can be cancelled.
KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ApiFunctionsArgs:
    """Inputs of ApiFunctions: the stack settings and the tables the functions use."""

    settings: StackSettings
    tables: DataTables


@dataclass(frozen=True)
class _AlarmMetric:
    """One CloudWatch metric watched by an alarm, and when the alarm fires."""

    namespace: str
    metric_name: str
    threshold: int
    description: str


class ApiFunctions(pulumi.ComponentResource):
    """Lambda functions with least-privilege roles and the HTTP API in front of them."""

    def __init__(
        self,
        name: str,
        args: ApiFunctionsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        _check_function_specs(routes.FUNCTIONS, routes.ROUTES)
        _check_tables(args.tables, routes.FUNCTIONS)

        self._name = name
        self._settings = args.settings
        self._tables = args.tables
        invoke_options = pulumi.InvokeOutputOptions(parent=self)
        self._account_id = aws.get_caller_identity_output(
            opts=invoke_options
        ).account_id
        self._partition = aws.get_partition_output(opts=invoke_options).partition

        # Built once per program run, before any function, so every function gets
        # the same archive and hash.
        self.package: FunctionPackage = build_package()
        self.log_groups = {
            spec.family: self._create_log_group(spec) for spec in routes.FUNCTIONS
        }
        self.roles: dict[str, aws.iam.Role] = {}
        self.policies: dict[str, aws.iam.Policy] = {}
        self._policy_attachments: dict[str, aws.iam.RolePolicyAttachment] = {}
        for spec in routes.FUNCTIONS:
            self._create_role(spec)
        self.functions = {
            spec.family: self._create_function(spec) for spec in routes.FUNCTIONS
        }
        self.post_confirmation = self.functions[routes.POST_CONFIRMATION.family]

        self.api: aws.apigatewayv2.Api | None = None
        self._api_url: pulumi.Output[str] | None = None

    @property
    def api_url(self) -> pulumi.Output[str]:
        """Invoke URL of the API's $default stage, without a trailing slash."""
        if self._api_url is None:
            raise RuntimeError(
                "ApiFunctions.api_url is unknown before the API exists: call "
                "serve_http_api(auth, allowed_origins) first"
            )
        return self._api_url

    def serve_http_api(
        self, auth: AuthPool, allowed_origins: pulumi.Input[Sequence[str]]
    ) -> None:
        """Create the HTTP API: JWT authorizer, routes, stage, permissions, alarms.

        `allowed_origins` is the exact CORS allow-list, such as the site's origin. An
        empty list, a wildcard or an origin with a path fails the deployment.
        """
        if self.api is not None:
            raise RuntimeError(
                f"serve_http_api was already called on ApiFunctions {self._name!r}: "
                "call it once per component"
            )
        api = self._create_api(allowed_origins)
        self.api = api
        authorizer = self._create_authorizer(api, auth)
        integrations = self._create_integrations(api)
        self.http_routes = self._create_routes(api, authorizer, integrations)
        self.stage = self._create_stage(api)
        self.permissions = self._create_invoke_permissions(api)
        if self._settings.tier.alarms:
            self._create_alarms(api)

        self._api_url = self.stage.invoke_url.apply(lambda url: url.rstrip("/"))
        self.register_outputs(
            {
                "apiUrl": self._api_url,
                "apiId": api.id,
                "functionNames": {
                    family: function.name for family, function in self.functions.items()
                },
            }
        )

    # Functions

    def _child_options(self, **options: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _create_log_group(self, spec: routes.FunctionSpec) -> aws.cloudwatch.LogGroup:
        # Created before the function, or Lambda creates it with no retention.
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{spec.family}-logs",
            name=f"/aws/lambda/{self._settings.function_name(spec.family)}",
            retention_in_days=self._settings.tier.log_retention_days,
            opts=self._child_options(),
        )

    def _create_role(self, spec: routes.FunctionSpec) -> None:
        settings = self._settings
        role = aws.iam.Role(
            f"{self._name}-{spec.family}-role",
            name=settings.role_name(spec.family),
            description=f"Execution role of {settings.function_name(spec.family)}",
            assume_role_policy=self._account_id.apply(
                lambda account_id: json.dumps(
                    iam_policies.lambda_trust_policy(account_id)
                )
            ),
            opts=self._child_options(),
        )
        policy = aws.iam.Policy(
            f"{self._name}-{spec.family}-policy",
            name=f"{settings.function_name(spec.family)}-policy",
            description=f"Permissions of {settings.function_name(spec.family)}",
            policy=self._function_policy_document(spec),
            opts=self._child_options(),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-{spec.family}-policy-attachment",
            role=role.name,
            policy_arn=policy.arn,
            opts=self._child_options(),
        )
        self.roles[spec.family] = role
        self.policies[spec.family] = policy
        self._policy_attachments[spec.family] = attachment

    def _function_policy_document(
        self, spec: routes.FunctionSpec
    ) -> pulumi.Output[str]:
        table_arns = pulumi.Output.all(
            **{
                access.table.suffix: self._tables.table_arns[access.table.suffix]
                for access in spec.access
            }
        )
        key_arn: pulumi.Input[str | None] = (
            self._tables.credentials_key_arn if spec.uses_credentials_key else None
        )
        tracing = self._settings.tier.tracing

        def render(values: dict[str, Any]) -> str:
            document = iam_policies.function_policy(
                spec,
                table_arns=values["table_arns"],
                log_group_arn=values["log_group_arn"],
                credentials_key_arn=values["key_arn"],
                tracing=tracing,
            )
            return json.dumps(document)

        return pulumi.Output.all(
            table_arns=table_arns,
            log_group_arn=self.log_groups[spec.family].arn,
            key_arn=key_arn,
        ).apply(render)

    def _create_function(self, spec: routes.FunctionSpec) -> aws.lambda_.Function:
        settings = self._settings
        tier = settings.tier
        log_group = self.log_groups[spec.family]
        tracing_config = (
            aws.lambda_.FunctionTracingConfigArgs(mode="Active")
            if tier.tracing
            else None
        )
        return aws.lambda_.Function(
            f"{self._name}-{spec.family}",
            name=settings.function_name(spec.family),
            description=spec.description,
            role=self.roles[spec.family].arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=spec.handler,
            memory_size=spec.memory_mb,
            timeout=spec.timeout_seconds,
            code=pulumi.FileArchive(str(self.package.path)),
            source_code_hash=self.package.source_code_hash,
            layers=[self._powertools_layer_arn()],
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=self._environment(spec)
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=log_group.name,
                application_log_level=APPLICATION_LOG_LEVEL,
                system_log_level=SYSTEM_LOG_LEVEL,
            ),
            tracing_config=tracing_config,
            # None leaves the function on the account's unreserved pool.
            reserved_concurrent_executions=tier.reserved_concurrency,
            opts=self._child_options(
                depends_on=[log_group, self._policy_attachments[spec.family]]
            ),
        )

    def _powertools_layer_arn(self) -> str:
        settings = self._settings
        return (
            f"arn:aws:lambda:{settings.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"{POWERTOOLS_LAYER_NAME}:{settings.powertools_layer_version}"
        )

    def _environment(self, spec: routes.FunctionSpec) -> dict[str, pulumi.Input[str]]:
        variables: dict[str, pulumi.Input[str]] = {
            schema.TABLE_ENV_VARS[access.table.suffix]: self._tables.table_names[
                access.table.suffix
            ]
            for access in spec.access
        }
        if spec.uses_credentials_key:
            variables[CREDENTIALS_KEY_ENV_VAR] = self._tables.credentials_key_arn
        variables["POWERTOOLS_SERVICE_NAME"] = (
            f"{self._settings.project_name}-{spec.family}"
        )
        variables["POWERTOOLS_LOG_LEVEL"] = APPLICATION_LOG_LEVEL
        variables["PFMON_ENVIRONMENT"] = self._settings.environment
        return variables

    # HTTP API

    def _create_api(
        self, allowed_origins: pulumi.Input[Sequence[str]]
    ) -> aws.apigatewayv2.Api:
        methods = sorted({route.method for route in routes.ROUTES})
        return aws.apigatewayv2.Api(
            f"{self._name}-http-api",
            name=self._settings.resource_name("api"),
            protocol_type="HTTP",
            description="PFMON API: every route needs a Cognito JWT",
            cors_configuration={
                "allow_origins": pulumi.Output.from_input(allowed_origins).apply(
                    check_allowed_origins
                ),
                "allow_methods": methods,
                "allow_headers": list(CORS_ALLOW_HEADERS),
                "max_age": CORS_MAX_AGE_SECONDS,
            },
            opts=self._child_options(),
        )

    def _create_authorizer(
        self, api: aws.apigatewayv2.Api, auth: AuthPool
    ) -> aws.apigatewayv2.Authorizer:
        # API Gateway checks the signature, expiry, issuer and audience of the token.
        return aws.apigatewayv2.Authorizer(
            f"{self._name}-jwt-authorizer",
            api_id=api.id,
            name=self._settings.resource_name("cognito-jwt"),
            authorizer_type="JWT",
            identity_sources=["$request.header.Authorization"],
            jwt_configuration={"issuer": auth.issuer, "audiences": [auth.client_id]},
            opts=self._child_options(),
        )

    def _create_integrations(
        self, api: aws.apigatewayv2.Api
    ) -> dict[str, aws.apigatewayv2.Integration]:
        return {
            family: aws.apigatewayv2.Integration(
                f"{self._name}-{family}-integration",
                api_id=api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=self.functions[family].invoke_arn,
                payload_format_version="2.0",
                opts=self._child_options(),
            )
            for family in routes.API_FAMILIES
        }

    def _create_routes(
        self,
        api: aws.apigatewayv2.Api,
        authorizer: aws.apigatewayv2.Authorizer,
        integrations: Mapping[str, aws.apigatewayv2.Integration],
    ) -> dict[str, aws.apigatewayv2.Route]:
        return {
            route.route_key: aws.apigatewayv2.Route(
                f"{self._name}-route-{route_slug(route)}",
                api_id=api.id,
                route_key=route.route_key,
                target=integrations[route.family].id.apply(
                    lambda integration_id: f"integrations/{integration_id}"
                ),
                authorization_type="JWT",
                authorizer_id=authorizer.id,
                opts=self._child_options(),
            )
            for route in routes.ROUTES
        }

    def _create_stage(self, api: aws.apigatewayv2.Api) -> aws.apigatewayv2.Stage:
        tier = self._settings.tier
        access_logs = aws.cloudwatch.LogGroup(
            f"{self._name}-access-logs",
            name=f"/aws/vendedlogs/{self._settings.resource_name('api')}",
            retention_in_days=tier.log_retention_days,
            opts=self._child_options(),
        )
        return aws.apigatewayv2.Stage(
            f"{self._name}-default-stage",
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            # Setting default_route_settings without both limits leaves the missing
            # one at 0, and then API Gateway rejects every request with 429.
            default_route_settings={
                "throttling_burst_limit": tier.throttle_burst_limit,
                "throttling_rate_limit": tier.throttle_rate_limit,
            },
            access_log_settings={
                "destination_arn": access_logs.arn,
                "format": json.dumps(ACCESS_LOG_FORMAT),
            },
            opts=self._child_options(),
        )

    def _create_invoke_permissions(
        self, api: aws.apigatewayv2.Api
    ) -> dict[str, aws.lambda_.Permission]:
        # <execution ARN>/<stage>/<route>: any stage and route of this API only.
        source_arn = api.execution_arn.apply(lambda arn: f"{arn}/*/*")
        return {
            family: aws.lambda_.Permission(
                f"{self._name}-{family}-invoke-permission",
                action="lambda:InvokeFunction",
                function=self.functions[family].name,
                principal="apigateway.amazonaws.com",
                source_arn=source_arn,
                opts=self._child_options(),
            )
            for family in routes.API_FAMILIES
        }

    # Alarms

    def _create_alarms(self, api: aws.apigatewayv2.Api) -> None:
        topic = self._create_alarm_topic()
        for spec in routes.FUNCTIONS:
            self._create_function_alarms(spec, topic)
        self._create_alarm(
            f"{self._name}-api-5xx-alarm",
            alarm_name=f"{self._settings.resource_name('api')}-5xx",
            metric=_AlarmMetric(
                namespace="AWS/ApiGateway",
                metric_name="5xx",
                threshold=API_5XX_THRESHOLD,
                description="The HTTP API returned 5xx server errors",
            ),
            dimensions={"ApiId": api.id},
            topic=topic,
        )
        for table in schema.TABLES:
            self._create_table_alarms(table, topic)

    def _create_alarm_topic(self) -> aws.sns.Topic:
        settings = self._settings
        if not settings.alarm_email:
            raise ValueError(
                "monitoring alarms needs pfmon:alarmEmail: run pulumi config set "
                f"alarmEmail <address> -s {settings.environment}"
            )
        topic_name = settings.resource_name("alarms")
        # CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS
        # key, because that key's policy cannot grant it access.
        key = aws.kms.Key(
            f"{self._name}-alarms-key",
            description=f"Encrypts the alarm topic {topic_name}",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(self._account_id, self._partition).apply(
                lambda values: json.dumps(
                    iam_policies.alarm_key_policy(values[0], partition=values[1])
                )
            ),
            opts=self._child_options(protect=settings.tier.deletion_protection),
        )
        self.alarm_topic = aws.sns.Topic(
            f"{self._name}-alarms-topic",
            name=topic_name,
            kms_master_key_id=key.arn,
            opts=self._child_options(),
        )
        # The address must confirm the subscription before it receives alarms.
        aws.sns.TopicSubscription(
            f"{self._name}-alarms-email",
            topic=self.alarm_topic.arn,
            protocol="email",
            endpoint=settings.alarm_email,
            opts=self._child_options(),
        )
        return self.alarm_topic

    def _create_function_alarms(
        self, spec: routes.FunctionSpec, topic: aws.sns.Topic
    ) -> None:
        function_name = self._settings.function_name(spec.family)
        metrics = {
            "errors": _AlarmMetric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                threshold=FUNCTION_ERRORS_THRESHOLD,
                description=f"{function_name} failed or timed out",
            ),
            "throttles": _AlarmMetric(
                namespace="AWS/Lambda",
                metric_name="Throttles",
                threshold=FUNCTION_THROTTLES_THRESHOLD,
                description=f"{function_name} was throttled",
            ),
        }
        for suffix, metric in metrics.items():
            self._create_alarm(
                f"{self._name}-{spec.family}-{suffix}-alarm",
                alarm_name=f"{function_name}-{suffix}",
                metric=metric,
                dimensions={"FunctionName": self.functions[spec.family].name},
                topic=topic,
            )

    def _create_table_alarms(
        self, table: schema.TableDefinition, topic: aws.sns.Topic
    ) -> None:
        table_name = self._tables.table_names[table.suffix]
        metrics = {
            "read-throttles": _AlarmMetric(
                namespace="AWS/DynamoDB",
                metric_name="ReadThrottleEvents",
                threshold=TABLE_THROTTLES_THRESHOLD,
                description=f"Reads of table {table.suffix} were throttled",
            ),
            "write-throttles": _AlarmMetric(
                namespace="AWS/DynamoDB",
                metric_name="WriteThrottleEvents",
                threshold=TABLE_THROTTLES_THRESHOLD,
                description=f"Writes to table {table.suffix} were throttled",
            ),
        }
        for suffix, metric in metrics.items():
            self._create_alarm(
                f"{self._name}-{table.logical_id}-{suffix}-alarm",
                alarm_name=pulumi.Output.concat(table_name, f"-{suffix}"),
                metric=metric,
                dimensions={"TableName": table_name},
                topic=topic,
            )

    def _create_alarm(
        self,
        logical_name: str,
        alarm_name: pulumi.Input[str],
        metric: _AlarmMetric,
        dimensions: Mapping[str, pulumi.Input[str]],
        topic: aws.sns.Topic,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            logical_name,
            name=alarm_name,
            alarm_description=metric.description,
            namespace=metric.namespace,
            metric_name=metric.metric_name,
            dimensions=dict(dimensions),
            statistic="Sum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=ALARM_EVALUATION_PERIODS,
            threshold=metric.threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[topic.arn],
            opts=self._child_options(),
        )


def route_slug(route: routes.Route) -> str:
    """Return a route's part of a logical name, such as get-accounts-accountid."""
    words = re.findall(r"[a-z0-9]+", f"{route.method} {route.path}".lower())
    return "-".join(words)


def check_allowed_origins(origins: Sequence[str]) -> list[str]:
    """Validate CORS origins and return them as a list.

    Raises ValueError for an empty list or an origin with a path or a wildcard.
    """
    if not origins:
        raise ValueError(
            "allowed_origins is empty, so no browser could call the API: pass the "
            "site's origin, such as https://app.pfmon.com"
        )
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                f"allowed origin {origin!r} is invalid: expected https://<host>[:port] "
                "or http://localhost[:port], without a path or wildcard"
            )
    return list(origins)


def _check_function_specs(
    specs: Sequence[routes.FunctionSpec], route_table: Sequence[routes.Route]
) -> None:
    families = {spec.family for spec in specs}
    for route in route_table:
        if route.family not in families:
            raise ValueError(
                f"route {route.route_key!r} names function family {route.family!r}, "
                "which has no FunctionSpec: add it to routes.FUNCTIONS, which has "
                f"{sorted(families)}"
            )
    api_families = {route.family for route in route_table}
    for spec in specs:
        if (
            spec.family in api_families
            and spec.timeout_seconds > MAX_API_TIMEOUT_SECONDS
        ):
            raise ValueError(
                f"function {spec.family!r} has timeout_seconds={spec.timeout_seconds}, "
                f"above the HTTP API limit: use at most {MAX_API_TIMEOUT_SECONDS}"
            )
        if not spec.handler.startswith("pfmon_api."):
            raise ValueError(
                f"function {spec.family!r} has handler {spec.handler!r}, which is "
                "not in the deployed package: use pfmon_api.handlers.<module>.handler"
            )


def _check_tables(tables: DataTables, specs: Sequence[routes.FunctionSpec]) -> None:
    for spec in specs:
        for access in spec.access:
            suffix = access.table.suffix
            if suffix not in tables.table_names or suffix not in tables.table_arns:
                raise ValueError(
                    f"function {spec.family!r} uses table {suffix!r}, which "
                    "DataTables does not expose: create the table in DataTables, "
                    f"which has {sorted(tables.table_names)}"
                )
            if suffix not in schema.TABLE_ENV_VARS:
                raise ValueError(
                    f"table {suffix!r} has no environment variable: add it to "
                    "pfmon_api.tables.TABLE_ENV_VARS"
                )
