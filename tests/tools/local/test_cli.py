"""The command line of `make local`: option checks that run before anything starts.

Each test here returns before `main` binds a port, installs signal handlers or
configures logging, so it runs in this process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.local.cli import (
    EXIT_IN_USE,
    EXIT_UNUSABLE,
    EXIT_USAGE,
    UsageError,
    exit_status,
    main,
    parse_options,
)
from tools.local.persistence import (
    DataDirLockedError,
    DataDirUnusableError,
    JournalError,
)
from tools.local.servers import PortInUseError

PORT = "5333"


class NoReservation:
    """Stands in for Reservation, so a check that lets bad options through fails
    the test instead of binding ports and starting an environment here."""

    def __init__(self, options: object) -> None:
        raise AssertionError(f"main accepted the options and started: {options}")


@pytest.fixture(autouse=True)
def isolated_main(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.local.cli.Reservation", NoReservation)
    for name in (
        "PFMON_LOCAL_API_PORT",
        "PFMON_LOCAL_EMULATOR_PORT",
        "PFMON_LOCAL_SITE_PORT",
        "PFMON_LOCAL_DATA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("--emulator-port", "--api-port"),
        ("--emulator-port", "--site-port"),
        ("--api-port", "--site-port"),
    ],
)
def test_shared_port_rejected(
    first: str, second: str, capsys: pytest.CaptureFixture[str]
) -> None:
    others = {"--emulator-port", "--api-port", "--site-port"} - {first, second}
    (other,) = others
    status = main([first, PORT, second, PORT, other, "0"])
    assert status == EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {first} (PFMON_LOCAL_")
    assert f" and {second} (PFMON_LOCAL_" in lines[0]
    assert f"are both set to port {PORT}" in lines[0]


def test_shared_port_from_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the API port variable set to the emulator's default port
    monkeypatch.setenv("PFMON_LOCAL_API_PORT", "5100")
    assert main([]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "--emulator-port (PFMON_LOCAL_EMULATOR_PORT)" in error
    assert "--api-port (PFMON_LOCAL_API_PORT)" in error
    assert "both set to port 5100" in error


def test_port_zero_may_repeat() -> None:
    options, _verbose = parse_options(
        ["--emulator-port", "0", "--api-port", "0", "--site-port", "0"]
    )
    assert options.emulator.port == 0
    assert options.api.port == 0
    assert options.site.port == 0


def test_invalid_port_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PFMON_LOCAL_API_PORT", "abc")
    assert main([]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "error: PFMON_LOCAL_API_PORT: invalid port 'abc': expected a number from 0 "
        "to 65535, where 0 picks a free port\n"
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("x"), EXIT_USAGE),
        (DataDirUnusableError(Path("/x"), "is not a directory"), EXIT_USAGE),
        (PortInUseError("HTTP API", 1, "--api-port", "X"), EXIT_IN_USE),
        (DataDirLockedError("x"), EXIT_IN_USE),
        (JournalError("x"), EXIT_UNUSABLE),
    ],
)
def test_exit_status_per_error(error: Exception, status: int) -> None:
    assert exit_status(error) == status
