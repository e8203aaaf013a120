"""Offline IAM lint of every policy document each stack creates.

The documents are the JSON strings in the recorded inputs: IAM policies, role trust
policies, KMS key policies, the S3 bucket policy and SNS topic policies if any. Each
stack is linted as its stack file defines it and again with its CI roles
(`DeployAccess`, config as `tests/policy/access.py` sets it). parliament, with its
community auditors, reviews each document offline. Explicit checks cover what
parliament rates LOW or does not flag: wildcard actions, Resource "*" on actions that
have a resource type, privilege-escalation actions, trust policies, and writes by the
preview role.

parliament reads every document as an identity policy, so some findings are accepted
where that reading is wrong, each by `accepted_reason`:

- MALFORMED "neither Resource nor NotResource" on a role trust policy, which has no
  Resource element because the role itself is the resource.
- PERMISSIONS_MANAGEMENT_ACTIONS on a key policy, when only statements for the account
  root grant the actions. Such a statement delegates access to the account's IAM
  policies, as AWS's default key policy does, and grants nothing by itself. The IAM
  policies are linted here too.
- PERMISSIONS_MANAGEMENT_ACTIONS for kms:CreateGrant in an identity policy, when every
  statement that grants it requires kms:GrantIsForAWSResource, so only an AWS service
  integration (DynamoDB and AWS Backup here) can create the grant.
- UNKNOWN_CONDITION_FOR_ACTION for a condition key of the action's resource type, such
  as kms:ResourceAliases for kms:Decrypt. parliament looks only at the keys listed
  with the action itself.
- UNKNOWN_FEDERATION_SOURCE for GitHub's OIDC provider in the CI roles' trust
  policies. parliament knows only Cognito, Amazon, Facebook, Google and SAML providers.

The CI deploy role exists to create and change the stack's resources, so it holds
actions that the escalation checks flag: it passes roles to Lambda, writes the
functions' code and their roles' policies, and sets resource policies.
`CI_ROLE_ALLOWANCES` accepts each such action only in the CI roles' own policies,
only on resources that the naming contract names (or, where AWS generates the id, on
the listed resource type), and only under the listed condition. Every other policy
stays under the strict checks.
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.settings import StackSettings
from tests.conftest import STACKS
from tests.policy.access import OIDC_PROVIDER_ARN, REPOSITORY, deploy_access_config
from tests.policy.iam_reference import action_definition as reference_action
from tools.mock_runtime import ACCOUNT_ID, RecordedResource, StackRun, run_stack

with warnings.catch_warnings():
    # parliament 1.6.4 imports pkg_resources, which warns that it is deprecated.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import parliament
    from parliament import analyze_policy_string, enhance_finding, override_config
    from parliament.finding import Finding

Document = Mapping[str, Any]
Statement = Mapping[str, Any]

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Resource type -> (document kind, input property with the JSON document).
DOCUMENT_PROPERTIES = {
    POLICY: ("identity", "policy"),
    "aws:iam/rolePolicy:RolePolicy": ("identity", "policy"),
    ROLE: ("trust", "assumeRolePolicy"),
    "aws:kms/key:Key": ("key", "policy"),
    "aws:s3/bucketPolicy:BucketPolicy": ("bucket", "policy"),
    "aws:sns/topicPolicy:TopicPolicy": ("topic", "policy"),
    "aws:sns/topic:Topic": ("topic", "policy"),
}
# Resource types whose policy property is optional.
OPTIONAL_DOCUMENTS = {"aws:sns/topic:Topic"}
# parliament's severities, lowest first.
SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
FAILING_SEVERITY = SEVERITIES.index("MEDIUM")
ACCOUNT_ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
TRUST_POLICY_MALFORMED = "Statement contains neither Resource nor NotResource"
UNKNOWN_CONDITION = re.compile(r"Unknown condition (\S+) for action (\S+)")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
CI_ROLES = ("deploy", "preview")
# Actions with a partial wildcard that a document may grant. CloudWatch needs every
# GenerateDataKey variant to publish alarms to a KMS-encrypted SNS topic.
ALLOWED_PARTIAL_WILDCARDS = frozenset({"kms:GenerateDataKey*"})
# Actions that let a principal gain permissions it was not given: change IAM, act as
# another role, or run code under a role it passes. parliament's PRIVILEGE_ESCALATION
# auditor flags only combinations of them, so here each one counts on its own.
ESCALATION_ACTIONS = (
    "iam:PassRole",
    "iam:Create*",
    "iam:Put*",
    "iam:Attach*",
    "iam:Update*",
    "iam:Add*",
    "iam:Set*",
    "sts:AssumeRole",
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:AddPermission",
    "lambda:CreateEventSourceMapping",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "cloudformation:CreateStack",
    "ec2:RunInstances",
    "glue:CreateDevEndpoint",
    "glue:UpdateDevEndpoint",
)
# parliament findings that name actions a CI role allowance may cover.
ALLOWANCE_ISSUES = frozenset(
    {"PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION", "CREDENTIALS_EXPOSURE"}
)
# The preview role only reads: actions named Get*, Describe* or List*, and these.
PREVIEW_READ_VERBS = ("Get", "Describe", "List")
DOCUMENTED_PREVIEW_READS = {
    # API Gateway names its actions after HTTP methods, and GET only reads.
    "apigateway:get": "API Gateway's read action",
}
# Pulumi's awskms secrets provider decrypts the stack's data key for its config
# secrets, so the preview role may decrypt with the secrets key and no other key.
PREVIEW_SECRETS_DECRYPT = "kms:decrypt"
# Reads of table items. Pull requests run code with the preview role's credentials,
# and the tables hold every trader's journal and encrypted broker credentials.
TABLE_ITEM_READS = frozenset(
    {
        "dynamodb:batchgetitem",
        "dynamodb:getitem",
        "dynamodb:getrecords",
        "dynamodb:partiqlselect",
        "dynamodb:query",
        "dynamodb:scan",
    }
)


@dataclass(frozen=True)
class PolicyText:
    """One policy document of one resource, as the program passes it to AWS."""

    kind: str
    resource_type: str
    resource_name: str
    text: str
    # The CI role ("deploy" or "preview") whose trust or permissions this is, or "".
    ci_role: str = ""
    settings: StackSettings | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return f"{self.kind} policy of {self.resource_type} {self.resource_name}"

    def document(self) -> Document:
        document = json.loads(self.text)
        assert isinstance(document, dict), self.label
        return document


@pytest.fixture(scope="module", autouse=True)
def community_severities() -> None:
    """Load the severities of parliament's community auditors, as its CLI does."""
    override = Path(parliament.__file__).parent / "community_auditors"
    override_config(str(override / "config_override.yaml"))


# Runs: each stack from its stack file, and with its CI roles


@pytest.fixture(scope="module")
def access_runs() -> dict[str, StackRun]:
    return {stack: run_stack(stack, deploy_access_config(stack)) for stack in STACKS}


LINT_RUNS = [(stack, False) for stack in STACKS] + [(stack, True) for stack in STACKS]


@pytest.fixture(
    params=LINT_RUNS,
    ids=[f"{stack}-ci-roles" if ci else stack for stack, ci in LINT_RUNS],
)
def lint_run(
    request: pytest.FixtureRequest,
    stack_runs: dict[str, StackRun],
    access_runs: dict[str, StackRun],
) -> StackRun:
    """Return one stack's run, once without and once with its CI roles."""
    stack, with_ci_roles = request.param
    return (access_runs if with_ci_roles else stack_runs)[stack]


def stack_settings(run: StackRun) -> StackSettings:
    settings = run.program["settings"]
    assert isinstance(settings, StackSettings)
    return settings


def _ci_role_of(run: StackRun, record: RecordedResource) -> str:
    """Return which CI role a role or policy belongs to, by name and attachment."""
    settings = stack_settings(run)
    name = str(record.inputs.get("name", ""))
    for purpose in CI_ROLES:
        role_name = settings.resource_name(purpose)
        if record.type == ROLE and name == role_name:
            return purpose
        if record.type == POLICY and re.fullmatch(rf"{role_name}-[a-z]+", name):
            attached_to = [
                a.inputs["role"]
                for a in run.of_type(ATTACHMENT)
                if a.inputs["policyArn"] == record.outputs["arn"]
            ]
            if attached_to and set(attached_to) == {role_name}:
                return purpose
    return ""


def collect_documents(run: StackRun) -> list[PolicyText]:
    """Return every policy document of a stack run, inline role policies included."""
    settings = stack_settings(run)
    documents: list[PolicyText] = []
    for record in run.resources:
        if record.type not in DOCUMENT_PROPERTIES:
            continue
        kind, key = DOCUMENT_PROPERTIES[record.type]
        text = record.inputs.get(key)
        if text is None and record.type in OPTIONAL_DOCUMENTS:
            continue
        assert isinstance(text, str), f"{record.type} {record.name} has no {key}"
        ci_role = _ci_role_of(run, record)
        documents.append(
            PolicyText(kind, record.type, record.name, text, ci_role, settings)
        )
        for inline in record.inputs.get("inlinePolicies") or []:
            documents.append(
                PolicyText(
                    "identity", record.type, record.name, inline["policy"], "", settings
                )
            )
    return documents


# Statement readers


def _statements(document: Document) -> list[Statement]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | Mapping) else list(value)


def _actions(statement: Statement) -> list[str]:
    return [str(action) for action in _as_list(statement.get("Action"))]


def _resources(statement: Statement) -> list[str]:
    return [str(resource) for resource in _as_list(statement.get("Resource"))]


def _condition(statement: Statement, operator: str, key: str) -> list[str]:
    block = statement.get("Condition", {}).get(operator, {})
    return [str(value) for value in _as_list(block.get(key))]


def _principal_values(statement: Statement) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return [str(v) for values in principal.values() for v in _as_list(values)]
    return [str(value) for value in _as_list(principal)]


def _is_account_root_statement(statement: Statement) -> bool:
    principal = statement.get("Principal")
    return (
        isinstance(principal, Mapping)
        and _principal_values(statement) == [ACCOUNT_ROOT]
        and list(principal) == ["AWS"]
    )


def _matches(action: str, pattern: str) -> bool:
    """Return whether two IAM action patterns can name the same action."""
    action, pattern = action.lower(), pattern.lower()
    return fnmatch.fnmatchcase(action, pattern) or fnmatch.fnmatchcase(pattern, action)


def _granting_statements(document: Document, action: str) -> list[Statement]:
    return [
        statement
        for statement in _statements(document)
        if statement.get("Effect") == "Allow"
        and any(_matches(granted, action) for granted in _actions(statement))
    ]


def _requires_aws_resource_grant(statement: Statement) -> bool:
    condition = statement.get("Condition", {}).get("Bool", {})
    return str(condition.get("kms:GrantIsForAWSResource")).lower() == "true"


# The CI deploy role's allowances


def contract_arns(settings: StackSettings) -> dict[str, tuple[str, ...]]:
    """Return the ARN patterns of the stack's resources that the allowances name.

    The names come from the naming contract (`StackSettings`), not from the CI
    policies, so a policy that widens its resources no longer matches. "keys" and
    "user-pools" cover every resource of the type in the account and region, because
    AWS generates their ids. The patterns use "*" and never "?".
    """
    region, iam = settings.region, f"arn:aws:iam::{ACCOUNT_ID}"
    function_roles = f"{iam}:role/{settings.role_name('*')}"
    backup_role = f"{iam}:role/{settings.resource_name('backup-role')}"
    function_policies = f"{iam}:policy/{settings.function_name('*')}-policy"
    backup_policy = f"{iam}:policy/{settings.resource_name('backup-policy')}"
    return {
        "function-roles": (function_roles,),
        "backup-role": (backup_role,),
        "stack-roles": (function_roles, backup_role),
        "stack-policies": (function_policies, backup_policy),
        "functions": (
            f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:"
            f"{settings.function_name('*')}",
        ),
        "topics": (f"arn:aws:sns:{region}:{ACCOUNT_ID}:{settings.prefix}-*",),
        "site-bucket": (f"arn:aws:s3:::{settings.resource_name('site')}-{ACCOUNT_ID}",),
        "keys": (f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/*",),
        "user-pools": (f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/*",),
        "any": ("*",),
    }


def _covered(resource: str, patterns: Sequence[str]) -> bool:
    """Return whether every ARN that `resource` can match also matches a pattern."""
    return any(fnmatch.fnmatchcase(resource, pattern) for pattern in patterns)


ConditionCheck = Callable[[Statement, StackSettings], bool]


def _no_condition(statement: Statement, settings: StackSettings) -> bool:
    return True


def _passed_to(service: str) -> ConditionCheck:
    def check(statement: Statement, settings: StackSettings) -> bool:
        return _condition(statement, "StringEquals", "iam:PassedToService") == [service]

    return check


def _attaches_stack_policies(statement: Statement, settings: StackSettings) -> bool:
    policies = _condition(statement, "ArnLike", "iam:PolicyARN")
    allowed = contract_arns(settings)["stack-policies"]
    return bool(policies) and all(_covered(arn, allowed) for arn in policies)


def _through_stack_services(statement: Statement, settings: StackSettings) -> bool:
    services = _condition(statement, "StringEquals", "kms:ViaService")
    allowed = {
        f"{name}.{settings.region}.amazonaws.com" for name in ("dynamodb", "backup")
    }
    return bool(services) and set(services) <= allowed


def _in_stack_region(statement: Statement, settings: StackSettings) -> bool:
    regions = _condition(statement, "StringEquals", "aws:RequestedRegion")
    return regions == [settings.region]


@dataclass(frozen=True)
class Allowance:
    """Actions a CI role may hold despite the escalation checks, on what and why."""

    # Lower-case action names.
    actions: frozenset[str]
    # The key of `contract_arns` that names the resources the actions may reach.
    resources: str
    reason: str
    condition: ConditionCheck = _no_condition
    roles: frozenset[str] = frozenset({"deploy"})


def _allowance(
    actions: Sequence[str],
    resources: str,
    reason: str,
    condition: ConditionCheck = _no_condition,
    roles: Sequence[str] = ("deploy",),
) -> Allowance:
    return Allowance(
        frozenset(a.lower() for a in actions),
        resources,
        reason,
        condition,
        frozenset(roles),
    )


CI_ROLE_ALLOWANCES = (
    _allowance(
        ("iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole"),
        "stack-roles",
        "the program creates each function's execution role and the backup role",
    ),
    _allowance(
        ("iam:UpdateAssumeRolePolicy",),
        "stack-roles",
        "the roles' trust policies name one AWS service and this account",
    ),
    _allowance(
        ("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
        "stack-roles",
        "the roles get the stack's own policies and no other, by iam:PolicyARN",
        _attaches_stack_policies,
    ),
    _allowance(
        ("iam:PassRole",),
        "function-roles",
        "Lambda runs each function under its execution role",
        _passed_to("lambda.amazonaws.com"),
    ),
    _allowance(
        ("iam:PassRole",),
        "backup-role",
        "AWS Backup runs the prod backup plan under its role",
        _passed_to("backup.amazonaws.com"),
    ),
    # NOTE: no permissions boundary caps what these policies may grant, so the
    # deploy role can give a stack role any permission and then run code as it.
    _allowance(
        (
            "iam:CreatePolicy",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
        ),
        "stack-policies",
        "the program writes each role's customer-managed policy",
    ),
    _allowance(
        (
            "lambda:AddPermission",
            "lambda:CreateFunction",
            "lambda:RemovePermission",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
        ),
        "functions",
        "the program deploys the functions and lets API Gateway and Cognito invoke "
        "them",
    ),
    _allowance(
        ("logs:PutResourcePolicy",),
        "any",
        "API Gateway access logging needs it, and it has no resource type",
        _in_stack_region,
    ),
    _allowance(
        ("sns:CreateTopic", "sns:SetTopicAttributes"),
        "topics",
        "the prod alarm topic and its topic policy",
    ),
    _allowance(
        (
            "s3:DeleteBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:PutBucketPublicAccessBlock",
        ),
        "site-bucket",
        "the site bucket's TLS-only, CloudFront-only policy and its public access "
        "block",
    ),
    _allowance(
        ("kms:CreateKey",),
        "any",
        "the stack's keys, created before any key ARN exists",
        _in_stack_region,
    ),
    # NOTE: key ARNs are generated ids and the keys carry no tags, so this reaches
    # every key of the account and region. A tag on the stack's keys and an
    # aws:ResourceTag condition would scope it to the stack.
    _allowance(
        ("kms:PutKeyPolicy",),
        "keys",
        "the key policies of the stack's keys",
    ),
    _allowance(
        ("kms:CreateGrant", "kms:RetireGrant"),
        "keys",
        "DynamoDB and AWS Backup use the prod keys on the caller's behalf, and "
        "kms:ViaService admits no other caller",
        _through_stack_services,
    ),
    # User pool ids are generated, so these reads reach every pool of the region.
    _allowance(
        ("cognito-idp:DescribeUserPoolClient",),
        "user-pools",
        "the stack's app client has no secret (the pack's cognito-client-hardening "
        "rule), so the response holds no credential",
        roles=CI_ROLES,
    ),
)


def allowance_for(policy: PolicyText, statement: Statement, action: str) -> str | None:
    """Return why a CI role policy may grant `action` in `statement`, or None."""
    if not policy.ci_role or policy.settings is None or policy.kind != "identity":
        return None
    arns = contract_arns(policy.settings)
    for allowance in CI_ROLE_ALLOWANCES:
        if (
            policy.ci_role in allowance.roles
            and action.lower() in allowance.actions
            and _resources(statement)
            and all(
                _covered(resource, arns[allowance.resources])
                for resource in _resources(statement)
            )
            and "NotResource" not in statement
            and allowance.condition(statement, policy.settings)
        ):
            return allowance.reason
    return None


def _allowed_everywhere(policy: PolicyText, document: Document, action: str) -> bool:
    grants = _granting_statements(document, action)
    return bool(grants) and all(
        allowance_for(policy, statement, granted) is not None
        for statement in grants
        for granted in _actions(statement)
        if _matches(granted, action)
    )


# parliament


def _resource_type_condition(finding: Finding) -> bool:
    """Return whether an unknown condition key belongs to the action's resource type."""
    match = UNKNOWN_CONDITION.fullmatch(str(finding.detail))
    assert match, f"parliament changed its message: {finding.detail!r}"
    key, action = match.groups()
    definition = reference_action(action)
    return definition is not None and key.lower() in definition.condition_keys


def _parliament_gap_reason(policy: PolicyText, finding: Finding) -> str | None:
    """Return why a finding comes from what parliament does not know, or None."""
    if policy.kind == "trust" and finding.detail == TRUST_POLICY_MALFORMED:
        return "a trust policy's resource is its role"
    if (
        policy.kind == "trust"
        and policy.ci_role
        and finding.issue == "UNKNOWN_FEDERATION_SOURCE"
        and finding.detail == OIDC_PROVIDER_ARN
    ):
        return "GitHub's OIDC provider in this account"
    if finding.issue == "UNKNOWN_CONDITION_FOR_ACTION" and _resource_type_condition(
        finding
    ):
        return "a condition key of the action's resource type"
    return None


def _allowance_reason(
    policy: PolicyText, document: Document, actions: list[str], finding: Finding
) -> str | None:
    if finding.issue not in ALLOWANCE_ISSUES or not actions:
        return None
    if all(_allowed_everywhere(policy, document, action) for action in actions):
        return "a CI role allowance covers every statement"
    return None


def _delegation_reason(
    policy: PolicyText, document: Document, actions: list[str], finding: Finding
) -> str | None:
    if finding.issue != "PERMISSIONS_MANAGEMENT_ACTIONS":
        return None
    grants = [s for action in actions for s in _granting_statements(document, action)]
    if policy.kind == "key" and grants and all(map(_is_account_root_statement, grants)):
        return "the account root statement delegates to IAM policies"
    if (
        policy.kind == "identity"
        and actions == ["kms:creategrant"]
        and grants
        and all(map(_requires_aws_resource_grant, grants))
    ):
        return "grants only for AWS service integrations"
    return None


def accepted_reason(policy: PolicyText, finding: Finding) -> str | None:
    """Return why a parliament finding is a misreading of this document, or None."""
    document = policy.document()
    actions = [str(action) for action in finding.location.get("actions", [])]
    return (
        _parliament_gap_reason(policy, finding)
        or _allowance_reason(policy, document, actions, finding)
        or _delegation_reason(policy, document, actions, finding)
    )


def parliament_problems(policy: PolicyText) -> list[str]:
    """Return parliament's MEDIUM or worse findings that are not accepted."""
    analyzed = analyze_policy_string(policy.text, include_community_auditors=True)
    problems: list[str] = []
    for finding in analyzed.findings:
        enhance_finding(finding)
        if SEVERITIES.index(finding.severity) < FAILING_SEVERITY:
            continue
        if accepted_reason(policy, finding) is None:
            problems.append(
                f"{policy.label}: {finding.severity} {finding.issue} "
                f"{finding.detail} {finding.location}"
            )
    return problems


# Explicit checks


def _checked_statements(policy: PolicyText) -> Iterator[Statement]:
    """Yield the Allow statements that grant permissions by themselves.

    An account-root statement of a key policy only delegates to IAM policies, which
    this module lints as identity policies.
    """
    for statement in _statements(policy.document()):
        if statement.get("Effect") != "Allow":
            continue
        if policy.kind == "key" and _is_account_root_statement(statement):
            continue
        yield statement


def wildcard_problems(policy: PolicyText) -> list[str]:
    """Return grants of "*", "<service>:*", NotAction or unlisted partial wildcards."""
    problems: list[str] = []
    for statement in _checked_statements(policy):
        sid = statement.get("Sid", "")
        if "NotAction" in statement:
            problems.append(f"{policy.label} {sid}: NotAction")
        for action in _actions(statement):
            # "*" and "<service>:*" are never allowed, a partial wildcard only
            # when listed.
            if "*" in action and action not in ALLOWED_PARTIAL_WILDCARDS:
                problems.append(f"{policy.label} {sid}: {action}")
    return problems


def wildcard_resource_problems(policy: PolicyText) -> list[str]:
    """Return identity statements that use Resource "*" for an action with a type.

    AWS's IAM definitions decide which actions have no resource type. In a key
    policy, Resource "*" means the key itself, so only identity policies count.
    """
    if policy.kind != "identity":
        return []
    problems: list[str] = []
    for statement in _checked_statements(policy):
        sid = statement.get("Sid", "")
        if "NotResource" in statement:
            problems.append(f"{policy.label} {sid}: NotResource")
        if "*" not in _resources(statement):
            continue
        for action in _actions(statement):
            definition = reference_action(action)
            if definition is None or not definition.wildcard_only:
                problems.append(f'{policy.label} {sid}: {action} on "*"')
    return problems


def escalation_problems(policy: PolicyText) -> list[str]:
    """Return grants of privilege-escalation actions that no allowance covers.

    A trust policy's sts:AssumeRole is what lets its service use the role, so trust
    policies are checked by `trust_problems` instead. kms:CreateGrant passes when the
    statement requires kms:GrantIsForAWSResource.
    """
    if policy.kind == "trust":
        return []
    problems: list[str] = []
    for statement in _checked_statements(policy):
        for action in _actions(statement):
            for dangerous in ESCALATION_ACTIONS:
                if not _matches(action, dangerous):
                    continue
                if dangerous == "kms:CreateGrant" and _requires_aws_resource_grant(
                    statement
                ):
                    continue
                if allowance_for(policy, statement, action) is not None:
                    continue
                problems.append(
                    f"{policy.label} {statement.get('Sid', '')}: {action} "
                    f"(matches {dangerous})"
                )
    return problems


def _service_trust_problems(policy: PolicyText, statement: Statement) -> list[str]:
    """Return what keeps a statement from "this account's <service> may assume"."""
    problems: list[str] = []
    principal = statement.get("Principal")
    source_account = _condition(statement, "StringEquals", "aws:SourceAccount")
    if _actions(statement) != ["sts:AssumeRole"]:
        problems.append(f"{policy.label}: actions {_actions(statement)}")
    if not isinstance(principal, Mapping) or list(principal) != ["Service"]:
        problems.append(f"{policy.label}: principal {principal!r}")
    if source_account != [ACCOUNT_ID]:
        problems.append(f"{policy.label}: aws:SourceAccount is {source_account}")
    return problems


def _github_trust_problems(policy: PolicyText, statement: Statement) -> list[str]:
    """Return what keeps a CI role statement from trusting only this repository."""
    problems: list[str] = []
    conditions = statement.get("Condition", {})
    subjects = _condition(statement, "StringEquals", f"{GITHUB_OIDC_HOST}:sub")
    if _actions(statement) != ["sts:AssumeRoleWithWebIdentity"]:
        problems.append(f"{policy.label}: actions {_actions(statement)}")
    if statement.get("Principal") != {"Federated": OIDC_PROVIDER_ARN}:
        problems.append(f"{policy.label}: principal {statement.get('Principal')!r}")
    # StringEquals only: StringLike would let "*" in a subject match any branch.
    if list(conditions) != ["StringEquals"]:
        problems.append(f"{policy.label}: condition operators {list(conditions)}")
    audience = _condition(statement, "StringEquals", f"{GITHUB_OIDC_HOST}:aud")
    if audience != ["sts.amazonaws.com"]:
        problems.append(f"{policy.label}: audience {audience}")
    if not subjects:
        problems.append(f"{policy.label}: no subject condition")
    for subject in subjects:
        if not subject.startswith(f"repo:{REPOSITORY}:") or re.search(r"[*?]", subject):
            problems.append(f"{policy.label}: subject {subject!r}")
        # Pull requests get the preview role, and nothing else gets it.
        if (subject.endswith(":pull_request")) != (policy.ci_role == "preview"):
            problems.append(f"{policy.label}: subject {subject!r} for {policy.ci_role}")
    return problems


def trust_problems(policy: PolicyText) -> list[str]:
    """Return trust statements that admit more than they should.

    A CI role admits GitHub Actions tokens of this repository through the account's
    OIDC provider. Every other role admits one AWS service, only for this account.
    """
    problems: list[str] = []
    for statement in _statements(policy.document()):
        if statement.get("Effect") != "Allow":
            problems.append(f"{policy.label}: effect {statement.get('Effect')}")
        if policy.ci_role:
            problems += _github_trust_problems(policy, statement)
        else:
            problems += _service_trust_problems(policy, statement)
    return problems


def _decrypts_secrets_key_only(policy: PolicyText, statement: Statement) -> bool:
    """Return whether a statement lets kms:Decrypt reach only Pulumi's secrets key."""
    settings = policy.settings
    access = settings.deploy_access if settings else None
    if settings is None or access is None or not access.secrets_key:
        return False
    key = access.secrets_key
    if not key.startswith("alias/"):
        return _resources(statement) == [key]
    aliases = _condition(statement, "ForAnyValue:StringEquals", "kms:ResourceAliases")
    return aliases == [key] and all(
        _covered(resource, contract_arns(settings)["keys"])
        for resource in _resources(statement)
    )


def preview_write_problems(policy: PolicyText) -> list[str]:
    """Return actions of the preview role that do more than read.

    An action passes when its name starts with Get, Describe or List (or it is listed
    in DOCUMENTED_PREVIEW_READS) and AWS rates it Read or List. kms:Decrypt passes
    only on Pulumi's secrets key. No table item may be read.
    """
    if policy.ci_role != "preview" or policy.kind != "identity":
        return []
    problems: list[str] = []
    for statement in _checked_statements(policy):
        sid = statement.get("Sid", "")
        for action in _actions(statement):
            lower = action.lower()
            if lower == PREVIEW_SECRETS_DECRYPT:
                if not _decrypts_secrets_key_only(policy, statement):
                    problems.append(
                        f"{policy.label} {sid}: {action} beyond secrets key"
                    )
                continue
            verb = action.partition(":")[2]
            named_read = verb.startswith(PREVIEW_READ_VERBS)
            if not named_read and lower not in DOCUMENTED_PREVIEW_READS:
                problems.append(f"{policy.label} {sid}: {action} is not a read")
            definition = reference_action(action)
            if definition is None or definition.access_level not in ("Read", "List"):
                level = definition.access_level if definition else "unknown"
                problems.append(f"{policy.label} {sid}: {action} has level {level}")
            if lower in TABLE_ITEM_READS:
                problems.append(f"{policy.label} {sid}: {action} reads table items")
    return problems


def _of_kind(documents: Sequence[PolicyText], kind: str) -> list[PolicyText]:
    return [policy for policy in documents if policy.kind == kind]


@pytest.fixture
def documents(lint_run: StackRun) -> list[PolicyText]:
    return collect_documents(lint_run)


# The program's documents


def test_documents_cover_every_kind(documents: list[PolicyText]) -> None:
    kinds = {policy.kind for policy in documents}
    assert {"identity", "trust", "key", "bucket"} <= kinds


def test_every_role_has_trust_policy(
    lint_run: StackRun, documents: list[PolicyText]
) -> None:
    roles = {r.name for r in lint_run.of_type(ROLE)}
    assert {p.resource_name for p in _of_kind(documents, "trust")} == roles


def test_ci_roles_found(lint_run: StackRun, documents: list[PolicyText]) -> None:
    # GIVEN a run with deploy access, THEN each CI role has its trust policy and its
    # permission policies, so the checks below see them
    expected = set(CI_ROLES) if stack_settings(lint_run).deploy_access else set()
    trusted = {p.ci_role for p in _of_kind(documents, "trust") if p.ci_role}
    permitted = {p.ci_role for p in _of_kind(documents, "identity") if p.ci_role}
    assert trusted == expected
    assert permitted == expected


def test_documents_parse_as_objects(documents: list[PolicyText]) -> None:
    for policy in documents:
        assert _statements(policy.document()), policy.label


def test_parliament_no_medium_findings(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in parliament_problems(policy)]
    assert problems == []


def test_no_wildcard_actions(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in wildcard_problems(policy)]
    assert problems == []


def test_wildcard_resources_only_untyped(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in wildcard_resource_problems(policy)]
    assert problems == []


def test_no_escalation_actions(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in escalation_problems(policy)]
    assert problems == []


def test_trust_policies_scoped(documents: list[PolicyText]) -> None:
    trust = _of_kind(documents, "trust")
    problems = [p for policy in trust for p in trust_problems(policy)]
    assert problems == []


def test_preview_role_only_reads(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in preview_write_problems(policy)]
    assert problems == []


@pytest.mark.parametrize("stack", STACKS)
def test_contract_covers_stack_resources(
    stack: str, access_runs: dict[str, StackRun]
) -> None:
    # GIVEN the allowances' ARN patterns for the stack's own resources
    run = access_runs[stack]
    arns = contract_arns(stack_settings(run))
    own_roles = [r for r in run.of_type(ROLE) if not _ci_role_of(run, r)]
    own_policies = [r for r in run.of_type(POLICY) if not _ci_role_of(run, r)]
    ci_resources = [
        r for r in run.of_type(ROLE) + run.of_type(POLICY) if _ci_role_of(run, r)
    ]
    functions = run.of_type("aws:lambda/function:Function")

    # THEN they cover every role, policy and function the program creates for itself
    for record in own_roles:
        assert _covered(record.outputs["arn"], arns["stack-roles"]), record.name
    for record in own_policies:
        assert _covered(record.outputs["arn"], arns["stack-policies"]), record.name
    for record in functions:
        assert _covered(record.outputs["arn"], arns["functions"]), record.name
    # AND never the CI roles or their policies, so the deploy role cannot widen itself
    assert ci_resources
    for record in ci_resources:
        arn = record.outputs["arn"]
        assert not _covered(arn, arns["stack-roles"] + arns["stack-policies"]), arn


def test_allowance_patterns_use_star_only(prod_settings: StackSettings) -> None:
    for patterns in contract_arns(prod_settings).values():
        for pattern in patterns:
            assert "?" not in pattern, pattern


def test_allowances_name_known_actions() -> None:
    for allowance in CI_ROLE_ALLOWANCES:
        assert allowance.reason
        assert allowance.roles <= set(CI_ROLES)
        for action in allowance.actions:
            assert reference_action(action) is not None, action


# The checks above on documents built to fail, so a passing run means something.


def _identity(*statements: dict[str, Any]) -> PolicyText:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return PolicyText("identity", POLICY, "bad", json.dumps(document))


@pytest.fixture(scope="module")
def prod_settings(access_runs: dict[str, StackRun]) -> StackSettings:
    return stack_settings(access_runs["prod"])


def _ci_identity(
    role: str, settings: StackSettings, *statements: dict[str, Any]
) -> PolicyText:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return PolicyText("identity", POLICY, "ci", json.dumps(document), role, settings)


FUNCTION_ROLES = f"arn:aws:iam::{ACCOUNT_ID}:role/pfmon-*-prod-role"
PROD_FUNCTIONS = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:pfmon-*-prod"
PASS_TO_LAMBDA = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
PASS_ROLE_TO_NEW_LAMBDA = {
    "Effect": "Allow",
    "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
    "Resource": "*",
}


def test_parliament_flags_escalation() -> None:
    problems = parliament_problems(_identity(PASS_ROLE_TO_NEW_LAMBDA))
    assert any("PRIVILEGE_ESCALATION" in problem for problem in problems)


def test_escalation_list_flags_pass_role() -> None:
    problems = escalation_problems(_identity(PASS_ROLE_TO_NEW_LAMBDA))
    assert any("iam:PassRole" in problem for problem in problems)


def test_escalation_list_flags_service_wildcard() -> None:
    statement = {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
    assert escalation_problems(_identity(statement))


def test_deploy_allowance_passes_scoped(prod_settings: StackSettings) -> None:
    # The program's own statements, as the control for the cases below.
    statements = (
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": FUNCTION_ROLES,
            "Condition": PASS_TO_LAMBDA,
        },
        {
            "Effect": "Allow",
            "Action": "lambda:UpdateFunctionCode",
            "Resource": PROD_FUNCTIONS,
        },
    )
    policy = _ci_identity("deploy", prod_settings, *statements)

    assert escalation_problems(policy) == []
    assert parliament_problems(policy) == []


@pytest.mark.parametrize(
    ("role", "statement"),
    [
        # the deploy role passing a role outside the stack: its own
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/pfmon-prod-deploy",
                "Condition": PASS_TO_LAMBDA,
            },
        ),
        # iam:PassRole without iam:PassedToService
        (
            "deploy",
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": FUNCTION_ROLES},
        ),
        # a function role passed to another service
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": FUNCTION_ROLES,
                "Condition": {
                    "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}
                },
            },
        ),
        # another environment's functions
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "lambda:UpdateFunctionCode",
                "Resource": PROD_FUNCTIONS.replace("-prod", "-dev"),
            },
        ),
        # every function of the account
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "lambda:UpdateFunctionCode",
                "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:*",
            },
        ),
        # attaching any policy, AdministratorAccess included
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "iam:AttachRolePolicy",
                "Resource": FUNCTION_ROLES,
            },
        ),
        # the preview role writing code
        (
            "preview",
            {
                "Effect": "Allow",
                "Action": "lambda:UpdateFunctionCode",
                "Resource": PROD_FUNCTIONS,
            },
        ),
        # grants through a service other than DynamoDB and AWS Backup
        (
            "deploy",
            {
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}
                },
            },
        ),
    ],
    ids=[
        "pass-own-role",
        "pass-role-unconditioned",
        "pass-role-to-ec2",
        "other-env-functions",
        "all-functions",
        "attach-any-policy",
        "preview-writes-code",
        "grant-through-ec2",
    ],
)
def test_deploy_allowance_rejects_unscoped(
    role: str, statement: dict[str, Any], prod_settings: StackSettings
) -> None:
    policy = _ci_identity(role, prod_settings, statement)

    assert escalation_problems(policy)


def test_allowance_ignores_other_policies(prod_settings: StackSettings) -> None:
    # The same scoped iam:PassRole in a function's own policy is an escalation.
    statement = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": FUNCTION_ROLES,
        "Condition": PASS_TO_LAMBDA,
    }
    policy = _ci_identity("", prod_settings, statement)

    assert escalation_problems(policy)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        (
            "dynamodb:PutItem",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/pfmon-prod-*",
        ),
        (
            "dynamodb:GetItem",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/pfmon-prod-*",
        ),
        ("lambda:InvokeFunction", PROD_FUNCTIONS),
        ("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/*"),
        # Named Get, but AWS rates it Write: it returns cluster credentials.
        ("elasticmapreduce:GetClusterSessionCredentials", "*"),
    ],
    ids=["write-item", "read-item", "invoke", "decrypt-any-key", "get-credentials"],
)
def test_preview_check_flags_writes(
    action: str, resource: str, prod_settings: StackSettings
) -> None:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    policy = _ci_identity("preview", prod_settings, statement)

    assert preview_write_problems(policy)


def test_preview_check_passes_reads(prod_settings: StackSettings) -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["dynamodb:DescribeTable", "apigateway:GET", "s3:ListBucket"],
        "Resource": "*",
    }
    policy = _ci_identity("preview", prod_settings, statement)

    assert preview_write_problems(policy) == []


def test_wildcard_resource_check_flags_typed() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "kms:ScheduleKeyDeletion",
        "Resource": "*",
    }
    assert wildcard_resource_problems(_identity(statement))


def test_wildcard_resource_check_passes_untyped() -> None:
    statement = {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}
    assert wildcard_resource_problems(_identity(statement)) == []


def test_wildcard_check_flags_service_star() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "dynamodb:*",
        "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/x",
    }
    assert wildcard_problems(_identity(statement))


def test_wildcard_check_flags_root_outside_keys() -> None:
    # The account-root exception holds for key policies only.
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT_ROOT},
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::bucket/*",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    bucket = PolicyText("bucket", "aws:s3/bucketPolicy:BucketPolicy", "b", document)
    assert wildcard_problems(bucket)


def _trust(ci_role: str, statement: dict[str, Any]) -> PolicyText:
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return PolicyText("trust", ROLE, "r", document, ci_role)


def test_trust_check_flags_any_principal() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
    }
    assert trust_problems(_trust("", statement))


def _github_statement(operator: str, subject: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Federated": OIDC_PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            operator: {
                f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                f"{GITHUB_OIDC_HOST}:sub": [subject],
            }
        },
    }


def test_trust_check_passes_github_environment() -> None:
    statement = _github_statement("StringEquals", f"repo:{REPOSITORY}:environment:prod")
    assert trust_problems(_trust("deploy", statement)) == []


@pytest.mark.parametrize(
    ("role", "operator", "subject"),
    [
        ("deploy", "StringLike", f"repo:{REPOSITORY}:*"),
        ("deploy", "StringEquals", "repo:someone/else:environment:prod"),
        ("deploy", "StringEquals", f"repo:{REPOSITORY}:pull_request"),
        ("preview", "StringEquals", f"repo:{REPOSITORY}:ref:refs/heads/main"),
    ],
    ids=["any-ref", "other-repo", "deploy-from-pull-request", "preview-from-main"],
)
def test_trust_check_flags_github_subjects(
    role: str, operator: str, subject: str
) -> None:
    assert trust_problems(_trust(role, _github_statement(operator, subject)))


def test_trust_check_flags_federation_for_service_role() -> None:
    # The lint rejects GitHub trust on a function's role, even with a scoped subject.
    statement = _github_statement("StringEquals", f"repo:{REPOSITORY}:pull_request")
    assert trust_problems(_trust("", statement))


def test_parliament_flags_unknown_condition() -> None:
    # Only condition keys of the action or its resource type are accepted.
    statement = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/*",
        "Condition": {"StringEquals": {"kms:NoSuchKey": "x"}},
    }
    problems = parliament_problems(_identity(statement))
    assert any("UNKNOWN_CONDITION_FOR_ACTION" in problem for problem in problems)


def test_parliament_flags_other_federation() -> None:
    # Another account's OIDC provider is not the one the CI roles trust.
    other = OIDC_PROVIDER_ARN.replace(ACCOUNT_ID, "210987654321")
    statement = _github_statement("StringEquals", f"repo:{REPOSITORY}:pull_request")
    statement["Principal"] = {"Federated": other}

    problems = parliament_problems(_trust("preview", statement))

    assert any("UNKNOWN_FEDERATION_SOURCE" in problem for problem in problems)


def test_parliament_flags_client_read_elsewhere(prod_settings: StackSettings) -> None:
    # The CI roles' allowance for DescribeUserPoolClient applies to their policies only.
    statement = {
        "Effect": "Allow",
        "Action": "cognito-idp:DescribeUserPoolClient",
        "Resource": f"arn:aws:cognito-idp:us-east-1:{ACCOUNT_ID}:userpool/*",
    }
    problems = parliament_problems(_ci_identity("", prod_settings, statement))
    assert any("CREDENTIALS_EXPOSURE" in problem for problem in problems)
