"""The Lambda deployment package: deterministic bytes, hash format and contents."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from components.packaging import (
    OUTPUT_PATH,
    SOURCE_DIR,
    ZIP_TIMESTAMP,
    build_package,
    vendored_package_dir,
    zip_package,
)
from components.settings import PROJECT_ROOT


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """Return a copy of functions/pfmon_api with fresh timestamps, outside the repo."""
    copy = tmp_path / "src" / "pfmon_api"
    shutil.copytree(
        SOURCE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return copy


def read_entries(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def test_two_builds_identical_bytes(tmp_path: Path) -> None:
    first = build_package(SOURCE_DIR, tmp_path / "first.zip")
    second = build_package(SOURCE_DIR, tmp_path / "second.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.source_code_hash == second.source_code_hash


def test_copy_elsewhere_same_hash(source_copy: Path, tmp_path: Path) -> None:
    # GIVEN a copy with new modification times and another file mode
    # WHEN both are packaged
    # THEN the bytes do not depend on where or when the files were written
    (source_copy / "__init__.py").chmod(0o755)
    os.utime(source_copy / "tables.py", (1_900_000_000, 1_900_000_000))

    original = build_package(SOURCE_DIR, tmp_path / "original.zip")
    copied = build_package(source_copy, tmp_path / "copied.zip")

    assert copied.source_code_hash == original.source_code_hash


def test_edited_source_changes_hash(source_copy: Path, tmp_path: Path) -> None:
    before = build_package(source_copy, tmp_path / "package.zip")
    with (source_copy / "routes.py").open("a") as file:
        file.write("\n# edited\n")

    after = build_package(source_copy, tmp_path / "package.zip")

    assert after.source_code_hash != before.source_code_hash
    assert after.path.read_bytes() != zip_package(SOURCE_DIR)[0]


def test_hash_is_lambda_format(tmp_path: Path) -> None:
    package = build_package(SOURCE_DIR, tmp_path / "package.zip")

    digest = hashlib.sha256(package.path.read_bytes()).digest()
    assert package.source_code_hash == base64.b64encode(digest).decode()


def test_zip_root_is_package_dir(tmp_path: Path) -> None:
    package = build_package(SOURCE_DIR, tmp_path / "package.zip")

    names = [info.filename for info in read_entries(package.path)]
    assert "pfmon_api/__init__.py" in names
    assert "pfmon_api/routes.py" in names
    assert all(name.startswith(("pfmon_api/", "tzdata/")) for name in names)
    assert list(package.entries) == names


def test_zip_vendors_tzdata(tmp_path: Path) -> None:
    # GIVEN the default build, which vendors tzdata for zoneinfo on Lambda
    package = build_package(SOURCE_DIR, tmp_path / "package.zip")

    # THEN the zone files (which have no suffix) are in the zip, and the
    # source-only build has none of them
    assert "tzdata/__init__.py" in package.entries
    assert "tzdata/zoneinfo/America/New_York" in package.entries
    source_only = build_package(SOURCE_DIR, tmp_path / "source.zip", vendored=())
    assert not [name for name in source_only.entries if name.startswith("tzdata/")]


def test_missing_vendored_package_named() -> None:
    with pytest.raises(ModuleNotFoundError, match="'no_such_package' is not installed"):
        vendored_package_dir("no_such_package")


def test_zip_has_no_pycache(source_copy: Path, tmp_path: Path) -> None:
    cache = source_copy / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "routes.cpython-313.pyc").write_bytes(b"\x00compiled")
    (cache / "stray.py").write_text("x = 1\n")

    package = build_package(source_copy, tmp_path / "package.zip")

    names = [info.filename for info in read_entries(package.path)]
    assert not [name for name in names if "__pycache__" in name]
    assert not [name for name in names if name.endswith(".pyc")]


def test_zip_keeps_only_source_and_data(source_copy: Path, tmp_path: Path) -> None:
    (source_copy / "py.typed").write_text("")
    (source_copy / "limits.json").write_text('{"max": 1}\n')
    (source_copy / "notes.txt").write_text("not packaged\n")
    (source_copy / ".hidden.py").write_text("secret = 1\n")
    (source_copy / "linked.py").symlink_to(source_copy / "routes.py")

    package = build_package(source_copy, tmp_path / "package.zip")

    names = set(package.entries)
    assert "pfmon_api/py.typed" in names
    assert "pfmon_api/limits.json" in names
    assert "pfmon_api/notes.txt" not in names
    assert "pfmon_api/.hidden.py" not in names
    assert "pfmon_api/linked.py" not in names


def test_entries_sorted_by_name(tmp_path: Path) -> None:
    package = build_package(SOURCE_DIR, tmp_path / "package.zip")

    names = [info.filename for info in read_entries(package.path)]
    assert names == sorted(names)


def test_entries_fixed_metadata(tmp_path: Path) -> None:
    package = build_package(SOURCE_DIR, tmp_path / "package.zip")

    for info in read_entries(package.path):
        assert info.date_time == ZIP_TIMESTAMP, info.filename
        assert info.external_attr >> 16 == stat.S_IFREG | 0o644, info.filename
        assert info.compress_type == zipfile.ZIP_STORED, info.filename
        assert info.create_system == 3, info.filename


def test_unchanged_build_keeps_file(tmp_path: Path) -> None:
    # GIVEN a package built earlier, whose file carries an old modification time
    output = tmp_path / "package.zip"
    build_package(SOURCE_DIR, output)
    os.utime(output, ns=(1_000_000_000, 1_000_000_000))

    # WHEN the same sources are packaged again
    build_package(SOURCE_DIR, output)

    # THEN the file was not rewritten
    assert output.stat().st_mtime_ns == 1_000_000_000


def test_changed_build_rewrites_file(source_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "package.zip"
    build_package(source_copy, output)
    (source_copy / "routes.py").write_text("ROUTES = ()\n")

    package = build_package(source_copy, output)

    vendored = (vendored_package_dir("tzdata"),)
    assert output.read_bytes() == zip_package(source_copy, vendored)[0]
    assert hashlib.sha256(output.read_bytes()).digest() == base64.b64decode(
        package.source_code_hash
    )


def test_rejects_non_package_dir(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("x = 1\n")

    with pytest.raises(FileNotFoundError, match=r"no __init__\.py"):
        build_package(tmp_path, tmp_path / "package.zip")


def test_default_output_in_build_dir() -> None:
    assert OUTPUT_PATH == PROJECT_ROOT / "build" / "functions.zip"
    assert SOURCE_DIR == PROJECT_ROOT / "functions" / "pfmon_api"
