"""Files of the React build: which objects to upload, with which headers.

Pure functions with no Pulumi resources, so the rules are tested without mocks.
`walk_build_dir` lists the files of a build directory in sorted order, and each file
gets a content type from `content_type_for` and a Cache-Control value from the ordered
first-match rules in `CACHE_RULES`. `SPA_ROUTING_FUNCTION_JS` is the CloudFront
Function that serves deep links, and `rewrite_uri` mirrors its rule in Python.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# StaticSite.publish_config generates this object, so a build's own copy is skipped.
CONFIG_KEY = "config.json"

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=3600"

# Top-level build folders whose file names carry a content hash: Vite writes
# assets/, Create React App writes static/.
HASHED_ASSET_DIRS = frozenset({"assets", "static"})

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Python's built-in table only: the system's /etc/mime.types differs between machines,
# and the same build must get the same headers wherever `pulumi up` runs.
_BUILTIN_TYPES = mimetypes.MimeTypes()

# Create React App: main.3f9a1c2b.js, 787.8d2e9f1a.chunk.js and, for media,
# logo.6ce24c58023cc2f8fd88.svg.
_HEX_HASH = re.compile(r"\.([0-9a-f]{8,32})\.")
# Vite: index-BX3k_9aZ.js, index-BX3k_9aZ.js.map (8 base64url characters).
_VITE_HASH = re.compile(r"-([A-Za-z0-9_-]{8})\.[A-Za-z0-9]+(?:\.map)?$")

# CloudFront Function (viewer request) for SPA deep links: a URI whose last path
# segment has no dot, such as /trades/42 or /, is a client-side route and gets
# /index.html. Every other URI reaches S3 unchanged, so a missing /assets/x.js stays
# an error instead of turning into HTML.
SPA_ROUTING_FUNCTION_JS = """\
async function handler(event) {
    var request = event.request;
    var segments = request.uri.split('/');
    var lastSegment = segments[segments.length - 1];
    if (lastSegment.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
"""


def rewrite_uri(uri: str) -> str:
    """Return the URI that SPA_ROUTING_FUNCTION_JS sends to the origin."""
    last_segment = uri.rsplit("/", maxsplit=1)[-1]
    if "." not in last_segment:
        return "/index.html"
    return uri


def _looks_random(candidate: str) -> bool:
    # A real hash almost always contains a digit or an uppercase letter. Words such as
    # "template" in robots-template.txt contain neither, so they do not count.
    return any(char.isdigit() or char.isupper() for char in candidate)


def has_content_hash(file_name: str) -> bool:
    """Tell whether a file name carries a Vite or Create React App content hash."""
    for hex_match in _HEX_HASH.finditer(file_name):
        if _looks_random(hex_match.group(1)):
            return True
    vite_match = _VITE_HASH.search(file_name)
    return vite_match is not None and _looks_random(vite_match.group(1))


def is_hashed_asset(key: str) -> bool:
    """Tell whether an object key is a content-hashed file under assets/ or static/."""
    path = PurePosixPath(key)
    return path.parts[0] in HASHED_ASSET_DIRS and has_content_hash(path.name)


def _is_html(key: str) -> bool:
    return PurePosixPath(key).suffix.lower() in {".html", ".htm"}


def _is_config(key: str) -> bool:
    return key == CONFIG_KEY


@dataclass(frozen=True)
class CacheRule:
    """One Cache-Control rule: objects whose key matches get the value."""

    description: str
    matches: Callable[[str], bool]
    cache_control: str


# Ordered, first match wins. HTML comes first so that no later rule gives a page a long
# cache, because a browser that keeps an old index.html requests an old build's assets.
CACHE_RULES: tuple[CacheRule, ...] = (
    CacheRule("HTML pages", _is_html, NO_CACHE),
    CacheRule("runtime config", _is_config, NO_CACHE),
    CacheRule("content-hashed assets", is_hashed_asset, IMMUTABLE),
)


def cache_control_for(key: str) -> str:
    """Return the Cache-Control value of an object key from the first matching rule."""
    for rule in CACHE_RULES:
        if rule.matches(key):
            return rule.cache_control
    return SHORT_CACHE


def content_type_for(key: str) -> str:
    """Return the Content-Type of an object key: web types, then Python's table."""
    suffix = PurePosixPath(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, encoding = _BUILTIN_TYPES.guess_type(key, strict=False)
    # A compressed file (x.tar.gz) is not of the type its inner suffix names.
    if guessed is None or encoding is not None:
        return DEFAULT_CONTENT_TYPE
    return guessed


@dataclass(frozen=True)
class SiteFile:
    """One file of the build and the S3 object it becomes."""

    key: str
    path: Path
    content_type: str
    cache_control: str

    @property
    def is_html(self) -> bool:
        return _is_html(self.key)


@dataclass
class BuildScan:
    """Files to upload, and the symlinks that the walk skipped."""

    files: list[SiteFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _site_file(root: Path, path: Path) -> SiteFile:
    key = path.relative_to(root).as_posix()
    return SiteFile(
        key=key,
        path=path,
        content_type=content_type_for(key),
        cache_control=cache_control_for(key),
    )


def _walk(root: Path, directory: Path, scan: BuildScan) -> None:
    for entry in sorted(directory.iterdir(), key=lambda path: path.name):
        if entry.is_symlink():
            target = entry.resolve()
            # Symlinked folders are not followed, since a link to a parent loops.
            if not target.is_relative_to(root) or not target.is_file():
                scan.skipped.append(entry.relative_to(root).as_posix())
                continue
        if entry.is_dir():
            _walk(root, entry, scan)
        elif entry.is_file():
            scan.files.append(_site_file(root, entry))


def walk_build_dir(build_dir: Path) -> BuildScan:
    """List the files of a build directory, sorted by key.

    Symlinks to files inside the directory are uploaded under the link's key. Symlinks
    that point outside it, to a folder or to nothing are skipped and listed in
    `skipped`. Raises NotADirectoryError when `build_dir` is a file and
    FileNotFoundError when it does not exist.
    """
    if not build_dir.exists():
        raise FileNotFoundError(f"site build directory {build_dir} does not exist")
    if not build_dir.is_dir():
        raise NotADirectoryError(
            f"site build directory {build_dir} is a file, not a directory"
        )
    root = build_dir.resolve()
    scan = BuildScan()
    _walk(root, root, scan)
    scan.files.sort(key=lambda site_file: site_file.key)
    return scan


def object_name(prefix: str, key: str) -> str:
    """Return a stable Pulumi logical name for the object of a key.

    The readable part keeps letters, digits, dots and hyphens of the key, and a short
    hash of the whole key keeps two keys apart that only differ in other characters.
    """
    readable = re.sub(r"[^A-Za-z0-9.-]+", "-", key).strip("-")[:60]
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{prefix}-{readable}-{digest}"
