"""IAM actions that AWS defines with no resource type, so a policy grants them on "*".

Source: the AWS Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html.
Each service's page lists its actions, and an action whose "Resource types" column is
empty accepts only Resource "*" in an IAM policy statement.

The pack's own virtual environment has only pulumi and pulumi-policy, so the list is
written out here. `tests/policy/test_wildcard_only_actions.py` checks every entry
against the IAM definitions that parliament bundles (its `iam_definition.json`, taken
from the same reference). A new entry needs a stack that grants it and the role that
needs it.
"""

from __future__ import annotations

from collections.abc import Mapping

# Action -> the role and the reason it needs the action.
WILDCARD_ONLY_ACTIONS: Mapping[str, str] = {
    # AWS X-Ray. The functions trace in prod, and the X-Ray SDK in a function may
    # ask for sampling rules.
    "xray:PutTraceSegments": "Lambda functions send trace segments",
    "xray:PutTelemetryRecords": "Lambda functions send X-Ray telemetry",
    "xray:GetSamplingRules": "the X-Ray SDK reads the sampling rules",
    "xray:GetSamplingTargets": "the X-Ray SDK reads the sampling targets",
    "xray:GetSamplingStatisticSummaries": "the X-Ray SDK reads sampling statistics",
    # AWS KMS: the CI deploy role creates the stack's keys.
    "kms:CreateKey": "the deploy role creates a key before any key ARN exists",
    "kms:ListAliases": "the CI roles list the aliases of the region",
    # AWS Backup: the deploy role creates the prod backup vault.
    "backup-storage:MountCapsule": "AWS Backup requires it to create a vault",
    # CloudWatch Logs: the API stage's access logs go through a log delivery that
    # the caller creates.
    "logs:DescribeLogGroups": "the CI roles read the stack's log groups",
    "logs:CreateLogDelivery": "the deploy role sets up API access logging",
    "logs:DeleteLogDelivery": "the deploy role removes API access logging",
    "logs:DescribeResourcePolicies": "the deploy role reads the log resource policies",
    "logs:GetLogDelivery": "the deploy role reads the API access log delivery",
    "logs:ListLogDeliveries": "the deploy role lists the log deliveries",
    "logs:PutResourcePolicy": "API access logging writes the log delivery policy",
    "logs:UpdateLogDelivery": "the deploy role changes API access logging",
    # Amazon SNS: a subscription to the prod alarm topic has no resource type.
    "sns:GetSubscriptionAttributes": "the CI roles read the alarm subscriptions",
    "sns:SetSubscriptionAttributes": "the deploy role changes an alarm subscription",
    "sns:Unsubscribe": "the deploy role removes an alarm subscription",
    # Amazon Cognito: the deploy role creates the user pool.
    "cognito-idp:CreateUserPool": "the deploy role creates the user pool",
    # CloudFront, ACM and Route 53: the site and, in prod, its custom domain.
    "cloudfront:CreateOriginAccessControl": "the deploy role creates the site's OAC",
    "acm:RequestCertificate": "the deploy role requests the prod site certificate",
    "route53:ListHostedZones": "the program looks up the hosted zone of domainName",
    "route53:ListHostedZonesByName": "the program looks up the zone by its name",
}

_LOWER_CASE_ACTIONS = frozenset(action.lower() for action in WILDCARD_ONLY_ACTIONS)


def is_wildcard_only(action: str) -> bool:
    """Return whether `action` is listed as having no resource type.

    IAM compares action names without regard to case. A pattern such as
    "xray:Put*" is not listed, so it does not pass.
    """
    return action.lower() in _LOWER_CASE_ACTIONS
