"""IAM and KMS policy documents of ApiFunctions, built as dicts from plain strings.

Nothing here creates a Pulumi resource, so tests and policy linters can import these
functions and inspect the exact documents that the program deploys. The component
calls them inside `Output.all(...).apply(...)` once every ARN is known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pfmon_api import routes
from pfmon_api.routes import FunctionSpec

PolicyDocument = dict[str, Any]

POLICY_VERSION = "2012-10-17"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
CREDENTIALS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
# X-Ray defines no resource types for these actions, so IAM accepts only "*" for them.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# Permissions CloudWatch needs to publish alarms to a KMS-encrypted SNS topic.
ALARM_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")

_ACCOUNT_ID = re.compile(r"\d{12}")


def lambda_trust_policy(account_id: str) -> PolicyDocument:
    """Build the trust policy of a function's execution role.

    Only the Lambda service may assume the role, and only for functions of this
    account (the `aws:SourceAccount` condition guards against the confused deputy).
    """
    _require_account_id(account_id)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "LambdaAssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def function_policy(
    spec: FunctionSpec,
    table_arns: Mapping[str, str],
    log_group_arn: str,
    credentials_key_arn: str | None = None,
    tracing: bool = False,
) -> PolicyDocument:
    """Build the customer-managed policy of one function's execution role.

    The policy allows only the DynamoDB actions of `spec.access` on those tables,
    plus their indexes where the access includes them. It also allows writing to the
    function's own log group, the credentials key for the function that uses it, and
    X-Ray when `tracing` is on. `table_arns` maps table suffixes such as
    "UserProfiles" to table ARNs. Raises `ValueError` when an ARN the spec needs is
    missing or contains a wildcard.
    """
    statements = [
        _table_statement(
            access.table.suffix, access.actions, access.indexes, table_arns
        )
        for access in spec.access
    ]
    statements.append(
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [f"{_require_arn(log_group_arn, 'log_group_arn')}:*"],
        }
    )
    if spec.uses_credentials_key:
        if not credentials_key_arn:
            raise ValueError(
                f"function {spec.family!r} uses the credentials key but "
                "credentials_key_arn is empty: pass DataTables.credentials_key_arn"
            )
        statements.append(
            {
                "Sid": "UseCredentialsKey",
                "Effect": "Allow",
                "Action": list(CREDENTIALS_KEY_ACTIONS),
                "Resource": [_require_arn(credentials_key_arn, "credentials_key_arn")],
                # A stolen role session still cannot use the key for anything but
                # sealing and opening broker credentials.
                "Condition": {
                    "StringEquals": {
                        "kms:EncryptionContext:purpose": routes.CREDENTIALS_KEY_PURPOSE
                    }
                },
            }
        )
    if tracing:
        statements.append(
            {
                "Sid": "WriteXRayTraces",
                "Effect": "Allow",
                "Action": list(XRAY_ACTIONS),
                "Resource": ["*"],
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def alarm_key_policy(account_id: str, partition: str = "aws") -> PolicyDocument:
    """Build the key policy of the KMS key that encrypts the alarm topic.

    The account statement is the AWS default key policy: it lets IAM policies in this
    account manage and use the key, so deleting a role cannot leave the key
    unmanageable. CloudWatch gets only what publishing to an encrypted topic needs,
    for alarms of this account.
    """
    _require_account_id(account_id)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchPublishesAlarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": list(ALARM_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


def statement_actions(statement: Mapping[str, Any]) -> list[str]:
    """Return a statement's actions as a list, whether a string or a list."""
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def statement_resources(statement: Mapping[str, Any]) -> list[str]:
    """Return a statement's resources as a list, whether a string or a list."""
    resources = statement.get("Resource", [])
    return [resources] if isinstance(resources, str) else list(resources)


def _table_statement(
    suffix: str,
    actions: tuple[str, ...],
    indexes: bool,
    table_arns: Mapping[str, str],
) -> PolicyDocument:
    table_arn = table_arns.get(suffix)
    if not table_arn:
        raise ValueError(
            f"table_arns has no ARN for table {suffix!r}: pass the ARNs of "
            f"DataTables.table_arns, which has {sorted(table_arns)}"
        )
    _require_arn(table_arn, f"table_arns[{suffix!r}]")
    resources = [table_arn]
    if indexes:
        resources.append(f"{table_arn}/index/*")
    return {
        "Sid": f"DynamoDb{suffix}",
        "Effect": "Allow",
        "Action": list(dict.fromkeys(actions)),
        "Resource": resources,
    }


def _require_arn(value: str, name: str) -> str:
    if not value.startswith("arn:") or "*" in value:
        raise ValueError(
            f"{name} = {value!r} is not an ARN without wildcards: pass the ARN output "
            "of the resource"
        )
    return value


def _require_account_id(account_id: str) -> None:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(
            f"account_id = {account_id!r} is invalid: expected the 12-digit AWS "
            "account id from aws.get_caller_identity"
        )
