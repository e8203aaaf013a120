"""The caller of an HTTP request, taken from the claims of the verified JWT.

API Gateway's JWT authorizer has checked the token's signature, issuer, audience and
expiry before the function runs, and passes the claims in
`requestContext.authorizer.jwt.claims`. The caller is always the `sub` claim: a user id
in the path, the query string or the body is never used to pick whose data to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pfmon_api import errors


@dataclass(frozen=True)
class Caller:
    """The signed-in user: the Cognito `sub` and, in ID tokens, the email address."""

    user_id: str
    email: str | None


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """Return the caller of an HTTP API payload 2.0 event.

    Raises `UnauthorizedError` when the event has no non-empty `sub` claim, as on a
    route deployed without the JWT authorizer.
    """
    claims = _claims(event)
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise errors.UnauthorizedError(
            "the request has no verified user: send a Cognito token in the "
            "Authorization header"
        )

    # Cognito puts `email` in ID tokens only, so a call with an access token has none.
    email = claims.get("email")
    return Caller(
        user_id=user_id, email=email if isinstance(email, str) and email else None
    )


def _claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    node: object = event
    for key in ("requestContext", "authorizer", "jwt", "claims"):
        if not isinstance(node, Mapping):
            return {}
        node = node.get(key)
    return node if isinstance(node, Mapping) else {}
