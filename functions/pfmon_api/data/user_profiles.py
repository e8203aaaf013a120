"""Data access for the UserProfiles table: one item per user, keyed by `userId`.

Every write is conditional. A create succeeds only if no profile exists, and an update
only if the stored `version` is the one the client read.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from pfmon_api import errors, tables
from pfmon_api.data import dynamodb
from pfmon_api.models.profile import Profile, ProfileSettings

TABLE = tables.USER_PROFILES

# Expression names for the editable attributes, so no attribute name can collide with
# a DynamoDB reserved word.
_SETTINGS_ATTRIBUTES = {
    "#displayName": "displayName",
    "#baseCurrency": "baseCurrency",
    "#timeZone": "timeZone",
    "#defaultAccountId": "defaultAccountId",
    "#preferences": "preferences",
}


def get_profile(user_id: str) -> Profile | None:
    """Return the user's profile, or None if the user has none."""
    table = dynamodb.table(TABLE)
    with dynamodb.translate_errors("GetItem", table.name):
        response = table.get_item(Key={"userId": user_id}, ConsistentRead=True)
    item = response.get("Item")
    return None if item is None else _profile_from_item(item)


def create_profile(profile: Profile) -> bool:
    """Store a new profile, or return False without writing if the user has one."""
    table = dynamodb.table(TABLE)
    with dynamodb.translate_errors("PutItem", table.name):
        try:
            table.put_item(
                Item=profile.model_dump(),
                ConditionExpression="attribute_not_exists(userId)",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) == dynamodb.CONDITIONAL_CHECK_FAILED:
                return False
            raise
    return True


def update_settings(
    user_id: str, settings: ProfileSettings, expected_version: int, updated_at: str
) -> Profile:
    """Replace the editable fields of a profile and increment its version.

    Raises `NotFoundError` if the user has no profile and `ConflictError` if the stored
    version is not `expected_version`.
    """
    # A ProfileUpdate carries `version` too, which is not a setting.
    editable = settings.model_dump(include=set(ProfileSettings.model_fields))
    values: dict[str, Any] = {f":{name}": value for name, value in editable.items()}
    values |= {":expected": expected_version, ":one": 1, ":updatedAt": updated_at}
    assignments = ", ".join(f"{name} = :{name[1:]}" for name in _SETTINGS_ATTRIBUTES)

    table = dynamodb.table(TABLE)
    with dynamodb.translate_errors("UpdateItem", table.name):
        try:
            response = table.update_item(
                Key={"userId": user_id},
                UpdateExpression=(
                    f"SET {assignments}, #updatedAt = :updatedAt, "
                    "#version = #version + :one"
                ),
                ConditionExpression="attribute_exists(userId) AND #version = :expected",
                ExpressionAttributeNames={
                    **_SETTINGS_ATTRIBUTES,
                    "#updatedAt": "updatedAt",
                    "#version": "version",
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if dynamodb.error_code(exc) != dynamodb.CONDITIONAL_CHECK_FAILED:
                raise
            raise _condition_error(exc, expected_version) from exc
    return _profile_from_item(response["Attributes"])


def _condition_error(error: ClientError, expected_version: int) -> errors.ApiError:
    stored = error.response.get("Item")
    if not isinstance(stored, dict) or "version" not in stored:
        return errors.NotFoundError(
            "the caller has no profile: GET /profile creates it, then retry the update"
        )
    stored_version = TypeDeserializer().deserialize(stored["version"])
    return errors.ConflictError(
        f"version {expected_version} is out of date because the profile is at version "
        f"{stored_version}: GET /profile and retry the update with the current version",
        field="version",
    )


def _profile_from_item(item: dict[str, Any]) -> Profile:
    # The resource API returns every number as a Decimal, and `version` is an int.
    return Profile.model_validate({**item, "version": int(item["version"])})
