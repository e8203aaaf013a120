"""Profile rules: defaults of a new profile, read-or-create and versioned updates."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from pfmon_api import errors
from pfmon_api.data import account_data, user_profiles
from pfmon_api.models.base import format_timestamp
from pfmon_api.models.profile import (
    DEFAULT_CURRENCY,
    DEFAULT_DISPLAY_NAME,
    DEFAULT_TIME_ZONE,
    DISPLAY_NAME_MAX_LENGTH,
    Profile,
    ProfileUpdate,
)


def default_display_name(email: str | None) -> str:
    """Return the local part of the email address, or "Trader" if it has no usable one.

    Control characters are dropped and the result is cut to the display name limit.
    """
    if not email:
        return DEFAULT_DISPLAY_NAME
    local_part, at_sign, _domain = email.rpartition("@")
    if not at_sign:
        local_part = email
    printable = "".join(
        character
        for character in local_part
        if unicodedata.category(character) not in {"Cc", "Cs"}
    )
    name = printable.strip()[:DISPLAY_NAME_MAX_LENGTH].strip()
    return name or DEFAULT_DISPLAY_NAME


def new_profile(user_id: str, email: str | None, now: datetime) -> Profile:
    """Build the default profile of a user at version 1."""
    timestamp = format_timestamp(now)
    return Profile(
        user_id=user_id,
        email=email,
        display_name=default_display_name(email),
        base_currency=DEFAULT_CURRENCY,
        time_zone=DEFAULT_TIME_ZONE,
        default_account_id=None,
        preferences={},
        version=1,
        created_at=timestamp,
        updated_at=timestamp,
    )


def get_or_create_profile(user_id: str, email: str | None, now: datetime) -> Profile:
    """Return the user's profile, creating the default one on the first call.

    Two first calls at once create one profile: the loser of the conditional put reads
    the winner's profile.
    """
    profile = user_profiles.get_profile(user_id)
    if profile is not None:
        return profile

    profile = new_profile(user_id, email, now)
    if user_profiles.create_profile(profile):
        return profile

    stored = user_profiles.get_profile(user_id)
    if stored is None:
        # Another request created the profile and it was gone again before this read.
        raise errors.ConflictError("the profile changed while it was being read: retry")
    return stored


def create_profile_on_sign_up(user_id: str, email: str | None, now: datetime) -> bool:
    """Create the default profile of a new user, or return False if one exists."""
    return user_profiles.create_profile(new_profile(user_id, email, now))


def update_profile(user_id: str, update: ProfileUpdate, now: datetime) -> Profile:
    """Replace the editable fields of the user's profile if `update.version` is current.

    Raises `ValidationError` on field defaultAccountId when it is not null and names no
    account of the user or an archived one, `ConflictError` when the stored version
    differs, and `NotFoundError` when the user has no profile.
    """
    if update.default_account_id is not None:
        _check_default_account(user_id, update.default_account_id)
    return user_profiles.update_settings(
        user_id,
        settings=update,
        expected_version=update.version,
        updated_at=format_timestamp(now),
    )


def _check_default_account(user_id: str, account_id: str) -> None:
    # The key contains the caller's id, so another user's account is not found.
    account = account_data.get_account(user_id, account_id)
    if account is None:
        raise errors.ValidationError(
            f"defaultAccountId {account_id} is not one of your accounts: choose an id "
            "from GET /accounts or send null",
            field="defaultAccountId",
        )
    if account.archived:
        raise errors.ValidationError(
            f"defaultAccountId {account_id} names an archived account: choose an "
            "account that is not archived or send null",
            field="defaultAccountId",
        )
