"""The local pool's trigger hook and guards, in this process against moto.

A stub runner replaces the Lambda workers, so each test checks the exact event the
post-confirmation function would get, or makes the function fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tools.local.cognito import (
    NO_CLIENT,
    PostConfirmationTrigger,
    reject_unchecked_srp,
)
from tools.local.emulator import Emulator, EmulatorCallError, EmulatorRequest
from tools.local.lambda_runtime import InvocationError

REGION = "us-east-1"
FUNCTION = "pfmon-post-confirmation-dev"
PASSWORD = "Trigger-Test-1"


class StubRunner:
    """Records post-confirmation events; fails them when `error` is set."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.error: InvocationError | None = None

    def family_of(self, function_name: str) -> str | None:
        return "post-confirmation" if function_name == FUNCTION else None

    def invoke(self, family: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise self.error
        return event


@pytest.fixture
def setup() -> Iterator[tuple[Emulator, StubRunner, str, str]]:
    """An emulator with the hook, and a pool whose trigger is the local function."""
    with mock_aws():
        emulator = Emulator(REGION, None)
        runner = StubRunner()
        emulator.hooks.append(PostConfirmationTrigger(emulator, runner))  # type: ignore[arg-type]
        pool = emulator.call(
            "cognito-idp",
            "CreateUserPool",
            {
                "PoolName": "trigger",
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "LambdaConfig": {
                    "PostConfirmation": f"arn:aws:lambda:{REGION}:1:function:{FUNCTION}"
                },
            },
        )["UserPool"]["Id"]
        client = emulator.call(
            "cognito-idp",
            "CreateUserPoolClient",
            {"UserPoolId": pool, "ClientName": "web"},
        )["UserPoolClient"]["ClientId"]
        yield emulator, runner, str(pool), str(client)


def sign_up(emulator: Emulator, client: str, email: str) -> str:
    return str(
        emulator.call(
            "cognito-idp",
            "SignUp",
            {"ClientId": client, "Username": email, "Password": PASSWORD},
        )["UserSub"]
    )


def test_confirm_sign_up_event(setup: tuple[Emulator, StubRunner, str, str]) -> None:
    emulator, runner, pool, client = setup
    sub = sign_up(emulator, client, "a@example.com")
    emulator.call(
        "cognito-idp",
        "ConfirmSignUp",
        {
            "ClientId": client,
            "Username": "a@example.com",
            "ConfirmationCode": "1",
            "ClientMetadata": {"source": "test"},
        },
    )
    assert runner.events == [
        {
            "version": "1",
            "region": REGION,
            "userPoolId": pool,
            "userName": sub,
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": client,
            },
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {
                "userAttributes": {
                    "email": "a@example.com",
                    "sub": sub,
                    "email_verified": "true",
                    "cognito:user_status": "CONFIRMED",
                },
                "clientMetadata": {"source": "test"},
            },
            "response": {},
        }
    ]


def test_admin_confirm_has_no_client(
    setup: tuple[Emulator, StubRunner, str, str],
) -> None:
    emulator, runner, pool, client = setup
    sign_up(emulator, client, "b@example.com")
    emulator.call(
        "cognito-idp",
        "AdminConfirmSignUp",
        {"UserPoolId": pool, "Username": "b@example.com"},
    )
    event = runner.events[0]
    assert event["callerContext"]["clientId"] == NO_CLIENT
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    # Only a confirmation with the mailed code verifies the address.
    assert "email_verified" not in event["request"]["userAttributes"]


def test_failed_function_fails_confirm(
    setup: tuple[Emulator, StubRunner, str, str],
) -> None:
    # GIVEN a post-confirmation function that raises
    emulator, runner, pool, client = setup
    runner.error = InvocationError(FUNCTION, "ValueError", "no sub attribute")
    sign_up(emulator, client, "c@example.com")
    # WHEN the user confirms
    with pytest.raises(EmulatorCallError) as caught:
        emulator.call(
            "cognito-idp",
            "ConfirmSignUp",
            {"ClientId": client, "Username": "c@example.com", "ConfirmationCode": "1"},
        )
    # THEN the call fails as in Cognito, and the user stays confirmed
    assert caught.value.code == "UserLambdaValidationException"
    assert "PostConfirmation failed with error no sub attribute." in str(caught.value)
    user = emulator.call(
        "cognito-idp", "AdminGetUser", {"UserPoolId": pool, "Username": "c@example.com"}
    )
    assert user["UserStatus"] == "CONFIRMED"


def test_timed_out_function(setup: tuple[Emulator, StubRunner, str, str]) -> None:
    emulator, runner, _pool, client = setup
    runner.error = InvocationError(FUNCTION, "Sandbox.Timedout", "Task timed out")
    sign_up(emulator, client, "d@example.com")
    with pytest.raises(EmulatorCallError) as caught:
        emulator.call(
            "cognito-idp",
            "ConfirmSignUp",
            {"ClientId": client, "Username": "d@example.com", "ConfirmationCode": "1"},
        )
    assert caught.value.code == "UnexpectedLambdaException"


def test_pool_without_trigger_untouched() -> None:
    with mock_aws():
        emulator = Emulator(REGION, None)
        runner = StubRunner()
        emulator.hooks.append(PostConfirmationTrigger(emulator, runner))  # type: ignore[arg-type]
        pool = emulator.call("cognito-idp", "CreateUserPool", {"PoolName": "plain"})
        client = emulator.call(
            "cognito-idp",
            "CreateUserPoolClient",
            {"UserPoolId": pool["UserPool"]["Id"], "ClientName": "web"},
        )["UserPoolClient"]["ClientId"]
        sign_up(emulator, client, "e@example.com")
        emulator.call(
            "cognito-idp",
            "ConfirmSignUp",
            {"ClientId": client, "Username": "e@example.com", "ConfirmationCode": "1"},
        )
    assert runner.events == []


def cognito_request(action: str, body: dict[str, Any]) -> EmulatorRequest:
    return EmulatorRequest(
        method="POST",
        path="/",
        query="",
        headers={"X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}"},
        body=json.dumps(body).encode(),
    )


@pytest.mark.parametrize("action", ["InitiateAuth", "AdminInitiateAuth"])
def test_srp_sign_in_rejected(action: str) -> None:
    response = reject_unchecked_srp(
        cognito_request(action, {"AuthFlow": "USER_SRP_AUTH"})
    )
    assert response is not None
    assert response.status == 400
    assert response.json()["__type"] == "InvalidParameterException"


@pytest.mark.parametrize(
    "flow", ["USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH", "ADMIN_USER_PASSWORD_AUTH"]
)
def test_other_flows_pass(flow: str) -> None:
    assert (
        reject_unchecked_srp(cognito_request("InitiateAuth", {"AuthFlow": flow}))
        is None
    )
