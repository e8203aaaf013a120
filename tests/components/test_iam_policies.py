"""Policy documents of ApiFunctions, checked as plain dicts without Pulumi."""

from __future__ import annotations

import pytest

from components import iam_policies
from components.iam_policies import (
    alarm_key_policy,
    function_policy,
    lambda_trust_policy,
    statement_actions,
    statement_resources,
)
from pfmon_api import routes

ACCOUNT = "111122223333"
TABLE_ARNS = {
    suffix: f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/pfmon-test-{suffix}"
    for suffix in ("UserProfiles", "JournalEntries", "UserCredentials", "AccountData")
}
LOG_GROUP_ARN = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/pfmon-x-test"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd"


def build(
    spec: routes.FunctionSpec, tracing: bool = False
) -> iam_policies.PolicyDocument:
    return function_policy(
        spec,
        table_arns=TABLE_ARNS,
        log_group_arn=LOG_GROUP_ARN,
        credentials_key_arn=KEY_ARN,
        tracing=tracing,
    )


def test_trust_policy_exact() -> None:
    assert lambda_trust_policy(ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LambdaAssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }


def test_profile_policy_exact() -> None:
    assert build(routes.PROFILE) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DynamoDbUserProfiles",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                "Resource": [TABLE_ARNS["UserProfiles"]],
            },
            {
                "Sid": "DynamoDbAccountData",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": [TABLE_ARNS["AccountData"]],
            },
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{LOG_GROUP_ARN}:*"],
            },
        ],
    }


def test_index_access_adds_index_arn() -> None:
    statements = build(routes.STATISTICS)["Statement"]

    assert statements[0] == {
        "Sid": "DynamoDbJournalEntries",
        "Effect": "Allow",
        "Action": ["dynamodb:Query"],
        "Resource": [
            TABLE_ARNS["JournalEntries"],
            f"{TABLE_ARNS['JournalEntries']}/index/*",
        ],
    }


def test_credentials_policy_uses_key() -> None:
    statements = build(routes.CREDENTIALS)["Statement"]

    assert statements[-1] == {
        "Sid": "UseCredentialsKey",
        "Effect": "Allow",
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [KEY_ARN],
        "Condition": {
            "StringEquals": {"kms:EncryptionContext:purpose": "broker-credential"}
        },
    }


@pytest.mark.parametrize(
    "spec",
    [spec for spec in routes.FUNCTIONS if not spec.uses_credentials_key],
    ids=lambda spec: spec.family,
)
def test_other_policies_lack_kms(spec: routes.FunctionSpec) -> None:
    for statement in build(spec, tracing=True)["Statement"]:
        actions = statement_actions(statement)
        assert not [action for action in actions if action.startswith("kms:")]


def test_credentials_key_missing_raises() -> None:
    with pytest.raises(ValueError, match="'credentials' uses the credentials key"):
        function_policy(
            routes.CREDENTIALS,
            table_arns=TABLE_ARNS,
            log_group_arn=LOG_GROUP_ARN,
            credentials_key_arn=None,
        )


def test_missing_table_arn_raises() -> None:
    partial = {"UserProfiles": TABLE_ARNS["UserProfiles"]}

    with pytest.raises(ValueError, match="no ARN for table 'JournalEntries'"):
        function_policy(routes.ENTRIES, table_arns=partial, log_group_arn=LOG_GROUP_ARN)


def test_wildcard_table_arn_raises() -> None:
    wildcard = {**TABLE_ARNS, "UserProfiles": "arn:aws:dynamodb:*:*:table/*"}

    with pytest.raises(ValueError, match="not an ARN without wildcards"):
        function_policy(
            routes.PROFILE, table_arns=wildcard, log_group_arn=LOG_GROUP_ARN
        )


def test_unresolved_log_group_raises() -> None:
    with pytest.raises(ValueError, match="log_group_arn = 'None'"):
        function_policy(routes.PROFILE, table_arns=TABLE_ARNS, log_group_arn="None")


def test_tracing_adds_xray_on_star() -> None:
    statements = build(routes.PROFILE, tracing=True)["Statement"]

    assert statements[-1] == {
        "Sid": "WriteXRayTraces",
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        "Resource": ["*"],
    }


@pytest.mark.parametrize("tracing", [False, True])
@pytest.mark.parametrize("spec", routes.FUNCTIONS, ids=lambda spec: spec.family)
def test_no_wildcard_actions(spec: routes.FunctionSpec, tracing: bool) -> None:
    for statement in build(spec, tracing)["Statement"]:
        for action in statement_actions(statement):
            assert "*" not in action, (spec.family, action)


@pytest.mark.parametrize("tracing", [False, True])
@pytest.mark.parametrize("spec", routes.FUNCTIONS, ids=lambda spec: spec.family)
def test_star_resource_only_xray(spec: routes.FunctionSpec, tracing: bool) -> None:
    for statement in build(spec, tracing)["Statement"]:
        if "*" in statement_resources(statement):
            assert tracing
            assert statement_actions(statement) == list(iam_policies.XRAY_ACTIONS)


def test_alarm_key_policy_exact() -> None:
    assert alarm_key_policy(ACCOUNT, partition="aws-us-gov") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws-us-gov:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchPublishesAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            },
        ],
    }


@pytest.mark.parametrize("account_id", ["", "12345", "12345678901x", "None"])
def test_invalid_account_id_raises(account_id: str) -> None:
    with pytest.raises(ValueError, match="12-digit AWS account id"):
        lambda_trust_policy(account_id)
    with pytest.raises(ValueError, match="12-digit AWS account id"):
        alarm_key_policy(account_id)


def test_statement_fields_as_lists() -> None:
    statement = {"Action": "s3:GetObject", "Resource": ["a", "b"]}

    assert statement_actions(statement) == ["s3:GetObject"]
    assert statement_resources(statement) == ["a", "b"]
    assert statement_actions({}) == []
