"""Trust and permission documents of the CI roles that GitHub Actions assumes.

Each stack gets two roles: a deploy role that runs `pulumi up`, and a read-only preview
role for pull requests. Nothing here creates a Pulumi resource, so tests and IAM linters
can import these functions and inspect the exact documents that `DeployAccess` deploys.

Every statement names the stack's resources through the naming contract (tables
`pfmon-<env>-*`, functions `pfmon-*-<env>`, ...). AWS generates the ids of some
resources (KMS keys, user pools, HTTP APIs, CloudFront distributions, certificates,
backup plans), so their statements reach every resource of that type in the account,
and in the region for a regional service. `UNNAMED_RESOURCE_REASONS` lists them. A few
actions accept no resource but "*", and `WILDCARD_RESOURCE_REASONS` lists them.
Separate AWS accounts per environment keep one stack's role away from another stack's
resources of those types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.api_functions import POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME
from components.settings import StackSettings
from components.static_site import CERTIFICATE_REGION

PolicyDocument = dict[str, Any]

POLICY_VERSION = "2012-10-17"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
# The audience that aws-actions/configure-aws-credentials requests for the token.
STS_AUDIENCE = "sts.amazonaws.com"
# IAM's quota for one customer-managed policy, counted without white space.
MANAGED_POLICY_MAX_CHARS = 6144
# The branch whose pushes the deploy workflow deploys.
MAIN_BRANCH_REF = "refs/heads/main"

# Policies of each role, one per group of services, so that each stays under the
# quota. A stack with a self-managed state backend adds the "state" group.
POLICY_GROUPS = ("data", "functions", "api", "site")
STATE_POLICY_GROUP = "state"

# Statements whose resources carry no stack name, and why.
UNNAMED_RESOURCE_REASONS: Mapping[str, str] = {
    "KmsManageKeys": "a key ARN is a generated id, and the keys carry no tags",
    "KmsManageAliases": "CreateAlias also needs the target key, whose ARN is an id",
    "KmsUseKeysThroughServices": "a key ARN is a generated id",
    "BackupPlans": "a backup plan ARN is a generated id",
    "IamReadCiAccess": "GitHub's OIDC provider is one per account, for every stack",
    "LambdaReadPowertoolsLayer": "AWS publishes the layer from its own account",
    "ApiGatewayCreateApi": "POST on the collection /apis creates an HTTP API",
    "ApiGatewayManageApis": "an HTTP API id is generated",
    "CognitoManageUserPools": "a user pool id is generated",
    "CloudFrontDistributions": "distribution and policy ids are generated",
    "AcmManageCertificates": "a certificate ARN is a generated id",
    "Route53SiteRecords": "the hosted zone of domainName is shared by the stacks",
    "Route53ReadZone": "the hosted zone of domainName is shared by the stacks",
    "Route53ReadChanges": "a change id is generated",
    "PulumiStateBucket": "the state bucket contains the state of every stack",
    "PulumiBackendMetadata": "the backend's metadata file is shared by the stacks",
    "PulumiSecretsKey": "one KMS key encrypts the secrets of every stack",
    "PulumiStateKeyThroughS3": "one KMS key encrypts the state of every stack",
}
# Statements with Resource "*", because their actions accept no resource ARN.
WILDCARD_RESOURCE_REASONS: Mapping[str, str] = {
    "KmsCreateKeys": "kms:CreateKey acts before the key exists",
    "KmsListAliases": "kms:ListAliases lists the aliases of the whole region",
    "BackupStorage": "AWS Backup requires backup-storage:MountCapsule on *",
    "LogsDescribeLogGroups": "logs:DescribeLogGroups defines no resource type",
    "LogsApiAccessLogDelivery": (
        "API Gateway requires these log delivery actions on * for access logs"
    ),
    "SnsManageSubscriptions": "SNS defines no resource type for a subscription",
    "CognitoCreateUserPool": "cognito-idp:CreateUserPool acts before the pool exists",
    "CloudFrontCreateOriginAccessControl": (
        "cloudfront:CreateOriginAccessControl defines no resource type"
    ),
    "AcmRequestSiteCertificate": "acm:RequestCertificate acts before the certificate",
    "Route53ListZones": "listing hosted zones defines no resource type",
}

_ACCOUNT_ID = re.compile(r"\d{12}")
_OIDC_PROVIDER_ARN = re.compile(
    rf"arn:aws(?:-[a-z]+)*:iam::(\d{{12}}):oidc-provider/{re.escape(GITHUB_OIDC_HOST)}"
)


@dataclass(frozen=True)
class Grant:
    """One statement of the deploy role, and its read-only part for the preview role.

    The deploy role gets `read_actions` and `deploy_actions`, the preview role only
    `read_actions`, on the same resources and under the same condition.
    """

    sid: str
    resources: tuple[str, ...]
    read_actions: tuple[str, ...] = ()
    deploy_actions: tuple[str, ...] = ()
    condition: Mapping[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class DeployScope:
    """The stack and account that the CI roles' permissions are scoped to."""

    settings: StackSettings
    account_id: str
    partition: str
    # The Pulumi stack and project, which name the stack's files in the state backend.
    stack: str
    pulumi_project: str
    # The public hosted zone of domainName, needed when the tier has a custom domain.
    hosted_zone_id: str | None = None

    def __post_init__(self) -> None:
        _require_account_id(self.account_id)
        if self.settings.tier.custom_domain and not self.hosted_zone_id:
            raise ValueError(
                "hosted_zone_id is empty but the tier serves a custom domain: pass "
                f"the zone id of {self.settings.domain_name} from route53.get_zone"
            )

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def region_condition(self) -> dict[str, dict[str, Any]]:
        """Return the condition that limits a "*" statement to the stack's region."""
        return {"StringEquals": {"aws:RequestedRegion": self.settings.region}}

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        """Return an ARN in the stack's account and, unless given, its region."""
        where = self.settings.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    def global_arn(self, service: str, resource: str) -> str:
        """Return an ARN of a global service such as IAM or CloudFront."""
        return f"arn:{self.partition}:{service}::{self.account_id}:{resource}"

    def s3_arn(self, bucket: str, key: str | None = None) -> str:
        suffix = "" if key is None else f"/{key}"
        return f"arn:{self.partition}:s3:::{bucket}{suffix}"

    @property
    def site_bucket(self) -> str:
        """Return the site bucket's name, as StaticSite builds it."""
        return f"{self.settings.resource_name('site')}-{self.account_id}"

    @property
    def function_pattern(self) -> str:
        return self.settings.function_name("*")


# Trust policies


def deploy_subjects(settings: StackSettings) -> list[str]:
    """Return the token subjects that may assume the stack's deploy role.

    A job that names a GitHub environment gets the subject
    `repo:<owner>/<name>:environment:<environment>`, whatever its branch. The deploy
    workflow runs each stack's job in the environment of the same name. Tiers with
    `deploy_from_main_branch` also accept jobs on main that name no environment; prod
    accepts only its environment, whose required reviewers approve each deploy.
    """
    repository = _require_repository(settings)
    subjects = [f"repo:{repository}:environment:{settings.environment}"]
    if settings.tier.deploy_from_main_branch:
        subjects.append(f"repo:{repository}:ref:{MAIN_BRANCH_REF}")
    return subjects


def preview_subjects(settings: StackSettings) -> list[str]:
    """Return the token subjects that may assume the stack's preview role.

    A job triggered by a pull request that names no environment gets the subject
    `repo:<owner>/<name>:pull_request`. GitHub gives no token to pull requests from
    forks, so only branches of the repository reach this role.
    """
    return [f"repo:{_require_repository(settings)}:pull_request"]


def github_trust_policy(
    provider_arn: str, account_id: str, subjects: Sequence[str]
) -> PolicyDocument:
    """Build the trust policy that admits GitHub Actions tokens of `subjects`.

    Raises `ValueError` when `provider_arn` is not GitHub's OIDC provider in the
    account `account_id`, or `subjects` is empty.
    """
    match = _OIDC_PROVIDER_ARN.fullmatch(provider_arn)
    if match is None or match.group(1) != account_id:
        raise ValueError(
            f"pfmon:githubOidcProvider = {provider_arn!r} is not the OIDC provider "
            f"for {GITHUB_OIDC_HOST} in account {account_id}: set it to "
            f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}, or to "
            "create in the one stack of the account that creates the provider"
        )
    if not subjects:
        raise ValueError("subjects is empty, so no workflow could assume the role")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "GitHubActionsAssumeRole",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": list(subjects),
                    }
                },
            }
        ],
    }


# Permission policies


def policy_groups(settings: StackSettings) -> tuple[str, ...]:
    """Return the names of the policy groups that each CI role of the stack gets."""
    access = settings.deploy_access
    if access is not None and (access.state_bucket or access.secrets_key):
        return (*POLICY_GROUPS, STATE_POLICY_GROUP)
    return POLICY_GROUPS


def deploy_policy_documents(scope: DeployScope) -> dict[str, PolicyDocument]:
    """Build the deploy role's policies, keyed by group name."""
    return _documents(scope, include_deploy=True)


def preview_policy_documents(scope: DeployScope) -> dict[str, PolicyDocument]:
    """Build the preview role's read-only policies, keyed by group name."""
    return _documents(scope, include_deploy=False)


def policy_size(document: PolicyDocument) -> int:
    """Return the characters IAM counts against the quota: the JSON without spaces."""
    return len(json.dumps(document, separators=(",", ":")))


def check_policy_size(name: str, document: PolicyDocument) -> PolicyDocument:
    """Return the document, or raise `ValueError` when IAM would reject its size."""
    size = policy_size(document)
    if size > MANAGED_POLICY_MAX_CHARS:
        raise ValueError(
            f"policy {name} has {size} characters, above IAM's limit of "
            f"{MANAGED_POLICY_MAX_CHARS}: move statements to another policy group in "
            "components/deploy_policies.py"
        )
    return document


def statement_allows(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Return whether an Allow statement names `action` on `resource`.

    Conditions are not evaluated. IAM matches `*` in a resource to any characters
    and `?` to one, and compares actions without regard to case.
    """
    if statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    if action.lower() not in {name.lower() for name in actions}:
        return False
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else resources
    return any(_resource_pattern(pattern).fullmatch(resource) for pattern in resources)


def document_allows(document: PolicyDocument, action: str, resource: str) -> bool:
    """Return whether any statement of the document names `action` on `resource`."""
    return any(
        statement_allows(statement, action, resource)
        for statement in document["Statement"]
    )


def _documents(scope: DeployScope, include_deploy: bool) -> dict[str, PolicyDocument]:
    documents: dict[str, PolicyDocument] = {}
    for group in policy_groups(scope.settings):
        statements = [
            statement
            for grant in _GRANT_BUILDERS[group](scope)
            if (statement := _statement(grant, include_deploy)) is not None
        ]
        documents[group] = {"Version": POLICY_VERSION, "Statement": statements}
    return documents


def _statement(grant: Grant, include_deploy: bool) -> PolicyDocument | None:
    actions = set(grant.read_actions)
    if include_deploy:
        actions.update(grant.deploy_actions)
    if not actions:
        return None
    statement: PolicyDocument = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(grant.resources),
    }
    if grant.condition is not None:
        statement["Condition"] = {
            operator: dict(values) for operator, values in grant.condition.items()
        }
    return statement


# Grants per group. The program sets no tags, so no grant allows tagging: a resource
# that gets tags needs its service's tagging actions added here.


def _data_grants(scope: DeployScope) -> list[Grant]:
    return [*_dynamodb_grants(scope), *_kms_grants(scope), *_backup_grants(scope)]


def _functions_grants(scope: DeployScope) -> list[Grant]:
    return [*_iam_grants(scope), *_lambda_grants(scope), *_logs_grants(scope)]


def _api_grants(scope: DeployScope) -> list[Grant]:
    return [*_api_gateway_grants(scope), *_cognito_grants(scope), *_alarm_grants(scope)]


def _site_grants(scope: DeployScope) -> list[Grant]:
    return [
        *_s3_site_grants(scope),
        *_cloudfront_grants(scope),
        *_certificate_grants(scope),
    ]


def _dynamodb_grants(scope: DeployScope) -> list[Grant]:
    return [
        Grant(
            "DynamoDbTables",
            (scope.arn("dynamodb", f"table/{scope.prefix}-*"),),
            read_actions=(
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:ListTagsOfResource",
            ),
            deploy_actions=(
                "dynamodb:CreateTable",
                "dynamodb:DeleteTable",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:UpdateTable",
            ),
        )
    ]


def _kms_grants(scope: DeployScope) -> list[Grant]:
    tier = scope.settings.tier
    keys = scope.arn("kms", "key/*")
    grants = [
        Grant(
            "KmsCreateKeys",
            ("*",),
            deploy_actions=("kms:CreateKey",),
            condition=scope.region_condition,
        ),
        Grant("KmsListAliases", ("*",), read_actions=("kms:ListAliases",)),
        # NOTE: these actions reach every key in the account and region, including
        # another stack's keys there, because a key ARN is a generated id.
        Grant(
            "KmsManageKeys",
            (keys,),
            read_actions=(
                "kms:DescribeKey",
                "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus",
                "kms:ListResourceTags",
            ),
            deploy_actions=(
                "kms:EnableKeyRotation",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:UpdateKeyDescription",
            ),
        ),
        Grant(
            "KmsManageAliases",
            (scope.arn("kms", f"alias/{scope.prefix}-*"), keys),
            deploy_actions=("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        ),
    ]
    if tier.customer_managed_keys:
        # DynamoDB (a table encrypted with the tables key) and AWS Backup (a vault
        # encrypted with it) use the key on behalf of the caller that creates them.
        services = [f"dynamodb.{scope.settings.region}.amazonaws.com"]
        if tier.backups:
            services.append(f"backup.{scope.settings.region}.amazonaws.com")
        grants.append(
            Grant(
                "KmsUseKeysThroughServices",
                (keys,),
                deploy_actions=(
                    "kms:CreateGrant",
                    "kms:Decrypt",
                    "kms:GenerateDataKey",
                    "kms:RetireGrant",
                ),
                condition={"StringEquals": {"kms:ViaService": services}},
            )
        )
    return grants


def _backup_grants(scope: DeployScope) -> list[Grant]:
    if not scope.settings.tier.backups:
        return []
    return [
        Grant(
            "BackupVault",
            (scope.arn("backup", f"backup-vault:{scope.prefix}-*"),),
            read_actions=("backup:DescribeBackupVault", "backup:ListTags"),
            deploy_actions=("backup:CreateBackupVault", "backup:DeleteBackupVault"),
        ),
        Grant(
            "BackupPlans",
            (scope.arn("backup", "backup-plan:*"),),
            read_actions=(
                "backup:GetBackupPlan",
                "backup:GetBackupSelection",
                "backup:ListTags",
            ),
            deploy_actions=(
                "backup:CreateBackupPlan",
                "backup:CreateBackupSelection",
                "backup:DeleteBackupPlan",
                "backup:DeleteBackupSelection",
                "backup:UpdateBackupPlan",
            ),
        ),
        # AWS Backup requires this permission to create a vault, besides
        # backup:CreateBackupVault.
        Grant("BackupStorage", ("*",), deploy_actions=("backup-storage:MountCapsule",)),
    ]


def _iam_grants(scope: DeployScope) -> list[Grant]:
    roles, policies = _stack_roles(scope), _stack_policies(scope)
    # NOTE: a role that edits the policies of roles it passes to Lambda can grant
    # those functions any permission. A permissions boundary on the stack's roles,
    # required here through iam:PermissionsBoundary, would cap that.
    return [
        Grant(
            "IamStackRoles",
            roles,
            read_actions=(
                "iam:GetRole",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
            ),
            deploy_actions=(
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ),
        ),
        Grant(
            "IamStackPolicies",
            policies,
            read_actions=(
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
            ),
            deploy_actions=(
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
            ),
        ),
        # The roles may get the stack's own policies only, never an AWS-managed
        # policy such as AdministratorAccess.
        Grant(
            "IamAttachStackPolicies",
            roles,
            deploy_actions=("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
            condition={"ArnLike": {"iam:PolicyARN": list(policies)}},
        ),
        *_pass_role_grants(scope),
        _ci_access_read_grant(scope),
    ]


def _stack_roles(scope: DeployScope) -> tuple[str, ...]:
    """Return the ARN patterns of the functions' roles and the AWS Backup role."""
    roles = [scope.global_arn("iam", f"role/{scope.settings.role_name('*')}")]
    if scope.settings.tier.backups:
        roles.append(scope.global_arn("iam", f"role/{scope.prefix}-backup-role"))
    return tuple(roles)


def _stack_policies(scope: DeployScope) -> tuple[str, ...]:
    """Return the ARN patterns of the policies of the roles in `_stack_roles`."""
    policies = [scope.global_arn("iam", f"policy/{scope.function_pattern}-policy")]
    if scope.settings.tier.backups:
        policies.append(scope.global_arn("iam", f"policy/{scope.prefix}-backup-policy"))
    return tuple(policies)


def _pass_role_grants(scope: DeployScope) -> list[Grant]:
    """Let Lambda get the functions' roles, and AWS Backup its own role."""
    function_roles, *backup_roles = _stack_roles(scope)
    grants = [
        Grant(
            "IamPassFunctionRoles",
            (function_roles,),
            deploy_actions=("iam:PassRole",),
            condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        )
    ]
    if backup_roles:
        grants.append(
            Grant(
                "IamPassBackupRole",
                tuple(backup_roles),
                deploy_actions=("iam:PassRole",),
                condition={
                    "StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}
                },
            )
        )
    return grants


def _ci_access_read_grant(scope: DeployScope) -> Grant:
    """Let both roles read the CI access itself, as `pulumi refresh` does.

    Neither role may change it, so a workflow cannot widen its own permissions: an
    administrator applies changes to `DeployAccess`.
    """
    prefix = scope.prefix
    return Grant(
        "IamReadCiAccess",
        (
            scope.global_arn("iam", f"role/{prefix}-deploy"),
            scope.global_arn("iam", f"role/{prefix}-preview"),
            scope.global_arn("iam", f"policy/{prefix}-deploy-*"),
            scope.global_arn("iam", f"policy/{prefix}-preview-*"),
            scope.global_arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}"),
        ),
        read_actions=(
            "iam:GetOpenIDConnectProvider",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
        ),
    )


def _lambda_grants(scope: DeployScope) -> list[Grant]:
    functions = (scope.arn("lambda", f"function:{scope.function_pattern}"),)
    layer = (
        f"arn:{scope.partition}:lambda:{scope.settings.region}:"
        f"{POWERTOOLS_LAYER_ACCOUNT}:layer:{POWERTOOLS_LAYER_NAME}:*"
    )
    return [
        Grant(
            "LambdaFunctions",
            functions,
            read_actions=(
                "lambda:GetFunction",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConcurrency",
                "lambda:GetFunctionConfiguration",
                "lambda:GetPolicy",
                "lambda:ListTags",
                "lambda:ListVersionsByFunction",
            ),
            deploy_actions=(
                "lambda:AddPermission",
                "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency",
                "lambda:PutFunctionConcurrency",
                "lambda:RemovePermission",
                "lambda:UpdateFunctionCode",
            ),
        ),
        # A function may name no layer but the Powertools layer.
        Grant(
            "LambdaConfigureFunctions",
            functions,
            deploy_actions=(
                "lambda:CreateFunction",
                "lambda:UpdateFunctionConfiguration",
            ),
            condition={"ForAllValues:StringLike": {"lambda:Layer": [layer]}},
        ),
        Grant(
            "LambdaReadPowertoolsLayer",
            (layer,),
            deploy_actions=("lambda:GetLayerVersion",),
        ),
    ]


def _logs_grants(scope: DeployScope) -> list[Grant]:
    lambda_groups = f"log-group:/aws/lambda/{scope.function_pattern}"
    log_groups = (
        scope.arn("logs", lambda_groups),
        scope.arn("logs", f"{lambda_groups}:*"),
        scope.arn("logs", f"log-group:/aws/vendedlogs/{scope.prefix}-*"),
    )
    return [
        Grant(
            "LogsStackLogGroups",
            log_groups,
            read_actions=("logs:ListTagsForResource", "logs:ListTagsLogGroup"),
            deploy_actions=(
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteRetentionPolicy",
                "logs:PutRetentionPolicy",
            ),
        ),
        Grant(
            "LogsDescribeLogGroups",
            ("*",),
            read_actions=("logs:DescribeLogGroups",),
            condition=scope.region_condition,
        ),
        # The HTTP API stage writes access logs through a CloudWatch Logs delivery,
        # which the caller that configures the stage sets up.
        Grant(
            "LogsApiAccessLogDelivery",
            ("*",),
            deploy_actions=(
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ),
            condition=scope.region_condition,
        ),
    ]


def _api_gateway_grants(scope: DeployScope) -> list[Grant]:
    apis = f"arn:{scope.partition}:apigateway:{scope.settings.region}::/apis"
    return [
        Grant("ApiGatewayCreateApi", (apis,), deploy_actions=("apigateway:POST",)),
        # The API, its routes, integrations, authorizer and stage.
        Grant(
            "ApiGatewayManageApis",
            (f"{apis}/*",),
            read_actions=("apigateway:GET",),
            deploy_actions=("apigateway:DELETE", "apigateway:PATCH", "apigateway:POST"),
        ),
    ]


def _cognito_grants(scope: DeployScope) -> list[Grant]:
    return [
        Grant(
            "CognitoCreateUserPool",
            ("*",),
            deploy_actions=("cognito-idp:CreateUserPool",),
            condition=scope.region_condition,
        ),
        Grant(
            "CognitoManageUserPools",
            (scope.arn("cognito-idp", "userpool/*"),),
            read_actions=(
                "cognito-idp:DescribeUserPool",
                "cognito-idp:DescribeUserPoolClient",
                "cognito-idp:GetUserPoolMfaConfig",
                "cognito-idp:ListTagsForResource",
            ),
            deploy_actions=(
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:DeleteUserPool",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:SetUserPoolMfaConfig",
                "cognito-idp:UpdateUserPool",
                "cognito-idp:UpdateUserPoolClient",
            ),
        ),
    ]


def _alarm_grants(scope: DeployScope) -> list[Grant]:
    if not scope.settings.tier.alarms:
        return []
    return [
        # Function alarms are named pfmon-<function>-<env>-*, the others
        # pfmon-<env>-*.
        Grant(
            "CloudWatchStackAlarms",
            (
                scope.arn("cloudwatch", f"alarm:{scope.function_pattern}-*"),
                scope.arn("cloudwatch", f"alarm:{scope.prefix}-*"),
            ),
            read_actions=(
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
            ),
            deploy_actions=("cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"),
        ),
        Grant(
            "SnsAlarmTopic",
            (scope.arn("sns", f"{scope.prefix}-*"),),
            read_actions=(
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
            ),
            deploy_actions=(
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
            ),
        ),
        Grant(
            "SnsManageSubscriptions",
            ("*",),
            read_actions=("sns:GetSubscriptionAttributes",),
            deploy_actions=("sns:SetSubscriptionAttributes", "sns:Unsubscribe"),
            condition=scope.region_condition,
        ),
    ]


def _s3_site_grants(scope: DeployScope) -> list[Grant]:
    bucket = scope.s3_arn(scope.site_bucket)
    return [
        # Reading an aws.s3.Bucket reads every bucket setting, including those
        # that the program leaves at their defaults.
        Grant(
            "S3SiteBucket",
            (bucket,),
            read_actions=(
                "s3:GetAccelerateConfiguration",
                "s3:GetBucketAcl",
                "s3:GetBucketCORS",
                "s3:GetBucketLocation",
                "s3:GetBucketLogging",
                "s3:GetBucketObjectLockConfiguration",
                "s3:GetBucketOwnershipControls",
                "s3:GetBucketPolicy",
                "s3:GetBucketPublicAccessBlock",
                "s3:GetBucketRequestPayment",
                "s3:GetBucketTagging",
                "s3:GetBucketVersioning",
                "s3:GetBucketWebsite",
                "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:ListBucket",
                "s3:ListBucketVersions",
            ),
            deploy_actions=(
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ),
        ),
        # The bucket holds only the public React build and config.json.
        Grant(
            "S3SiteObjects",
            (scope.s3_arn(scope.site_bucket, "*"),),
            read_actions=("s3:GetObject", "s3:GetObjectTagging"),
            deploy_actions=(
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:PutObject",
            ),
        ),
    ]


def _cloudfront_grants(scope: DeployScope) -> list[Grant]:
    return [
        Grant(
            "CloudFrontCreateOriginAccessControl",
            ("*",),
            deploy_actions=("cloudfront:CreateOriginAccessControl",),
        ),
        Grant(
            "CloudFrontDistributions",
            (
                scope.global_arn("cloudfront", "distribution/*"),
                scope.global_arn("cloudfront", "origin-access-control/*"),
                scope.global_arn("cloudfront", "response-headers-policy/*"),
            ),
            read_actions=(
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:GetOriginAccessControl",
                "cloudfront:GetResponseHeadersPolicy",
                "cloudfront:ListTagsForResource",
            ),
            deploy_actions=(
                "cloudfront:CreateDistribution",
                "cloudfront:CreateResponseHeadersPolicy",
                "cloudfront:DeleteDistribution",
                "cloudfront:DeleteOriginAccessControl",
                "cloudfront:DeleteResponseHeadersPolicy",
                "cloudfront:UpdateDistribution",
                "cloudfront:UpdateOriginAccessControl",
                "cloudfront:UpdateResponseHeadersPolicy",
            ),
        ),
        Grant(
            "CloudFrontSiteFunction",
            (scope.global_arn("cloudfront", f"function/{scope.prefix}-*"),),
            read_actions=("cloudfront:DescribeFunction", "cloudfront:GetFunction"),
            deploy_actions=(
                "cloudfront:CreateFunction",
                "cloudfront:DeleteFunction",
                "cloudfront:PublishFunction",
                "cloudfront:UpdateFunction",
            ),
        ),
    ]


def _certificate_grants(scope: DeployScope) -> list[Grant]:
    settings = scope.settings
    if not settings.tier.custom_domain:
        return []
    site_domain = settings.site_domain
    zone = f"arn:{scope.partition}:route53:::hostedzone/{scope.hosted_zone_id}"
    return [
        Grant(
            "AcmRequestSiteCertificate",
            ("*",),
            deploy_actions=("acm:RequestCertificate",),
            condition={
                "ForAllValues:StringEquals": {"acm:DomainNames": [site_domain]},
                "StringEquals": {"aws:RequestedRegion": CERTIFICATE_REGION},
            },
        ),
        Grant(
            "AcmManageCertificates",
            (scope.arn("acm", "certificate/*", region=CERTIFICATE_REGION),),
            read_actions=("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
            deploy_actions=("acm:DeleteCertificate",),
        ),
        # The site's alias records and the certificate's validation record only.
        Grant(
            "Route53SiteRecords",
            (zone,),
            deploy_actions=("route53:ChangeResourceRecordSets",),
            condition={
                "ForAllValues:StringLike": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                        site_domain,
                        f"_*.{site_domain}",
                    ]
                },
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsRecordTypes": [
                        "A",
                        "AAAA",
                        "CNAME",
                    ]
                },
            },
        ),
        Grant(
            "Route53ReadZone",
            (zone,),
            read_actions=(
                "route53:GetHostedZone",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResource",
            ),
        ),
        # The program looks the zone up by name.
        Grant(
            "Route53ListZones",
            ("*",),
            read_actions=("route53:ListHostedZones", "route53:ListHostedZonesByName"),
        ),
        Grant(
            "Route53ReadChanges",
            (f"arn:{scope.partition}:route53:::change/*",),
            deploy_actions=("route53:GetChange",),
        ),
    ]


def _state_grants(scope: DeployScope) -> list[Grant]:
    """Grant the stack's files in a self-managed (S3) backend and its secrets key.

    The paths follow Pulumi's project-scoped layout under `.pulumi/`. A preview
    reads the stack's state and takes no lock, so the preview role only reads.
    """
    access = scope.settings.deploy_access
    if access is None:
        return []
    grants: list[Grant] = []
    if access.state_bucket:
        grants += _state_bucket_grants(scope, access.state_bucket)
    if access.secrets_key:
        grants += _secrets_key_grants(scope, access.secrets_key, access.state_bucket)
    return grants


def _state_bucket_grants(scope: DeployScope, bucket: str) -> list[Grant]:
    project, stack = scope.pulumi_project, scope.stack
    updates = tuple(
        scope.s3_arn(bucket, f".pulumi/{folder}/{stack}/*")
        for folder in (
            f"history/{project}",
            f"backups/{project}",
            f"journal/{project}",
            f"locks/organization/{project}",
        )
    )
    return [
        # With s3:ListBucket, S3 returns 404 for a missing file instead of 403, and
        # Pulumi treats a missing file as absent only on 404.
        Grant(
            "PulumiStateBucket",
            (scope.s3_arn(bucket),),
            read_actions=("s3:ListBucket",),
        ),
        Grant(
            "PulumiBackendMetadata",
            (scope.s3_arn(bucket, ".pulumi/meta.yaml"),),
            read_actions=("s3:GetObject",),
        ),
        # The state file, its .bak copy and its .pulumi-tags file.
        Grant(
            "PulumiStackState",
            (scope.s3_arn(bucket, f".pulumi/stacks/{project}/{stack}.*"),),
            read_actions=("s3:GetObject",),
            deploy_actions=("s3:DeleteObject", "s3:PutObject"),
        ),
        Grant(
            "PulumiStackUpdates",
            updates,
            deploy_actions=("s3:DeleteObject", "s3:GetObject", "s3:PutObject"),
        ),
    ]


def _secrets_key_grants(
    scope: DeployScope, secrets_key: str, state_bucket: str | None
) -> list[Grant]:
    if secrets_key.startswith("alias/"):
        resources: tuple[str, ...] = (scope.arn("kms", "key/*"),)
        alias_condition = {
            "ForAnyValue:StringEquals": {
                "kms:ResourceAliases": [secrets_key],
            }
        }
    else:
        resources = (secrets_key,)
        alias_condition = {}
    # Pulumi's awskms secrets provider decrypts the stack's data key with it.
    grants = [
        Grant(
            "PulumiSecretsKey",
            resources,
            read_actions=("kms:Decrypt",),
            condition=alias_condition or None,
        )
    ]
    if state_bucket:
        # The state bucket encrypts new state files with the same key.
        via_s3 = {"kms:ViaService": f"s3.{scope.settings.region}.amazonaws.com"}
        grants.append(
            Grant(
                "PulumiStateKeyThroughS3",
                resources,
                deploy_actions=("kms:GenerateDataKey",),
                condition={"StringEquals": via_s3, **alias_condition},
            )
        )
    return grants


_GRANT_BUILDERS: Mapping[str, Callable[[DeployScope], list[Grant]]] = {
    "data": _data_grants,
    "functions": _functions_grants,
    "api": _api_grants,
    "site": _site_grants,
    STATE_POLICY_GROUP: _state_grants,
}


def _resource_pattern(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in re.split(r"([*?])", pattern))
    translated = {"\\*": ".*", "\\?": "."}
    return re.compile("".join(translated.get(part, part) for part in parts))


def _require_repository(settings: StackSettings) -> str:
    access = settings.deploy_access
    if access is None:
        raise ValueError(
            f"stack {settings.environment} has no deploy access: set "
            "pfmon:githubOidcProvider and pfmon:githubRepo"
        )
    return access.repository


def _require_account_id(account_id: str) -> None:
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(
            f"account_id = {account_id!r} is invalid: expected the 12-digit AWS "
            "account id from aws.get_caller_identity"
        )
