"""Checkpoint file of a copy run: where each table's scan segments stand.

For every table and scan segment the file stores the LastEvaluatedKey of the last page
whose items were all written, or that the segment is done. A resumed run starts each
segment's Scan at that key, so no item is skipped. Items of a page that was only
partly written before the interruption are written again. A put with the same key
replaces the item with identical content, so the target ends with no duplicates.

The file is replaced atomically (temporary file, fsync, rename, fsync of the
directory), so a crash leaves either the previous or the next state, never a torn one.
The keys it stores are user data, so the file is readable by its owner only (mode
0600, from tempfile.mkstemp) and the directory created for it has mode 0700.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.migrate.digest import Item
from tools.migrate.errors import CheckpointError

CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class RunIdentity:
    """The settings a resumed run must share with the run that wrote the checkpoint."""

    project: str
    source_env: str
    target_env: str
    region: str
    endpoint_url: str | None
    tables: tuple[str, ...]
    total_segments: int
    merge: bool
    reencrypt_key_arn: str | None

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["tables"] = list(self.tables)
        return values

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> RunIdentity:
        names = {item.name for item in fields(cls)}
        if set(values) != names:
            raise ValueError(f"run fields {sorted(values)} differ from {sorted(names)}")
        return cls(**{**values, "tables": tuple(values["tables"])})


# The command-line option that sets each RunIdentity field, for error messages.
_OPTIONS = {
    "project": "--project",
    "source_env": "--source-env",
    "target_env": "--target-env",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "tables": "--tables",
    "total_segments": "--segments",
    "merge": "--merge",
    "reencrypt_key_arn": "--target-key-arn",
}


@dataclass
class SegmentProgress:
    """Resume position of one scan segment."""

    last_evaluated_key: Item | None = None
    done: bool = False
    items_written: int = 0


@dataclass
class Checkpoint:
    """The checkpoint of one copy run, saved to `path` after every written page."""

    path: Path
    run: RunIdentity
    tables: dict[str, list[SegmentProgress]]
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    @classmethod
    def create(cls, path: Path, run: RunIdentity) -> Checkpoint:
        """Start a checkpoint with every segment at the beginning, and save it."""
        tables = {
            table: [SegmentProgress() for _ in range(run.total_segments)]
            for table in run.tables
        }
        checkpoint = cls(path=path, run=run, tables=tables)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(path, exc) from exc
        checkpoint.save()
        return checkpoint

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """Read a checkpoint file, or raise CheckpointError saying what is wrong."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CheckpointError(
                f"checkpoint {path} not found: pass the --checkpoint of the "
                "interrupted run, or leave out --resume to start a new copy"
            ) from exc
        except (OSError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {path} is unreadable ({exc}): restore it from the "
                "interrupted run, or remove it and copy again with --merge"
            ) from exc
        try:
            return cls._from_document(path, document)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {path} is not a format {CHECKPOINT_FORMAT} checkpoint "
                f"({exc}): remove it and copy again with --merge"
            ) from exc

    @classmethod
    def _from_document(cls, path: Path, document: Mapping[str, Any]) -> Checkpoint:
        if document["format"] != CHECKPOINT_FORMAT:
            raise ValueError(f"format {document['format']!r}")
        run = RunIdentity.from_json(document["run"])
        tables = {
            table: [
                SegmentProgress(
                    last_evaluated_key=_decode_key(segment["lastEvaluatedKey"]),
                    done=bool(segment["done"]),
                    items_written=int(segment["itemsWritten"]),
                )
                for segment in segments
            ]
            for table, segments in document["tables"].items()
        }
        if sorted(tables) != sorted(run.tables):
            raise ValueError(f"tables {sorted(tables)} differ from the run")
        for table, segments in tables.items():
            if len(segments) != run.total_segments:
                raise ValueError(f"{table} has {len(segments)} segments")
        return cls(path=path, run=run, tables=tables)

    def check_matches(self, run: RunIdentity) -> None:
        """Raise CheckpointError unless `run` has the settings of the saved run."""
        differences = [
            f"{_OPTIONS[item.name]} {_show(getattr(self.run, item.name))} "
            f"(this run: {_show(getattr(run, item.name))})"
            for item in fields(RunIdentity)
            if getattr(self.run, item.name) != getattr(run, item.name)
        ]
        if differences:
            raise CheckpointError(
                f"checkpoint {self.path} was written by a run with "
                f"{'; '.join(differences)}: resume with the same options"
            )

    def segment(self, table: str, index: int) -> SegmentProgress:
        with self._lock:
            progress = self.tables[table][index]
            return SegmentProgress(
                progress.last_evaluated_key, progress.done, progress.items_written
            )

    def record_page(
        self, table: str, index: int, last_evaluated_key: Item | None, written: int
    ) -> None:
        """Record a fully written page. The last page has no LastEvaluatedKey."""
        with self._lock:
            progress = self.tables[table][index]
            progress.last_evaluated_key = last_evaluated_key
            progress.done = last_evaluated_key is None
            progress.items_written += written
            self._save_locked()

    @property
    def complete(self) -> bool:
        with self._lock:
            return all(
                segment.done
                for segments in self.tables.values()
                for segment in segments
            )

    def items_written(self, table: str) -> int:
        with self._lock:
            return sum(segment.items_written for segment in self.tables[table])

    def save(self) -> None:
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        document = {
            "format": CHECKPOINT_FORMAT,
            "updatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "run": self.run.to_json(),
            "tables": {
                table: [
                    {
                        "lastEvaluatedKey": _encode_key(segment.last_evaluated_key),
                        "done": segment.done,
                        "itemsWritten": segment.items_written,
                    }
                    for segment in segments
                ]
                for table, segments in self.tables.items()
            },
        }
        try:
            write_atomically(self.path, json.dumps(document, indent=2) + "\n")
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc


def _unwritable(path: Path, exc: OSError) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path} cannot be written ({exc.strerror or exc}): make its "
        "directory writable or pass another --checkpoint"
    )


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that readers see the old or the new file only."""
    directory = path.resolve().parent
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    # The rename is durable only once the directory entry is on disk.
    directory_descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_descriptor)
    finally:
        os.close(directory_descriptor)


def _encode_key(key: Item | None) -> dict[str, Any] | None:
    # Key attributes are S, N or B. JSON has no bytes, so B is stored as base64.
    if key is None:
        return None
    encoded: dict[str, Any] = {}
    for name, value in key.items():
        ((kind, content),) = value.items()
        if kind == "B":
            content = base64.b64encode(bytes(content)).decode()
        encoded[name] = {kind: content}
    return encoded


def _decode_key(key: Mapping[str, Any] | None) -> Item | None:
    if key is None:
        return None
    decoded: Item = {}
    for name, value in key.items():
        ((kind, content),) = value.items()
        if kind == "B":
            content = base64.b64decode(content)
        decoded[name] = {kind: content}
    return decoded


def _show(value: object) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ",".join(str(element) for element in value)
    if value is None:
        return "unset"
    return str(value)
