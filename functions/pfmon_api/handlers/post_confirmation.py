"""Cognito post-confirmation trigger: create the profile of a user who signed up.

Cognito calls it after a sign-up confirmation and after a password reset
confirmation, but only the first creates a profile. The write never replaces a profile
that GET /profile created earlier. Cognito needs the event back, and an exception makes
Cognito report the confirmation as failed, so a DynamoDB failure is raised, not
swallowed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import (
    PostConfirmationTriggerEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from pfmon_api import errors
from pfmon_api.logic import profiles
from pfmon_api.observability import inject_trigger_context, logger

CONFIRM_SIGN_UP = "PostConfirmation_ConfirmSignUp"


@inject_trigger_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = PostConfirmationTriggerEvent(event)
    if trigger.trigger_source != CONFIRM_SIGN_UP:
        logger.info("trigger skipped", extra={"trigger_source": trigger.trigger_source})
        return event

    attributes = trigger.request.user_attributes
    user_id = attributes.get("sub")
    if not user_id:
        raise ValueError(f"{CONFIRM_SIGN_UP} event has no sub attribute")

    try:
        created = profiles.create_profile_on_sign_up(
            user_id, attributes.get("email") or None, datetime.now(UTC)
        )
    except errors.ApiError as exc:
        # Logged without the event, which contains the user's email address.
        logger.error(
            "profile creation failed",
            extra={
                "user_id": user_id,
                "error_type": type(exc).__name__,
                "detail": exc.message,
            },
        )
        raise

    if created:
        logger.info("profile created", extra={"user_id": user_id})
    else:
        logger.info("profile exists already", extra={"user_id": user_id})
    return event
