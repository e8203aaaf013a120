"""Start, stop, crash and restart: persistence, --reset, signals and busy resources."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.tools.local.conftest import (
    LOCAL_ENVIRONMENT,
    PROJECT_ROOT,
    RunningEnvironment,
    aws_client,
    bearer,
    clean_environment,
    cognito_client,
    http,
    sign_in,
    sign_up,
    start_environment,
    unique_email,
)

RENAMED = "Survivor"


def rename_profile(env: RunningEnvironment, token: str) -> None:
    url = f"{env.endpoints.api_url}/profile"
    profile = http(url, headers=bearer(token)).json()
    update = {
        "displayName": RENAMED,
        "baseCurrency": profile["baseCurrency"],
        "timeZone": profile["timeZone"],
        "defaultAccountId": None,
        "preferences": {},
        "version": profile["version"],
    }
    headers = {**bearer(token), "Content-Type": "application/json"}
    assert http(url, "PUT", headers, update).status == 200


def test_state_survives_kill_until_reset(tmp_path: Path) -> None:
    # GIVEN a user who changed their profile through the API
    data_dir = tmp_path / "data"
    first = start_environment(data_dir)
    email = unique_email("survivor")
    sub = sign_up(first.endpoints, email)
    old_tokens = sign_in(first.endpoints, email)
    old_token = old_tokens["IdToken"]
    rename_profile(first, old_token)

    # WHEN the process is killed without any chance to clean up, then restarted
    first.process.kill()
    first.process.wait()
    second = start_environment(data_dir)
    try:
        # THEN the restart has the same pool, the user and the change
        assert second.endpoints.replayed_writes > 0
        assert second.endpoints.user_pool_id == first.endpoints.user_pool_id
        assert second.endpoints.client_id == first.endpoints.client_id
        new_token = sign_in(second.endpoints, email)["IdToken"]
        url = f"{second.endpoints.api_url}/profile"
        profile = http(url, headers=bearer(new_token)).json()
        assert profile["userId"] == sub
        assert profile["displayName"] == RENAMED
        # A token issued before the crash still verifies: same pool, same key.
        assert http(url, headers=bearer(old_token)).status == 200
        # The replayed sign-in recreated the refresh token too.
        refreshed = cognito_client(second.endpoints).initiate_auth(
            ClientId=second.endpoints.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": old_tokens["RefreshToken"]},
        )
        assert "IdToken" in refreshed["AuthenticationResult"]
    finally:
        status = second.stop(signal.SIGTERM)
    assert status == 0
    assert not (data_dir / "endpoints.json").exists()

    # WHEN the environment starts again with --reset
    third = start_environment(data_dir, "--reset")
    try:
        endpoints = third.endpoints
        # THEN the user and the profile are gone, and the demo user is back
        assert endpoints.replayed_writes == 0
        with pytest.raises(ClientError) as caught:
            sign_in(endpoints, email)
        assert caught.value.response["Error"]["Code"] == "UserNotFoundException"
        item = aws_client(endpoints, "dynamodb").get_item(
            TableName="pfmon-dev-UserProfiles", Key={"userId": {"S": sub}}
        )
        assert "Item" not in item
        demo = aws_client(endpoints, "cognito-idp").admin_get_user(
            UserPoolId=endpoints.user_pool_id, Username=endpoints.demo_email
        )
        assert demo["UserStatus"] == "CONFIRMED"
        # The pool keeps its id, so a React app's config stays valid.
        assert endpoints.user_pool_id == first.endpoints.user_pool_id
    finally:
        status = third.stop(signal.SIGINT)
    assert status == 0


def run_cli(
    data_dir: Path, *arguments: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*LOCAL_ENVIRONMENT, "--data-dir", str(data_dir), *arguments],
        cwd=PROJECT_ROOT,
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_api_port_in_use(tmp_path: Path, taken_port: int) -> None:
    result = run_cli(tmp_path, "--emulator-port", "0", "--api-port", str(taken_port))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {taken_port}" in lines[0]
    assert "--api-port" in lines[0]
    assert "PFMON_LOCAL_API_PORT" in lines[0]


def test_emulator_port_in_use_from_env(tmp_path: Path, taken_port: int) -> None:
    result = run_cli(
        tmp_path, "--api-port", "0", PFMON_LOCAL_EMULATOR_PORT=str(taken_port)
    )
    assert result.returncode == 2
    assert f"port {taken_port}" in result.stderr
    assert "--emulator-port or PFMON_LOCAL_EMULATOR_PORT" in result.stderr


def test_data_dir_in_use(local_env: RunningEnvironment) -> None:
    result = run_cli(local_env.data_dir, "--emulator-port", "0", "--api-port", "0")
    assert result.returncode == 2
    assert "is in use by another local environment" in result.stderr
    assert local_env.process.poll() is None


def test_data_dir_is_file(tmp_path: Path) -> None:
    # GIVEN a data directory option that names a file
    path = tmp_path / "README.md"
    path.write_text("not a directory\n")
    result = run_cli(path, "--emulator-port", "0", "--api-port", "0")
    # THEN the start stops with one line that names the option, the path and why
    assert result.returncode == 2
    assert result.stderr == (
        f"error: data directory {path} is not a directory. Choose another "
        "directory with --data-dir or PFMON_LOCAL_DATA_DIR.\n"
    )
