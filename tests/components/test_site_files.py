"""Pure rules of the site upload: content types, cache headers, build walk, routing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from components import site_files
from components.site_files import (
    IMMUTABLE,
    NO_CACHE,
    SHORT_CACHE,
    SPA_ROUTING_FUNCTION_JS,
    cache_control_for,
    content_type_for,
    has_content_hash,
    is_hashed_asset,
    object_name,
    rewrite_uri,
    walk_build_dir,
)

# --- content types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/index-BX3k_9aZ.js", "text/javascript; charset=utf-8"),
        ("assets/worker-Ab12Cd34.mjs", "text/javascript; charset=utf-8"),
        ("static/css/main.1a2b3c4d.css", "text/css; charset=utf-8"),
        ("asset-manifest.json", "application/json"),
        ("static/js/main.3f9a1c2b.js.map", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("logo192.png", "image/png"),
        ("hero.jpg", "image/jpeg"),
        ("hero.jpeg", "image/jpeg"),
        ("hero.webp", "image/webp"),
        ("favicon.ico", "image/x-icon"),
        ("fonts/inter.woff", "font/woff"),
        ("fonts/inter.woff2", "font/woff2"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("manifest.webmanifest", "application/manifest+json"),
    ],
)
def test_content_type_web_types(key: str, expected: str) -> None:
    assert content_type_for(key) == expected


def test_content_type_suffix_case_insensitive() -> None:
    assert content_type_for("LOGO.PNG") == "image/png"


def test_content_type_falls_back_to_mimetypes() -> None:
    assert content_type_for("docs/guide.pdf") == "application/pdf"
    assert content_type_for("assets/engine-Ab12Cd34.wasm") == "application/wasm"


def test_content_type_unknown_is_octet_stream() -> None:
    assert content_type_for("data.unknownsuffix") == "application/octet-stream"
    assert content_type_for("LICENSE") == "application/octet-stream"


def test_content_type_compressed_is_octet_stream() -> None:
    # mimetypes reads x.tar.gz as a gzip-encoded tar; the bytes are gzip, not tar.
    assert content_type_for("downloads/export.tar.gz") == "application/octet-stream"


# --- content hashes --------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name",
    [
        "main.3f9a1c2b.js",
        "787.8d2e9f1a.chunk.js",
        "main.1a2b3c4d.css",
        "main.3f9a1c2b.js.map",
        "main.3f9a1c2b.js.LICENSE.txt",
        "logo.6ce24c58023cc2f8fd88.svg",
        "index-BX3k_9aZ.js",
        "index-B-3k_9aZ.js",
        "index-BX3k_9aZ.js.map",
        "vendor-react-CbKqWzXy.js",
        "inter-Ab12Cd34.woff2",
    ],
)
def test_hash_detected(file_name: str) -> None:
    assert has_content_hash(file_name)


@pytest.mark.parametrize(
    "file_name",
    [
        "index.js",
        "main.js",
        "logo.svg",
        "favicon-32x32.png",
        "robots-template.txt",
        "chunk-abcdefgh.js",
        "main.deadbeef.js",
        "index-BX3k.js",
        "service-worker.js",
    ],
)
def test_hash_not_detected(file_name: str) -> None:
    assert not has_content_hash(file_name)


def test_hashed_asset_needs_asset_folder() -> None:
    assert is_hashed_asset("assets/index-BX3k_9aZ.js")
    assert is_hashed_asset("static/js/main.3f9a1c2b.js")
    assert not is_hashed_asset("main.3f9a1c2b.js")
    assert not is_hashed_asset("img/logo.6ce24c58023cc2f8fd88.svg")


# --- cache rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", NO_CACHE),
        ("about/index.html", NO_CACHE),
        ("legal/terms.html", NO_CACHE),
        ("legacy.HTM", NO_CACHE),
        ("config.json", NO_CACHE),
        ("assets/index-BX3k_9aZ.js", IMMUTABLE),
        ("assets/index-C1d2E3f4.css", IMMUTABLE),
        ("assets/index-BX3k_9aZ.js.map", IMMUTABLE),
        ("static/js/main.3f9a1c2b.js", IMMUTABLE),
        ("static/js/787.8d2e9f1a.chunk.js", IMMUTABLE),
        ("static/media/logo.6ce24c58023cc2f8fd88.svg", IMMUTABLE),
        ("assets/logo.svg", SHORT_CACHE),
        ("main.3f9a1c2b.js", SHORT_CACHE),
        ("assets/config.json", SHORT_CACHE),
        ("favicon.ico", SHORT_CACHE),
        ("robots.txt", SHORT_CACHE),
        ("manifest.webmanifest", SHORT_CACHE),
        ("service-worker.js", SHORT_CACHE),
    ],
)
def test_cache_control_per_kind(key: str, expected: str) -> None:
    assert cache_control_for(key) == expected


def test_cache_control_hashed_html_not_immutable() -> None:
    # GIVEN a page whose name and folder also match the hashed-asset rule
    key = "assets/preview-Ab12Cd34.html"
    assert is_hashed_asset(key)

    # THEN the HTML rule wins, because an immutable page pins users to an old build
    assert cache_control_for(key) == NO_CACHE


def test_cache_control_values() -> None:
    assert NO_CACHE == "no-cache"
    assert IMMUTABLE == "public, max-age=31536000, immutable"
    assert SHORT_CACHE == "public, max-age=3600"


# --- walking a build directory ---------------------------------------------------


def _write(root: Path, key: str, text: str = "x") -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    root = tmp_path / "build"
    for key in (
        "robots.txt",
        "index.html",
        "assets/index-BX3k_9aZ.js",
        "assets/index-C1d2E3f4.css",
        "static/media/deep/logo.6ce24c58023cc2f8fd88.svg",
        "about/index.html",
    ):
        _write(root, key)
    return root


def test_walk_keys_sorted_and_nested(build_dir: Path) -> None:
    scan = walk_build_dir(build_dir)

    assert [site_file.key for site_file in scan.files] == [
        "about/index.html",
        "assets/index-BX3k_9aZ.js",
        "assets/index-C1d2E3f4.css",
        "index.html",
        "robots.txt",
        "static/media/deep/logo.6ce24c58023cc2f8fd88.svg",
    ]
    assert scan.skipped == []


def test_walk_sets_headers_and_path(build_dir: Path) -> None:
    scan = walk_build_dir(build_dir)
    by_key = {site_file.key: site_file for site_file in scan.files}

    script = by_key["assets/index-BX3k_9aZ.js"]
    assert script.path == build_dir.resolve() / "assets" / "index-BX3k_9aZ.js"
    assert script.content_type == "text/javascript; charset=utf-8"
    assert script.cache_control == IMMUTABLE
    assert not script.is_html
    assert by_key["index.html"].cache_control == NO_CACHE
    assert by_key["index.html"].is_html


def test_walk_skips_symlink_outside(build_dir: Path, tmp_path: Path) -> None:
    # GIVEN a symlink in the build that points at a secret outside it
    secret = _write(tmp_path, "secrets/.env", "TOKEN=1")
    (build_dir / "assets" / "leak.txt").symlink_to(secret)
    (build_dir / "outside").symlink_to(secret.parent, target_is_directory=True)

    scan = walk_build_dir(build_dir)

    keys = [site_file.key for site_file in scan.files]
    assert "assets/leak.txt" not in keys
    assert not any(key.startswith("outside") for key in keys)
    assert scan.skipped == ["assets/leak.txt", "outside"]


def test_walk_keeps_symlink_inside(build_dir: Path) -> None:
    (build_dir / "home.html").symlink_to(build_dir / "index.html")

    scan = walk_build_dir(build_dir)

    home = next(site_file for site_file in scan.files if site_file.key == "home.html")
    assert home.path == build_dir.resolve() / "home.html"
    assert scan.skipped == []


def test_walk_skips_folder_and_broken_links(build_dir: Path) -> None:
    # A link to a parent folder would loop, and a dangling link has no content.
    (build_dir / "assets" / "loop").symlink_to(build_dir, target_is_directory=True)
    (build_dir / "gone.js").symlink_to(build_dir / "missing.js")

    scan = walk_build_dir(build_dir)

    assert scan.skipped == ["assets/loop", "gone.js"]
    assert len(scan.files) == 6


def test_walk_rejects_file(tmp_path: Path) -> None:
    not_a_dir = _write(tmp_path, "build.zip")

    with pytest.raises(NotADirectoryError, match=r"build\.zip is a file"):
        walk_build_dir(not_a_dir)


def test_walk_rejects_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        walk_build_dir(tmp_path / "missing")


# --- logical names ---------------------------------------------------------------


def test_object_name_stable_and_readable() -> None:
    name = object_name("site-file", "assets/index-BX3k_9aZ.js")

    assert name == object_name("site-file", "assets/index-BX3k_9aZ.js")
    assert name.startswith("site-file-assets-index-BX3k-9aZ.js-")
    assert len(name.rsplit("-", 1)[1]) == 8


def test_object_name_unique_after_sanitising() -> None:
    assert object_name("p", "a b.js") != object_name("p", "a_b.js")
    assert object_name("p", "a/b.js") != object_name("p", "a-b.js")


def test_object_name_caps_long_keys() -> None:
    name = object_name("site-file", "deep/" * 40 + "file.js")

    assert len(name) <= len("site-file-") + 60 + 1 + 8


# --- SPA deep-link routing -------------------------------------------------------

REWRITE_CASES = [
    ("/", "/index.html"),
    ("/trades", "/index.html"),
    ("/trades/", "/index.html"),
    ("/trades/42", "/index.html"),
    ("/accounts/ibkr/settings", "/index.html"),
    ("/index.html", "/index.html"),
    ("/assets/index-BX3k_9aZ.js", "/assets/index-BX3k_9aZ.js"),
    ("/assets/missing-Ab12Cd34.js", "/assets/missing-Ab12Cd34.js"),
    ("/config.json", "/config.json"),
    ("/favicon.ico", "/favicon.ico"),
    ("/v1.2/trades", "/index.html"),
]


@pytest.mark.parametrize(("uri", "expected"), REWRITE_CASES)
def test_rewrite_uri_rule(uri: str, expected: str) -> None:
    assert rewrite_uri(uri) == expected


def test_routing_js_has_same_check() -> None:
    # The Python mirror rewrites when the last segment has no dot; the JS must too.
    assert "request.uri.split('/')" in SPA_ROUTING_FUNCTION_JS
    assert "segments[segments.length - 1]" in SPA_ROUTING_FUNCTION_JS
    assert "lastSegment.indexOf('.') === -1" in SPA_ROUTING_FUNCTION_JS
    assert "request.uri = '/index.html'" in SPA_ROUTING_FUNCTION_JS


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed to run the JS"
)
def test_routing_js_matches_python_in_node() -> None:
    # GIVEN the CloudFront Function source and a harness that calls its handler
    uris = [uri for uri, _ in REWRITE_CASES]
    harness = (
        SPA_ROUTING_FUNCTION_JS
        + "\nconst uris = JSON.parse(process.argv[1]);"
        + "\nPromise.all(uris.map((uri) => handler({request: {uri: uri}})))"
        + "\n  .then((requests) =>"
        + " console.log(JSON.stringify(requests.map((r) => r.uri))));\n"
    )

    # WHEN node runs it
    result = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [str(shutil.which("node")), "-e", harness, json.dumps(uris)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    # THEN every URI is rewritten as the Python mirror rewrites it
    assert json.loads(result.stdout) == [rewrite_uri(uri) for uri in uris]
    assert json.loads(result.stdout) == [expected for _, expected in REWRITE_CASES]


def test_module_has_no_pulumi_import() -> None:
    source = Path(site_files.__file__).read_text()

    assert "import pulumi" not in source
