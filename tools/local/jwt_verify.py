"""JWT check of the local HTTP API, done as API Gateway's JWT authorizer does it.

API Gateway documents these steps for an HTTP API JWT authorizer. It reads the token
from the identity source (`$request.header.Authorization`), with or without a
`Bearer ` prefix, and decodes it. It checks the algorithm and the signature against
the issuer's JWKS, matched by `kid`. Then it checks `iss`, `aud` (or `client_id` when
the token has no `aud`), `exp`, `nbf` and `iat`. Any failure is a 401 with the body
{"message":"Unauthorized"} and a `www-authenticate` header. Sources: "Control access
to HTTP APIs with JWT authorizers" and "Troubleshooting issues with HTTP API JWT
authorizers" in the API Gateway Developer Guide.

Two checks go beyond API Gateway: only RS256 is accepted (Cognito signs with RS256),
and `token_use` must be `id` or `access`, so a Cognito refresh token or a foreign JWT
is rejected even if it carried the right audience.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

logger = logging.getLogger("pfmon.local.api")

ALGORITHM = "RS256"
TOKEN_USES = frozenset({"id", "access"})
BEARER_SCHEME = "bearer"
# The wording API Gateway documents for a token with the wrong audience.
INVALID_AUDIENCE = "the token does not have a valid audience"
# A refetch of the JWKS for an unknown kid happens at most this often.
_JWKS_REFETCH_SECONDS = 30.0
_JWKS_TIMEOUT_SECONDS = 5.0


class TokenRejectedError(Exception):
    """The token failed a check. `description` goes into www-authenticate."""

    def __init__(self, description: str, *, missing: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.missing = missing

    @property
    def www_authenticate(self) -> str:
        """Return the www-authenticate value API Gateway sends with the 401.

        The format `Bearer scope="" error="invalid_token" error_description="..."`
        is the one in API Gateway's troubleshooting guide.
        NOTE: AWS documents only the audience description. The other descriptions
        and the bare `Bearer` for a missing token are this emulator's wording.
        """
        if self.missing:
            return "Bearer"
        return (
            'Bearer scope="" error="invalid_token" '
            f'error_description="{self.description}"'
        )


@dataclass(frozen=True)
class VerifiedToken:
    """The claims of an accepted token and its scopes (None when it has none)."""

    claims: dict[str, Any]
    scopes: list[str] | None


def fetch_jwks(url: str) -> dict[str, Any]:
    """Download a JWKS document from the local emulator."""
    # The URL is always the emulator's, on http://127.0.0.1.
    with urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
        document = json.load(response)
    if not isinstance(document, dict):
        raise ValueError(f"JWKS at {url} is not a JSON object")
    return document


class JwtAuthorizer:
    """Verifier of Cognito tokens for one issuer and its audiences (client ids)."""

    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str],
        load_jwks: Callable[[], Mapping[str, Any]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audiences = frozenset(audiences)
        self._load_jwks = load_jwks
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def verify(self, authorization: str | None) -> VerifiedToken:
        """Check an Authorization header value. Raise TokenRejectedError if it fails."""
        token = _token_from_header(authorization)
        header = _decode_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenRejectedError(
                f"the token is signed with {header.get('alg')!r}, not {ALGORITHM}"
            )
        keys = self._key_set(str(header.get("kid", "")))
        try:
            decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
        except JoseError as exc:
            raise TokenRejectedError("the token signature is invalid") from exc
        claims = dict(decoded.claims)
        self._check_claims(claims)
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) and scope else None
        return VerifiedToken(claims=claims, scopes=scopes)

    def _key_set(self, kid: str) -> KeySet:
        with self._lock:
            stale = self._clock() - self._loaded_at > _JWKS_REFETCH_SECONDS
            if self._keys is None or (kid not in self._kids and stale):
                try:
                    document = self._load_jwks()
                except (OSError, ValueError) as exc:
                    logger.error("JWKS download failed", extra={"error": str(exc)})
                    raise TokenRejectedError(
                        "the issuer's keys could not be downloaded"
                    ) from exc
                self._keys = KeySet.import_key_set(dict(document))  # type: ignore[arg-type]
                self._kids = frozenset(
                    str(key.get("kid", "")) for key in document.get("keys", [])
                )
                self._loaded_at = self._clock()
            if kid not in self._kids:
                raise TokenRejectedError(
                    "the token's kid does not match a key of the issuer"
                )
            return self._keys

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise TokenRejectedError("the token does not have a valid issuer")
        # API Gateway checks client_id only when the token has no aud.
        audience = claims["aud"] if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(value in self.audiences for value in audiences):
            raise TokenRejectedError(INVALID_AUDIENCE)
        expires = _number(claims.get("exp"))
        if expires is None:
            raise TokenRejectedError("the token has no valid exp claim")
        if now >= expires:
            raise TokenRejectedError("the token has expired")
        if "nbf" in claims:
            not_before = _number(claims["nbf"])
            if not_before is None or now < not_before:
                raise TokenRejectedError("the token is not valid yet")
        if "iat" in claims:
            issued = _number(claims["iat"])
            if issued is None or now < issued:
                raise TokenRejectedError("the token was issued in the future")
        if claims.get("token_use") not in TOKEN_USES:
            raise TokenRejectedError(
                "the token is neither a Cognito ID nor access token"
            )


def _number(value: object) -> float | None:
    """Return a NumericDate claim as a number, or None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _token_from_header(authorization: str | None) -> str:
    value = (authorization or "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == BEARER_SCHEME:
        value = rest.strip()
    if not value:
        raise TokenRejectedError("the request has no token", missing=True)
    return value


def _decode_header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header, payload, signature
        raise TokenRejectedError("the token is not a signed JWT")
    try:
        padded = parts[0] + "=" * (-len(parts[0]) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejectedError("the token header cannot be decoded") from exc
    if not isinstance(header, dict):
        raise TokenRejectedError("the token header cannot be decoded")
    return header
