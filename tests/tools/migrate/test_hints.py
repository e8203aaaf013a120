"""Follow-up commands that `copy` prints, pasted and run against a moto server.

These tests run outside moto's in-process mock, because that mock also serves
requests sent to an --endpoint-url and so could not show that one was dropped.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tools.migrate.aws import Endpoint, client
from tools.migrate.cli import main
from tools.migrate.sample_data import create_tables, sample_tables

# A closed port on the loopback interface: a command that lost its --endpoint-url
# fails there instead of reaching AWS.
UNREACHABLE_ENDPOINT = "http://127.0.0.1:9"
HINT_PREFIX = "copy complete. Check it with: "


def _run(arguments: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(arguments, out, err)
    return status, out.getvalue(), err.getvalue()


def test_copy_hint_runs_on_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a moto server on 127.0.0.1 with project tj's tables in eu-west-1, and an
    # AWS configuration that names another region and endpoint
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", UNREACHABLE_ENDPOINT)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        emulator = client("dynamodb", Endpoint("eu-west-1", url))
        create_tables(emulator, "tj", ("test", "prod"))
        items = sample_tables({"UserProfiles": 3})["UserProfiles"]
        for item in items:
            emulator.put_item(TableName="tj-test-UserProfiles", Item=item)

        # WHEN a copy runs there
        status, out, err = _run(
            [
                "copy",
                "--source-env=test",
                "--target-env=prod",
                "--project=tj",
                "--region=eu-west-1",
                f"--endpoint-url={url}",
                "--tables=UserProfiles",
                f"--checkpoint={tmp_path / 'run.json'}",
            ]
        )
        assert status == 0, err
        hint = out.splitlines()[-1]

        # THEN its hint repeats every option that selects the tables
        assert hint == (
            f"{HINT_PREFIX}python -m tools.migrate verify --source-env test "
            f"--target-env prod --project tj --region eu-west-1 --endpoint-url {url} "
            "--tables UserProfiles"
        )
        # AND the hint, pasted as printed, verifies the copy on the same server
        arguments = shlex.split(hint.removeprefix(HINT_PREFIX))
        assert arguments[:4] == ["python", "-m", "tools.migrate", "verify"]
        status, out, err = _run(arguments[3:])
    finally:
        server.stop()
    assert status == 0, err
    assert out.splitlines()[-1] == "verify: all tables equal"
