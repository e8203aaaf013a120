"""The local pool's trigger hook and guards, in this process against moto.

A stub runner replaces the Lambda workers, so each test checks the exact event the
post-confirmation function would get, or makes the function fail.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tools.local.cognito import (
    NO_CLIENT,
    PostConfirmationTrigger,
    UsernameNormalizer,
    lowercase_usernames,
    pool_of_token,
    reject_unchecked_srp,
)
from tools.local.emulator import Emulator, EmulatorCallError, EmulatorRequest
from tools.local.lambda_runtime import InvocationError
from tools.local.persistence import Journal

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


def test_lowercase_usernames_fields() -> None:
    body = {
        "ClientId": "Client-A",
        "Username": "Ann@Example.COM",
        "Password": "Mixed-Case-1",
        "AuthParameters": {"USERNAME": "ANN@example.com", "PASSWORD": "Pw-A"},
        "ChallengeResponses": {"USERNAME": "Ann@example.com", "ANSWER": "Ab"},
        "UserAttributes": [
            {"Name": "email", "Value": "Ann@Example.com"},
            {"Name": "name", "Value": "Ann"},
        ],
    }
    assert lowercase_usernames(body) == {
        "ClientId": "Client-A",
        "Username": "ann@example.com",
        "Password": "Mixed-Case-1",
        "AuthParameters": {"USERNAME": "ann@example.com", "PASSWORD": "Pw-A"},
        "ChallengeResponses": {"USERNAME": "ann@example.com", "ANSWER": "Ab"},
        "UserAttributes": [
            {"Name": "email", "Value": "ann@example.com"},
            {"Name": "name", "Value": "Ann"},
        ],
    }
    # The input is left as it was.
    assert body["Username"] == "Ann@Example.COM"


def test_pool_of_token_reads_issuer() -> None:
    payload = base64.urlsafe_b64encode(
        json.dumps(
            {"iss": f"https://cognito-idp.{REGION}.amazonaws.com/pool_1"}
        ).encode()
    ).rstrip(b"=")
    assert pool_of_token(f"e30.{payload.decode()}.sig") == "pool_1"
    assert pool_of_token("not-a-token") is None


def create_pool(emulator: Emulator, case_sensitive: bool) -> tuple[str, str]:
    pool = emulator.call(
        "cognito-idp",
        "CreateUserPool",
        {
            "PoolName": f"case-sensitive-{case_sensitive}",
            "UsernameAttributes": ["email"],
            "UsernameConfiguration": {"CaseSensitive": case_sensitive},
            "AutoVerifiedAttributes": ["email"],
        },
    )["UserPool"]["Id"]
    client = emulator.call(
        "cognito-idp",
        "CreateUserPoolClient",
        {
            "UserPoolId": pool,
            "ClientName": "web",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"],
        },
    )["UserPoolClient"]["ClientId"]
    return str(pool), str(client)


def password_sign_in(emulator: Emulator, client: str, email: str) -> dict[str, Any]:
    result = emulator.call(
        "cognito-idp",
        "InitiateAuth",
        {
            "ClientId": client,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
        },
    )
    return dict(result["AuthenticationResult"])


def user_attributes(emulator: Emulator, pool: str, username: str) -> dict[str, str]:
    user = emulator.call(
        "cognito-idp", "AdminGetUser", {"UserPoolId": pool, "Username": username}
    )
    return {item["Name"]: item["Value"] for item in user["UserAttributes"]}


@pytest.fixture
def normalizing() -> Iterator[Emulator]:
    """An emulator whose requests pass through the username normalizer."""
    with mock_aws():
        emulator = Emulator(REGION, None)
        emulator.rewriters.append(UsernameNormalizer(emulator))
        yield emulator


def test_any_case_is_one_user(normalizing: Emulator) -> None:
    # GIVEN a user who signed up with capitals in a case-insensitive pool
    pool, client = create_pool(normalizing, case_sensitive=False)
    sub = sign_up(normalizing, client, "Ann@Example.COM")
    # THEN the same address in other capitals cannot sign up again
    with pytest.raises(EmulatorCallError) as caught:
        sign_up(normalizing, client, "ann@example.com")
    assert caught.value.code == "UsernameExistsException"
    # AND every call accepts the address in any capitals
    normalizing.call(
        "cognito-idp",
        "ConfirmSignUp",
        {"ClientId": client, "Username": "ANN@EXAMPLE.COM", "ConfirmationCode": "1"},
    )
    tokens = password_sign_in(normalizing, client, "aNN@exAMPLE.com")
    assert "IdToken" in tokens
    assert user_attributes(normalizing, pool, "ANN@example.com")["sub"] == sub
    # AND the address is stored in lower case
    assert user_attributes(normalizing, pool, sub)["email"] == "ann@example.com"


def test_forgot_password_any_case(normalizing: Emulator) -> None:
    pool, client = create_pool(normalizing, case_sensitive=False)
    sign_up(normalizing, client, "bo@example.com")
    normalizing.call(
        "cognito-idp",
        "AdminConfirmSignUp",
        {"UserPoolId": pool, "Username": "BO@example.com"},
    )
    normalizing.call(
        "cognito-idp",
        "ForgotPassword",
        {"ClientId": client, "Username": "Bo@Example.com"},
    )
    normalizing.call(
        "cognito-idp",
        "ConfirmForgotPassword",
        {
            "ClientId": client,
            "Username": "BO@EXAMPLE.COM",
            "ConfirmationCode": "1",
            "Password": "Changed-Pass-2",
        },
    )
    result = normalizing.call(
        "cognito-idp",
        "InitiateAuth",
        {
            "ClientId": client,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {
                "USERNAME": "bo@example.com",
                "PASSWORD": "Changed-Pass-2",
            },
        },
    )
    assert "IdToken" in result["AuthenticationResult"]


def test_update_email_lowercased(normalizing: Emulator) -> None:
    # GIVEN a signed-in user who changes the address with an access token
    pool, client = create_pool(normalizing, case_sensitive=False)
    sub = sign_up(normalizing, client, "cy@example.com")
    normalizing.call(
        "cognito-idp", "AdminConfirmSignUp", {"UserPoolId": pool, "Username": sub}
    )
    token = password_sign_in(normalizing, client, "cy@example.com")["AccessToken"]
    normalizing.call(
        "cognito-idp",
        "UpdateUserAttributes",
        {
            "AccessToken": token,
            "UserAttributes": [{"Name": "email", "Value": "Cy.New@Example.com"}],
        },
    )
    assert user_attributes(normalizing, pool, sub)["email"] == "cy.new@example.com"


def test_case_sensitive_pool_untouched(normalizing: Emulator) -> None:
    # GIVEN a pool created case-sensitive
    pool, client = create_pool(normalizing, case_sensitive=True)
    # THEN two capitalizations are two users, stored as sent
    first = sign_up(normalizing, client, "Dee@Example.com")
    second = sign_up(normalizing, client, "dee@example.com")
    assert first != second
    assert user_attributes(normalizing, pool, first)["email"] == "Dee@Example.com"


def test_journal_stores_lowercase(tmp_path: Path) -> None:
    with mock_aws(), Journal(tmp_path) as journal:
        emulator = Emulator(REGION, journal)
        emulator.rewriters.append(UsernameNormalizer(emulator))
        _pool, client = create_pool(emulator, case_sensitive=False)
        sign_up(emulator, client, "Eve@Example.com")
        (entry,) = [
            stored
            for stored in journal.entries()
            if stored.headers["X-Amz-Target"].endswith(".SignUp")
        ]
    assert json.loads(entry.body)["Username"] == "eve@example.com"
    assert "Content-Length" not in entry.headers


def test_replay_lowercases_old_entries(tmp_path: Path) -> None:
    # GIVEN a journal written without the normalizer, with a capitalized sign-up
    with mock_aws(), Journal(tmp_path) as journal:
        emulator = Emulator(REGION, journal)
        pool, client = create_pool(emulator, case_sensitive=False)
        sub = sign_up(emulator, client, "Flo@Example.com")
    # WHEN a start with the normalizer replays it
    with mock_aws(), Journal(tmp_path) as journal:
        emulator = Emulator(REGION, None)
        emulator.rewriters.append(UsernameNormalizer(emulator))
        report = emulator.replay(journal.entries())
        attributes = user_attributes(emulator, pool, "FLO@example.com")
    # THEN the user is found in any capitals, with the same sub
    assert report.rejected == 0
    assert attributes["sub"] == sub
    assert attributes["email"] == "flo@example.com"
