"""The Cognito post-confirmation trigger, against moto's DynamoDB."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.stub import Stubber

from pfmon_api import errors
from pfmon_api.data import dynamodb
from pfmon_api.handlers import post_confirmation, profile
from tests.functions.conftest import LogCapture
from tests.functions.events import (
    USER_A,
    LambdaContext,
    http_event,
    invoke,
    post_confirmation_event,
)

FORGOT_PASSWORD = "PostConfirmation_ConfirmForgotPassword"


def run_trigger(event: dict[str, Any]) -> dict[str, Any]:
    return post_confirmation.handler(event, LambdaContext())


@pytest.mark.usefixtures("table_names")
class TestPostConfirmation:
    def test_sign_up_creates_profile(self, profiles_table: Any) -> None:
        run_trigger(post_confirmation_event(email="carol.smith@example.com"))

        item = profiles_table.get_item(Key={"userId": USER_A})["Item"]
        assert item["email"] == "carol.smith@example.com"
        assert item["displayName"] == "carol.smith"
        assert item["baseCurrency"] == "USD"
        assert item["timeZone"] == "UTC"
        assert item["defaultAccountId"] is None
        assert item["preferences"] == {}
        assert item["version"] == 1
        assert item["createdAt"] == item["updatedAt"]

    def test_returns_event_unchanged(self) -> None:
        event = post_confirmation_event()
        original = copy.deepcopy(event)

        returned = run_trigger(event)

        assert returned == original
        assert returned is event

    def test_second_call_keeps_changed_profile(self, profiles_table: Any) -> None:
        # GIVEN the user changed the profile after the first confirmation
        run_trigger(post_confirmation_event())
        profiles_table.update_item(
            Key={"userId": USER_A},
            UpdateExpression="SET displayName = :name, version = :version",
            ExpressionAttributeValues={":name": "Changed", ":version": 2},
        )
        before = profiles_table.get_item(Key={"userId": USER_A})["Item"]

        # WHEN Cognito calls the trigger again
        returned = run_trigger(post_confirmation_event(email="other@example.com"))

        # THEN the stored profile is unchanged and the event comes back
        assert profiles_table.get_item(Key={"userId": USER_A})["Item"] == before
        assert returned["triggerSource"] == "PostConfirmation_ConfirmSignUp"

    def test_keeps_profile_made_by_get(self, profiles_table: Any) -> None:
        # GIVEN the user's first GET /profile ran before the trigger
        created = invoke(profile.handler, http_event("GET", "/profile"))

        run_trigger(post_confirmation_event(email="late@example.com"))

        item = profiles_table.get_item(Key={"userId": USER_A})["Item"]
        assert item["createdAt"] == created.body["createdAt"]
        assert item["email"] == "alice@example.com"

    def test_existing_profile_is_logged(self, logs: LogCapture) -> None:
        run_trigger(post_confirmation_event())
        run_trigger(post_confirmation_event())

        assert len(logs.with_message("profile created")) == 1
        assert len(logs.with_message("profile exists already")) == 1

    def test_forgot_password_writes_nothing(self, profiles_table: Any) -> None:
        event = post_confirmation_event(FORGOT_PASSWORD)
        original = copy.deepcopy(event)

        returned = run_trigger(event)

        assert profiles_table.scan()["Items"] == []
        assert returned == original

    def test_log_lines_omit_email(self, logs: LogCapture) -> None:
        run_trigger(post_confirmation_event(email="secret.person@example.com"))

        assert logs.records
        assert "secret.person" not in logs.stream.getvalue()

    def test_store_failure_raises(self, logs: LogCapture) -> None:
        # GIVEN DynamoDB fails the write with an error whose text quotes the item
        client = dynamodb.dynamodb_resource().meta.client
        with Stubber(client) as stubber:
            stubber.add_client_error(
                "put_item",
                service_error_code="InternalServerError",
                service_message="failure near secret.person@example.com",
            )

            # WHEN the trigger runs THEN it raises, so Cognito reports the failure
            with pytest.raises(errors.DataStoreError):
                run_trigger(post_confirmation_event(email="secret.person@example.com"))

        failures = logs.with_message("profile creation failed")
        assert len(failures) == 1
        assert failures[0]["user_id"] == USER_A
        assert "InternalServerError" in failures[0]["detail"]
        assert "secret.person" not in logs.stream.getvalue()

    def test_throttled_write_raises(self) -> None:
        client = dynamodb.dynamodb_resource().meta.client
        with Stubber(client) as stubber:
            stubber.add_client_error(
                "put_item", service_error_code="ProvisionedThroughputExceededException"
            )

            with pytest.raises(errors.ServiceUnavailableError):
                run_trigger(post_confirmation_event())

    def test_missing_sub_raises(self, profiles_table: Any) -> None:
        event = post_confirmation_event()
        del event["request"]["userAttributes"]["sub"]

        with pytest.raises(ValueError, match="sub"):
            run_trigger(event)
        assert profiles_table.scan()["Items"] == []
