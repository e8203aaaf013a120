"""The emulator in this process: journaling, replay into the same ids, hooks, guards.

Each test runs inside `mock_aws()`, which empties moto's in-memory backends when it
starts and stops, so a replay here starts from nothing as after a restart.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from werkzeug.test import Client

from tools.local.emulator import (
    COGNITO_TARGET_PREFIX,
    Emulator,
    EmulatorCallError,
    EmulatorRequest,
)
from tools.local.persistence import Journal
from tools.local.wsgi import RawResponse

REGION = "us-east-1"
PASSWORD = "Replay-Test-1"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path) as opened:
        yield opened


def create_pool(emulator: Emulator) -> tuple[str, str]:
    pool = emulator.call(
        "cognito-idp",
        "CreateUserPool",
        {"PoolName": "replay", "UsernameAttributes": ["email"]},
    )["UserPool"]["Id"]
    client = emulator.call(
        "cognito-idp",
        "CreateUserPoolClient",
        {"UserPoolId": pool, "ClientName": "web"},
    )["UserPoolClient"]["ClientId"]
    return str(pool), str(client)


def create_table(emulator: Emulator) -> None:
    emulator.call(
        "dynamodb",
        "CreateTable",
        {
            "TableName": "items",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        },
    )


def written_state(journal: Journal) -> dict[str, Any]:
    """Write a user, a KMS ciphertext and an item; return what a replay must keep."""
    emulator = Emulator(REGION, journal)
    pool, client = create_pool(emulator)
    sub = emulator.call(
        "cognito-idp",
        "SignUp",
        {"ClientId": client, "Username": "a@example.com", "Password": PASSWORD},
    )["UserSub"]
    key = emulator.call("kms", "CreateKey", {})["KeyMetadata"]["KeyId"]
    plaintext = base64.b64encode(b"broker secret").decode()
    ciphertext = emulator.call(
        "kms", "Encrypt", {"KeyId": key, "Plaintext": plaintext}
    )["CiphertextBlob"]
    create_table(emulator)
    emulator.call(
        "dynamodb", "PutItem", {"TableName": "items", "Item": {"id": {"S": "1"}}}
    )
    return {"pool": pool, "sub": sub, "ciphertext": ciphertext}


def test_replay_recreates_ids_and_data(tmp_path: Path) -> None:
    # GIVEN writes acknowledged by one emulator and journaled
    with mock_aws(), Journal(tmp_path) as journal:
        before = written_state(journal)
    # WHEN a fresh moto replays the journal
    with mock_aws(), Journal(tmp_path) as journal:
        emulator = Emulator(REGION, None)
        report = emulator.replay(journal.entries())
        user = emulator.call(
            "cognito-idp",
            "AdminGetUser",
            {"UserPoolId": before["pool"], "Username": "a@example.com"},
        )
        decrypted = emulator.call(
            "kms", "Decrypt", {"CiphertextBlob": before["ciphertext"]}
        )
        item = emulator.call(
            "dynamodb", "GetItem", {"TableName": "items", "Key": {"id": {"S": "1"}}}
        )
    # THEN the user has the same sub, the old ciphertext decrypts, the item is back
    assert report.rejected == 0
    assert user["Username"] == before["sub"]
    assert base64.b64decode(decrypted["Plaintext"]) == b"broker secret"
    assert item["Item"] == {"id": {"S": "1"}}


def test_only_acknowledged_writes_journaled(journal: Journal) -> None:
    with mock_aws():
        emulator = Emulator(REGION, journal)
        create_table(emulator)
        with pytest.raises(EmulatorCallError) as caught:
            emulator.call("dynamodb", "PutItem", {"TableName": "missing", "Item": {}})
        emulator.call("dynamodb", "DescribeTable", {"TableName": "items"})
    assert caught.value.code == "ResourceNotFoundException"
    actions = [json.loads(line)["headers"]["X-Amz-Target"] for line in _lines(journal)]
    assert actions == ["DynamoDB_20120810.CreateTable"]


def _lines(journal: Journal) -> list[bytes]:
    return journal.path.read_bytes().splitlines()


def test_fixed_seed_gives_fixed_ids() -> None:
    request = {"PoolName": "seeded"}
    ids = []
    for _ in range(2):
        with mock_aws():
            emulator = Emulator(REGION, None)
            created = emulator.call("cognito-idp", "CreateUserPool", request, seed=7)
            ids.append(created["UserPool"]["Id"])
    assert ids[0] == ids[1]


def test_moto_reset_rejected(journal: Journal) -> None:
    with mock_aws():
        response = Client(Emulator(REGION, journal)).post("/moto-api/reset")
    assert response.status_code == 403
    assert "--reset" in response.get_json()["message"]


def test_hooks_see_each_response() -> None:
    seen: list[tuple[str | None, int]] = []

    def record(request: EmulatorRequest, response: RawResponse) -> RawResponse:
        seen.append((request.action, response.status))
        return response

    with mock_aws():
        emulator = Emulator(REGION, None)
        emulator.hooks.append(record)
        create_table(emulator)
    assert seen == [("CreateTable", 200)]


def test_unsigned_sign_up_other_region() -> None:
    # GIVEN a pool in eu-west-1, while unsigned calls carry no region at all
    with mock_aws():
        emulator = Emulator("eu-west-1", None)
        _pool, client_id = create_pool(emulator)
        # WHEN a browser signs up without signing the request
        response = Client(emulator).post(
            "/",
            data=json.dumps(
                {
                    "ClientId": client_id,
                    "Username": "b@example.com",
                    "Password": PASSWORD,
                }
            ),
            headers={
                "X-Amz-Target": f"{COGNITO_TARGET_PREFIX}SignUp",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
    # THEN the client is found in the eu-west-1 pool
    assert response.status_code == 200
    assert "UserSub" in json.loads(response.get_data())


def test_guard_stops_request_before_moto(journal: Journal) -> None:
    def refuse_tables(request: EmulatorRequest) -> RawResponse | None:
        if request.action == "CreateTable":
            return RawResponse(418)
        return None

    with mock_aws():
        emulator = Emulator(REGION, journal)
        emulator.guards.append(refuse_tables)
        with pytest.raises(EmulatorCallError) as caught:
            create_table(emulator)
        tables = emulator.call("dynamodb", "ListTables", {})
    assert caught.value.status == 418
    assert tables["TableNames"] == []
    assert _lines(journal) == []
