"""End to end over HTTP: sign-up, the trigger, the JWT check, isolation and CORS.

Every test talks to one running `python -m tools.local` (the session fixture
`local_env`) with tokens that the emulated pool issued, or with tokens signed by the
pool's key where a test needs claims the pool would never issue (an expired token).
"""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from moto.cognitoidp.utils import cognito_totp

from tests.tools.local.conftest import (
    GARBAGE,
    LONG_URI,
    PASSWORD,
    RunningEnvironment,
    aws_client,
    bearer,
    cognito_client,
    forge_token,
    http,
    id_token_claims,
    raw_exchange,
    sign_in,
    sign_up,
    unique_email,
)
from tools.local.jwt_verify import INVALID_AUDIENCE

UNAUTHORIZED = {"message": "Unauthorized"}
DEV_ORIGIN = "http://localhost:3000"


def stored_profile(env: RunningEnvironment, user_id: str) -> dict[str, object] | None:
    """Read a profile straight from the emulated table, bypassing the API."""
    response = aws_client(env.endpoints, "dynamodb").get_item(
        TableName="pfmon-dev-UserProfiles", Key={"userId": {"S": user_id}}
    )
    item = response.get("Item")
    return None if item is None else dict(item)


def test_sign_up_runs_trigger(local_env: RunningEnvironment) -> None:
    # GIVEN a new user who signs up and confirms at the emulator, as a browser does
    email = unique_email("trigger")
    sub = sign_up(local_env.endpoints, email)
    # THEN the post-confirmation function already stored the profile
    item = stored_profile(local_env, sub)
    assert item is not None
    assert item["email"] == {"S": email}


def test_confirm_verifies_email(local_env: RunningEnvironment) -> None:
    email = unique_email("verified")
    sign_up(local_env.endpoints, email)
    user = aws_client(local_env.endpoints, "cognito-idp").admin_get_user(
        UserPoolId=local_env.endpoints.user_pool_id, Username=email
    )
    attributes = {item["Name"]: item["Value"] for item in user["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    assert user["UserStatus"] == "CONFIRMED"


def test_admin_confirm_runs_trigger(local_env: RunningEnvironment) -> None:
    endpoints = local_env.endpoints
    email = unique_email("admin")
    sub = cognito_client(endpoints).sign_up(
        ClientId=endpoints.client_id,
        Username=email,
        Password="Local-Test-2026",
        UserAttributes=[{"Name": "email", "Value": email}],
    )["UserSub"]
    assert stored_profile(local_env, sub) is None
    aws_client(endpoints, "cognito-idp").admin_confirm_sign_up(
        UserPoolId=endpoints.user_pool_id, Username=email
    )
    assert stored_profile(local_env, sub) is not None


def test_get_profile_with_pool_tokens(local_env: RunningEnvironment) -> None:
    email = unique_email("profile")
    sub = sign_up(local_env.endpoints, email)
    tokens = sign_in(local_env.endpoints, email)
    for name in ("IdToken", "AccessToken"):
        response = http(
            f"{local_env.endpoints.api_url}/profile", headers=bearer(tokens[name])
        )
        assert response.status == 200, name
        assert response.json()["userId"] == sub, name


def test_raw_token_accepted(local_env: RunningEnvironment) -> None:
    email = unique_email("raw")
    sign_up(local_env.endpoints, email)
    token = sign_in(local_env.endpoints, email)["IdToken"]
    response = http(
        f"{local_env.endpoints.api_url}/profile", headers={"Authorization": token}
    )
    assert response.status == 200


def test_demo_login_works(local_env: RunningEnvironment) -> None:
    endpoints = local_env.endpoints
    result = cognito_client(endpoints).initiate_auth(
        ClientId=endpoints.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": endpoints.demo_email,
            "PASSWORD": endpoints.demo_password,
        },
    )
    token = result["AuthenticationResult"]["IdToken"]
    response = http(f"{endpoints.api_url}/profile", headers=bearer(token))
    assert response.json()["email"] == endpoints.demo_email


def test_demo_login_any_case(local_env: RunningEnvironment) -> None:
    endpoints = local_env.endpoints
    result = cognito_client(endpoints).initiate_auth(
        ClientId=endpoints.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": endpoints.demo_email.upper(),
            "PASSWORD": endpoints.demo_password,
        },
    )
    assert "IdToken" in result["AuthenticationResult"]


def test_email_case_insensitive(local_env: RunningEnvironment) -> None:
    # GIVEN a user who signs up with capitals in the address
    endpoints = local_env.endpoints
    cognito = cognito_client(endpoints)
    email = unique_email("Mixed").replace("@example.com", "@Example.COM")
    lower = email.lower()
    sub = cognito.sign_up(
        ClientId=endpoints.client_id,
        Username=email,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )["UserSub"]
    # WHEN the address signs up again in lower case
    with pytest.raises(ClientError) as caught:
        cognito.sign_up(ClientId=endpoints.client_id, Username=lower, Password=PASSWORD)
    # THEN the pool has that user already
    assert caught.value.response["Error"]["Code"] == "UsernameExistsException"

    # WHEN the user confirms in capitals and signs in in lower case
    cognito.confirm_sign_up(
        ClientId=endpoints.client_id, Username=email.upper(), ConfirmationCode="1"
    )
    token = sign_in(endpoints, lower)["IdToken"]
    # THEN it is the same user, and the trigger stored the address in lower case
    profile = http(f"{endpoints.api_url}/profile", headers=bearer(token)).json()
    assert profile["userId"] == sub
    assert profile["email"] == lower

    # WHEN the user resets the password, in other capitals each time
    new_password = "Local-Reset-2026"
    cognito.forgot_password(ClientId=endpoints.client_id, Username=email)
    cognito.confirm_forgot_password(
        ClientId=endpoints.client_id,
        Username=email.upper(),
        ConfirmationCode="1",
        Password=new_password,
    )
    # THEN the new password signs in
    result = cognito.initiate_auth(
        ClientId=endpoints.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": lower, "PASSWORD": new_password},
    )
    assert "IdToken" in result["AuthenticationResult"]


@pytest.mark.parametrize(
    ("server", "path", "expected"),
    [("api_url", "/profile", 401), ("emulator_url", "/", 200)],
)
def test_malformed_requests_answered(
    local_env: RunningEnvironment, server: str, path: str, expected: int
) -> None:
    # GIVEN a request line that cannot be parsed and one that is too long
    url = getattr(local_env.endpoints, server)
    port = int(url.rsplit(":", 1)[1])
    garbage = raw_exchange(port, GARBAGE)
    long_uri = raw_exchange(port, LONG_URI)
    # THEN each gets its error status, and the server goes on serving
    assert garbage.startswith(b"HTTP/1.1 400 ")
    assert long_uri.startswith(b"HTTP/1.1 414 ")
    assert http(url + path).status == expected
    # socketserver prints this line before the traceback of a failed request.
    assert "Exception occurred during processing" not in local_env.log()


def assert_unauthorized(env: RunningEnvironment, headers: dict[str, str]) -> str:
    """Call GET /profile and check API Gateway's 401; return www-authenticate."""
    response = http(f"{env.endpoints.api_url}/profile", headers=headers)
    assert response.status == 401
    assert response.json() == UNAUTHORIZED
    challenge = response.header("www-authenticate")
    assert challenge is not None
    return challenge


def test_missing_token_401(local_env: RunningEnvironment) -> None:
    assert assert_unauthorized(local_env, {}) == "Bearer"


def test_expired_token_401(local_env: RunningEnvironment) -> None:
    past = int(time.time()) - 7200
    claims = id_token_claims(local_env.endpoints, iat=past, exp=past + 3600)
    challenge = assert_unauthorized(local_env, bearer(forge_token(claims)))
    assert "the token has expired" in challenge


def test_alg_none_401(local_env: RunningEnvironment) -> None:
    def segment(document: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()

    claims = id_token_claims(local_env.endpoints)
    token = f"{segment({'alg': 'none'})}.{segment(claims)}."
    assert_unauthorized(local_env, bearer(token))


def test_tampered_signature_401(local_env: RunningEnvironment) -> None:
    email = unique_email("tamper")
    sign_up(local_env.endpoints, email)
    header, payload, signature = sign_in(local_env.endpoints, email)["IdToken"].split(
        "."
    )
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    challenge = assert_unauthorized(local_env, bearer(f"{header}.{payload}.{flipped}"))
    assert "signature" in challenge


def test_other_pool_401(local_env: RunningEnvironment) -> None:
    # GIVEN a second pool in the same emulator, signed with the same moto key
    endpoints = local_env.endpoints
    admin = aws_client(endpoints, "cognito-idp")
    pool = admin.create_user_pool(PoolName="other", UsernameAttributes=["email"])
    client = admin.create_user_pool_client(
        UserPoolId=pool["UserPool"]["Id"], ClientName="other"
    )["UserPoolClient"]["ClientId"]
    email = unique_email("other-pool")
    sign_up(endpoints, email, client_id=client)
    token = sign_in(endpoints, email, client_id=client)["IdToken"]
    # THEN its token fails on the issuer
    challenge = assert_unauthorized(local_env, bearer(token))
    assert "issuer" in challenge


def test_other_client_401(local_env: RunningEnvironment) -> None:
    # GIVEN a second app client of the local pool, which the API does not accept
    endpoints = local_env.endpoints
    client = aws_client(endpoints, "cognito-idp").create_user_pool_client(
        UserPoolId=endpoints.user_pool_id,
        ClientName=f"other-{time.monotonic_ns()}",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    email = unique_email("other-client")
    sign_up(endpoints, email, client_id=client)
    tokens = sign_in(endpoints, email, client_id=client)
    for name in ("IdToken", "AccessToken"):
        challenge = assert_unauthorized(local_env, bearer(tokens[name]))
        assert INVALID_AUDIENCE in challenge, name


def test_users_isolated(local_env: RunningEnvironment) -> None:
    # GIVEN two users, and A renames their profile
    endpoints = local_env.endpoints
    email_a, email_b = unique_email("user-a"), unique_email("user-b")
    sub_a, sub_b = sign_up(endpoints, email_a), sign_up(endpoints, email_b)
    token_a = sign_in(endpoints, email_a)["IdToken"]
    token_b = sign_in(endpoints, email_b)["IdToken"]
    profile_a = http(f"{endpoints.api_url}/profile", headers=bearer(token_a)).json()
    update = {
        "displayName": "Alice",
        "baseCurrency": profile_a["baseCurrency"],
        "timeZone": profile_a["timeZone"],
        "defaultAccountId": None,
        "preferences": {},
        "version": profile_a["version"],
    }
    renamed = http(
        f"{endpoints.api_url}/profile",
        "PUT",
        {**bearer(token_a), "Content-Type": "application/json"},
        update,
    )
    assert renamed.status == 200

    # WHEN B reads the profile, even naming A in the query string
    seen_by_b = http(
        f"{endpoints.api_url}/profile?userId={sub_a}", headers=bearer(token_b)
    ).json()

    # THEN B gets B's own profile only
    assert seen_by_b["userId"] == sub_b
    assert seen_by_b["email"] == email_b
    assert seen_by_b["displayName"] != "Alice"


def test_unknown_route_404(local_env: RunningEnvironment) -> None:
    response = http(f"{local_env.endpoints.api_url}/admin")
    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


def test_query_string_reaches_function(local_env: RunningEnvironment) -> None:
    # GIVEN a new user, who has no trades
    email = unique_email("statistics")
    sign_up(local_env.endpoints, email)
    token = sign_in(local_env.endpoints, email)["IdToken"]
    # WHEN the statistics function gets a date range in the query string
    url = f"{local_env.endpoints.api_url}/statistics?from=2026-01-01&to=2026-01-31"
    response = http(url, headers=bearer(token))
    # THEN it read the range from queryStringParameters
    assert response.status == 200
    document = response.json()
    assert document["from"] == "2026-01-01"
    assert document["to"] == "2026-01-31"
    assert document["tradeCount"] == 0


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://localhost:5173", True),
        ("http://localhost:8080", False),
        ("https://evil.example", False),
    ],
)
def test_preflight_origins(
    local_env: RunningEnvironment, origin: str, allowed: bool
) -> None:
    response = http(
        f"{local_env.endpoints.api_url}/profile",
        "OPTIONS",
        {
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status == 204
    expected = origin if allowed else None
    assert response.header("Access-Control-Allow-Origin") == expected
    if allowed:
        assert "PUT" in (response.header("Access-Control-Allow-Methods") or "")
        assert response.header("Access-Control-Allow-Headers") == (
            "authorization,content-type"
        )


def test_cors_on_responses(local_env: RunningEnvironment) -> None:
    email = unique_email("cors")
    sign_up(local_env.endpoints, email)
    token = sign_in(local_env.endpoints, email)["IdToken"]
    url = f"{local_env.endpoints.api_url}/profile"
    allowed = http(url, headers={**bearer(token), "Origin": DEV_ORIGIN})
    refused = http(url, headers={**bearer(token), "Origin": "https://evil.example"})
    unauthorized = http(url, headers={"Origin": DEV_ORIGIN})
    assert allowed.header("Access-Control-Allow-Origin") == DEV_ORIGIN
    assert refused.header("Access-Control-Allow-Origin") is None
    assert unauthorized.header("Access-Control-Allow-Origin") == DEV_ORIGIN


def test_site_origin_allowed(local_env: RunningEnvironment) -> None:
    site_url = local_env.endpoints.site_url
    assert site_url is not None
    response = http(
        f"{local_env.endpoints.api_url}/profile",
        "OPTIONS",
        {"Origin": site_url, "Access-Control-Request-Method": "GET"},
    )
    assert response.header("Access-Control-Allow-Origin") == site_url


def listening_addresses(port: int) -> set[str]:
    """Return the IPv4 addresses listening on a TCP port, from /proc/net/tcp."""
    addresses = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
            addresses.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return addresses


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux only")
def test_servers_listen_on_loopback(local_env: RunningEnvironment) -> None:
    endpoints = local_env.endpoints
    for url in (endpoints.api_url, endpoints.emulator_url, endpoints.site_url):
        assert url is not None
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"127.0.0.1"}, url


def test_emulator_allows_browser_calls(local_env: RunningEnvironment) -> None:
    # A React app calls Cognito at the emulator directly, so moto must allow CORS.
    response = http(
        local_env.endpoints.emulator_url + "/",
        "OPTIONS",
        {
            "Origin": DEV_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
    )
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == DEV_ORIGIN
    allowed = response.header("Access-Control-Allow-Headers") or ""
    assert "x-amz-target" in allowed


def test_totp_codes_checked(local_env: RunningEnvironment) -> None:
    # GIVEN a user who sets up an authenticator app (dev MFA is optional, TOTP)
    endpoints = local_env.endpoints
    email = unique_email("mfa")
    sign_up(endpoints, email)
    access_token = sign_in(endpoints, email)["AccessToken"]
    cognito = cognito_client(endpoints)
    secret = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    totp = cognito_totp(secret)
    # THEN a code of another time step is rejected
    with pytest.raises(ClientError) as caught:
        cognito.verify_software_token(
            AccessToken=access_token,
            UserCode=totp.generate(int(time.time()) + 3600).decode(),
        )
    assert caught.value.response["Error"]["Code"] == "CodeMismatchException"
    # AND the current code is accepted; wait out the last seconds of a 30 s step
    if time.time() % 30 > 28:
        time.sleep(2)
    result = cognito.verify_software_token(
        AccessToken=access_token, UserCode=totp.generate(int(time.time())).decode()
    )
    assert result["Status"] == "SUCCESS"


def test_srp_sign_in_rejected(local_env: RunningEnvironment) -> None:
    # moto would accept any password in the SRP flow, so the emulator refuses it.
    endpoints = local_env.endpoints
    with pytest.raises(ClientError) as caught:
        cognito_client(endpoints).initiate_auth(
            ClientId=endpoints.client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": endpoints.demo_email, "SRP_A": "abc123"},
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert "USER_PASSWORD_AUTH" in error["Message"]
