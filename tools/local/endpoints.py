"""Where a running local environment listens: the endpoints.json it writes when ready.

Standard library only, so the demo and the benchmark read it without loading moto.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".local"
ENDPOINTS_FILE = "endpoints.json"
_CONNECT_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Endpoints:
    """Where the running environment listens, and what a client needs to sign in."""

    api_url: str
    emulator_url: str
    site_url: str | None
    site_dir: str
    region: str
    user_pool_id: str
    client_id: str
    issuer: str
    demo_email: str
    demo_password: str
    data_dir: str
    replayed_writes: int
    startup_seconds: float
    table_names: list[str] = field(default_factory=list)


def write_endpoints(data_dir: Path, endpoints: Endpoints) -> None:
    """Write endpoints.json through a rename, so a reader never sees half of it."""
    path = data_dir / ENDPOINTS_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(endpoints), indent=2) + "\n")
    os.replace(partial, path)


def read_endpoints(data_dir: Path) -> Endpoints | None:
    """Return the endpoints that a running environment wrote into data_dir, if any."""
    try:
        document = json.loads((data_dir / ENDPOINTS_FILE).read_text())
    except FileNotFoundError:
        return None
    return Endpoints(**document)


def is_listening(url: str) -> bool:
    """Tell whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 80),
            timeout=_CONNECT_TIMEOUT_SECONDS,
        ):
            return True
    except OSError:
        return False
