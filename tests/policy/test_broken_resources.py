"""Each rule on a deliberately broken copy of a real prod resource.

Every case copies the prod run, breaks one resource and expects the rule to name that
resource (type and logical name) and a fix. Cases on the CI roles copy the prod run
with deploy access instead.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from policy.pfmon_rules import RESOURCE_RULES, RULE_NAMES, STACK_RULES
from tests.policy.adapter import resource_rule_messages, stack_rule_messages
from tools.mock_runtime import RecordedResource, StackRun

Props = dict[str, Any]
PROD = "prod"
PROD_WITH_CI_ROLES = "prod-deploy-access"


@dataclass(frozen=True)
class Break:
    """One broken copy: the rule, the prod resource to break, and how."""

    rule: str
    target: str
    # Changes the resource's inputs, and the same change reaches its outputs.
    change: Callable[[Props], None] | None = None
    # Drops the Pulumi protect option instead.
    unprotect: bool = False
    # A stack case may instead remove a whole resource, such as a bucket's public
    # access block, and expect the finding on the target, the bucket.
    remove: str | None = None
    # The resource the finding names, when it is not the target.
    named: str | None = None
    # The run to copy: prod as its stack file defines it, or prod with its CI roles.
    run: str = PROD

    @property
    def case_id(self) -> str:
        suffix = "" if self.run == PROD else f"@{self.run}"
        return f"{self.rule}:{self.target}{suffix}"


def _set(path: str, value: Any) -> Callable[[Props], None]:
    """Return a change that sets a dotted property path, creating levels."""
    keys = path.split(".")

    def change(props: Props) -> None:
        level = props
        for key in keys[:-1]:
            level = level.setdefault(key, {})
        level[keys[-1]] = value

    return change


def _delete(key: str) -> Callable[[Props], None]:
    def change(props: Props) -> None:
        del props[key]

    return change


def _edit_document(
    key: str, edit: Callable[[dict[str, Any]], None]
) -> Callable[[Props], None]:
    """Return a change that edits the JSON policy document in `props[key]`."""

    def change(props: Props) -> None:
        document = json.loads(props[key])
        edit(document)
        props[key] = json.dumps(document)

    return change


def _add_statement(statement: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["Statement"].append(statement)


def _set_every_statement(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            statement[key] = value

    return edit


def _edit_statement(
    sid: str, edit: Callable[[dict[str, Any]], None]
) -> Callable[[dict[str, Any]], None]:
    """Return a document edit that changes the statement with this Sid."""

    def change(document: dict[str, Any]) -> None:
        matching = [s for s in document["Statement"] if s.get("Sid") == sid]
        assert len(matching) == 1, f"no statement {sid!r} to break"
        edit(matching[0])

    return change


def _add_action(action: str) -> Callable[[dict[str, Any]], None]:
    return lambda statement: statement["Action"].append(action)


def _not_resource(statement: dict[str, Any]) -> None:
    statement["NotResource"] = statement.pop("Resource")


def _set_source_arn(document: dict[str, Any]) -> None:
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            statement["Condition"]["StringEquals"]["AWS:SourceArn"] = (
                "arn:aws:cloudfront::123456789012:distribution/EOTHERSTACK"
            )


def _drop_tls_deny(document: dict[str, Any]) -> None:
    document["Statement"] = [s for s in document["Statement"] if s["Effect"] != "Deny"]


def _drop_credentials_table(props: Props) -> None:
    props["resources"] = [
        arn for arn in props["resources"] if not arn.endswith("-UserCredentials")
    ]


def _first_behavior(key: str, value: Any) -> Callable[[Props], None]:
    return _set(f"defaultCacheBehavior.{key}", value)


def _drop_origin_access_control(props: Props) -> None:
    del props["origins"][0]["originAccessControlId"]


BREAKS = (
    Break(
        "apigw-route-jwt-authorizer",
        "api-route-get-profile",
        _set("authorizationType", "NONE"),
    ),
    Break(
        "apigw-route-jwt-authorizer",
        "api-route-get-profile",
        _set("routeKey", "$default"),
    ),
    Break(
        "apigw-route-jwt-authorizer", "api-route-get-profile", _delete("authorizerId")
    ),
    Break(
        "apigw-authorizer-cognito-jwt",
        "api-jwt-authorizer",
        _set("jwtConfiguration.audiences", []),
    ),
    Break(
        "apigw-authorizer-cognito-jwt",
        "api-jwt-authorizer",
        _set("jwtConfiguration.issuer", "https://issuer.example.com"),
    ),
    Break(
        "apigw-stage-throttling",
        "api-default-stage",
        _set("defaultRouteSettings", {"throttlingBurstLimit": 1000}),
    ),
    Break(
        "apigw-stage-json-access-logs",
        "api-default-stage",
        _set("accessLogSettings.format", "$context.requestId $context.status"),
    ),
    Break(
        "apigw-stage-json-access-logs",
        "api-default-stage",
        _delete("accessLogSettings"),
    ),
    Break(
        "apigw-cors-no-wildcard",
        "api-http-api",
        _set("corsConfiguration.allowOrigins", ["*"]),
    ),
    Break(
        "apigw-cors-https-origins",
        "api-http-api",
        _set("corsConfiguration.allowOrigins", ["http://app.pfmon.com"]),
    ),
    Break(
        "lambda-permission-source-arn",
        "api-profile-invoke-permission",
        _delete("sourceArn"),
    ),
    Break(
        "lambda-permission-source-arn",
        "api-profile-invoke-permission",
        _set("principal", "*"),
    ),
    Break(
        "lambda-permission-source-arn",
        "auth-post-confirmation-permission",
        _delete("sourceArn"),
    ),
    Break("lambda-runtime-python313", "api-profile", _set("runtime", "python3.9")),
    Break("lambda-memory-timeout", "api-profile", _delete("memorySize")),
    Break("lambda-memory-timeout", "api-profile", _delete("timeout")),
    Break("lambda-tracing-active", "api-profile", _delete("tracingConfig")),
    Break(
        "lambda-reserved-concurrency",
        "api-profile",
        _delete("reservedConcurrentExecutions"),
    ),
    Break("log-group-retention-set", "api-profile-logs", _delete("retentionInDays")),
    Break(
        "log-group-retention-one-year", "api-access-logs", _set("retentionInDays", 90)
    ),
    Break("cloudwatch-alarm-actions", "api-api-5xx-alarm", _set("alarmActions", [])),
    Break(
        "cloudwatch-alarm-actions", "api-api-5xx-alarm", _set("actionsEnabled", False)
    ),
    Break(
        "sns-topic-encrypted",
        "api-alarms-topic",
        _set("kmsMasterKeyId", "alias/aws/sns"),
    ),
    Break("sns-topic-encrypted", "api-alarms-topic", _delete("kmsMasterKeyId")),
    Break("lambda-error-alarms", "api-profile", remove="api-profile-errors-alarm"),
    Break(
        "dynamodb-on-demand", "data-journal-entries", _set("billingMode", "PROVISIONED")
    ),
    Break(
        "dynamodb-pitr",
        "data-journal-entries",
        _set("pointInTimeRecovery.enabled", False),
    ),
    Break(
        "dynamodb-deletion-protection",
        "data-journal-entries",
        _set("deletionProtectionEnabled", False),
    ),
    Break("dynamodb-deletion-protection", "data-journal-entries", unprotect=True),
    Break(
        "dynamodb-credentials-cmk",
        "data-user-credentials",
        _delete("serverSideEncryption"),
    ),
    Break(
        "dynamodb-backup-plan", "data-user-credentials", remove="data-backup-selection"
    ),
    Break(
        "dynamodb-backup-plan",
        "data-backup-selection",
        _drop_credentials_table,
        named="data-user-credentials",
    ),
    Break("kms-key-rotation", "data-credentials-key", _set("enableKeyRotation", False)),
    Break("kms-key-rotation", "data-credentials-key", _set("deletionWindowInDays", 7)),
    Break("kms-key-protected", "data-credentials-key", unprotect=True),
    Break(
        "cognito-mfa-required", "auth-user-pool", _set("mfaConfiguration", "OPTIONAL")
    ),
    Break(
        "cognito-totp-enabled",
        "auth-user-pool",
        _set("softwareTokenMfaConfiguration.enabled", False),
    ),
    Break(
        "cognito-password-complexity",
        "auth-user-pool",
        _set("passwordPolicy.requireNumbers", False),
    ),
    Break(
        "cognito-password-complexity",
        "auth-user-pool",
        _set("passwordPolicy.temporaryPasswordValidityDays", 30),
    ),
    Break(
        "cognito-password-strength",
        "auth-user-pool",
        _set("passwordPolicy.minimumLength", 8),
    ),
    Break(
        "cognito-password-strength",
        "auth-user-pool",
        _set("passwordPolicy.requireSymbols", False),
    ),
    Break(
        "cognito-deletion-protection",
        "auth-user-pool",
        _set("deletionProtection", "INACTIVE"),
    ),
    Break("cognito-deletion-protection", "auth-user-pool", unprotect=True),
    Break("cognito-client-hardening", "auth-web-client", _set("generateSecret", True)),
    Break(
        "cognito-client-hardening",
        "auth-web-client",
        _set("enableTokenRevocation", False),
    ),
    Break(
        "cognito-client-hardening",
        "auth-web-client",
        _set("preventUserExistenceErrors", "LEGACY"),
    ),
    Break(
        "cognito-client-token-validity",
        "auth-web-client",
        _set("tokenValidityUnits.idToken", "hours"),
    ),
    Break(
        "iam-policy-no-wildcard-action",
        "api-profile-policy",
        _edit_document(
            "policy",
            _add_statement(
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:*",
                    "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/x",
                }
            ),
        ),
    ),
    Break(
        "iam-policy-no-wildcard-action",
        "api-profile-policy",
        _edit_document(
            "policy",
            _add_statement({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        ),
    ),
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "api-profile-policy",
        _edit_document("policy", _set_every_statement("Resource", "*")),
    ),
    # A pattern is not a listed action, even when every action it matches is.
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "api-profile-policy",
        _edit_document(
            "policy",
            _add_statement({"Effect": "Allow", "Action": "xray:Put*", "Resource": "*"}),
        ),
    ),
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "api-profile-policy",
        _edit_document("policy", _set_every_statement("NotResource", ["x"])),
    ),
    # kms:ScheduleKeyDeletion acts on a key ARN, so it must not join kms:CreateKey.
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "ci-deploy-data-policy",
        _edit_document(
            "policy",
            _edit_statement("KmsCreateKeys", _add_action("kms:ScheduleKeyDeletion")),
        ),
        run=PROD_WITH_CI_ROLES,
    ),
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "ci-preview-site-policy",
        _edit_document(
            "policy",
            _edit_statement("Route53ListZones", _add_action("route53:GetHostedZone")),
        ),
        run=PROD_WITH_CI_ROLES,
    ),
    Break(
        "iam-policy-wildcard-resource-wildcard-only-actions",
        "ci-deploy-functions-policy",
        _edit_document("policy", _edit_statement("LambdaFunctions", _not_resource)),
        run=PROD_WITH_CI_ROLES,
    ),
    Break(
        "iam-role-no-inline-or-managed-policies",
        "api-profile-policy-attachment",
        _set(
            "policyArn",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ),
    ),
    Break(
        "iam-role-no-inline-or-managed-policies",
        "api-profile-role",
        _set("inlinePolicies", [{"name": "extra", "policy": "{}"}]),
    ),
    Break(
        "resource-policy-no-public-principal",
        "data-credentials-key",
        _edit_document("policy", _set_every_statement("Principal", {"AWS": "*"})),
    ),
    Break(
        "resource-policy-no-public-principal",
        "api-profile-role",
        _edit_document("assumeRolePolicy", _set_every_statement("Principal", "*")),
    ),
    Break(
        "s3-public-access-block",
        "site-public-access-block",
        _set("restrictPublicBuckets", False),
    ),
    Break(
        "s3-bucket-owner-enforced",
        "site-ownership",
        _set("rule.objectOwnership", "ObjectWriter"),
    ),
    Break(
        "s3-bucket-access-controls", "site-bucket", remove="site-public-access-block"
    ),
    Break("s3-bucket-access-controls", "site-bucket", remove="site-ownership"),
    Break(
        "s3-bucket-policy-tls-and-oac",
        "site-bucket-policy",
        _edit_document("policy", _set_source_arn),
    ),
    Break(
        "s3-bucket-policy-tls-and-oac",
        "site-bucket-policy",
        _edit_document("policy", _drop_tls_deny),
    ),
    Break(
        "s3-bucket-policy-tls-and-oac",
        "site-bucket-policy",
        _edit_document(
            "policy",
            _add_statement(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::pfmon-prod-site-123456789012/*",
                }
            ),
        ),
    ),
    Break("s3-bucket-policy-tls-and-oac", "site-bucket", remove="site-bucket-policy"),
    Break("s3-bucket-versioning-lifecycle", "site-bucket", remove="site-versioning"),
    Break("s3-bucket-versioning-lifecycle", "site-bucket", remove="site-lifecycle"),
    Break(
        "cloudfront-https-only",
        "site-distribution",
        _first_behavior("viewerProtocolPolicy", "allow-all"),
    ),
    Break(
        "cloudfront-origin-access-control",
        "site-distribution",
        _drop_origin_access_control,
    ),
    Break(
        "cloudfront-response-headers-policy",
        "site-distribution",
        _first_behavior("responseHeadersPolicyId", ""),
    ),
    Break(
        "cloudfront-hsts",
        "site-security-headers",
        _set(
            "securityHeadersConfig.strictTransportSecurity.accessControlMaxAgeSec", 300
        ),
    ),
    Break(
        "cloudfront-default-root-object",
        "site-distribution",
        _delete("defaultRootObject"),
    ),
    Break(
        "cloudfront-custom-certificate-tls",
        "site-distribution",
        _set("viewerCertificate.minimumProtocolVersion", "TLSv1"),
    ),
    Break(
        "cloudfront-custom-certificate-tls",
        "site-distribution",
        _set("viewerCertificate", {"cloudfrontDefaultCertificate": True}),
    ),
)


def _broken_copy(run: StackRun, case: Break) -> list[RecordedResource]:
    records = copy.deepcopy(run.resources)
    if case.remove is not None:
        removed = [r for r in records if r.name == case.remove]
        assert len(removed) == 1, f"no resource {case.remove!r} to remove"
        return [r for r in records if r.name != case.remove]
    target = next(r for r in records if r.name == case.target)
    if case.unprotect:
        target.protect = False
    if case.change is not None:
        # Outputs are the inputs plus what AWS computes, so rebuild them from both.
        computed = {k: v for k, v in target.outputs.items() if k not in target.inputs}
        case.change(target.inputs)
        target.outputs = {**computed, **copy.deepcopy(target.inputs)}
    return records


def _messages(case: Break, records: list[RecordedResource]) -> list[str]:
    for rule in RESOURCE_RULES:
        if rule.name == case.rule:
            return resource_rule_messages(rule, records)
    for stack_rule in STACK_RULES:
        if stack_rule.name == case.rule:
            return stack_rule_messages(stack_rule, records)
    raise AssertionError(f"no rule named {case.rule!r}")


def test_every_rule_has_broken_case() -> None:
    assert {case.rule for case in BREAKS} == set(RULE_NAMES)


@pytest.mark.parametrize("case", BREAKS, ids=lambda case: case.case_id)
def test_rule_rejects_broken_copy(
    case: Break, stack_runs: dict[str, StackRun], access_runs: dict[str, StackRun]
) -> None:
    prod = {PROD: stack_runs["prod"], PROD_WITH_CI_ROLES: access_runs["prod"]}[case.run]
    target = prod.named(case.named or case.target)

    messages = _messages(case, _broken_copy(prod, case))

    named = [m for m in messages if f"{target.type} {target.name!r}:" in m]
    assert named, messages
    assert all(" Fix: " in message for message in named)
