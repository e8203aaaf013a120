"""AuthPool under Pulumi mocks: pool, trigger permission and SPA client, per stack."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

from tools.mock_runtime import ACCOUNT_ID, RecordedResource, StackRun, run_stack

POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION = "aws:lambda/function:Function"
COMPONENT = "pfmon:components:AuthPool"

MFA = {"dev": "OPTIONAL", "test": "OPTIONAL", "prod": "ON"}
PASSWORD_LENGTH = {"dev": 8, "test": 8, "prod": 12}
PASSWORD_SYMBOLS = {"dev": False, "test": False, "prod": True}
TOKEN_MINUTES = {"dev": 1440, "test": 1440, "prod": 60}
REFRESH_DAYS = {"dev": 30, "test": 30, "prod": 7}
PROTECTED = {"dev": False, "test": False, "prod": True}


def resolve(output: pulumi.Output[Any]) -> Any:
    """Return the value of an output of a finished mock run.

    A private event loop leaves the thread's current loop, which Pulumi's runtime
    uses in the next mock run, as it is. `asyncio.run` would unset it.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(output.future())
    finally:
        loop.close()


def pool_of(run: StackRun) -> RecordedResource:
    return run.one(POOL, "auth-user-pool")


def client_of(run: StackRun) -> RecordedResource:
    return run.one(CLIENT, "auth-web-client")


def post_confirmation_of(run: StackRun) -> RecordedResource:
    name = f"pfmon-post-confirmation-{run.stack}"
    found = [f for f in run.of_type(FUNCTION) if f.inputs.get("name") == name]
    assert len(found) == 1, f"expected one function {name}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def dev_overridden() -> StackRun:
    """Return dev with a 10-character password minimum and required MFA."""
    return run_stack("dev", {"passwordMinLength": "10", "mfa": "required"})


# User pool


def test_pool_name_per_stack(stack_run: StackRun) -> None:
    assert pool_of(stack_run).inputs["name"] == f"pfmon-{stack_run.stack}-users"


def test_pool_mfa_per_stack(stack_run: StackRun) -> None:
    inputs = pool_of(stack_run).inputs
    assert inputs["mfaConfiguration"] == MFA[stack_run.stack]
    assert inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert "smsConfiguration" not in inputs


def test_pool_password_policy_per_stack(stack_run: StackRun) -> None:
    policy = pool_of(stack_run).inputs["passwordPolicy"]
    assert policy["minimumLength"] == PASSWORD_LENGTH[stack_run.stack]
    assert policy["requireSymbols"] is PASSWORD_SYMBOLS[stack_run.stack]
    assert policy["requireLowercase"] is True
    assert policy["requireUppercase"] is True
    assert policy["requireNumbers"] is True
    assert policy["temporaryPasswordValidityDays"] == 3


def test_pool_email_sign_in(stack_run: StackRun) -> None:
    inputs = pool_of(stack_run).inputs
    assert inputs["usernameAttributes"] == ["email"]
    assert inputs["usernameConfiguration"] == {"caseSensitive": False}
    assert inputs["autoVerifiedAttributes"] == ["email"]
    assert "aliasAttributes" not in inputs


def test_pool_schema_not_redeclared(stack_run: StackRun) -> None:
    # Standard attributes redeclared in schemas show a perpetual diff or a replacement.
    assert "schemas" not in pool_of(stack_run).inputs


def test_pool_self_sign_up(stack_run: StackRun) -> None:
    config = pool_of(stack_run).inputs["adminCreateUserConfig"]
    assert config == {"allowAdminCreateUserOnly": False}


def test_pool_recovery_email_only(stack_run: StackRun) -> None:
    setting = pool_of(stack_run).inputs["accountRecoverySetting"]
    assert setting == {
        "recoveryMechanisms": [{"name": "verified_email", "priority": 1}]
    }


def test_pool_email_change_verified(stack_run: StackRun) -> None:
    settings = pool_of(stack_run).inputs["userAttributeUpdateSettings"]
    assert settings == {"attributesRequireVerificationBeforeUpdates": ["email"]}


def test_pool_verification_email(stack_run: StackRun) -> None:
    template = pool_of(stack_run).inputs["verificationMessageTemplate"]
    assert template["defaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in template["emailMessage"]
    assert template["emailSubject"] == "Your PFMON verification code"


def test_pool_deletion_protection(stack_run: StackRun) -> None:
    expected = "ACTIVE" if PROTECTED[stack_run.stack] else "INACTIVE"
    assert pool_of(stack_run).inputs["deletionProtection"] == expected


def test_pool_protect_and_retain(stack_run: StackRun) -> None:
    pool = pool_of(stack_run)
    assert pool.protect is PROTECTED[stack_run.stack]
    assert pool.retain_on_delete is PROTECTED[stack_run.stack]


# Post-confirmation trigger


def test_trigger_is_post_confirmation(stack_run: StackRun) -> None:
    function_arn = post_confirmation_of(stack_run).outputs["arn"]
    lambda_config = pool_of(stack_run).inputs["lambdaConfig"]
    assert lambda_config == {"postConfirmation": function_arn}
    assert function_arn.endswith(f":function:pfmon-post-confirmation-{stack_run.stack}")


def test_permission_scoped_to_pool(stack_run: StackRun) -> None:
    permission = stack_run.one(PERMISSION, "auth-post-confirmation-permission")
    assert permission.inputs["sourceArn"] == pool_of(stack_run).outputs["arn"]
    assert permission.inputs["sourceAccount"] == ACCOUNT_ID


def test_permission_cognito_invokes(stack_run: StackRun) -> None:
    permission = stack_run.one(PERMISSION, "auth-post-confirmation-permission")
    function_name = post_confirmation_of(stack_run).inputs["name"]
    assert permission.inputs["principal"] == "cognito-idp.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == function_name


# App client


def test_client_name_and_pool(stack_run: StackRun) -> None:
    client = client_of(stack_run)
    assert client.inputs["name"] == f"pfmon-{stack_run.stack}-web"
    pool_id = resolve(stack_run.program["auth"].user_pool_id)
    assert client.inputs["userPoolId"] == pool_id


def test_client_token_validity_per_stack(stack_run: StackRun) -> None:
    inputs = client_of(stack_run).inputs
    assert inputs["accessTokenValidity"] == TOKEN_MINUTES[stack_run.stack]
    assert inputs["idTokenValidity"] == TOKEN_MINUTES[stack_run.stack]
    assert inputs["refreshTokenValidity"] == REFRESH_DAYS[stack_run.stack]


def test_client_token_units(stack_run: StackRun) -> None:
    units = client_of(stack_run).inputs["tokenValidityUnits"]
    assert units == {
        "accessToken": "minutes",
        "idToken": "minutes",
        "refreshToken": "days",
    }


def test_client_spa_settings(stack_run: StackRun) -> None:
    inputs = client_of(stack_run).inputs
    assert inputs["generateSecret"] is False
    assert inputs["explicitAuthFlows"] == [
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    assert inputs["enableTokenRevocation"] is True
    assert inputs["preventUserExistenceErrors"] == "ENABLED"


def test_client_no_oauth(stack_run: StackRun) -> None:
    inputs = client_of(stack_run).inputs
    assert inputs["allowedOauthFlowsUserPoolClient"] is False
    assert "allowedOauthFlows" not in inputs
    assert "callbackUrls" not in inputs
    assert "supportedIdentityProviders" not in inputs


def test_client_attributes(stack_run: StackRun) -> None:
    inputs = client_of(stack_run).inputs
    assert inputs["readAttributes"] == ["email", "email_verified"]
    assert inputs["writeAttributes"] == ["email"]


# Component attributes


def test_issuer_names_pool(stack_run: StackRun) -> None:
    auth = stack_run.program["auth"]
    pool_id = resolve(auth.user_pool_id)
    assert pool_id == stack_run.outputs["userPoolId"]
    expected = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert resolve(auth.issuer) == expected


def test_pool_arn_and_client_id(stack_run: StackRun) -> None:
    auth = stack_run.program["auth"]
    assert resolve(auth.user_pool_arn) == pool_of(stack_run).outputs["arn"]
    assert resolve(auth.client_id) == stack_run.outputs["userPoolClientId"]


def test_children_parented_to_component(stack_run: StackRun) -> None:
    component = stack_run.one(COMPONENT)
    children = {child.name for child in stack_run.children_of(component)}
    expected = {
        "auth-user-pool",
        "auth-post-confirmation-permission",
        "auth-web-client",
    }
    assert children == expected
    stray = {r.name for r in stack_run.resources if r.name.startswith("auth-")}
    assert stray == expected


# Tier overrides


def test_dev_password_override(dev_overridden: StackRun) -> None:
    # GIVEN passwordMinLength=10 in dev, THEN the pool requires 10 characters
    policy = pool_of(dev_overridden).inputs["passwordPolicy"]
    assert policy["minimumLength"] == 10
    assert policy["requireSymbols"] is False


def test_dev_mfa_override(dev_overridden: StackRun) -> None:
    inputs = pool_of(dev_overridden).inputs
    assert inputs["mfaConfiguration"] == "ON"
    assert inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
