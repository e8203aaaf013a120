"""AuthPool: the Cognito user pool PFMON's users sign in to, and the SPA's app client.

Users sign in with their e-mail address, case-insensitively. The security tier sets
MFA, the password policy, token validity and deletion protection. A post-confirmation
trigger creates each new user's profile. The React app signs in with SRP through the
Cognito API directly, so the client has no secret, no OAuth flows and no hosted UI.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import MfaMode, StackSettings

# Cognito's values of mfa_configuration for each tier setting.
MFA_CONFIGURATION: dict[MfaMode, str] = {"optional": "OPTIONAL", "required": "ON"}
# Days an administrator-issued temporary password stays valid.
TEMPORARY_PASSWORD_DAYS = 3
EXPLICIT_AUTH_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
CLIENT_READ_ATTRIBUTES = ("email", "email_verified")
CLIENT_WRITE_ATTRIBUTES = ("email",)

VERIFICATION_SUBJECT = "Your PFMON verification code"
# Cognito requires the {####} placeholder, which it replaces with the code.
VERIFICATION_MESSAGE = (
    "Your PFMON verification code is {####}. "
    "If you did not sign up for PFMON, ignore this e-mail."
)


@dataclass(frozen=True)
class AuthPoolArgs:
    settings: StackSettings
    post_confirmation: aws.lambda_.Function


class AuthPool(pulumi.ComponentResource):
    """The user pool, its post-confirmation trigger permission and the SPA client.

    Attributes other components read: `user_pool_id`, `user_pool_arn`, `client_id` and
    `issuer`, the JWT issuer URL that the HTTP API's authorizer checks.
    """

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    client_id: pulumi.Output[str]
    issuer: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: AuthPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pfmon:components:AuthPool", name, None, opts)
        settings = args.settings
        self._settings = settings

        self.user_pool = self._create_user_pool(name, args.post_confirmation)
        self._create_trigger_permission(name, args.post_confirmation)
        self.client = self._create_client(name)

        self.user_pool_id = self.user_pool.id
        self.user_pool_arn = self.user_pool.arn
        self.client_id = self.client.id
        self.issuer = pulumi.Output.concat(
            "https://cognito-idp.",
            settings.region,
            ".amazonaws.com/",
            self.user_pool.id,
        )
        self.register_outputs(
            {
                "userPoolId": self.user_pool_id,
                "userPoolArn": self.user_pool_arn,
                "clientId": self.client_id,
                "issuer": self.issuer,
            }
        )

    def _create_user_pool(
        self, name: str, post_confirmation: aws.lambda_.Function
    ) -> aws.cognito.UserPool:
        tier = self._settings.tier
        protected = tier.deletion_protection
        # Frozen after creation: changing username_attributes, username_configuration
        # or the schema replaces the pool, and every user account is lost with it. The
        # standard attributes (email and the rest) are not redeclared in `schemas`,
        # because Cognito adds them itself and a redeclared one shows a perpetual diff.
        return aws.cognito.UserPool(
            f"{name}-user-pool",
            name=self._settings.resource_name("users"),
            username_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(
                case_sensitive=False
            ),
            auto_verified_attributes=["email"],
            # A changed e-mail address takes effect only once the user verifies it,
            # so a typo cannot lock the user out of the account.
            user_attribute_update_settings={
                "attributes_require_verification_before_updates": ["email"]
            },
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(
                allow_admin_create_user_only=False
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email", priority=1
                    )
                ]
            ),
            # Cognito rejects MFA that is ON or OPTIONAL without a second factor. TOTP
            # is the only one, because SMS costs money and a pool's sms_configuration
            # cannot be removed without replacing the pool.
            mfa_configuration=MFA_CONFIGURATION[tier.mfa],
            software_token_mfa_configuration={"enabled": True},
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=tier.password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=tier.password_require_symbols,
                temporary_password_validity_days=TEMPORARY_PASSWORD_DAYS,
            ),
            # NOTE: the pool sends e-mail with Cognito's default sender, whose daily
            # limit AWS calls below typical production volume, so a busy prod needs SES
            # (email_configuration). The Cognito API reference allows a custom subject
            # and message only with SES, yet AWS CDK sets them with the default sender.
            verification_message_template={
                "default_email_option": "CONFIRM_WITH_CODE",
                "email_subject": VERIFICATION_SUBJECT,
                "email_message": VERIFICATION_MESSAGE,
            },
            lambda_config=aws.cognito.UserPoolLambdaConfigArgs(
                post_confirmation=post_confirmation.arn
            ),
            deletion_protection="ACTIVE" if protected else "INACTIVE",
            opts=pulumi.ResourceOptions(
                parent=self, protect=protected, retain_on_delete=protected
            ),
        )

    def _create_trigger_permission(
        self, name: str, post_confirmation: aws.lambda_.Function
    ) -> aws.lambda_.Permission:
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        return aws.lambda_.Permission(
            f"{name}-post-confirmation-permission",
            action="lambda:InvokeFunction",
            function=post_confirmation.name,
            principal="cognito-idp.amazonaws.com",
            source_arn=self.user_pool.arn,
            source_account=account_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_client(self, name: str) -> aws.cognito.UserPoolClient:
        tier = self._settings.tier
        return aws.cognito.UserPoolClient(
            f"{name}-web-client",
            name=self._settings.resource_name("web"),
            user_pool_id=self.user_pool.id,
            # A browser cannot keep a client secret.
            generate_secret=False,
            explicit_auth_flows=list(EXPLICIT_AUTH_FLOWS),
            allowed_oauth_flows_user_pool_client=False,
            access_token_validity=tier.token_validity_minutes,
            id_token_validity=tier.token_validity_minutes,
            refresh_token_validity=tier.refresh_token_validity_days,
            token_validity_units={
                "access_token": "minutes",
                "id_token": "minutes",
                "refresh_token": "days",
            },
            enable_token_revocation=True,
            prevent_user_existence_errors="ENABLED",
            read_attributes=list(CLIENT_READ_ATTRIBUTES),
            write_attributes=list(CLIENT_WRITE_ATTRIBUTES),
            opts=pulumi.ResourceOptions(parent=self),
        )
