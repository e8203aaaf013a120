"""Rules for Lambda functions, their log groups and the alarms that watch them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from .properties import as_list, get_path, number, show_number
from .registry import (
    Finding,
    ResourceRule,
    ResourceView,
    StackRule,
    resources_of_type,
)

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"

RUNTIME = "python3.13"
# Checkov CKV_AWS_338 and the AWS Config rule cw-loggroup-retention-period-check
# both ask for at least one year.
MIN_PROD_RETENTION_DAYS = 365
# The AWS managed SNS key, whose key policy cannot let CloudWatch publish alarms.
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def check_runtime(resource: ResourceView) -> Iterator[Finding]:
    runtime = resource.props.get("runtime")
    if runtime != RUNTIME:
        yield Finding(
            f"runtime is {runtime!r}, not {RUNTIME}, the newest Python runtime that "
            "pulumi-aws 7 offers.",
            f'set runtime="{RUNTIME}" in every environment.',
        )


def check_memory_and_timeout(resource: ResourceView) -> Iterator[Finding]:
    for key, argument in (("memorySize", "memory_size"), ("timeout", "timeout")):
        if number(resource.props.get(key)) is None:
            yield Finding(
                f"{key} is not set, so Lambda applies its default (128 MB, 3 s).",
                f"set {argument} from the function's FunctionSpec.",
            )


def check_tracing(resource: ResourceView) -> Iterator[Finding]:
    mode = get_path(resource.props, "tracingConfig", "mode")
    if mode != "Active":
        yield Finding(
            f"X-Ray tracing mode is {mode!r}, so requests are not traced.",
            'set tracing_config={"mode": "Active"} and allow the X-Ray put actions '
            "in the function's policy.",
        )


def check_reserved_concurrency(resource: ResourceView) -> Iterator[Finding]:
    reserved = number(resource.props.get("reservedConcurrentExecutions"))
    if reserved is None or reserved <= 0:
        yield Finding(
            f"reservedConcurrentExecutions is {show_number(reserved)}, so one "
            "function can use the account's whole concurrency, and a value of 0 "
            "stops every call.",
            "set the stack's reservedConcurrency config to a number of executions, "
            "if the account's concurrency quota allows it.",
        )


def _retention_days(resource: ResourceView) -> float | None:
    return number(resource.props.get("retentionInDays"))


def check_retention_set(resource: ResourceView) -> Iterator[Finding]:
    days = _retention_days(resource)
    if days is None or days <= 0:
        yield Finding(
            "retentionInDays is not set, so CloudWatch keeps the logs forever.",
            "set retention_in_days to the tier's log_retention_days.",
        )


def check_retention_one_year(resource: ResourceView) -> Iterator[Finding]:
    days = _retention_days(resource)
    if days is not None and 0 < days < MIN_PROD_RETENTION_DAYS:
        yield Finding(
            f"retentionInDays is {days:g}, less than {MIN_PROD_RETENTION_DAYS} days.",
            f"set retention_in_days to at least {MIN_PROD_RETENTION_DAYS}.",
        )


def check_alarm_actions(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("actionsEnabled") is False:
        yield Finding(
            "actionsEnabled is false, so the alarm notifies nobody.",
            "remove actions_enabled=False.",
        )
    if not as_list(props.get("alarmActions")):
        yield Finding(
            "the alarm has no alarmActions, so it notifies nobody.",
            "set alarm_actions to the ARN of the alarm topic.",
        )


def check_topic_encrypted(resource: ResourceView) -> Iterator[Finding]:
    key = resource.props.get("kmsMasterKeyId")
    if not key:
        yield Finding(
            "the topic is not encrypted with KMS.",
            "set kms_master_key_id to a customer-managed key whose policy lets "
            "cloudwatch.amazonaws.com use it.",
        )
    elif key == AWS_MANAGED_SNS_KEY:
        yield Finding(
            f"the topic uses {AWS_MANAGED_SNS_KEY}, whose key policy cannot let "
            "CloudWatch publish alarms to it.",
            "set kms_master_key_id to a customer-managed key whose policy lets "
            "cloudwatch.amazonaws.com use it.",
        )


def _watched_functions(alarms: Sequence[PolicyResource]) -> set[str]:
    watched: set[str] = set()
    for alarm in alarms:
        props = alarm.props
        if props.get("namespace") != "AWS/Lambda":
            continue
        if props.get("metricName") != "Errors":
            continue
        name = get_path(props, "dimensions", "FunctionName")
        if isinstance(name, str):
            watched.add(name)
    return watched


def check_error_alarms(
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[PolicyResource, Finding]]:
    watched = _watched_functions(resources_of_type(resources, METRIC_ALARM))
    for function in resources_of_type(resources, FUNCTION):
        if function.props.get("name") not in watched:
            yield (
                function,
                Finding(
                    "no CloudWatch alarm watches the function's Errors metric.",
                    "create an aws.cloudwatch.MetricAlarm on AWS/Lambda Errors with "
                    "dimensions={'FunctionName': <function name>} and alarm_actions "
                    "set to the alarm topic.",
                ),
            )


RULES = (
    ResourceRule(
        name="lambda-runtime-python313",
        description=f"Every Lambda function runs on {RUNTIME}.",
        resource_types=frozenset({FUNCTION}),
        severity=Severity.MEDIUM,
        check=check_runtime,
    ),
    ResourceRule(
        name="lambda-memory-timeout",
        description="Every Lambda function sets its memory size and timeout.",
        resource_types=frozenset({FUNCTION}),
        severity=Severity.MEDIUM,
        check=check_memory_and_timeout,
    ),
    ResourceRule(
        name="lambda-tracing-active",
        description="Every Lambda function has active X-Ray tracing.",
        resource_types=frozenset({FUNCTION}),
        severity=Severity.LOW,
        check=check_tracing,
    ),
    ResourceRule(
        name="lambda-reserved-concurrency",
        description="Every Lambda function reserves concurrency, which caps its "
        "cost and its share of the account's concurrency.",
        resource_types=frozenset({FUNCTION}),
        severity=Severity.LOW,
        check=check_reserved_concurrency,
    ),
    ResourceRule(
        name="log-group-retention-set",
        description="Every log group sets a retention period.",
        resource_types=frozenset({LOG_GROUP}),
        severity=Severity.MEDIUM,
        check=check_retention_set,
    ),
    ResourceRule(
        name="log-group-retention-one-year",
        description=f"Every log group keeps its logs at least "
        f"{MIN_PROD_RETENTION_DAYS} days.",
        resource_types=frozenset({LOG_GROUP}),
        severity=Severity.LOW,
        check=check_retention_one_year,
    ),
    ResourceRule(
        name="cloudwatch-alarm-actions",
        description="Every CloudWatch alarm has enabled actions.",
        resource_types=frozenset({METRIC_ALARM}),
        severity=Severity.MEDIUM,
        check=check_alarm_actions,
    ),
    ResourceRule(
        name="sns-topic-encrypted",
        description="Every SNS topic is encrypted with a customer-managed KMS key.",
        resource_types=frozenset({TOPIC}),
        severity=Severity.MEDIUM,
        check=check_topic_encrypted,
    ),
)

STACK_RULES = (
    StackRule(
        name="lambda-error-alarms",
        description="A CloudWatch alarm watches the Errors metric of every Lambda "
        "function.",
        severity=Severity.MEDIUM,
        check=check_error_alarms,
    ),
)
