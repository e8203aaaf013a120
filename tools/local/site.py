"""The React build, served as CloudFront serves it, with a config.json for local use.

Paths follow the deployed distribution's rules from `components.site_files`: a path
whose last segment has no dot is a client-side route and gets /index.html, each file
gets the same Content-Type and Cache-Control as its S3 object, and /config.json is
generated instead of read from the build.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from components.site_files import (
    CONFIG_KEY,
    NO_CACHE,
    cache_control_for,
    content_type_for,
    rewrite_uri,
)
from tools.local.wsgi import RawResponse, StartResponse

_NOT_FOUND = RawResponse(
    404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n"
)


def site_config(
    api_url: str, region: str, user_pool_id: str, client_id: str, cognito_endpoint: str
) -> dict[str, str]:
    """Return the config.json of the local site.

    The first four keys carry the deployed stack's output names. `cognitoEndpoint` is
    local only: the app points its Cognito client there instead of AWS.
    """
    return {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": client_id,
        "cognitoEndpoint": cognito_endpoint,
    }


class SiteApp:
    """WSGI app serving a build directory and a generated config.json."""

    def __init__(self, build_dir: Path, config: Mapping[str, Any]) -> None:
        self._root = build_dir.resolve()
        self._config = json.dumps(config, indent=2).encode()

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
            response = RawResponse(405, [("Allow", "GET, HEAD")])
        else:
            response = self.respond(str(environ.get("PATH_INFO") or "/"))
        if environ.get("REQUEST_METHOD") == "HEAD":
            response = RawResponse(response.status, response.headers, b"")
        return response.send(start_response)

    def respond(self, uri: str) -> RawResponse:
        uri = rewrite_uri(unquote(uri))
        key = uri.lstrip("/")
        if key == CONFIG_KEY:
            return RawResponse(
                200,
                [("Content-Type", "application/json"), ("Cache-Control", NO_CACHE)],
                self._config,
            )
        # Each request reads the file again, so a rebuilt app shows without a restart.
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            return _NOT_FOUND
        return RawResponse(
            200,
            [
                ("Content-Type", content_type_for(key)),
                ("Cache-Control", cache_control_for(key)),
            ],
            path.read_bytes(),
        )
