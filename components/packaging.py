"""Deterministic deployment package of the Lambda functions.

The zip contains the `pfmon_api` package directory at its root, so a handler path reads
`pfmon_api.handlers.<family>.handler`. The Lambda runtime provides boto3, and the
Powertools layer provides aws-lambda-powertools and pydantic. The one vendored package
is `tzdata`, copied whole from the installed distribution pinned in requirements.txt:
the python3.13 runtime runs on Amazon Linux 2023, whose minimal image may ship no
/usr/share/zoneinfo, and `zoneinfo` then falls back to the `tzdata` package.

The same sources give the same bytes on any machine. Entries are sorted, and every
entry has the same timestamp, the same permissions and no compression. Deflate is
avoided because its output can differ between zlib builds (zlib and zlib-ng, say).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from components.settings import PROJECT_ROOT

SOURCE_DIR = PROJECT_ROOT / "functions" / "pfmon_api"
OUTPUT_PATH = PROJECT_ROOT / "build" / "functions.zip"

# The earliest time a zip entry can carry (MS-DOS date format).
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# Regular file, rw-r--r--, stored in the high 16 bits of the external attributes.
ENTRY_EXTERNAL_ATTR = (stat.S_IFREG | 0o644) << 16
# "Made by" Unix, so readers apply the permissions above on every platform.
ENTRY_CREATE_SYSTEM = 3
PACKAGED_SUFFIXES = frozenset({".py", ".json"})
PACKAGED_NAMES = frozenset({"py.typed"})
SKIPPED_DIRS = frozenset({"__pycache__"})
VENDORED_PACKAGES = ("tzdata",)


@dataclass(frozen=True)
class FunctionPackage:
    """A built deployment package and the hash Lambda compares on update."""

    path: Path
    # Base64 of the zip's SHA-256, as in Lambda's CodeSha256 and source_code_hash.
    source_code_hash: str
    entries: tuple[str, ...]


def package_entries(
    source_dir: Path, every_file: bool = False
) -> list[tuple[str, Path]]:
    """List the (zip entry name, file) pairs of a package directory, sorted by name.

    Entry names start with the directory's own name. Hidden files, `__pycache__` and
    symbolic links are skipped, and so is every file that is not Python source,
    `py.typed` or JSON data unless `every_file` is set (vendored data packages).
    """
    root = source_dir.parent
    entries: list[tuple[str, Path]] = []
    for directory, subdirectories, files in os.walk(source_dir):
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in SKIPPED_DIRS and not name.startswith(".")
        ]
        for name in files:
            path = Path(directory) / name
            if name.startswith(".") or path.is_symlink():
                continue
            if every_file or path.suffix in PACKAGED_SUFFIXES or name in PACKAGED_NAMES:
                entries.append((path.relative_to(root).as_posix(), path))
    return sorted(entries)


def vendored_package_dir(name: str) -> Path:
    """Return the directory of an installed package to vendor into the zip."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"package {name!r} is not installed, so it cannot be vendored into the "
            "Lambda package: run make venv (it is pinned in requirements.txt)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def zip_package(
    source_dir: Path, vendored_dirs: tuple[Path, ...] = ()
) -> tuple[bytes, tuple[str, ...]]:
    """Return the zip bytes of a package directory (and vendored packages) and the
    entry names, in order."""
    _check_source_dir(source_dir)
    entries = package_entries(source_dir)
    for vendored_dir in vendored_dirs:
        entries.extend(package_entries(vendored_dir, every_file=True))
    entries.sort()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for entry_name, path in entries:
            info = zipfile.ZipInfo(entry_name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = ENTRY_EXTERNAL_ATTR
            info.create_system = ENTRY_CREATE_SYSTEM
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue(), tuple(name for name, _ in entries)


def source_code_hash(data: bytes) -> str:
    """Return the base64 SHA-256 of a deployment package, as Lambda reports it."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build_package(
    source_dir: Path = SOURCE_DIR,
    output_path: Path = OUTPUT_PATH,
    vendored: tuple[str, ...] = VENDORED_PACKAGES,
) -> FunctionPackage:
    """Zip a package directory and the vendored packages to `output_path`, and return
    the path and its hash.

    The file is rewritten only when its bytes differ, so an unchanged source tree
    leaves the file and its modification time alone.
    """
    vendored_dirs = tuple(vendored_package_dir(name) for name in vendored)
    data, entries = zip_package(source_dir, vendored_dirs)
    if not (output_path.is_file() and output_path.read_bytes() == data):
        _write_atomically(output_path, data)
    return FunctionPackage(
        path=output_path, source_code_hash=source_code_hash(data), entries=entries
    )


def _check_source_dir(source_dir: Path) -> None:
    if not (source_dir / "__init__.py").is_file():
        raise FileNotFoundError(
            f"{source_dir} is not a Python package directory (no __init__.py): "
            "pass the directory of the package to deploy, such as functions/pfmon_api"
        )


def _write_atomically(path: Path, data: bytes) -> None:
    # A concurrent reader, such as another test run, reads the old or the new zip whole.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
