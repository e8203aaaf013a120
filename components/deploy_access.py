"""DeployAccess: the roles that GitHub Actions assumes through OIDC to deploy a stack.

With `githubOidcProvider` set, the stack gets two roles. The deploy role runs
`pulumi up`, and only the deploy workflow's jobs for this stack may assume it. The
preview role runs `pulumi preview` for pull requests. Pull requests can run any code
with the credentials they get, so the preview role only reads: a separate role per
stack keeps write access away from every workflow that a pull request triggers.

Neither role may change its own trust or permissions, so changes to this component are
applied with an administrator's credentials before the workflows use them. The
documents come from `components.deploy_policies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.deploy_policies import (
    GITHUB_OIDC_URL,
    STS_AUDIENCE,
    DeployScope,
    PolicyDocument,
    check_policy_size,
    deploy_policy_documents,
    deploy_subjects,
    github_trust_policy,
    policy_groups,
    preview_policy_documents,
    preview_subjects,
)
from components.settings import DeployAccessSettings, StackSettings

TYPE_TOKEN = "pfmon:components:DeployAccess"  # noqa: S105 - a type token, not a secret

# A workflow run gets credentials for at most one hour.
MAX_SESSION_SECONDS = 3600

BuildDocuments = Callable[[DeployScope], dict[str, PolicyDocument]]


@dataclass(frozen=True)
class DeployAccessArgs:
    settings: StackSettings


class DeployAccess(pulumi.ComponentResource):
    """GitHub's OIDC provider (when the stack creates it) and the stack's CI roles.

    Attributes: `oidc_provider_arn`, `deploy_role_arn` and `preview_role_arn`, each
    None for a stack without deploy access.
    """

    oidc_provider_arn: pulumi.Output[str] | None
    deploy_role_arn: pulumi.Output[str] | None
    preview_role_arn: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: DeployAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name = name
        self._settings = args.settings
        self.oidc_provider_arn = None
        self.deploy_role_arn = None
        self.preview_role_arn = None
        access = args.settings.deploy_access
        if access is None:
            self.register_outputs({})
            return

        invoke_options = pulumi.InvokeOutputOptions(parent=self)
        self._account_id = aws.get_caller_identity_output(
            opts=invoke_options
        ).account_id
        self._scope = self._deploy_scope(invoke_options)

        self.oidc_provider_arn = self._oidc_provider_arn(access)
        self.deploy_role_arn = self._create_role(
            "deploy",
            f"Deploys stack {pulumi.get_stack()} from GitHub Actions workflows",
            deploy_subjects(args.settings),
            deploy_policy_documents,
        ).arn
        self.preview_role_arn = self._create_role(
            "preview",
            f"Previews stack {pulumi.get_stack()} for pull requests, read-only",
            preview_subjects(args.settings),
            preview_policy_documents,
        ).arn

        self.register_outputs(
            {
                "oidcProviderArn": self.oidc_provider_arn,
                "deployRoleArn": self.deploy_role_arn,
                "previewRoleArn": self.preview_role_arn,
            }
        )

    def _child_options(
        self, protect: bool = False, retain_on_delete: bool = False
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, protect=protect, retain_on_delete=retain_on_delete
        )

    def _deploy_scope(
        self, invoke_options: pulumi.InvokeOutputOptions
    ) -> pulumi.Output[DeployScope]:
        settings = self._settings
        partition = aws.get_partition_output(opts=invoke_options).partition
        zone_id: pulumi.Output[str] | None = None
        if settings.tier.custom_domain:
            zone_id = aws.route53.get_zone_output(
                name=settings.domain_name, private_zone=False, opts=invoke_options
            ).zone_id
        stack, project = pulumi.get_stack(), pulumi.get_project()
        return pulumi.Output.all(
            account_id=self._account_id, partition=partition, zone_id=zone_id
        ).apply(
            lambda values: DeployScope(
                settings=settings,
                account_id=values["account_id"],
                partition=values["partition"],
                stack=stack,
                pulumi_project=project,
                hosted_zone_id=values["zone_id"],
            )
        )

    def _oidc_provider_arn(self, access: DeployAccessSettings) -> pulumi.Output[str]:
        if not access.creates_oidc_provider:
            return pulumi.Output.from_input(access.oidc_provider)
        # IAM checks GitHub's certificate against its own trusted certificate
        # authorities, so the provider needs no thumbprint. Other stacks of the
        # account may trust this provider too, so a tier with deletion protection
        # protects it and retains it on delete.
        protected = self._settings.tier.deletion_protection
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-github-oidc-provider",
            url=GITHUB_OIDC_URL,
            client_id_lists=[STS_AUDIENCE],
            opts=self._child_options(protect=protected, retain_on_delete=protected),
        )
        return provider.arn

    def _create_role(
        self,
        purpose: str,
        description: str,
        subjects: list[str],
        build_documents: BuildDocuments,
    ) -> aws.iam.Role:
        role_name = self._settings.resource_name(purpose)
        provider_arn = self.oidc_provider_arn
        if provider_arn is None:
            raise RuntimeError("the OIDC provider ARN must be known before any role")
        trust = pulumi.Output.all(provider_arn, self._account_id).apply(
            lambda values: json.dumps(
                github_trust_policy(values[0], values[1], subjects)
            )
        )
        # The role gets customer-managed policies through attachments, never
        # inline_policies or managed_policy_arns.
        role = aws.iam.Role(
            f"{self._name}-{purpose}-role",
            name=role_name,
            description=description,
            assume_role_policy=trust,
            max_session_duration=MAX_SESSION_SECONDS,
            opts=self._child_options(),
        )
        documents = self._scope.apply(build_documents)
        for group in policy_groups(self._settings):
            self._attach_policy(role, purpose, group, documents)
        return role

    def _attach_policy(
        self,
        role: aws.iam.Role,
        purpose: str,
        group: str,
        documents: pulumi.Output[dict[str, PolicyDocument]],
    ) -> None:
        policy_name = f"{self._settings.resource_name(purpose)}-{group}"
        policy = aws.iam.Policy(
            f"{self._name}-{purpose}-{group}-policy",
            name=policy_name,
            description=f"Permissions of the CI role {purpose}: {group} resources",
            policy=documents.apply(
                lambda values: json.dumps(check_policy_size(policy_name, values[group]))
            ),
            opts=self._child_options(),
        )
        aws.iam.RolePolicyAttachment(
            f"{self._name}-{purpose}-{group}-policy-attachment",
            role=role.name,
            policy_arn=policy.arn,
            opts=self._child_options(),
        )
