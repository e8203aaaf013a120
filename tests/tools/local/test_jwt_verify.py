"""The local JWT authorizer: API Gateway's checks on Cognito tokens, without servers.

Tokens are signed with moto's pool key, whose public half is the JWKS the local
environment fetches, so each test changes one claim or header and nothing else.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from tests.tools.local.conftest import forge_token, moto_public_jwks
from tools.local.jwt_verify import (
    INVALID_AUDIENCE,
    JwtAuthorizer,
    TokenRejectedError,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
CLIENT_ID = "client-local"
NOW = 1_800_000_000


def claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "4d8a0f6c-0000-4000-8000-000000000001",
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "email": "a@example.com",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def access_claims(**changes: Any) -> dict[str, Any]:
    values = claims(aud=None, token_use="access", client_id=CLIENT_ID)
    values["scope"] = "aws.cognito.signin.user.admin"
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


@pytest.fixture
def authorizer() -> JwtAuthorizer:
    return JwtAuthorizer(ISSUER, [CLIENT_ID], moto_public_jwks, clock=lambda: NOW)


def rejection(authorizer: JwtAuthorizer, header: str | None) -> TokenRejectedError:
    with pytest.raises(TokenRejectedError) as caught:
        authorizer.verify(header)
    return caught.value


def segment(document: dict[str, Any]) -> str:
    raw = json.dumps(document).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_id_token_accepted(authorizer: JwtAuthorizer) -> None:
    token = authorizer.verify(f"Bearer {forge_token(claims())}")
    assert token.claims["sub"] == "4d8a0f6c-0000-4000-8000-000000000001"
    assert token.claims["email"] == "a@example.com"
    assert token.scopes is None


def test_access_token_checks_client_id(authorizer: JwtAuthorizer) -> None:
    token = authorizer.verify(f"Bearer {forge_token(access_claims())}")
    assert token.claims["client_id"] == CLIENT_ID
    assert token.scopes == ["aws.cognito.signin.user.admin"]


def test_raw_token_without_bearer(authorizer: JwtAuthorizer) -> None:
    # API Gateway accepts the token alone or prefixed with "Bearer ".
    assert authorizer.verify(forge_token(claims())).claims["aud"] == CLIENT_ID


def test_bearer_prefix_any_case(authorizer: JwtAuthorizer) -> None:
    assert authorizer.verify(f"bearer {forge_token(claims())}").claims["iss"] == ISSUER


@pytest.mark.parametrize("header", [None, "", "Bearer ", "   "])
def test_missing_token_rejected(authorizer: JwtAuthorizer, header: str | None) -> None:
    error = rejection(authorizer, header)
    assert error.missing is True
    assert error.www_authenticate == "Bearer"


def test_alg_none_rejected(authorizer: JwtAuthorizer) -> None:
    # GIVEN a token that declares no signature algorithm and carries no signature
    token = f"{segment({'alg': 'none', 'kid': 'dummy'})}.{segment(claims())}."
    # THEN it is rejected before any key is looked at
    error = rejection(authorizer, f"Bearer {token}")
    assert "'none'" in error.description


def test_hs256_with_public_key_rejected(authorizer: JwtAuthorizer) -> None:
    # GIVEN an HMAC token keyed with the pool's public key material (key confusion)
    public_n = moto_public_jwks()["keys"][0]["n"]
    token = jwt.encode(
        {"alg": "HS256", "kid": "dummy"},
        claims(),
        OctKey.import_key(public_n.encode()),
    )
    error = rejection(authorizer, f"Bearer {token}")
    assert "'HS256'" in error.description


def test_tampered_payload_rejected(authorizer: JwtAuthorizer) -> None:
    header, _payload, signature = forge_token(claims()).split(".")
    tampered = f"{header}.{segment(claims(sub='someone-else'))}.{signature}"
    error = rejection(authorizer, f"Bearer {tampered}")
    assert error.description == "the token signature is invalid"


def test_other_key_same_kid_rejected(authorizer: JwtAuthorizer) -> None:
    other_key = RSAKey.generate_key(2048)
    error = rejection(authorizer, forge_token(claims(), key=other_key))
    assert error.description == "the token signature is invalid"


def test_unknown_kid_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(), header={"kid": "rotated"}))
    assert "kid" in error.description


def test_expired_token_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(exp=NOW - 1)))
    assert error.description == "the token has expired"


def test_token_expiring_now_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(exp=NOW)))
    assert error.description == "the token has expired"


def test_missing_exp_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(exp=None)))
    assert error.description == "the token has no valid exp claim"


def test_future_nbf_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(nbf=NOW + 30)))
    assert error.description == "the token is not valid yet"


def test_future_iat_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(iat=NOW + 30)))
    assert error.description == "the token was issued in the future"


def test_other_issuer_rejected(authorizer: JwtAuthorizer) -> None:
    other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"
    error = rejection(authorizer, forge_token(claims(iss=other_pool)))
    assert error.description == "the token does not have a valid issuer"


def test_other_audience_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(aud="other-client")))
    assert error.description == INVALID_AUDIENCE


def test_other_client_id_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(access_claims(client_id="other")))
    assert error.description == INVALID_AUDIENCE


def test_aud_wins_over_client_id(authorizer: JwtAuthorizer) -> None:
    # API Gateway evaluates client_id only when the token has no aud.
    token = forge_token(claims(aud="other-client", client_id=CLIENT_ID))
    assert rejection(authorizer, token).description == INVALID_AUDIENCE


@pytest.mark.parametrize("token_use", ["refresh", None])
def test_token_use_checked(authorizer: JwtAuthorizer, token_use: str | None) -> None:
    error = rejection(authorizer, forge_token(claims(token_use=token_use)))
    assert "neither a Cognito ID nor access token" in error.description


def test_garbage_token_rejected(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, "Bearer not-a-jwt")
    assert error.description == "the token is not a signed JWT"


def test_www_authenticate_format(authorizer: JwtAuthorizer) -> None:
    error = rejection(authorizer, forge_token(claims(aud="other-client")))
    assert error.www_authenticate == (
        'Bearer scope="" error="invalid_token" '
        'error_description="the token does not have a valid audience"'
    )


def test_jwks_loaded_once() -> None:
    loads: list[int] = []

    def load() -> dict[str, Any]:
        loads.append(1)
        return moto_public_jwks()

    authorizer = JwtAuthorizer(ISSUER, [CLIENT_ID], load, clock=lambda: NOW)
    authorizer.verify(forge_token(claims()))
    authorizer.verify(forge_token(claims()))
    assert len(loads) == 1
