"""Durable state of the local emulator: an append-only journal of acknowledged writes.

moto keeps everything in memory. The emulator appends every request that changed state
and that moto completed with a 2xx status to `journal.jsonl`, and calls fsync before the
client sees the response. So a write that a client saw succeed survives Ctrl-C, a
crash or SIGKILL. On the next start the entries are replayed into a fresh moto, in the
order they were acknowledged.

Replay must recreate the same ids (user `sub`, pool and key ids, refresh tokens) and
the same KMS key material. moto draws all of them from one seedable random generator
(the key material once `emulator.make_kms_keys_replayable` ran), so each entry stores
the seed that was set just before moto handled the request.

moto's own recorder is not used, because it records every request, reads and failed
writes included, before the response is known, and it neither fsyncs nor keeps seeds.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qs

logger = logging.getLogger("pfmon.local.persistence")

JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "lock"
# The command-line option and the environment variable that set the data directory.
DATA_DIR_OPTIONS = "--data-dir or PFMON_LOCAL_DATA_DIR"

# Actions that never change state, by name prefix or full name. Anything else that
# succeeds is journaled, so an action missing here only costs journal space.
READ_ACTION_PREFIXES = (
    "AdminGet",
    "AdminList",
    "BatchGet",
    "Describe",
    "Get",
    "List",
    "Query",
    "Scan",
    "TransactGet",
)
# KMS cryptographic operations that keep no state.
STATELESS_ACTIONS = frozenset(
    {
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GenerateRandom",
        "ReEncrypt",
        "Sign",
        "Verify",
        "VerifyMac",
    }
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Headers that describe one connection, not the request, and are not replayed.
_CONNECTION_HEADERS = frozenset(
    {"connection", "content-length", "keep-alive", "transfer-encoding"}
)


class JournalError(Exception):
    """The journal cannot be read or written. The message names the file and line."""


class DataDirLockedError(JournalError):
    """Another local environment uses the same data directory."""


class DataDirUnusableError(JournalError):
    """The data directory is not a directory, cannot be created or is not writable."""

    def __init__(self, data_dir: Path, problem: str) -> None:
        super().__init__(
            f"data directory {data_dir} {problem}. Choose another directory with "
            f"{DATA_DIR_OPTIONS}."
        )


@dataclass(frozen=True)
class JournalEntry:
    """One acknowledged request: enough to send it to moto again."""

    seed: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def to_line(self) -> bytes:
        document = {
            "seed": self.seed,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
        }
        return json.dumps(document, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> JournalEntry:
        document = json.loads(line)
        return cls(
            seed=int(document["seed"]),
            method=str(document["method"]),
            path=str(document["path"]),
            query=str(document["query"]),
            headers={str(k): str(v) for k, v in document["headers"].items()},
            body=base64.b64decode(document["body"]),
        )


def replayable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the request headers to store, without per-connection ones."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _CONNECTION_HEADERS
    }


def action_name(headers: Mapping[str, str], body: bytes) -> str | None:
    """Return the AWS action of a request: from X-Amz-Target or a query-protocol body.

    `DynamoDB_20120810.PutItem` gives `PutItem`. REST requests, such as S3 ones, have
    no action name and return None.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    target = lowered.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if "application/x-www-form-urlencoded" in lowered.get("content-type", ""):
        actions = parse_qs(body.decode("utf-8", errors="replace")).get("Action")
        if actions:
            return actions[0]
    return None


def changes_state(method: str, action: str | None) -> bool:
    """Tell whether a successful request may have changed the emulator's state."""
    if method.upper() in READ_METHODS:
        return False
    if action is None:
        return True
    if action in STATELESS_ACTIONS:
        return False
    return not action.startswith(READ_ACTION_PREFIXES)


class Journal:
    """The journal file of one data directory, locked against a second writer.

    `append` returns only after the entry is on disk (fsync). A torn last line, left
    by a crash in the middle of an append that was never acknowledged, is dropped
    when the journal is opened.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / JOURNAL_FILE
        self._lock_file: IO[str] | None = None
        self._file: IO[bytes] | None = None

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def open(self, reset: bool = False) -> None:
        """Lock the data directory, then empty the journal (reset) or drop a torn
        last line. Raise DataDirUnusableError if the directory cannot hold the lock
        file, DataDirLockedError if another process holds the lock, and JournalError
        if the journal file cannot be opened."""
        lock_file = self._open_lock_file()
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock_file.seek(0)
            owner = lock_file.read().strip() or "unknown"
            lock_file.close()
            raise DataDirLockedError(
                f"data directory {self.data_dir} is in use by another local "
                f"environment (pid {owner}). Stop it, or choose another directory "
                f"with {DATA_DIR_OPTIONS}."
            ) from exc
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._lock_file = lock_file

        try:
            if reset and self.path.exists():
                self.path.unlink()
                _fsync_directory(self.data_dir)
            self._drop_torn_tail()
            created = not self.path.exists()
            self._file = self.path.open("ab")
            if created:
                _fsync_directory(self.data_dir)
        except OSError as exc:
            self.close()
            raise JournalError(
                f"failed to open journal {self.path}: {exc.strerror or exc}"
            ) from exc

    def _open_lock_file(self) -> IO[str]:
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise DataDirUnusableError(self.data_dir, "is not a directory")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"cannot be created ({exc.strerror or exc})"
            raise DataDirUnusableError(self.data_dir, problem) from exc
        try:
            return (self.data_dir / LOCK_FILE).open("a+")
        except OSError as exc:
            problem = f"is not writable ({exc.strerror or exc})"
            raise DataDirUnusableError(self.data_dir, problem) from exc

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def append(self, entry: JournalEntry) -> None:
        """Write one entry and fsync it. Raise JournalError if the write fails."""
        if self._file is None:
            raise JournalError(f"journal {self.path} is not open")
        try:
            self._file.write(entry.to_line())
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise JournalError(f"failed to write journal {self.path}: {exc}") from exc

    def entries(self) -> Iterator[JournalEntry]:
        """Read every entry in order. Raise JournalError at a corrupt line."""
        if not self.path.exists():
            return
        with self.path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                try:
                    yield JournalEntry.from_line(line)
                except (ValueError, KeyError, TypeError) as exc:
                    raise JournalError(
                        f"journal {self.path} line {number} is corrupt ({exc}). "
                        "Start with --reset to discard the stored state."
                    ) from exc

    def _drop_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        logger.warning(
            "dropping torn journal line",
            extra={"path": str(self.path), "bytes": len(data) - keep},
        )
        with self.path.open("r+b") as file:
            file.truncate(keep)
            file.flush()
            os.fsync(file.fileno())


def _fsync_directory(directory: Path) -> None:
    # A new or removed file survives a power loss only once its directory is synced.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def entry_summary(entry: JournalEntry) -> dict[str, Any]:
    """Return the loggable fields of an entry, without its body, which contains
    passwords."""
    return {
        "method": entry.method,
        "path": entry.path,
        "action": action_name(entry.headers, entry.body),
    }
