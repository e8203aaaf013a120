"""DeployAccess: GitHub's OIDC provider and each stack's CI roles, under mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from components import deploy_policies
from components.deploy_policies import (
    MANAGED_POLICY_MAX_CHARS,
    UNNAMED_RESOURCE_REASONS,
    WILDCARD_RESOURCE_REASONS,
    DeployScope,
    PolicyDocument,
    check_policy_size,
    document_allows,
    github_trust_policy,
    policy_groups,
    policy_size,
    statement_allows,
)
from tests.components.test_settings import settings_for
from tests.conftest import STACKS
from tools.mock_runtime import ACCOUNT_ID, RecordedResource, StackRun, run_stack

REPOSITORY = "pfmon/pfmon-infra"
ACCESS = {"githubRepo": REPOSITORY, "githubOidcProvider": "create"}
STATE_BUCKET = f"pfmon-pulumi-state-{ACCOUNT_ID}"
# Deploy access with every optional grant: a self-managed backend and secrets key.
FULL_ACCESS = {
    **ACCESS,
    "pulumiStateBucket": STATE_BUCKET,
    "pulumiSecretsKey": "alias/pfmon-pulumi",
}
PROVIDER_ARN = (
    f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
)
REGION = "us-east-1"
PROVIDER_TYPE = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
COMPONENT_TYPE = "pfmon:components:DeployAccess"
PURPOSES = ("deploy", "preview")
GROUPS = ("data", "functions", "api", "site", "state")


@pytest.fixture(scope="module")
def access_runs() -> dict[str, StackRun]:
    """Return every stack run with full deploy access and a new OIDC provider."""
    return {stack: run_stack(stack, FULL_ACCESS) for stack in STACKS}


@pytest.fixture(params=STACKS)
def access_run(
    request: pytest.FixtureRequest, access_runs: dict[str, StackRun]
) -> StackRun:
    return access_runs[request.param]


def ci_children(run: StackRun) -> list[RecordedResource]:
    return run.descendants_of(run.one(COMPONENT_TYPE))


def role(run: StackRun, purpose: str) -> RecordedResource:
    return run.named(f"ci-{purpose}-role")


def trust(run: StackRun, purpose: str) -> PolicyDocument:
    document: PolicyDocument = json.loads(role(run, purpose).inputs["assumeRolePolicy"])
    return document


def documents(run: StackRun, purpose: str) -> dict[str, PolicyDocument]:
    """Return the role's policy documents keyed by group, as the program sent them."""
    prefix = f"ci-{purpose}-"
    found = {}
    for policy in run.of_type("aws:iam/policy:Policy"):
        if policy.name.startswith(prefix):
            group = policy.name.removeprefix(prefix).removesuffix("-policy")
            found[group] = json.loads(policy.inputs["policy"])
    return found


def statements(run: StackRun, purpose: str) -> list[dict[str, Any]]:
    return [
        statement
        for document in documents(run, purpose).values()
        for statement in document["Statement"]
    ]


def allows(run: StackRun, purpose: str, action: str, resource: str) -> bool:
    return any(
        document_allows(document, action, resource)
        for document in documents(run, purpose).values()
    )


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def names_environment(resource: str, environment: str) -> bool:
    return (
        re.search(rf"(?<![A-Za-z0-9]){environment}(?![A-Za-z0-9])", resource)
        is not None
    )


# Default stacks


def test_no_deploy_access_by_default(stack_run: StackRun) -> None:
    # GIVEN the stack files alone, which set no githubOidcProvider
    # THEN the component exists but creates nothing, and exports no role ARN
    assert ci_children(stack_run) == []
    assert stack_run.of_type(PROVIDER_TYPE) == []
    assert "deployRoleArn" not in stack_run.outputs
    assert "previewRoleArn" not in stack_run.outputs


# OIDC provider


def test_provider_created_once_exact(access_run: StackRun) -> None:
    providers = access_run.of_type(PROVIDER_TYPE)
    assert len(providers) == 1
    inputs = providers[0].inputs
    assert inputs["url"] == "https://token.actions.githubusercontent.com"
    assert inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # IAM validates GitHub's certificate with its trusted CAs, not thumbprints.
    assert "thumbprintLists" not in inputs


def test_provider_protected_in_prod(access_runs: dict[str, StackRun]) -> None:
    for stack, protected in (("dev", False), ("test", False), ("prod", True)):
        provider = access_runs[stack].one(PROVIDER_TYPE)
        assert provider.protect is protected, stack
        assert provider.retain_on_delete is protected, stack


def test_existing_provider_not_created() -> None:
    run = run_stack(
        "test", {"githubRepo": REPOSITORY, "githubOidcProvider": PROVIDER_ARN}
    )
    assert run.of_type(PROVIDER_TYPE) == []
    for purpose in PURPOSES:
        principal = trust(run, purpose)["Statement"][0]["Principal"]
        assert principal == {"Federated": PROVIDER_ARN}


def test_provider_of_other_account_rejected() -> None:
    other = PROVIDER_ARN.replace(ACCOUNT_ID, "111122223333")
    with pytest.raises(ValueError, match=f"is not the OIDC provider .* {ACCOUNT_ID}"):
        github_trust_policy(other, ACCOUNT_ID, ["repo:pfmon/pfmon-infra:pull_request"])


# Trust policies


def expected_trust(subjects: list[str]) -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsAssumeRole",
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": subjects,
                    }
                },
            }
        ],
    }


def test_deploy_trust_exact_per_stack(access_runs: dict[str, StackRun]) -> None:
    repo = f"repo:{REPOSITORY}"
    assert trust(access_runs["dev"], "deploy") == expected_trust(
        [f"{repo}:environment:dev", f"{repo}:ref:refs/heads/main"]
    )
    assert trust(access_runs["test"], "deploy") == expected_trust(
        [f"{repo}:environment:test", f"{repo}:ref:refs/heads/main"]
    )
    # Prod: only jobs in the environment prod, which required reviewers approve.
    assert trust(access_runs["prod"], "deploy") == expected_trust(
        [f"{repo}:environment:prod"]
    )


def test_preview_trust_pull_requests_only(access_run: StackRun) -> None:
    assert trust(access_run, "preview") == expected_trust(
        [f"repo:{REPOSITORY}:pull_request"]
    )


def test_trust_rejects_empty_subjects() -> None:
    with pytest.raises(ValueError, match="subjects is empty"):
        github_trust_policy(PROVIDER_ARN, ACCOUNT_ID, [])


# Roles and their policies


def test_roles_named_per_stack(access_run: StackRun) -> None:
    env = access_run.stack
    for purpose in PURPOSES:
        inputs = role(access_run, purpose).inputs
        assert inputs["name"] == f"pfmon-{env}-{purpose}"
        assert inputs["maxSessionDuration"] == 3600
        # Customer-managed policies only, attached with RolePolicyAttachment.
        assert "inlinePolicies" not in inputs
        assert "managedPolicyArns" not in inputs


def test_policies_attached_per_group(access_run: StackRun) -> None:
    env = access_run.stack
    attachments = access_run.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    )
    for purpose in PURPOSES:
        assert sorted(documents(access_run, purpose)) == sorted(GROUPS)
        for group in GROUPS:
            policy = access_run.named(f"ci-{purpose}-{group}-policy")
            assert policy.inputs["name"] == f"pfmon-{env}-{purpose}-{group}"
            attached = [
                a.inputs["role"]
                for a in attachments
                if a.inputs["policyArn"] == policy.outputs["arn"]
            ]
            assert attached == [f"pfmon-{env}-{purpose}"]


def test_outputs_name_role_arns(access_run: StackRun) -> None:
    outputs = access_run.outputs
    assert outputs["deployRoleArn"] == role(access_run, "deploy").outputs["arn"]
    assert outputs["previewRoleArn"] == role(access_run, "preview").outputs["arn"]


def test_policy_sizes_under_limit(access_runs: dict[str, StackRun]) -> None:
    # GIVEN every optional grant: prod's tier and a self-managed backend
    for run in access_runs.values():
        for purpose in PURPOSES:
            for group, document in documents(run, purpose).items():
                size = policy_size(document)
                assert size <= MANAGED_POLICY_MAX_CHARS, (run.stack, purpose, group)


def test_oversized_policy_rejected() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["x" * 7000],
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    with pytest.raises(ValueError, match="above IAM's limit of 6144"):
        check_policy_size("pfmon-dev-deploy-site", document)


# Permissions


def test_no_wildcard_actions(access_runs: dict[str, StackRun]) -> None:
    for run in access_runs.values():
        for purpose in PURPOSES:
            for statement in statements(run, purpose):
                for action in as_list(statement["Action"]):
                    service, _, name = action.partition(":")
                    assert service and name, action
                    assert "*" not in action, (statement["Sid"], action)


def test_resources_scoped_to_stack(access_runs: dict[str, StackRun]) -> None:
    # THEN a resource names the stack's environment, or its statement is listed
    # with the reason why it cannot
    for run in access_runs.values():
        for purpose in PURPOSES:
            for statement in statements(run, purpose):
                sid = statement["Sid"]
                for resource in as_list(statement["Resource"]):
                    if resource == "*":
                        assert sid in WILDCARD_RESOURCE_REASONS, sid
                    elif not names_environment(resource, run.stack):
                        assert sid in UNNAMED_RESOURCE_REASONS, (sid, resource)


def test_wildcard_creates_constrained(access_runs: dict[str, StackRun]) -> None:
    by_sid = {s["Sid"]: s for s in statements(access_runs["prod"], "deploy")}
    region = {"aws:RequestedRegion": REGION}
    assert by_sid["KmsCreateKeys"]["Condition"] == {"StringEquals": region}
    assert by_sid["CognitoCreateUserPool"]["Condition"] == {"StringEquals": region}
    assert by_sid["AcmRequestSiteCertificate"]["Condition"] == {
        "ForAllValues:StringEquals": {"acm:DomainNames": ["app.pfmon.com"]},
        "StringEquals": {"aws:RequestedRegion": "us-east-1"},
    }


def test_pass_role_conditioned(access_runs: dict[str, StackRun]) -> None:
    services = {"dev": ["lambda.amazonaws.com"], "prod": ["lambda.amazonaws.com"]}
    services["prod"].append("backup.amazonaws.com")
    for stack, expected in services.items():
        passing = [
            s
            for s in statements(access_runs[stack], "deploy")
            if "iam:PassRole" in as_list(s["Action"])
        ]
        passed_to = []
        for statement in passing:
            assert as_list(statement["Action"]) == ["iam:PassRole"]
            condition = statement["Condition"]["StringEquals"]
            passed_to.append(condition["iam:PassedToService"])
        assert passed_to == expected


def test_pass_role_limited_per_service(access_runs: dict[str, StackRun]) -> None:
    by_sid = {s["Sid"]: s for s in statements(access_runs["prod"], "deploy")}
    assert by_sid["IamPassFunctionRoles"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/pfmon-*-prod-role"
    ]
    assert by_sid["IamPassBackupRole"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/pfmon-prod-backup-role"
    ]


def test_attach_limited_to_stack_policies(access_run: StackRun) -> None:
    env = access_run.stack
    attaching = [
        s
        for s in statements(access_run, "deploy")
        if "iam:AttachRolePolicy" in as_list(s["Action"])
    ]
    assert len(attaching) == 1
    policies = attaching[0]["Condition"]["ArnLike"]["iam:PolicyARN"]
    assert f"arn:aws:iam::{ACCOUNT_ID}:policy/pfmon-*-{env}-policy" in policies
    for pattern in policies:
        assert names_environment(pattern, env), pattern


def test_preview_read_only(access_runs: dict[str, StackRun]) -> None:
    read_verb = re.compile(r"^[a-z0-9-]+:(Get|Describe|List|GET$)")
    for run in access_runs.values():
        for statement in statements(run, "preview"):
            for action in as_list(statement["Action"]):
                if statement["Sid"] == "PulumiSecretsKey":
                    # Pulumi decrypts the stack's data key to read config secrets.
                    assert action == "kms:Decrypt"
                else:
                    assert read_verb.match(action), (statement["Sid"], action)


def test_services_follow_tier(access_runs: dict[str, StackRun]) -> None:
    def services(run: StackRun) -> set[str]:
        return {
            action.split(":")[0]
            for statement in statements(run, "deploy")
            for action in as_list(statement["Action"])
        }

    tier_services = {"backup", "backup-storage", "acm", "route53", "sns", "cloudwatch"}
    for stack in ("dev", "test"):
        assert services(access_runs[stack]) & tier_services == set(), stack
    assert tier_services <= services(access_runs["prod"])


def test_route53_limited_to_site_records(access_runs: dict[str, StackRun]) -> None:
    by_sid = {s["Sid"]: s for s in statements(access_runs["prod"], "deploy")}
    records = by_sid["Route53SiteRecords"]
    assert records["Resource"] == ["arn:aws:route53:::hostedzone/Z0MOCKZONE"]
    names = records["Condition"]["ForAllValues:StringLike"]
    assert names == {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
            "app.pfmon.com",
            "_*.app.pfmon.com",
        ]
    }


# Coverage: the deploy role manages every resource the stack creates


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _pool_arn(pool_id: str) -> str:
    return _arn("cognito-idp", f"userpool/{pool_id}")


def _api_arn(api_id: str, child: str) -> str:
    return f"arn:aws:apigateway:{REGION}::/apis/{api_id}/{child}"


def _bucket_arn(resource: RecordedResource) -> str:
    return f"arn:aws:s3:::{resource.inputs['bucket']}"


def _cloudfront_arn(resource: str) -> str:
    return f"arn:aws:cloudfront::{ACCOUNT_ID}:{resource}"


Managed = Callable[[RecordedResource], tuple[str, str]]

# For each resource type: an action that the deploy role needs to manage the
# resource, and the ARN that IAM checks for it.
MANAGED: dict[str, Managed] = {
    "aws:dynamodb/table:Table": lambda r: ("dynamodb:DeleteTable", r.outputs["arn"]),
    "aws:kms/key:Key": lambda r: ("kms:PutKeyPolicy", r.outputs["arn"]),
    "aws:kms/alias:Alias": lambda r: ("kms:DeleteAlias", r.outputs["arn"]),
    "aws:backup/vault:Vault": lambda r: ("backup:DeleteBackupVault", r.outputs["arn"]),
    "aws:backup/plan:Plan": lambda r: ("backup:UpdateBackupPlan", r.outputs["arn"]),
    "aws:backup/selection:Selection": lambda r: (
        "backup:CreateBackupSelection",
        _arn("backup", f"backup-plan:{r.inputs['planId']}"),
    ),
    "aws:iam/role:Role": lambda r: ("iam:UpdateAssumeRolePolicy", r.outputs["arn"]),
    "aws:iam/policy:Policy": lambda r: ("iam:CreatePolicyVersion", r.outputs["arn"]),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda r: (
        "iam:AttachRolePolicy",
        f"arn:aws:iam::{ACCOUNT_ID}:role/{r.inputs['role']}",
    ),
    "aws:lambda/function:Function": lambda r: (
        "lambda:UpdateFunctionCode",
        r.outputs["arn"],
    ),
    "aws:lambda/permission:Permission": lambda r: (
        "lambda:AddPermission",
        _arn("lambda", f"function:{r.inputs['function']}"),
    ),
    "aws:cloudwatch/logGroup:LogGroup": lambda r: (
        "logs:PutRetentionPolicy",
        r.outputs["arn"],
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda r: (
        "cloudwatch:PutMetricAlarm",
        _arn("cloudwatch", f"alarm:{r.inputs['name']}"),
    ),
    "aws:sns/topic:Topic": lambda r: ("sns:SetTopicAttributes", r.outputs["arn"]),
    "aws:sns/topicSubscription:TopicSubscription": lambda r: (
        "sns:Subscribe",
        r.inputs["topic"],
    ),
    "aws:apigatewayv2/api:Api": lambda r: ("apigateway:PATCH", r.outputs["arn"]),
    "aws:apigatewayv2/authorizer:Authorizer": lambda r: (
        "apigateway:POST",
        _api_arn(r.inputs["apiId"], "authorizers"),
    ),
    "aws:apigatewayv2/integration:Integration": lambda r: (
        "apigateway:POST",
        _api_arn(r.inputs["apiId"], "integrations"),
    ),
    "aws:apigatewayv2/route:Route": lambda r: (
        "apigateway:POST",
        _api_arn(r.inputs["apiId"], "routes"),
    ),
    "aws:apigatewayv2/stage:Stage": lambda r: (
        "apigateway:POST",
        _api_arn(r.inputs["apiId"], "stages"),
    ),
    "aws:cognito/userPool:UserPool": lambda r: (
        "cognito-idp:UpdateUserPool",
        r.outputs["arn"],
    ),
    "aws:cognito/userPoolClient:UserPoolClient": lambda r: (
        "cognito-idp:UpdateUserPoolClient",
        _pool_arn(r.inputs["userPoolId"]),
    ),
    "aws:s3/bucket:Bucket": lambda r: ("s3:DeleteBucket", r.outputs["arn"]),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": lambda r: (
        "s3:PutBucketOwnershipControls",
        _bucket_arn(r),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:"
    "BucketServerSideEncryptionConfiguration": lambda r: (
        "s3:PutEncryptionConfiguration",
        _bucket_arn(r),
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda r: (
        "s3:PutBucketPublicAccessBlock",
        _bucket_arn(r),
    ),
    "aws:s3/bucketVersioning:BucketVersioning": lambda r: (
        "s3:PutBucketVersioning",
        _bucket_arn(r),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": lambda r: (
        "s3:PutLifecycleConfiguration",
        _bucket_arn(r),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": lambda r: (
        "s3:PutBucketPolicy",
        _bucket_arn(r),
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": lambda r: (
        "s3:PutObject",
        f"{_bucket_arn(r)}/{r.inputs['key']}",
    ),
    "aws:cloudfront/distribution:Distribution": lambda r: (
        "cloudfront:UpdateDistribution",
        r.outputs["arn"],
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda r: (
        "cloudfront:UpdateOriginAccessControl",
        _cloudfront_arn(f"origin-access-control/{r.id}"),
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": lambda r: (
        "cloudfront:UpdateResponseHeadersPolicy",
        _cloudfront_arn(f"response-headers-policy/{r.id}"),
    ),
    "aws:cloudfront/function:Function": lambda r: (
        "cloudfront:UpdateFunction",
        r.outputs["arn"],
    ),
    "aws:acm/certificate:Certificate": lambda r: (
        "acm:DeleteCertificate",
        r.outputs["arn"],
    ),
    "aws:acm/certificateValidation:CertificateValidation": lambda r: (
        "acm:DescribeCertificate",
        r.inputs["certificateArn"],
    ),
    "aws:route53/record:Record": lambda r: (
        "route53:ChangeResourceRecordSets",
        f"arn:aws:route53:::hostedzone/{r.inputs['zoneId']}",
    ),
}
# Types whose physical name follows the naming contract, so that the deploy role
# of another stack must not reach them.
NAMED_TYPES = {
    "aws:dynamodb/table:Table",
    "aws:kms/alias:Alias",
    "aws:backup/vault:Vault",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:lambda/function:Function",
    "aws:lambda/permission:Permission",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:cloudfront/function:Function",
}


def program_resources(run: StackRun) -> list[RecordedResource]:
    """Return the custom resources outside DeployAccess, without providers."""
    ci = {r.urn for r in ci_children(run)}
    return [
        r
        for r in run.resources
        if r.custom and r.urn not in ci and not r.type.startswith("pulumi:providers:")
    ]


def test_deploy_manages_every_resource(access_run: StackRun) -> None:
    for resource in program_resources(access_run):
        assert resource.type in MANAGED, f"add {resource.type} to MANAGED"
        action, arn = MANAGED[resource.type](resource)
        assert allows(access_run, "deploy", action, arn), (resource.name, action, arn)


@pytest.mark.parametrize(
    ("role_stack", "other_stack"),
    [("dev", "prod"), ("test", "prod"), ("prod", "dev"), ("dev", "test")],
)
def test_deploy_cannot_reach_other_stack(
    access_runs: dict[str, StackRun], role_stack: str, other_stack: str
) -> None:
    # GIVEN the named resources of another stack in the same account and region
    # THEN this stack's deploy role cannot change them
    run = access_runs[role_stack]
    for resource in program_resources(access_runs[other_stack]):
        if resource.type in NAMED_TYPES:
            action, arn = MANAGED[resource.type](resource)
            assert not allows(run, "deploy", action, arn), (resource.name, arn)


def test_deploy_cannot_change_ci_access(access_run: StackRun) -> None:
    iam_writes = (
        "iam:AttachRolePolicy",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicy",
        "iam:DeleteRole",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
    )
    for resource in ci_children(access_run):
        arn = resource.outputs.get("arn")
        if not isinstance(arn, str):
            continue
        for action in iam_writes:
            assert not allows(access_run, "deploy", action, arn), (action, arn)


# Self-managed state backend


def test_state_group_only_with_backend() -> None:
    groups = ("data", "functions", "api", "site")
    assert policy_groups(settings_for("dev", **ACCESS)) == groups
    bucket_only = settings_for("dev", **ACCESS, pulumiStateBucket=STATE_BUCKET)
    assert policy_groups(bucket_only) == (*groups, "state")
    key_only = settings_for("dev", **ACCESS, pulumiSecretsKey="alias/pfmon-pulumi")
    assert policy_groups(key_only) == (*groups, "state")


def test_state_files_per_stack(access_runs: dict[str, StackRun]) -> None:
    def state_file(stack: str) -> str:
        return f"arn:aws:s3:::{STATE_BUCKET}/.pulumi/stacks/pfmon/{stack}.json"

    lock = f"arn:aws:s3:::{STATE_BUCKET}/.pulumi/locks/organization/pfmon/dev/1.json"
    dev = access_runs["dev"]
    assert allows(dev, "deploy", "s3:PutObject", state_file("dev"))
    assert allows(dev, "deploy", "s3:PutObject", lock)
    assert not allows(dev, "deploy", "s3:PutObject", state_file("prod"))
    assert not allows(dev, "deploy", "s3:GetObject", state_file("prod"))
    assert allows(dev, "preview", "s3:GetObject", state_file("dev"))
    assert not allows(dev, "preview", "s3:PutObject", state_file("dev"))
    assert not allows(dev, "preview", "s3:PutObject", lock)


def test_secrets_key_by_alias(access_runs: dict[str, StackRun]) -> None:
    for purpose in PURPOSES:
        by_sid = {s["Sid"]: s for s in statements(access_runs["test"], purpose)}
        assert by_sid["PulumiSecretsKey"]["Condition"] == {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/pfmon-pulumi"]}
        }


# Pure functions


def test_statement_allows_iam_wildcards() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["lambda:GetFunction"],
        "Resource": ["arn:aws:lambda:us-east-1:1:function:pfmon-*-dev"],
    }
    function = "arn:aws:lambda:us-east-1:1:function:pfmon-profile-dev"
    assert statement_allows(statement, "lambda:getfunction", function)
    assert not statement_allows(statement, "lambda:GetFunction", f"{function}x")
    assert not statement_allows(statement, "lambda:DeleteFunction", function)
    assert not statement_allows(
        {**statement, "Effect": "Deny"}, "lambda:GetFunction", function
    )


def test_scope_needs_zone_for_custom_domain() -> None:
    with pytest.raises(ValueError, match="hosted_zone_id is empty"):
        DeployScope(
            settings=settings_for("prod", **ACCESS),
            account_id=ACCOUNT_ID,
            partition="aws",
            stack="prod",
            pulumi_project="pfmon",
        )


def test_deploy_documents_without_access_rejected() -> None:
    with pytest.raises(ValueError, match="has no deploy access"):
        deploy_policies.deploy_subjects(settings_for("dev"))


def test_secrets_key_by_arn() -> None:
    key_arn = (
        f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    scope = DeployScope(
        settings=settings_for("dev", **ACCESS, pulumiSecretsKey=key_arn),
        account_id=ACCOUNT_ID,
        partition="aws",
        stack="dev",
        pulumi_project="pfmon",
    )
    state = deploy_policies.preview_policy_documents(scope)["state"]
    assert state["Statement"] == [
        {
            "Sid": "PulumiSecretsKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [key_arn],
        }
    ]
