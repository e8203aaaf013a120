"""Measure how long `make local` takes until it responds to its first request.

    python -m tools.local.bench_startup            # 5 runs of each case, through make
    python -m tools.local.bench_startup --runs 3 --direct

Each run starts the local environment on free ports and times, from the launch:

- first response: the first HTTP response of the API (GET /profile without a token,
  which the JWT check rejects with 401);
- first profile: a sign-in of the demo user at the emulator and a GET /profile
  that returns 200, which includes the profile function's cold start.

Two cases: an empty data directory (tables, pool and demo user are created, the
post-confirmation function runs once) and a restart on that data (the journal is
replayed). Every run is stopped with SIGINT to its process group, as Ctrl-C does.
The output is a Markdown table and a line describing the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from tools.local.endpoints import Endpoints, read_endpoints

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_POLL_SECONDS = 0.01
_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Sample:
    first_response: float
    first_profile: float


def free_port() -> int:
    # NOTE: another program could take the port between this check and the start.
    # The run then fails with exit status 2, and the benchmark stops.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command(data_dir: Path, via_make: bool, api_port: int) -> list[str]:
    arguments = [
        "--api-port",
        str(api_port),
        "--emulator-port",
        str(free_port()),
        "--site-port",
        str(free_port()),
        "--data-dir",
        str(data_dir),
    ]
    if via_make:
        # -o keeps make from reinstalling the virtual environment first.
        return [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "local",
            f"ARGS={' '.join(arguments)}",
        ]
    return [sys.executable, "-m", "tools.local", *arguments]


def _answered(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - http://127.0.0.1
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _wait_for_endpoints(data_dir: Path, deadline: float) -> Endpoints:
    while time.perf_counter() < deadline:
        endpoints = read_endpoints(data_dir)
        if endpoints is not None:
            return endpoints
        time.sleep(_POLL_SECONDS)
    raise TimeoutError(f"no endpoints.json in {data_dir}")


def _sign_in_and_read_profile(endpoints: Endpoints) -> None:
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=endpoints.emulator_url,
        region_name=endpoints.region,
        config=Config(signature_version=UNSIGNED),
    )
    result = cognito.initiate_auth(
        ClientId=endpoints.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": endpoints.demo_email,
            "PASSWORD": endpoints.demo_password,
        },
    )
    token = result["AuthenticationResult"]["IdToken"]
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        f"{endpoints.api_url}/profile", headers={"Authorization": token}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        json.load(response)


def run_once(data_dir: Path, via_make: bool, log: Path) -> Sample:
    """Start, time the first response and the first profile, then stop with SIGINT."""
    api_port = free_port()
    argv = command(data_dir, via_make, api_port)
    url = f"http://127.0.0.1:{api_port}/profile"
    with log.open("ab") as output:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - fixed command
            argv,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = started + _TIMEOUT_SECONDS
        while not _answered(url):
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"the environment did not start, see {log}")
            time.sleep(_POLL_SECONDS)
        first_response = time.perf_counter() - started
        _sign_in_and_read_profile(_wait_for_endpoints(data_dir, deadline))
        first_profile = time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=_TIMEOUT_SECONDS)
    return Sample(first_response, first_profile)


def describe_machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {model}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {load} at the end"
    )


def summary(label: str, values: list[float]) -> str:
    cells = " | ".join(f"{value:.2f}" for value in values)
    return (
        f"| {label} | {cells} | {statistics.median(values):.2f} | "
        f"{min(values):.2f} | {max(values):.2f} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local.bench_startup")
    parser.add_argument("--runs", type=int, default=5, help="runs per case")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="start python -m tools.local instead of make local",
    )
    args = parser.parse_args(argv)

    results: dict[str, list[Sample]] = {"empty data": [], "restart": []}
    with tempfile.TemporaryDirectory(prefix="pfmon-bench-") as scratch:
        log = Path(scratch) / "runs.log"
        for run in range(args.runs):
            data_dir = Path(scratch) / f"data-{run}"
            results["empty data"].append(run_once(data_dir, not args.direct, log))
            results["restart"].append(run_once(data_dir, not args.direct, log))

    launcher = "python -m tools.local" if args.direct else "make local"
    header = " | ".join(f"run {number + 1}" for number in range(args.runs))
    print(f"Seconds from launching `{launcher}`:\n")
    print(f"| case, measure | {header} | median | min | max |")
    print("|---" * (args.runs + 4) + "|")
    for case, samples in results.items():
        print(summary(f"{case}, first response", [s.first_response for s in samples]))
        print(summary(f"{case}, first profile", [s.first_profile for s in samples]))
    print(f"\nMachine: {describe_machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
