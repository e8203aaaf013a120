"""The local user pool: created from the dev tier, plus the post-confirmation trigger.

The pool and its app client copy the settings of the dev stack's `AuthPool`, which
imports pulumi_aws and is too slow to load here. A test compares the two. The pool has
e-mail as username, the tier's password policy and MFA optional with TOTP, set with
SetUserPoolMfaConfig as Cognito requires for a pool created without MFA. The client has
no secret and the tier's token validity. It also allows USER_PASSWORD_AUTH, so scripts
and the demo can sign in without SRP. That flow is local only.

moto stores a pool's Lambda triggers but never invokes them. `PostConfirmationTrigger`
is an emulator hook that does what Cognito does after a successful ConfirmSignUp,
AdminConfirmSignUp or ConfirmForgotPassword: it invokes the pool's post-confirmation
function with a Cognito trigger event before the response is sent.

moto 5.2.5 stores `UsernameConfiguration` but matches usernames and e-mail addresses
case-sensitively. `UsernameNormalizer` is an emulator rewriter that lowercases them in
every request to a case-insensitive pool, so `Ann@Example.com` and `ann@example.com`
are one user, as in Cognito.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.settings import StackSettings
from tools.local.emulator import (
    Emulator,
    EmulatorCallError,
    EmulatorRequest,
    creation_seed,
)
from tools.local.lambda_runtime import FunctionRunner, InvocationError
from tools.local.wsgi import RawResponse, json_response

logger = logging.getLogger("pfmon.local.cognito")

COGNITO = "cognito-idp"
DEMO_EMAIL = "demo@example.com"
# Meets every tier's policy: 14 characters with upper and lower case, digits, symbol.
DEMO_PASSWORD = "PfmonDemo-2026"  # noqa: S105 - printed at start, local pool only
# Cognito's callerContext.clientId for the admin API, which has no app client.
NO_CLIENT = "CLIENT_ID_NOT_APPLICABLE"
TRIGGER_SOURCES = {
    "ConfirmSignUp": "PostConfirmation_ConfirmSignUp",
    "AdminConfirmSignUp": "PostConfirmation_ConfirmSignUp",
    "ConfirmForgotPassword": "PostConfirmation_ConfirmForgotPassword",
}
# The deployed client's flows, then the local-only password flow.
LOCAL_AUTH_FLOWS = (
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
)
TEMPORARY_PASSWORD_DAYS = 3
VERIFICATION_SUBJECT = "Your PFMON verification code"
VERIFICATION_MESSAGE = (
    "Your PFMON verification code is {####}. "
    "If you did not sign up for PFMON, ignore this e-mail."
)
_PAGE_SIZE = 60
# Request fields whose value is a username, by the object that contains them: the
# request itself, or one of its maps.
USERNAME_FIELDS = {
    None: "Username",
    "AuthParameters": "USERNAME",
    "ChallengeResponses": "USERNAME",
}


@dataclass(frozen=True)
class AuthIds:
    """The local pool's ids and the issuer that its tokens carry."""

    user_pool_id: str
    client_id: str
    issuer: str


def issuer_of(region: str, user_pool_id: str) -> str:
    # moto writes the same iss as Cognito: https://cognito-idp.<region>.amazonaws.com/<id>
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def pool_name(settings: StackSettings) -> str:
    return settings.resource_name("users")


def client_name(settings: StackSettings) -> str:
    return settings.resource_name("web")


def password_policy(settings: StackSettings) -> dict[str, Any]:
    tier = settings.tier
    return {
        "MinimumLength": tier.password_min_length,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": tier.password_require_symbols,
        "TemporaryPasswordValidityDays": TEMPORARY_PASSWORD_DAYS,
    }


def mfa_configuration(settings: StackSettings) -> str:
    return "ON" if settings.tier.mfa == "required" else "OPTIONAL"


def user_pool_request(
    settings: StackSettings, post_confirmation_arn: str
) -> dict[str, Any]:
    """Return the CreateUserPool request of the local pool (MFA is set after)."""
    return {
        "PoolName": pool_name(settings),
        "UsernameAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": False},
        "AutoVerifiedAttributes": ["email"],
        "UserAttributeUpdateSettings": {
            "AttributesRequireVerificationBeforeUpdate": ["email"]
        },
        "VerificationMessageTemplate": {
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
            "EmailSubject": VERIFICATION_SUBJECT,
            "EmailMessage": VERIFICATION_MESSAGE,
        },
        "Policies": {"PasswordPolicy": password_policy(settings)},
        "AccountRecoverySetting": {
            "RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]
        },
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {"PostConfirmation": post_confirmation_arn},
    }


def mfa_request(settings: StackSettings, user_pool_id: str) -> dict[str, Any]:
    return {
        "UserPoolId": user_pool_id,
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "MfaConfiguration": mfa_configuration(settings),
    }


def app_client_request(settings: StackSettings, user_pool_id: str) -> dict[str, Any]:
    """Return the CreateUserPoolClient request: the SPA client plus password sign-in."""
    tier = settings.tier
    return {
        "UserPoolId": user_pool_id,
        "ClientName": client_name(settings),
        "GenerateSecret": False,
        "ExplicitAuthFlows": list(LOCAL_AUTH_FLOWS),
        "AccessTokenValidity": tier.token_validity_minutes,
        "IdTokenValidity": tier.token_validity_minutes,
        "RefreshTokenValidity": tier.refresh_token_validity_days,
        "TokenValidityUnits": {
            "AccessToken": "minutes",
            "IdToken": "minutes",
            "RefreshToken": "days",
        },
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "AllowedOAuthFlowsUserPoolClient": False,
        "ReadAttributes": ["email", "email_verified"],
        "WriteAttributes": ["email"],
    }


def _create(emulator: Emulator, action: str, request: dict[str, Any]) -> dict[str, Any]:
    return emulator.call(COGNITO, action, request, seed=creation_seed(action, request))


def _find_pool(emulator: Emulator, name: str) -> str | None:
    listing = emulator.call(COGNITO, "ListUserPools", {"MaxResults": _PAGE_SIZE})
    for pool in listing.get("UserPools", []):
        if pool.get("Name") == name:
            return str(pool["Id"])
    return None


def _find_client(emulator: Emulator, user_pool_id: str, name: str) -> str | None:
    listing = emulator.call(
        COGNITO,
        "ListUserPoolClients",
        {"UserPoolId": user_pool_id, "MaxResults": _PAGE_SIZE},
    )
    for client in listing.get("UserPoolClients", []):
        if client.get("ClientName") == name:
            return str(client["ClientId"])
    return None


def ensure_user_pool(
    emulator: Emulator, settings: StackSettings, post_confirmation_arn: str
) -> AuthIds:
    """Create the pool, its MFA settings and the client unless they exist."""
    user_pool_id = _find_pool(emulator, pool_name(settings))
    if user_pool_id is None:
        request = user_pool_request(settings, post_confirmation_arn)
        user_pool_id = str(
            _create(emulator, "CreateUserPool", request)["UserPool"]["Id"]
        )
        logger.info("user pool created", extra={"user_pool_id": user_pool_id})
    else:
        _warn_on_policy_drift(emulator, settings, user_pool_id)

    expected_mfa = mfa_request(settings, user_pool_id)
    current_mfa = emulator.call(
        COGNITO, "GetUserPoolMfaConfig", {"UserPoolId": user_pool_id}
    )
    if current_mfa.get("MfaConfiguration") != expected_mfa["MfaConfiguration"] or (
        current_mfa.get("SoftwareTokenMfaConfiguration")
        != expected_mfa["SoftwareTokenMfaConfiguration"]
    ):
        _create(emulator, "SetUserPoolMfaConfig", expected_mfa)

    client_id = _find_client(emulator, user_pool_id, client_name(settings))
    if client_id is None:
        request = app_client_request(settings, user_pool_id)
        created = _create(emulator, "CreateUserPoolClient", request)
        client_id = str(created["UserPoolClient"]["ClientId"])
    return AuthIds(user_pool_id, client_id, issuer_of(settings.region, user_pool_id))


def _warn_on_policy_drift(
    emulator: Emulator, settings: StackSettings, user_pool_id: str
) -> None:
    # moto's UpdateUserPool resets the username attributes, so a changed policy is
    # reported instead of applied.
    pool = emulator.call(COGNITO, "DescribeUserPool", {"UserPoolId": user_pool_id})
    stored = pool["UserPool"].get("Policies", {}).get("PasswordPolicy", {})
    if stored != password_policy(settings):
        logger.warning(
            "the stored user pool has another password policy than the dev stack. "
            "Restart with --reset to apply it, which deletes the local data.",
            extra={"user_pool_id": user_pool_id},
        )


def ensure_demo_user(emulator: Emulator, ids: AuthIds) -> bool:
    """Sign up and confirm the demo user unless it exists. Return True if created.

    The confirmation goes through the emulator's hooks, so the post-confirmation
    trigger creates the demo user's profile as it would for anyone signing up.
    """
    try:
        emulator.call(
            COGNITO,
            "AdminGetUser",
            {"UserPoolId": ids.user_pool_id, "Username": DEMO_EMAIL},
        )
        return False
    except EmulatorCallError as exc:
        if exc.code != "UserNotFoundException":
            raise
    emulator.call(
        COGNITO,
        "SignUp",
        {
            "ClientId": ids.client_id,
            "Username": DEMO_EMAIL,
            "Password": DEMO_PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": DEMO_EMAIL}],
        },
    )
    # moto accepts any confirmation code, and sends no e-mail.
    emulator.call(
        COGNITO,
        "ConfirmSignUp",
        {"ClientId": ids.client_id, "Username": DEMO_EMAIL, "ConfirmationCode": "0"},
    )
    logger.info("demo user created", extra={"username": DEMO_EMAIL})
    return True


SRP_FLOW = "USER_SRP_AUTH"
SRP_REJECTED = (
    "USER_SRP_AUTH is disabled in the local environment because moto does not check "
    "the password in that flow. Sign in with AuthFlow USER_PASSWORD_AUTH locally "
    "(Amplify: signIn option authFlowType 'USER_PASSWORD_AUTH')."
)


def reject_unchecked_srp(request: EmulatorRequest) -> RawResponse | None:
    """Emulator guard: reject SRP sign-in, in which moto accepts any password.

    moto responds to USER_SRP_AUTH with random SRP values and then accepts any
    PASSWORD_VERIFIER response, so a wrong password would sign in.
    """
    if not request.is_cognito or request.action not in {
        "InitiateAuth",
        "AdminInitiateAuth",
    }:
        return None
    if request.json().get("AuthFlow") != SRP_FLOW:
        return None
    return cognito_error(400, "InvalidParameterException", SRP_REJECTED)


def cognito_error(status: int, code: str, message: str) -> RawResponse:
    return json_response(
        status,
        {"__type": code, "message": message},
        [("x-amzn-ErrorType", code)],
    )


def post_confirmation_event(
    *,
    trigger_source: str,
    region: str,
    user_pool_id: str,
    client_id: str,
    user: Mapping[str, Any],
    client_metadata: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Build the Cognito event of a post-confirmation trigger.

    `user` is an AdminGetUser response. Shape: "Post confirmation Lambda trigger"
    and the common trigger parameters in the Amazon Cognito Developer Guide.
    """
    attributes = {
        str(attribute["Name"]): str(attribute["Value"])
        for attribute in user.get("UserAttributes", [])
    }
    attributes["cognito:user_status"] = str(user.get("UserStatus", "CONFIRMED"))
    request: dict[str, Any] = {"userAttributes": attributes}
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    return {
        "version": "1",
        "region": region,
        "userPoolId": user_pool_id,
        "userName": str(user["Username"]),
        "callerContext": {
            # NOTE: Cognito derives this from the caller's SDK, which is unknown here.
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": client_id,
        },
        "triggerSource": trigger_source,
        "request": request,
        "response": {},
    }


def find_pool_of_client(emulator: Emulator, client_id: str) -> str | None:
    """Return the id of the pool that has this app client, or None."""
    listing = emulator.call(COGNITO, "ListUserPools", {"MaxResults": _PAGE_SIZE})
    for pool in listing.get("UserPools", []):
        try:
            emulator.call(
                COGNITO,
                "DescribeUserPoolClient",
                {"UserPoolId": pool["Id"], "ClientId": client_id},
            )
        except EmulatorCallError as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            continue
        return str(pool["Id"])
    return None


def pool_of_token(token: str) -> str | None:
    """Return the pool id in a token's `iss` claim, without verifying the token.

    Only for routing a request: moto verifies the token itself.
    """
    try:
        payload = token.split(".")[1]
        claims = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
    except (IndexError, ValueError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or "/" not in issuer:
        return None
    return issuer.rsplit("/", 1)[-1]


def lowercase_usernames(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a Cognito request body with usernames and the `email`
    attribute in lower case."""
    lowered = dict(body)
    for container, field in USERNAME_FIELDS.items():
        parent = lowered if container is None else lowered.get(container)
        if not isinstance(parent, dict) or not isinstance(parent.get(field), str):
            continue
        if container is not None:
            parent = lowered[container] = dict(parent)
        parent[field] = parent[field].lower()
    attributes = lowered.get("UserAttributes")
    if isinstance(attributes, list):
        lowered["UserAttributes"] = [_lowercase_email(item) for item in attributes]
    return lowered


def _lowercase_email(attribute: Any) -> Any:
    if (
        isinstance(attribute, dict)
        and attribute.get("Name") == "email"
        and isinstance(attribute.get("Value"), str)
    ):
        return {**attribute, "Value": attribute["Value"].lower()}
    return attribute


class UsernameNormalizer:
    """Emulator rewriter that lowercases usernames and e-mail addresses in requests
    to a user pool created with `UsernameConfiguration.CaseSensitive` false.

    The pool comes from the request's UserPoolId, its ClientId or the issuer of its
    AccessToken. Both lookups are cached: a pool keeps its client ids and its case
    sensitivity for life.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._pool_of_client: dict[str, str] = {}
        self._case_insensitive: dict[str, bool] = {}

    def __call__(self, request: EmulatorRequest) -> EmulatorRequest:
        if not request.is_cognito:
            return request
        body = request.json()
        lowered = lowercase_usernames(body)
        if lowered == body:
            return request
        try:
            pool_id = self._pool_id(body)
            if pool_id is None or not self._is_case_insensitive(pool_id):
                return request
        except EmulatorCallError as exc:
            # moto then receives the request as sent, and responds to it.
            logger.warning(
                "user pool lookup failed, username case kept",
                extra={"action": request.action, "error": str(exc)},
            )
            return request
        return request.with_json(lowered)

    def _pool_id(self, body: Mapping[str, Any]) -> str | None:
        if isinstance(body.get("UserPoolId"), str):
            return str(body["UserPoolId"])
        client_id = body.get("ClientId")
        if isinstance(client_id, str):
            if client_id not in self._pool_of_client:
                found = find_pool_of_client(self._emulator, client_id)
                if found is None:
                    return None
                self._pool_of_client[client_id] = found
            return self._pool_of_client[client_id]
        token = body.get("AccessToken")
        return pool_of_token(token) if isinstance(token, str) else None

    def _is_case_insensitive(self, pool_id: str) -> bool:
        if pool_id not in self._case_insensitive:
            try:
                pool = self._emulator.call(
                    COGNITO, "DescribeUserPool", {"UserPoolId": pool_id}
                )["UserPool"]
            except EmulatorCallError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                return False
            configuration = pool.get("UsernameConfiguration") or {}
            self._case_insensitive[pool_id] = (
                configuration.get("CaseSensitive") is False
            )
        return self._case_insensitive[pool_id]


class PostConfirmationTrigger:
    """Emulator hook that does what Cognito does after a confirmation.

    After ConfirmSignUp it marks the e-mail address verified, if the pool verifies
    e-mail automatically. Then it runs the pool's post-confirmation function, if the
    pool has one that runs locally.
    """

    def __init__(self, emulator: Emulator, runner: FunctionRunner) -> None:
        self._emulator = emulator
        self._runner = runner

    def __call__(self, request: EmulatorRequest, response: RawResponse) -> RawResponse:
        action = request.action
        if not (request.is_cognito and response.ok and action in TRIGGER_SOURCES):
            return response
        body = request.json()
        try:
            return self._run(action, body, response)
        except EmulatorCallError as exc:
            logger.exception(
                "post-confirmation lookup failed", extra={"error": str(exc)}
            )
            return cognito_error(
                500,
                "InternalErrorException",
                "the local post-confirmation trigger failed before it ran, see the "
                "log of the local environment",
            )

    def _run(
        self, action: str, body: Mapping[str, Any], response: RawResponse
    ) -> RawResponse:
        if action == "AdminConfirmSignUp":
            user_pool_id, client_id = str(body["UserPoolId"]), NO_CLIENT
        else:
            client_id = str(body["ClientId"])
            found = find_pool_of_client(self._emulator, client_id)
            if found is None:
                return response
            user_pool_id = found

        pool = self._emulator.call(
            COGNITO, "DescribeUserPool", {"UserPoolId": user_pool_id}
        )["UserPool"]
        username = str(body["Username"])
        if action == "ConfirmSignUp" and "email" in pool.get(
            "AutoVerifiedAttributes", []
        ):
            # Confirming with the code that was mailed verifies the address.
            self._emulator.call(
                COGNITO,
                "AdminUpdateUserAttributes",
                {
                    "UserPoolId": user_pool_id,
                    "Username": username,
                    "UserAttributes": [{"Name": "email_verified", "Value": "true"}],
                },
            )

        function_arn = (pool.get("LambdaConfig") or {}).get("PostConfirmation")
        if not function_arn:
            return response
        family = self._runner.family_of(str(function_arn).rsplit(":", 1)[-1])
        if family is None:
            logger.warning(
                "post-confirmation function is not a local function",
                extra={"function_arn": function_arn},
            )
            return response
        user = self._emulator.call(
            COGNITO, "AdminGetUser", {"UserPoolId": user_pool_id, "Username": username}
        )
        event = post_confirmation_event(
            trigger_source=TRIGGER_SOURCES[action],
            region=self._emulator.region,
            user_pool_id=user_pool_id,
            client_id=client_id,
            user=user,
            client_metadata=body.get("ClientMetadata"),
        )
        return self._invoke(family, event, response)

    def _invoke(
        self, family: str, event: dict[str, Any], response: RawResponse
    ) -> RawResponse:
        try:
            self._runner.invoke(family, event)
        except InvocationError as exc:
            logger.error(
                "post-confirmation function failed",
                extra={
                    "error_type": exc.error_type,
                    "error_message": exc.error_message,
                },
            )
            # NOTE: the status and message are this emulator's rendering of Cognito's
            # UserLambdaValidationException and UnexpectedLambdaException.
            if exc.error_type == "Sandbox.Timedout":
                return cognito_error(
                    400,
                    "UnexpectedLambdaException",
                    "PostConfirmation invocation failed due to timeout.",
                )
            return cognito_error(
                400,
                "UserLambdaValidationException",
                f"PostConfirmation failed with error {exc.error_message}.",
            )
        return response
