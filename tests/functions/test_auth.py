"""The caller comes from the JWT claims of the event and nowhere else."""

from __future__ import annotations

from typing import Any

import pytest

from pfmon_api import errors
from pfmon_api.auth import Caller, caller_from_event
from tests.functions.events import USER_A, USER_B, http_event


def test_caller_from_claims() -> None:
    event = http_event("GET", "/profile", email="alice@example.com")

    assert caller_from_event(event) == Caller(user_id=USER_A, email="alice@example.com")


def test_body_and_query_ignored() -> None:
    event = http_event(
        "PUT",
        "/profile",
        body={"userId": USER_B, "sub": USER_B},
        query={"userId": USER_B},
        path_parameters={"userId": USER_B},
    )
    event["headers"]["x-user-id"] = USER_B

    assert caller_from_event(event).user_id == USER_A


@pytest.mark.parametrize(
    "mutate",
    [
        lambda event: event["requestContext"].pop("authorizer"),
        lambda event: event["requestContext"]["authorizer"].pop("jwt"),
        lambda event: event["requestContext"]["authorizer"]["jwt"].pop("claims"),
        lambda event: event["requestContext"]["authorizer"]["jwt"]["claims"].pop("sub"),
        lambda event: event["requestContext"]["authorizer"].update(jwt="not a map"),
        lambda event: event["requestContext"]["authorizer"]["jwt"]["claims"].update(
            sub=123
        ),
        lambda event: event.pop("requestContext"),
    ],
    ids=[
        "no-authorizer",
        "no-jwt",
        "no-claims",
        "no-sub",
        "jwt-not-map",
        "sub-not-string",
        "no-request-context",
    ],
)
def test_missing_sub_is_unauthorized(mutate: Any) -> None:
    event = http_event("GET", "/profile")
    mutate(event)

    with pytest.raises(errors.UnauthorizedError):
        caller_from_event(event)


@pytest.mark.parametrize("email", [None, ""])
def test_missing_email_is_none(email: str | None) -> None:
    event = http_event("GET", "/profile", email=email)

    assert caller_from_event(event).email is None
