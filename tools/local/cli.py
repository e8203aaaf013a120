"""`make local`: run PFMON's back end on this machine until Ctrl-C or SIGTERM.

    python -m tools.local                  # emulator 5100, API 5200, site 5300
    python -m tools.local --reset          # start with empty tables and user pool
    python -m tools.local --api-port 8080  # or PFMON_LOCAL_API_PORT=8080

Exit status: 0 after a clean stop. 2 for an invalid option, a port in use, or a data
directory that is in use or cannot be used. 1 when the stored state or the dev
stack's config cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from tools.local.endpoints import DEFAULT_DATA_DIR, Endpoints
from tools.local.persistence import (
    DataDirLockedError,
    DataDirUnusableError,
    JournalError,
)
from tools.local.reservation import Options, PortOption, Reservation
from tools.local.servers import PortInUseError

EXIT_USAGE = 2
EXIT_IN_USE = 2
EXIT_UNUSABLE = 1

# LocalStack's default is 4566, so these stay clear of it.
DEFAULT_EMULATOR_PORT = 5100
DEFAULT_API_PORT = 5200
DEFAULT_SITE_PORT = 5300

# Attributes every LogRecord has; anything else came in through `extra`.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime"}


class UsageError(Exception):
    """An option or environment variable has an invalid value."""


class ExtraFieldsFormatter(logging.Formatter):
    """Log formatter that appends a record's extra fields as key=value pairs."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and value is not None
        }
        if extras:
            text += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        return text


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:  # noqa: PLR2004
        raise argparse.ArgumentTypeError(
            f"invalid port {value!r}: expected a number from 0 to 65535, where 0 "
            "picks a free port"
        )
    return int(value)


def _env_port(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return _port(value)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _reject_shared_ports(ports: Sequence[PortOption]) -> None:
    """Raise UsageError if two servers are set to the same port other than 0."""
    for index, first in enumerate(ports):
        for second in ports[index + 1 :]:
            if first.port == second.port != 0:
                raise UsageError(
                    f"{first.option} ({first.env_var}) and {second.option} "
                    f"({second.env_var}) are both set to port {first.port}, but "
                    "each server needs its own port. Choose different ports, or 0 "
                    "for a free one."
                )


def parse_options(argv: Sequence[str] | None = None) -> tuple[Options, bool]:
    """Parse the command line into the options and the verbose flag.

    Each option's default comes from its environment variable, if set. Raise
    UsageError for an invalid environment variable or two servers on one port;
    argparse itself exits with status 2 for an invalid option.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tools.local",
        description="Run PFMON's back end on 127.0.0.1: AWS emulator, HTTP API, site.",
    )
    ports = (
        ("emulator", "PFMON_LOCAL_EMULATOR_PORT", DEFAULT_EMULATOR_PORT,
         "port of the AWS emulator (moto) that SDKs and the Cognito client call"),
        ("api", "PFMON_LOCAL_API_PORT", DEFAULT_API_PORT,
         "port of the local HTTP API"),
        ("site", "PFMON_LOCAL_SITE_PORT", DEFAULT_SITE_PORT,
         "port of the React build, when the dev stack's siteBuildDir exists"),
    )  # fmt: skip
    for role, env_var, default, text in ports:
        parser.add_argument(
            f"--{role}-port",
            type=_port,
            default=_env_port(env_var, default),
            help=f"{text}; default {default}, or {env_var}; 0 picks a free port",
        )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("PFMON_LOCAL_DATA_DIR") or DEFAULT_DATA_DIR),
        help="directory of the stored state; default .local in the repository, "
        "or PFMON_LOCAL_DATA_DIR",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the stored state first: empty tables, a new pool with only the "
        "demo user",
    )
    parser.add_argument(
        "--site-dir",
        type=Path,
        default=None,
        help="React build directory to serve; default the dev stack's siteBuildDir",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every emulator request"
    )
    args = parser.parse_args(argv)
    emulator = PortOption(
        "emulator", "AWS emulator", args.emulator_port, "--emulator-port", ports[0][1]
    )
    api = PortOption("api", "HTTP API", args.api_port, "--api-port", ports[1][1])
    site = PortOption("site", "site", args.site_port, "--site-port", ports[2][1])
    _reject_shared_ports((emulator, api, site))
    return Options(
        emulator=emulator,
        api=api,
        site=site,
        data_dir=args.data_dir.resolve(),
        reset=args.reset,
        site_dir=args.site_dir.resolve() if args.site_dir else None,
    ), args.verbose


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        ExtraFieldsFormatter("%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("pfmon.local.http").setLevel(
        logging.DEBUG if verbose else logging.INFO
    )
    # moto and werkzeug log each request; the API log above already shows them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def banner(endpoints: Endpoints, reset: bool) -> str:
    site = (
        f"{endpoints.site_url}  (serving {endpoints.site_dir})"
        if endpoints.site_url
        else f"not served: {endpoints.site_dir} does not exist"
    )
    if reset:
        state = "started empty (--reset)"
    else:
        state = f"{endpoints.replayed_writes} stored writes replayed"
    rows = (
        ("HTTP API", endpoints.api_url),
        ("AWS emulator", f"{endpoints.emulator_url}  (endpoint for SDKs and Cognito)"),
        ("Site", site),
        ("Region", endpoints.region),
        ("User pool id", endpoints.user_pool_id),
        ("App client id", endpoints.client_id),
        ("Demo login", f"{endpoints.demo_email} / {endpoints.demo_password}"),
        ("Data", f"{endpoints.data_dir}  ({state})"),
    )
    lines = [f"PFMON local environment ready in {endpoints.startup_seconds:.1f} s"]
    lines += [f"  {name:<14}{value}" for name, value in rows]
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def exit_status(error: Exception) -> int:
    """Return the exit status of a start that failed with this error."""
    if isinstance(error, UsageError | DataDirUnusableError):
        return EXIT_USAGE
    if isinstance(error, PortInUseError | DataDirLockedError):
        return EXIT_IN_USE
    return EXIT_UNUSABLE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options, verbose = parse_options(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_status(exc)
    configure_logging(verbose)
    logger = logging.getLogger("pfmon.local")

    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    reservation = Reservation(options)
    try:
        reservation.acquire()
    except (PortInUseError, JournalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_status(exc)

    # Loaded only now, so that a port in use is reported before this second of imports.
    from components.settings import ConfigError  # noqa: PLC0415
    from tools.local.environment import LocalEnvironment  # noqa: PLC0415
    from tools.local.resources import StateDriftError  # noqa: PLC0415

    environment = LocalEnvironment(reservation)
    try:
        endpoints = environment.start()
    except (PortInUseError, StateDriftError, JournalError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_status(exc)

    print(banner(endpoints, options.reset), flush=True)
    stop_requested.wait()
    environment.stop()
    logger.info("stopped")
    return 0
