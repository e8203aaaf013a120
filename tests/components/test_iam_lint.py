"""Offline IAM lint of every policy document each stack creates.

The documents are the JSON strings in the recorded inputs: IAM policies, role trust
policies, KMS key policies, the S3 bucket policy and SNS topic policies if any.
parliament (with its community auditors, all offline) reviews each one, and explicit
checks cover what parliament rates LOW or does not flag: wildcard actions and
privilege-escalation actions.

parliament reads every document as an identity policy, so three kinds of finding are
accepted where that reading is wrong, each by `accepted_reason`:

- MALFORMED "neither Resource nor NotResource" on a role trust policy, which has no
  Resource element because the role itself is the resource.
- PERMISSIONS_MANAGEMENT_ACTIONS on a key policy, when only statements for the account
  root grant the actions. Such a statement delegates access to the account's IAM
  policies, as AWS's default key policy does, and grants nothing by itself. The IAM
  policies are linted here too.
- PERMISSIONS_MANAGEMENT_ACTIONS for kms:CreateGrant in an identity policy, when every
  statement that grants it requires kms:GrantIsForAWSResource, so only an AWS service
  integration (DynamoDB and AWS Backup here) can create the grant.
"""

from __future__ import annotations

import fnmatch
import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.mock_runtime import ACCOUNT_ID, StackRun

with warnings.catch_warnings():
    # parliament 1.6.4 imports pkg_resources, which warns that it is deprecated.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import parliament
    from parliament import analyze_policy_string, enhance_finding, override_config
    from parliament.finding import Finding

Document = Mapping[str, Any]
Statement = Mapping[str, Any]

# Resource type -> (document kind, input property with the JSON document).
DOCUMENT_PROPERTIES = {
    "aws:iam/policy:Policy": ("identity", "policy"),
    "aws:iam/rolePolicy:RolePolicy": ("identity", "policy"),
    "aws:iam/role:Role": ("trust", "assumeRolePolicy"),
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


@dataclass(frozen=True)
class PolicyText:
    """One policy document of one resource, as the program passes it to AWS."""

    kind: str
    resource_type: str
    resource_name: str
    text: str

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


def collect_documents(run: StackRun) -> list[PolicyText]:
    """Return every policy document of a stack run, inline role policies included."""
    documents: list[PolicyText] = []
    for record in run.resources:
        if record.type not in DOCUMENT_PROPERTIES:
            continue
        kind, key = DOCUMENT_PROPERTIES[record.type]
        text = record.inputs.get(key)
        if text is None and record.type in OPTIONAL_DOCUMENTS:
            continue
        assert isinstance(text, str), f"{record.type} {record.name} has no {key}"
        documents.append(PolicyText(kind, record.type, record.name, text))
        for inline in record.inputs.get("inlinePolicies") or []:
            documents.append(
                PolicyText("identity", record.type, record.name, inline["policy"])
            )
    return documents


def _statements(document: Document) -> list[Statement]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | Mapping) else list(value)


def _actions(statement: Statement) -> list[str]:
    return [str(action) for action in _as_list(statement.get("Action"))]


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


def accepted_reason(policy: PolicyText, finding: Finding) -> str | None:
    """Return why a parliament finding is a misreading of this document, or None."""
    document = policy.document()
    if policy.kind == "trust" and finding.detail == TRUST_POLICY_MALFORMED:
        return "a trust policy's resource is its role"
    if finding.issue != "PERMISSIONS_MANAGEMENT_ACTIONS":
        return None
    actions = [str(action) for action in finding.location.get("actions", [])]
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


def escalation_problems(policy: PolicyText) -> list[str]:
    """Return grants of privilege-escalation actions.

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
                problems.append(
                    f"{policy.label} {statement.get('Sid', '')}: {action} "
                    f"(matches {dangerous})"
                )
    return problems


def trust_problems(policy: PolicyText) -> list[str]:
    """Return trust statements other than "this account's <service> may assume"."""
    problems: list[str] = []
    for statement in _statements(policy.document()):
        principal = statement.get("Principal")
        source_account = (
            statement.get("Condition", {})
            .get("StringEquals", {})
            .get("aws:SourceAccount")
        )
        if statement.get("Effect") != "Allow":
            problems.append(f"{policy.label}: effect {statement.get('Effect')}")
        if _actions(statement) != ["sts:AssumeRole"]:
            problems.append(f"{policy.label}: actions {_actions(statement)}")
        if not isinstance(principal, Mapping) or list(principal) != ["Service"]:
            problems.append(f"{policy.label}: principal {principal!r}")
        if source_account != ACCOUNT_ID:
            problems.append(f"{policy.label}: aws:SourceAccount is {source_account}")
    return problems


def _of_kind(documents: Sequence[PolicyText], kind: str) -> list[PolicyText]:
    return [policy for policy in documents if policy.kind == kind]


@pytest.fixture
def documents(stack_run: StackRun) -> list[PolicyText]:
    return collect_documents(stack_run)


def test_documents_cover_every_kind(documents: list[PolicyText]) -> None:
    kinds = {policy.kind for policy in documents}
    assert {"identity", "trust", "key", "bucket"} <= kinds


def test_every_role_has_trust_policy(
    stack_run: StackRun, documents: list[PolicyText]
) -> None:
    roles = {r.name for r in stack_run.of_type("aws:iam/role:Role")}
    assert {p.resource_name for p in _of_kind(documents, "trust")} == roles


def test_documents_parse_as_objects(documents: list[PolicyText]) -> None:
    for policy in documents:
        assert _statements(policy.document()), policy.label


def test_parliament_no_medium_findings(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in parliament_problems(policy)]
    assert problems == []


def test_no_wildcard_actions(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in wildcard_problems(policy)]
    assert problems == []


def test_no_escalation_actions(documents: list[PolicyText]) -> None:
    problems = [p for policy in documents for p in escalation_problems(policy)]
    assert problems == []


def test_trust_policies_name_services(documents: list[PolicyText]) -> None:
    trust = _of_kind(documents, "trust")
    problems = [p for policy in trust for p in trust_problems(policy)]
    assert problems == []


# The checks above on documents built to fail, so a passing run means something.


def _identity(*statements: dict[str, Any]) -> PolicyText:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return PolicyText("identity", "aws:iam/policy:Policy", "bad", json.dumps(document))


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


def test_trust_check_flags_any_principal() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    trust = PolicyText("trust", "aws:iam/role:Role", "r", document)
    assert trust_problems(trust)
