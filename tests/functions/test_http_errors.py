"""Request body limits and the mapping of exceptions to HTTP responses."""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from pfmon_api import http_api, observability, tables
from pfmon_api.data import dynamodb
from pfmon_api.handlers import profile
from pfmon_api.logic import profiles
from tests.functions.conftest import LogCapture
from tests.functions.events import (
    API_REQUEST_ID,
    LAMBDA_REQUEST_ID,
    HttpResult,
    http_event,
    invoke,
)

VALID_BODY: dict[str, Any] = {
    "displayName": "Alice",
    "baseCurrency": "USD",
    "timeZone": "UTC",
    "defaultAccountId": None,
    "preferences": {},
    "version": 1,
}


def put_raw(raw_body: str | None, *, base64_body: bool = False) -> HttpResult:
    event = http_event("PUT", "/profile", raw_body=raw_body, base64_body=base64_body)
    return invoke(profile.handler, event)


def padded_body(size: int) -> str:
    """Return a valid PUT /profile body of exactly `size` bytes, padded with spaces."""
    text = json.dumps(VALID_BODY)
    assert len(text) <= size
    return text + " " * (size - len(text))


@pytest.mark.usefixtures("table_names")
class TestRequestBody:
    def test_body_at_limit_accepted(self) -> None:
        invoke(profile.handler, http_event("GET", "/profile"))

        result = put_raw(padded_body(http_api.MAX_BODY_BYTES))

        assert result.status == 200

    def test_body_over_limit_is_413(self) -> None:
        result = put_raw(padded_body(http_api.MAX_BODY_BYTES + 1))

        assert result.status == 413
        assert result.body["error"]["code"] == "PayloadTooLarge"
        assert result.body["error"]["field"] == "body"

    def test_limit_counts_utf8_bytes(self) -> None:
        # 30,000 euro signs are 90,000 bytes in UTF-8 but 30,000 characters.
        body = json.dumps(
            {**VALID_BODY, "displayName": "€" * 30_000}, ensure_ascii=False
        )

        result = put_raw(body)

        assert result.status == 413

    def test_base64_body_over_limit_is_413(self) -> None:
        result = put_raw(padded_body(http_api.MAX_BODY_BYTES + 1), base64_body=True)

        assert result.status == 413

    def test_base64_body_is_decoded(self) -> None:
        invoke(profile.handler, http_event("GET", "/profile"))

        result = put_raw(json.dumps(VALID_BODY), base64_body=True)

        assert result.status == 200

    @pytest.mark.parametrize(
        "raw_body",
        [
            '{"displayName": ',
            "not json",
            '{"version": NaN}',
            '{"version": Infinity}',
            '{"version": 1, "version": 2}',
            "[1, 2]",
            '"text"',
            "[" * 10_000 + "]" * 10_000,
            '{"displayName": "\\ud800"}',
            '{"version": ' + "9" * 5000 + "}",
        ],
        ids=[
            "truncated",
            "not-json",
            "nan",
            "infinity",
            "duplicate-key",
            "array",
            "string",
            "deep-nesting",
            "lone-surrogate",
            "huge-integer",
        ],
    )
    def test_bad_json_names_body(self, raw_body: str) -> None:
        result = put_raw(raw_body)

        assert result.status == 400
        assert result.body["error"]["code"] == "ValidationError"
        assert result.body["error"]["field"] == "body"

    def test_missing_body_names_body(self) -> None:
        result = put_raw(None)

        assert result.status == 400
        assert result.body["error"]["field"] == "body"

    def test_invalid_base64_names_body(self) -> None:
        event = http_event("PUT", "/profile", raw_body="%%%not-base64%%%")
        event["isBase64Encoded"] = True

        result = invoke(profile.handler, event)

        assert result.status == 400
        assert result.body["error"]["field"] == "body"

    def test_invalid_utf8_names_body(self) -> None:
        event = http_event("PUT", "/profile")
        event["body"] = base64.b64encode(b'{"displayName": "\xff"}').decode("ascii")
        event["isBase64Encoded"] = True

        result = invoke(profile.handler, event)

        assert result.status == 400
        assert "UTF-8" in result.body["error"]["message"]


@pytest.mark.usefixtures("table_names")
class TestErrorMapping:
    def test_unexpected_error_leaks_nothing(
        self, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
    ) -> None:
        # GIVEN the logic fails with an exception whose text must stay private
        def fail(*args: object) -> None:
            raise RuntimeError("secret-detail in /var/task/pfmon_api")

        monkeypatch.setattr(profiles, "get_or_create_profile", fail)

        # WHEN the route runs
        result = invoke(profile.handler, http_event("GET", "/profile"))

        # THEN the client gets a fixed 500 body with the request id
        assert result.status == 500
        assert result.body["error"]["code"] == "InternalError"
        assert result.body["error"]["field"] is None
        assert API_REQUEST_ID in result.body["error"]["message"]
        assert "secret-detail" not in json.dumps(result.body)
        assert "RuntimeError" not in json.dumps(result.body)

        # AND the log has the cause and both request ids
        [record] = logs.with_message("unexpected error")
        assert record["level"] == "ERROR"
        assert record["service"].startswith("pfmon")
        assert record["correlation_id"] == API_REQUEST_ID
        assert record["function_request_id"] == LAMBDA_REQUEST_ID
        assert record["error_type"] == "RuntimeError"
        assert "secret-detail" in record["exception"]

    def test_store_error_is_500_without_detail(self, logs: LogCapture) -> None:
        client = dynamodb.dynamodb_resource().meta.client
        with Stubber(client) as stubber:
            stubber.add_client_error(
                "get_item",
                service_error_code="InternalServerError",
                service_message="detail that quotes an item",
            )

            result = invoke(profile.handler, http_event("GET", "/profile"))

        assert result.status == 500
        assert "quotes an item" not in json.dumps(result.body)
        [record] = logs.with_message("data store request failed")
        assert record["operation"] == "GetItem"
        assert record["error_code"] == "InternalServerError"
        assert record["correlation_id"] == API_REQUEST_ID
        assert "quotes an item" not in logs.stream.getvalue()

    def test_throttling_is_503(self) -> None:
        client = dynamodb.dynamodb_resource().meta.client
        with Stubber(client) as stubber:
            stubber.add_client_error(
                "get_item", service_error_code="ThrottlingException"
            )

            result = invoke(profile.handler, http_event("GET", "/profile"))

        assert result.status == 503
        assert result.body["error"]["code"] == "ServiceUnavailable"

    def test_missing_table_variable_is_500(
        self, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
    ) -> None:
        variable = tables.TABLE_ENV_VARS[tables.USER_PROFILES.suffix]
        monkeypatch.delenv(variable)

        result = invoke(profile.handler, http_event("GET", "/profile"))

        assert result.status == 500
        assert variable not in json.dumps(result.body)
        [record] = logs.with_message("internal error")
        assert record["error_type"] == "ConfigurationError"
        assert variable in record["detail"]

    def test_client_error_logged_as_info(self, logs: LogCapture) -> None:
        invoke(profile.handler, http_event("GET", "/profile", sub=None))

        [record] = logs.with_message("request rejected")
        assert record["level"] == "INFO"
        assert record["status"] == 401
        assert record["correlation_id"] == API_REQUEST_ID

    @pytest.mark.parametrize(
        "decorator",
        [observability.inject_http_context, observability.inject_trigger_context],
    )
    def test_events_never_logged(self, decorator: functools.partial[Any]) -> None:
        # An explicit False wins over POWERTOOLS_LOGGER_LOG_EVENT=true, which would log
        # the bearer token of an HTTP event and the email address of a trigger event.
        assert decorator.keywords["log_event"] is False
