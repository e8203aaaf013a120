"""Rules for Cognito, IAM roles and policies, and resource policy principals."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .properties import (
    PolicyDocument,
    actions,
    as_list,
    get_path,
    is_allow,
    is_wildcard_action,
    mappings,
    number,
    parse_document,
    principals,
    resources,
    show_number,
    statements,
)
from .registry import Finding, ResourceRule, ResourceView
from .wildcard_only_actions import is_wildcard_only

USER_POOL = "aws:cognito/userPool:UserPool"
USER_POOL_CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KEY = "aws:kms/key:Key"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"

MIN_PROD_PASSWORD_LENGTH = 12
# Cognito's default, and the maximum that AWS Config's
# cognito-user-pool-password-policy-check rule accepts by default.
MAX_TEMPORARY_PASSWORD_DAYS = 7
MAX_PROD_TOKEN_MINUTES = 60
# Cognito's default token validity unit when tokenValidityUnits is not set.
DEFAULT_TOKEN_UNIT = "hours"  # noqa: S105 - a time unit, not a password
MINUTES_PER_UNIT = {"seconds": 1 / 60, "minutes": 1, "hours": 60, "days": 24 * 60}
AWS_MANAGED_POLICY_MARKER = ":iam::aws:policy/"
# The property of each resource type that contains a resource-based policy.
RESOURCE_POLICY_PROPERTY = {
    KEY: "policy",
    ROLE: "assumeRolePolicy",
    BUCKET_POLICY: "policy",
    TOPIC: "policy",
    TOPIC_POLICY: "policy",
}


# Cognito user pool and app client


def check_mfa_required(resource: ResourceView) -> Iterator[Finding]:
    mode = resource.props.get("mfaConfiguration")
    if mode != "ON":
        yield Finding(
            f"mfaConfiguration is {mode!r}, so users may sign in with a password only.",
            'set mfa_configuration="ON" (the tier\'s mfa: required).',
        )


def check_totp_enabled(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("mfaConfiguration") not in ("ON", "OPTIONAL"):
        yield Finding(
            f"mfaConfiguration is {props.get('mfaConfiguration')!r}, so no user can "
            "add a second factor.",
            'set mfa_configuration to "ON" or "OPTIONAL".',
        )
    if get_path(props, "softwareTokenMfaConfiguration", "enabled") is not True:
        yield Finding(
            "TOTP (software token) MFA is off.",
            'set software_token_mfa_configuration={"enabled": True}.',
        )


def _password_policy(resource: ResourceView) -> Mapping[str, Any]:
    policy = resource.props.get("passwordPolicy")
    return policy if isinstance(policy, Mapping) else {}


def check_password_complexity(resource: ResourceView) -> Iterator[Finding]:
    policy = _password_policy(resource)
    for key, argument in (
        ("requireUppercase", "require_uppercase"),
        ("requireLowercase", "require_lowercase"),
        ("requireNumbers", "require_numbers"),
    ):
        if policy.get(key) is not True:
            yield Finding(
                f"passwordPolicy.{key} is not true.",
                f"set password_policy.{argument}=True.",
            )
    days = number(policy.get("temporaryPasswordValidityDays"))
    if days is not None and days > MAX_TEMPORARY_PASSWORD_DAYS:
        yield Finding(
            f"temporary passwords stay valid {days:g} days.",
            "set password_policy.temporary_password_validity_days to at most "
            f"{MAX_TEMPORARY_PASSWORD_DAYS}.",
        )


def check_password_strength(resource: ResourceView) -> Iterator[Finding]:
    policy = _password_policy(resource)
    length = number(policy.get("minimumLength"))
    if length is None or length < MIN_PROD_PASSWORD_LENGTH:
        yield Finding(
            f"passwordPolicy.minimumLength is {show_number(length)}, below "
            f"{MIN_PROD_PASSWORD_LENGTH}.",
            f"set password_policy.minimum_length={MIN_PROD_PASSWORD_LENGTH} (the "
            "tier's password_min_length).",
        )
    if policy.get("requireSymbols") is not True:
        yield Finding(
            "passwordPolicy.requireSymbols is not true.",
            "set password_policy.require_symbols=True (the tier's "
            "password_require_symbols).",
        )


def check_pool_deletion_protection(resource: ResourceView) -> Iterator[Finding]:
    setting = resource.props.get("deletionProtection")
    if setting != "ACTIVE":
        yield Finding(
            f"deletionProtection is {setting!r}, so DeleteUserPool succeeds and every "
            "user account is lost.",
            'set deletion_protection="ACTIVE" (the tier\'s deletion_protection).',
        )
    if not resource.protect:
        yield Finding(
            "the Pulumi protect option is off, so `pulumi destroy` deletes the pool.",
            "create the pool with protect=True and retain_on_delete=True.",
        )


def check_client_hardening(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if props.get("generateSecret") is True:
        yield Finding(
            "the app client has a secret, which a browser app cannot keep.",
            "set generate_secret=False.",
        )
    if props.get("enableTokenRevocation") is not True:
        yield Finding(
            "token revocation is off, so a refresh token stays valid after sign-out.",
            "set enable_token_revocation=True.",
        )
    setting = props.get("preventUserExistenceErrors")
    if setting != "ENABLED":
        yield Finding(
            f"preventUserExistenceErrors is {setting!r}, so sign-in errors reveal "
            "which e-mail addresses have accounts.",
            'set prevent_user_existence_errors="ENABLED".',
        )


def _token_minutes(props: Mapping[str, Any], token: str) -> float | None:
    value = number(props.get(f"{token}TokenValidity"))
    if value is None:
        return None
    unit = get_path(props, "tokenValidityUnits", f"{token}Token") or DEFAULT_TOKEN_UNIT
    return value * MINUTES_PER_UNIT.get(str(unit), MINUTES_PER_UNIT["days"])


def check_token_validity(resource: ResourceView) -> Iterator[Finding]:
    for token in ("access", "id"):
        minutes = _token_minutes(resource.props, token)
        # Cognito's default for both tokens is 1 hour.
        if minutes is not None and minutes > MAX_PROD_TOKEN_MINUTES:
            yield Finding(
                f"{token} tokens stay valid {minutes:g} minutes, so a stolen token "
                "works that long.",
                f"set {token}_token_validity to at most {MAX_PROD_TOKEN_MINUTES} "
                "minutes (the tier's token_validity_minutes).",
            )


# IAM identity policies


def _identity_documents(resource: ResourceView) -> Iterator[tuple[str, Any]]:
    """Yield (where, raw document) for each identity policy a resource carries."""
    if resource.type in (POLICY, ROLE_POLICY):
        yield "policy", resource.props.get("policy")
    elif resource.type == ROLE:
        for index, inline in enumerate(mappings(resource.props.get("inlinePolicies"))):
            yield f"inlinePolicies[{index}]", inline.get("policy")


def _parsed_documents(
    resource: ResourceView,
) -> Iterator[tuple[str, PolicyDocument | None]]:
    for where, raw in _identity_documents(resource):
        yield where, parse_document(raw)


def check_no_wildcard_actions(resource: ResourceView) -> Iterator[Finding]:
    for where, document in _parsed_documents(resource):
        if document is None:
            yield Finding(
                f"{where} is not a JSON policy document.",
                "build the document as a dict and pass json.dumps(document).",
            )
            continue
        for statement in filter(is_allow, statements(document)):
            wildcards = [a for a in actions(statement) if is_wildcard_action(a)]
            if wildcards:
                yield Finding(
                    f"{where} statement {statement.get('Sid', '')!r} allows "
                    f"{wildcards}, every action of a service or of AWS.",
                    "list the exact actions the function calls.",
                )
            if "NotAction" in statement:
                yield Finding(
                    f"{where} statement {statement.get('Sid', '')!r} allows "
                    "NotAction, every action except the listed ones.",
                    "replace NotAction with Action and the exact actions.",
                )


def check_wildcard_resource(resource: ResourceView) -> Iterator[Finding]:
    for where, document in _parsed_documents(resource):
        if document is None:
            continue
        for statement in filter(is_allow, statements(document)):
            sid = statement.get("Sid", "")
            if "NotResource" in statement:
                yield Finding(
                    f"{where} statement {sid!r} allows NotResource, every resource "
                    "except the listed ones.",
                    "replace NotResource with Resource and the ARNs the role needs.",
                )
            if "*" not in resources(statement):
                continue
            scoped = [a for a in actions(statement) if not is_wildcard_only(a)]
            if scoped:
                yield Finding(
                    f"{where} statement {sid!r} allows {scoped} on every resource "
                    '(Resource "*"), but AWS defines resource types for them.',
                    "name the ARNs of the stack's resources in Resource, or move the "
                    "actions to their own statement. Only the actions listed in "
                    "policy/pfmon_rules/wildcard_only_actions.py, which have no "
                    'resource type, may use "*".',
                )


def check_role_policies(resource: ResourceView) -> Iterator[Finding]:
    props = resource.props
    if resource.type == ROLE:
        if mappings(props.get("inlinePolicies")):
            yield Finding(
                "the role has inline policies.",
                "move them to an aws.iam.Policy attached with RolePolicyAttachment.",
            )
        if as_list(props.get("managedPolicyArns")):
            yield Finding(
                "the role lists managedPolicyArns, which conflicts with "
                "RolePolicyAttachment.",
                "attach each policy with an aws.iam.RolePolicyAttachment instead.",
            )
    elif resource.type == ROLE_POLICY:
        yield Finding(
            "a RolePolicy is an inline policy, which IAM cannot reuse or version.",
            "create an aws.iam.Policy and attach it with RolePolicyAttachment.",
        )
    elif AWS_MANAGED_POLICY_MARKER in str(props.get("policyArn")):
        yield Finding(
            f"the role gets the AWS managed policy {props.get('policyArn')}, whose "
            "permissions AWS may widen at any time.",
            "attach a customer-managed aws.iam.Policy scoped to the role's resources.",
        )


# Resource-based policies


def check_no_public_principal(resource: ResourceView) -> Iterator[Finding]:
    key = RESOURCE_POLICY_PROPERTY[resource.type]
    raw = resource.props.get(key)
    if raw is None:
        return
    document = parse_document(raw)
    if document is None:
        yield Finding(
            f"{key} is not a JSON policy document.",
            "build the document as a dict and pass json.dumps(document).",
        )
        return
    for statement in filter(is_allow, statements(document)):
        if "*" in principals(statement):
            yield Finding(
                f"{key} statement {statement.get('Sid', '')!r} allows the principal "
                '"*", which is anyone.',
                "name the account root, role or AWS service that needs access.",
            )
        if "NotPrincipal" in statement:
            yield Finding(
                f"{key} statement {statement.get('Sid', '')!r} allows NotPrincipal, "
                "every principal except the listed ones.",
                "replace NotPrincipal with Principal and the principals that need "
                "access.",
            )


RULES = (
    ResourceRule(
        name="cognito-mfa-required",
        description="The Cognito user pool requires MFA.",
        resource_types=frozenset({USER_POOL}),
        severity=Severity.HIGH,
        check=check_mfa_required,
    ),
    ResourceRule(
        name="cognito-totp-enabled",
        description="The Cognito user pool offers TOTP MFA.",
        resource_types=frozenset({USER_POOL}),
        severity=Severity.HIGH,
        check=check_totp_enabled,
    ),
    ResourceRule(
        name="cognito-password-complexity",
        description="Passwords need upper case, lower case and numbers, and "
        "temporary passwords expire within 7 days.",
        resource_types=frozenset({USER_POOL}),
        severity=Severity.HIGH,
        check=check_password_complexity,
    ),
    ResourceRule(
        name="cognito-password-strength",
        description=f"Passwords have at least {MIN_PROD_PASSWORD_LENGTH} "
        "characters and a symbol.",
        resource_types=frozenset({USER_POOL}),
        severity=Severity.HIGH,
        check=check_password_strength,
    ),
    ResourceRule(
        name="cognito-deletion-protection",
        description="The Cognito user pool has deletion protection and Pulumi protect.",
        resource_types=frozenset({USER_POOL}),
        severity=Severity.HIGH,
        check=check_pool_deletion_protection,
    ),
    ResourceRule(
        name="cognito-client-hardening",
        description="The SPA app client has no secret, revokes tokens and hides "
        "whether a user exists.",
        resource_types=frozenset({USER_POOL_CLIENT}),
        severity=Severity.HIGH,
        check=check_client_hardening,
    ),
    ResourceRule(
        name="cognito-client-token-validity",
        description=f"Access and ID tokens expire within {MAX_PROD_TOKEN_MINUTES} "
        "minutes.",
        resource_types=frozenset({USER_POOL_CLIENT}),
        severity=Severity.MEDIUM,
        check=check_token_validity,
    ),
    ResourceRule(
        name="iam-policy-no-wildcard-action",
        description='No IAM identity policy allows "*", "<service>:*" or NotAction.',
        resource_types=frozenset({POLICY, ROLE_POLICY, ROLE}),
        severity=Severity.CRITICAL,
        check=check_no_wildcard_actions,
    ),
    ResourceRule(
        name="iam-policy-wildcard-resource-wildcard-only-actions",
        description='IAM identity policies allow Resource "*" only for actions '
        "that AWS defines with no resource type, and never use NotResource.",
        resource_types=frozenset({POLICY, ROLE_POLICY, ROLE}),
        severity=Severity.HIGH,
        check=check_wildcard_resource,
    ),
    ResourceRule(
        name="iam-role-no-inline-or-managed-policies",
        description="Roles get permissions only from customer-managed policies "
        "attached with RolePolicyAttachment.",
        resource_types=frozenset({ROLE, ROLE_POLICY, ROLE_POLICY_ATTACHMENT}),
        severity=Severity.HIGH,
        check=check_role_policies,
    ),
    ResourceRule(
        name="resource-policy-no-public-principal",
        description="No key policy, trust policy, bucket policy or topic policy "
        'allows the principal "*" or uses NotPrincipal.',
        resource_types=frozenset(RESOURCE_POLICY_PROPERTY),
        severity=Severity.CRITICAL,
        check=check_no_public_principal,
    ),
)
