"""GET and POST /credentials, DELETE /credentials/{credentialId}, against moto.

moto serves DynamoDB and KMS in process. Each stored item is read raw with the
low-level client, so the tests see exactly what DynamoDB would hold.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from pfmon_api import envelope, errors, tables
from pfmon_api.data import dynamodb
from pfmon_api.handlers import credentials as handler_module
from pfmon_api.logic import credentials
from pfmon_api.models.credentials import parse_credential_create
from tests.functions.conftest import LogCapture
from tests.functions.events import (
    USER_A,
    USER_B,
    HttpResult,
    LambdaContext,
    http_event,
    invoke,
)

# Random-looking values, so no 8-character window of them occurs in other text.
API_KEY = "PK7Q2K9LM3RT8VN4WXYZ"
API_SECRET = "Zq8/vT3+Wm9-Sx2_Rt5=Np4rLx7Hc"
ACCOUNT = "acc-1"
BODY: dict[str, Any] = {
    "accountId": ACCOUNT,
    "label": "Alpaca paper",
    "apiKey": API_KEY,
    "apiSecret": API_SECRET,
}
SUMMARY_FIELDS = {"credentialId", "accountId", "label", "apiKeyHint", "createdAt"}
UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


# Fixtures and helpers


@pytest.fixture(scope="module")
def module_key_arn(moto_tables: dict[str, str]) -> Iterator[str]:
    """Create the credentials KMS key in moto once per module and set its variable."""
    kms = boto3.client("kms")
    arn = kms.create_key(Description="unit credentials key")["KeyMetadata"]["Arn"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(credentials.KEY_ARN_ENV_VAR, arn)
        envelope.kms_client.cache_clear()
        yield arn
    envelope.kms_client.cache_clear()


@pytest.fixture
def key_arn(module_key_arn: str, table_names: dict[str, str]) -> str:
    """Return the key ARN with the four tables emptied."""
    return module_key_arn


@pytest.fixture
def accounts(key_arn: str) -> None:
    """Seed AccountData: A's active and archived accounts and B's account."""
    items = (
        {"userId": USER_A, "accountId": ACCOUNT, "name": "Paper"},
        {"userId": USER_A, "accountId": "acc-2", "name": "Live"},
        {"userId": USER_A, "accountId": "acc-off", "archived": False},
        {"userId": USER_A, "accountId": "acc-archived", "archived": True},
        {"userId": USER_B, "accountId": "acc-b", "name": "B's account"},
    )
    with dynamodb.table(tables.ACCOUNT_DATA).batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)


def raw_items() -> list[dict[str, Any]]:
    """Return every UserCredentials item as the low-level client returns it."""
    name = dynamodb.table(tables.USER_CREDENTIALS).name
    return list(boto3.client("dynamodb").scan(TableName=name)["Items"])


def post_credential(
    body: Any = BODY, sub: str | None = USER_A, **kwargs: Any
) -> HttpResult:
    event = http_event("POST", "/credentials", sub=sub, body=body, **kwargs)
    return invoke(handler_module.handler, event)


def list_credentials(sub: str | None = USER_A, **kwargs: Any) -> HttpResult:
    event = http_event("GET", "/credentials", sub=sub, **kwargs)
    return invoke(handler_module.handler, event)


def delete_credential(credential_id: str, sub: str | None = USER_A) -> HttpResult:
    event = http_event(
        "DELETE",
        f"/credentials/{credential_id}",
        sub=sub,
        path_parameters={"credentialId": credential_id},
        route_key="DELETE /credentials/{credentialId}",
    )
    return invoke(handler_module.handler, event)


def error_of(result: HttpResult) -> dict[str, Any]:
    assert set(result.body) == {"error"}
    error: dict[str, Any] = result.body["error"]
    return error


class KmsHooks:
    """Event hooks on the functions' KMS client, removed after each test."""

    def __init__(self) -> None:
        self.registered: list[tuple[str, Callable[..., Any]]] = []
        self.data_keys: list[bytes] = []

    def record_calls(self, operation: str) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        def record(params: dict[str, Any], **_kwargs: Any) -> None:
            calls.append(dict(params))

        self._register(f"provide-client-params.kms.{operation}", record)
        return calls

    def capture_data_keys(self) -> None:
        """Keep each plaintext data key that KMS returns, to search for it later."""

        def keep(parsed: dict[str, Any], **_kwargs: Any) -> None:
            if "Plaintext" in parsed:
                self.data_keys.append(bytes(parsed["Plaintext"]))

        self._register("after-call.kms.GenerateDataKey", keep)
        self._register("after-call.kms.Decrypt", keep)

    def fail(self, operation: str, code: str) -> None:
        def reject(**_kwargs: Any) -> tuple[Any, dict[str, Any]]:
            response = {
                "Error": {"Code": code, "Message": f"unit test {code}"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return SimpleNamespace(status_code=400, headers={}), response

        self._register(f"before-call.kms.{operation}", reject)

    def remove_all(self) -> None:
        events = envelope.kms_client().meta.events
        for event_name, hook in self.registered:
            events.unregister(event_name, hook)

    def _register(self, event_name: str, hook: Callable[..., Any]) -> None:
        envelope.kms_client().meta.events.register(event_name, hook)
        self.registered.append((event_name, hook))


@pytest.fixture
def kms_hooks(key_arn: str) -> Iterator[KmsHooks]:
    hooks = KmsHooks()
    yield hooks
    hooks.remove_all()


def encoded_forms(secret: bytes) -> set[str]:
    """Return text forms of `secret` that a leak could take: raw, hex and base64.

    Base64 of the secret depends on its offset in the encoded data, so each of the
    three offsets gives a prefix, cut to whole 4-character groups.
    """
    forms = {secret.hex(), secret.hex().upper()}
    with contextlib.suppress(UnicodeDecodeError):
        forms.add(secret.decode("utf-8"))
    for offset in range(3):
        part = secret[offset:]
        whole = (len(part) // 3) * 4
        forms.add(base64.b64encode(part).decode()[:whole])
        forms.add(base64.urlsafe_b64encode(part).decode()[:whole])
    return forms


# POST /credentials


@pytest.mark.usefixtures("accounts")
class TestCreateCredential:
    def test_create_returns_summary(self) -> None:
        result = post_credential()

        assert result.status == 201
        assert set(result.body) == SUMMARY_FIELDS
        assert UUID.fullmatch(result.body["credentialId"])
        assert result.body["accountId"] == ACCOUNT
        assert result.body["label"] == "Alpaca paper"
        assert result.body["apiKeyHint"] == "WXYZ"
        assert result.body["createdAt"].endswith("Z")
        assert result.headers["Cache-Control"] == "no-store"

    def test_item_layout(self, key_arn: str) -> None:
        created = post_credential().body

        [item] = raw_items()

        assert set(item) == {
            "userId",
            "credentialId",
            "accountId",
            "label",
            "apiKeyHint",
            "createdAt",
            "version",
            "algorithm",
            "keyArn",
            "encryptedDataKey",
            "apiKeyCiphertext",
            "apiKeyNonce",
            "apiSecretCiphertext",
            "apiSecretNonce",
        }
        assert item["userId"] == {"S": USER_A}
        assert item["credentialId"] == {"S": created["credentialId"]}
        assert item["accountId"] == {"S": ACCOUNT}
        assert item["apiKeyHint"] == {"S": "WXYZ"}
        assert item["createdAt"] == {"S": created["createdAt"]}
        assert item["version"] == {"N": "1"}
        assert item["algorithm"] == {"S": "kms-envelope-aes-256-gcm-v1"}
        assert item["keyArn"] == {"S": key_arn}
        assert set(item["encryptedDataKey"]) == {"B"}
        assert len(item["apiKeyNonce"]["B"]) == 12
        assert len(item["apiSecretNonce"]["B"]) == 12
        assert len(item["apiKeyCiphertext"]["B"]) == len(API_KEY) + 16
        assert len(item["apiSecretCiphertext"]["B"]) == len(API_SECRET) + 16

    def test_item_holds_no_plaintext(self) -> None:
        post_credential()

        [item] = raw_items()

        # GIVEN every string and every binary value of the raw item
        strings = {name: value["S"] for name, value in item.items() if "S" in value}
        binaries = [value["B"] for value in item.values() if "B" in value]
        assert len(binaries) == 5

        # THEN no 4 characters of the secret appear in any string attribute
        for start in range(len(API_SECRET) - 3):
            window = API_SECRET[start : start + 4]
            for name, text in strings.items():
                assert window not in text, (window, name)

        # AND the key's characters appear only as the hint's last 4
        for start in range(len(API_KEY) - 3):
            window = API_KEY[start : start + 4]
            for name, text in strings.items():
                if name != "apiKeyHint":
                    assert window not in text, (window, name)
        assert strings["apiKeyHint"] == API_KEY[-4:]

        # AND no 8 bytes of either plaintext appear in a binary attribute
        for secret in (API_KEY, API_SECRET):
            encoded = secret.encode()
            for start in range(len(encoded) - 7):
                for blob in binaries:
                    assert encoded[start : start + 8] not in blob

        # AND no encoded form of either plaintext appears anywhere in the item
        dumped = repr(item)
        for secret in (API_KEY, API_SECRET):
            for form in encoded_forms(secret.encode()):
                assert form not in dumped

    def test_decrypt_round_trip(self) -> None:
        created = post_credential().body

        secret = credentials.decrypt_credential(USER_A, created["credentialId"])

        assert secret.api_key == API_KEY
        assert secret.api_secret == API_SECRET
        assert API_SECRET not in repr(secret)

    def test_kms_request_context(self, key_arn: str, kms_hooks: KmsHooks) -> None:
        calls = kms_hooks.record_calls("GenerateDataKey")

        created = post_credential().body

        assert calls == [
            {
                "KeyId": key_arn,
                "KeySpec": "AES_256",
                "EncryptionContext": {
                    "userId": USER_A,
                    "credentialId": created["credentialId"],
                    "purpose": "broker-credential",
                },
            }
        ]

    def test_unicode_label_kept(self) -> None:
        result = post_credential({**BODY, "label": "Konto Müller — 株式"})

        assert result.status == 201
        assert result.body["label"] == "Konto Müller — 株式"

    def test_explicit_not_archived_accepted(self) -> None:
        result = post_credential({**BODY, "accountId": "acc-off"})

        assert result.status == 201

    @pytest.mark.parametrize("account_id", ["acc-missing", "acc-b", "acc-archived"])
    def test_unusable_account_is_404(self, account_id: str) -> None:
        # acc-b is B's account, and acc-archived is an archived account of A.
        result = post_credential({**BODY, "accountId": account_id})

        assert result.status == 404
        assert error_of(result)["code"] == "NotFound"
        assert error_of(result)["field"] == "accountId"
        assert raw_items() == []

    def test_unknown_account_calls_no_kms(self, kms_hooks: KmsHooks) -> None:
        calls = kms_hooks.record_calls("GenerateDataKey")

        post_credential({**BODY, "accountId": "acc-missing"})

        assert calls == []

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("accountId", "acc/1"),
            ("accountId", ""),
            ("accountId", 7),
            ("label", ""),
            ("label", "   "),
            ("label", "a" * 65),
            ("label", "two\nlines"),
            ("label", "tab\there"),
            ("label", "bidi\u202eoverride"),
            ("apiKey", "short-key"),
            ("apiKey", "K" * 257),
            ("apiKey", "PKEXAMPLE7Q2\nK9LM3WXYZ"),
            ("apiKey", " PKEXAMPLE7Q2K9LM3WXYZ"),
            ("apiKey", 123456789012345),
            ("apiSecret", "short"),
            ("apiSecret", "S" * 1025),
            ("apiSecret", "Zq8/vT3+example\x00Secret"),
            ("apiSecret", "Zq8/vT3+example-Secret "),
            ("apiSecret", None),
        ],
    )
    def test_invalid_value_names_field(self, field: str, value: object) -> None:
        result = post_credential({**BODY, field: value})

        assert result.status == 400
        assert error_of(result)["code"] == "ValidationError"
        assert error_of(result)["field"] == field
        assert raw_items() == []

    @pytest.mark.parametrize("value", ["PKEXAMPLE7Q2\nK9LM3WXYZ", "K" * 257])
    def test_invalid_key_not_echoed(self, value: str) -> None:
        result = post_credential({**BODY, "apiKey": value})

        assert value not in json.dumps(result.body)
        assert value.strip()[:12] not in json.dumps(result.body)

    def test_validation_cause_hides_input(self) -> None:
        # The pydantic error chained to the ValidationError quotes no input, so a
        # traceback of it cannot leak the secret either.
        secret = API_SECRET + "\n"

        with pytest.raises(errors.ValidationError) as caught:
            parse_credential_create({**BODY, "apiSecret": secret})

        assert caught.value.__cause__ is not None
        assert API_SECRET not in str(caught.value.__cause__)
        assert API_SECRET not in str(caught.value)

    @pytest.mark.parametrize("field", ["accountId", "label", "apiKey", "apiSecret"])
    def test_missing_field_is_400(self, field: str) -> None:
        body = {name: value for name, value in BODY.items() if name != field}

        result = post_credential(body)

        assert result.status == 400
        assert error_of(result)["field"] == field
        assert "missing" in error_of(result)["message"]

    @pytest.mark.parametrize(
        "field", ["userId", "credentialId", "apiKeyHint", "keyArn", "api_key"]
    )
    def test_unknown_field_names_it(self, field: str) -> None:
        result = post_credential({**BODY, field: "forged"})

        assert result.status == 400
        assert error_of(result)["field"] == field
        assert f"unknown field {field}" in error_of(result)["message"]
        assert raw_items() == []

    def test_oversize_body_is_413(self, kms_hooks: KmsHooks) -> None:
        calls = kms_hooks.record_calls("GenerateDataKey")
        body = {**BODY, "label": "x" * (64 * 1024)}

        result = post_credential(body)

        assert result.status == 413
        assert error_of(result)["code"] == "PayloadTooLarge"
        assert calls == []
        assert raw_items() == []

    def test_malformed_json_is_400(self) -> None:
        result = post_credential(body=None, raw_body='{"apiKey": ')

        assert result.status == 400
        assert error_of(result)["field"] == "body"

    def test_missing_sub_is_401(self) -> None:
        result = post_credential(sub=None)

        assert result.status == 401
        assert raw_items() == []

    def test_forged_user_query_ignored(self) -> None:
        result = post_credential(query={"userId": USER_B})

        assert result.status == 201
        [item] = raw_items()
        assert item["userId"] == {"S": USER_A}


# KMS and configuration failures


@pytest.mark.usefixtures("accounts")
class TestCreateFailures:
    @pytest.mark.parametrize(
        "code",
        ["DisabledException", "KMSInvalidStateException", "AccessDeniedException"],
    )
    def test_key_fault_is_500(
        self, code: str, kms_hooks: KmsHooks, logs: LogCapture
    ) -> None:
        # GIVEN KMS rejects GenerateDataKey, as for a disabled key
        kms_hooks.fail("GenerateDataKey", code)

        # WHEN a credential is posted
        result = post_credential()

        # THEN the response is a 500 that names only the request id
        assert result.status == 500
        assert error_of(result)["code"] == "InternalError"
        assert "api-request-1" in error_of(result)["message"]
        assert code not in json.dumps(result.body)
        # AND nothing is stored, and the log names the KMS error code
        assert raw_items() == []
        [record] = logs.with_message("internal error")
        assert record["error_type"] == "KeyServiceError"
        assert record["detail"] == f"KMS GenerateDataKey failed with {code}"

    def test_throttled_kms_is_503(self, kms_hooks: KmsHooks) -> None:
        kms_hooks.fail("GenerateDataKey", "ThrottlingException")

        result = post_credential()

        assert result.status == 503
        assert error_of(result)["code"] == "ServiceUnavailable"
        assert raw_items() == []

    def test_deleted_key_is_500(
        self, key_arn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A key id that moto does not know, as after the key was deleted.
        missing = key_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
        monkeypatch.setenv(credentials.KEY_ARN_ENV_VAR, missing)

        result = post_credential()

        assert result.status == 500
        assert raw_items() == []

    def test_unset_key_arn_is_500(
        self, monkeypatch: pytest.MonkeyPatch, logs: LogCapture
    ) -> None:
        monkeypatch.delenv(credentials.KEY_ARN_ENV_VAR)

        result = post_credential()

        assert result.status == 500
        assert raw_items() == []
        [record] = logs.with_message("internal error")
        assert record["error_type"] == "ConfigurationError"
        assert "CREDENTIALS_KEY_ARN" in record["detail"]


# GET /credentials


@pytest.mark.usefixtures("accounts")
class TestListCredentials:
    def test_list_returns_summaries(self) -> None:
        first = post_credential().body
        second = post_credential({**BODY, "accountId": "acc-2", "label": "Live"}).body

        result = list_credentials()

        assert result.status == 200
        assert set(result.body) == {"credentials"}
        assert result.body["credentials"] == [first, second]
        for summary in result.body["credentials"]:
            assert set(summary) == SUMMARY_FIELDS
        assert result.headers["Cache-Control"] == "no-store"

    def test_list_filters_by_account(self) -> None:
        post_credential()
        live = post_credential({**BODY, "accountId": "acc-2", "label": "Live"}).body

        result = list_credentials(query={"accountId": "acc-2"})

        assert result.body["credentials"] == [live]

    def test_list_projects_summary_only(self) -> None:
        # GIVEN the parameters of every DynamoDB Query are recorded
        post_credential()
        queries: list[dict[str, Any]] = []

        def record(params: dict[str, Any], **_kwargs: Any) -> None:
            queries.append(dict(params))

        events = dynamodb.dynamodb_resource().meta.client.meta.events
        events.register("provide-client-params.dynamodb.Query", record)
        try:
            # WHEN the caller lists
            list_credentials()
        finally:
            events.unregister("provide-client-params.dynamodb.Query", record)

        # THEN the Query reads only the summary attributes, never a ciphertext
        [query] = queries
        names = query["ExpressionAttributeNames"]
        projected = {
            names[part.strip()] for part in query["ProjectionExpression"].split(",")
        }
        assert projected == SUMMARY_FIELDS

    def test_invalid_account_filter_is_400(self) -> None:
        result = list_credentials(query={"accountId": "acc*"})

        assert result.status == 400
        assert error_of(result)["field"] == "accountId"

    def test_empty_list(self) -> None:
        result = list_credentials()

        assert result.status == 200
        assert result.body == {"credentials": []}

    def test_other_user_sees_nothing(self) -> None:
        # GIVEN A stored a credential
        post_credential()

        # WHEN B lists, also naming A in the query string
        result = list_credentials(sub=USER_B, query={"userId": USER_A})

        # THEN B's list is empty
        assert result.body == {"credentials": []}

    def test_list_missing_sub_is_401(self) -> None:
        assert list_credentials(sub=None).status == 401


# DELETE /credentials/{credentialId}


@pytest.mark.usefixtures("accounts")
class TestDeleteCredential:
    def test_delete_removes_item(self) -> None:
        created = post_credential().body

        result = delete_credential(created["credentialId"])

        assert result.status == 204
        assert result.body is None
        assert result.headers["Cache-Control"] == "no-store"
        assert raw_items() == []
        assert list_credentials().body == {"credentials": []}

    def test_other_user_delete_is_404(self) -> None:
        # GIVEN A stored a credential
        created = post_credential().body
        before = raw_items()

        # WHEN B deletes it by id
        result = delete_credential(created["credentialId"], sub=USER_B)

        # THEN B gets 404 and A's item is unchanged
        assert result.status == 404
        assert error_of(result)["code"] == "NotFound"
        assert raw_items() == before
        assert list_credentials().body["credentials"] == [created]

    def test_second_delete_is_404(self) -> None:
        created = post_credential().body
        delete_credential(created["credentialId"])

        result = delete_credential(created["credentialId"])

        assert result.status == 404
        assert error_of(result)["field"] == "credentialId"

    def test_unknown_id_is_404(self) -> None:
        result = delete_credential("00000000-0000-4000-8000-000000000000")

        assert result.status == 404

    @pytest.mark.parametrize(
        "credential_id", ["abc", "00000000-0000-4000-8000-00000000000G", "A" * 36]
    )
    def test_malformed_id_is_400(self, credential_id: str) -> None:
        result = delete_credential(credential_id)

        assert result.status == 400
        assert error_of(result)["field"] == "credentialId"


# Decryption for the broker sync


@pytest.mark.usefixtures("accounts")
class TestDecryptCredential:
    def copy_item(self, **key: str) -> dict[str, Any]:
        """Store a copy of the one raw item under another key and return the copy."""
        [item] = raw_items()
        copy = {**item, **{name: {"S": value} for name, value in key.items()}}
        name = dynamodb.table(tables.USER_CREDENTIALS).name
        boto3.client("dynamodb").put_item(TableName=name, Item=copy)
        return copy

    def test_copy_to_other_id_fails(self) -> None:
        post_credential()
        other_id = "11111111-1111-4111-8111-111111111111"
        self.copy_item(credentialId=other_id)

        with pytest.raises(envelope.DecryptionError):
            credentials.decrypt_credential(USER_A, other_id)

    def test_copy_to_other_user_fails(self) -> None:
        created = post_credential().body
        self.copy_item(userId=USER_B)

        with pytest.raises(envelope.DecryptionError):
            credentials.decrypt_credential(USER_B, created["credentialId"])

    @pytest.mark.parametrize(
        "attribute", ["apiKeyCiphertext", "apiSecretCiphertext", "apiSecretNonce"]
    )
    def test_tampered_item_fails(self, attribute: str) -> None:
        created = post_credential().body
        [item] = raw_items()
        changed = bytearray(item[attribute]["B"])
        changed[0] ^= 0x01
        name = dynamodb.table(tables.USER_CREDENTIALS).name
        boto3.client("dynamodb").put_item(
            TableName=name, Item={**item, attribute: {"B": bytes(changed)}}
        )

        with pytest.raises(envelope.DecryptionError):
            credentials.decrypt_credential(USER_A, created["credentialId"])

    def test_swapped_ciphertexts_fail(self) -> None:
        created = post_credential().body
        [item] = raw_items()
        swapped = {
            **item,
            "apiKeyCiphertext": item["apiSecretCiphertext"],
            "apiKeyNonce": item["apiSecretNonce"],
            "apiSecretCiphertext": item["apiKeyCiphertext"],
            "apiSecretNonce": item["apiKeyNonce"],
        }
        name = dynamodb.table(tables.USER_CREDENTIALS).name
        boto3.client("dynamodb").put_item(TableName=name, Item=swapped)

        with pytest.raises(envelope.DecryptionError):
            credentials.decrypt_credential(USER_A, created["credentialId"])

    def test_other_user_decrypt_is_404(self) -> None:
        created = post_credential().body

        with pytest.raises(errors.NotFoundError):
            credentials.decrypt_credential(USER_B, created["credentialId"])

    def test_reencrypted_data_key_decrypts(self) -> None:
        # GIVEN a credential whose data key is re-encrypted for another KMS key with
        # the documented encryption context, as a migration to another stack does
        created = post_credential().body
        [item] = raw_items()
        kms = boto3.client("kms")
        target_arn = kms.create_key(Description="unit target key")["KeyMetadata"]["Arn"]
        context = {
            "userId": USER_A,
            "credentialId": created["credentialId"],
            "purpose": "broker-credential",
        }
        response = kms.re_encrypt(
            CiphertextBlob=item["encryptedDataKey"]["B"],
            SourceKeyId=item["keyArn"]["S"],
            SourceEncryptionContext=context,
            DestinationKeyId=target_arn,
            DestinationEncryptionContext=context,
        )
        name = dynamodb.table(tables.USER_CREDENTIALS).name
        boto3.client("dynamodb").put_item(
            TableName=name,
            Item={
                **item,
                "encryptedDataKey": {"B": response["CiphertextBlob"]},
                "keyArn": {"S": response["KeyId"]},
            },
        )

        # WHEN the function decrypts it
        secret = credentials.decrypt_credential(USER_A, created["credentialId"])

        # THEN the fields, untouched by the re-encryption, still decrypt
        assert secret.api_key == API_KEY
        assert secret.api_secret == API_SECRET


# Secrets never reach logs or responses


@pytest.mark.usefixtures("accounts")
def test_secrets_absent_from_logs(
    kms_hooks: KmsHooks,
    logs: LogCapture,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN every log line at the deployed level (INFO), stdout and stderr captured,
    # and every plaintext data key that KMS returns kept aside
    caplog.set_level(logging.INFO)
    kms_hooks.capture_data_keys()
    responses: list[str] = []

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response = handler_module.handler(event, LambdaContext())
        responses.append(json.dumps(response))
        return response

    # WHEN a full create, list, decrypt and delete cycle runs, with rejected requests
    created = json.loads(call(http_event("POST", "/credentials", body=BODY))["body"])
    call(
        http_event(
            "POST", "/credentials", body={**BODY, "apiSecret": API_SECRET + "\n"}
        )
    )
    call(http_event("POST", "/credentials", body={**BODY, "apiKey": API_KEY + "\x07"}))
    call(http_event("POST", "/credentials", body={**BODY, "accountId": "acc-b"}))
    call(http_event("POST", "/credentials", body={**BODY, "extra": API_SECRET}))
    call(http_event("GET", "/credentials"))
    credentials.decrypt_credential(USER_A, created["credentialId"])
    kms_hooks.fail("GenerateDataKey", "DisabledException")
    call(http_event("POST", "/credentials", body=BODY))
    credential_id = created["credentialId"]
    call(
        http_event(
            "DELETE",
            f"/credentials/{credential_id}",
            path_parameters={"credentialId": credential_id},
            route_key="DELETE /credentials/{credentialId}",
        )
    )

    # THEN the cycle wrote logs and responses, and no form of a secret is in them
    captured = capsys.readouterr()
    texts = {
        "pfmon logs": logs.stream.getvalue(),
        "other logs": "\n".join(record.getMessage() for record in caplog.records)
        + caplog.text,
        "stdout": captured.out,
        "stderr": captured.err,
        "responses": "\n".join(responses),
    }
    assert logs.with_message("broker credential stored")
    assert logs.with_message("broker credential deleted")
    assert len(responses) == 8
    assert len(kms_hooks.data_keys) == 2
    secrets = [API_KEY.encode(), API_SECRET.encode(), *kms_hooks.data_keys]
    for secret in secrets:
        for form in encoded_forms(secret):
            for source, text in texts.items():
                assert form not in text, source
    # AND no 8 characters in a row of the key or the secret appear either
    for plaintext in (API_KEY, API_SECRET):
        for start in range(len(plaintext) - 7):
            window = plaintext[start : start + 8]
            for source, text in texts.items():
                assert window not in text, (window, source)
