"""The AWS emulator: moto's server application with a durable journal and hooks.

`Emulator` is the WSGI app that `ThreadedMotoServer` would serve (moto's
`DomainDispatcherApplication`), wrapped so that:

- requests run one at a time, each after seeding moto's random generator, so the
  journal can replay them into the same ids (see `persistence`);
- every acknowledged write is in the journal before its response leaves;
- response hooks run after moto has responded, which is how the local
  post-confirmation trigger runs (moto stores Cognito triggers but never invokes
  them);
- rewriters change each request before guards, moto, journal and hooks receive it,
  which is how the usernames sent to a case-insensitive user pool are lowercased;
- guards reject requests before moto receives them: requests that would reset or
  reseed moto behind the journal's back, and sign-ins that moto would not check.

`servers.BackgroundServer` serves the emulator, not `ThreadedMotoServer`, because
`ThreadedMotoServer` binds its port inside its serving thread. With the port in use,
werkzeug ends that thread and `start()` waits forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import moto.kms.models
from moto.moto_api._internal import mock_random
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.test import EnvironBuilder

from tools.local.persistence import (
    Journal,
    JournalEntry,
    JournalError,
    action_name,
    changes_state,
    entry_summary,
    replayable_headers,
)
from tools.local.servers import QuietRequestHandler
from tools.local.wsgi import (
    RawResponse,
    StartResponse,
    call_app,
    json_response,
    read_body,
    request_headers,
)

logger = logging.getLogger("pfmon.local.emulator")

# X-Amz-Target prefix and content type of the JSON-protocol services the local
# environment calls itself.
SERVICE_PROTOCOLS: Mapping[str, tuple[str, str]] = {
    "dynamodb": ("DynamoDB_20120810", "application/x-amz-json-1.0"),
    "cognito-idp": ("AWSCognitoIdentityProviderService", "application/x-amz-json-1.1"),
    "kms": ("TrentService", "application/x-amz-json-1.1"),
}
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."

# moto checks TOTP codes only when this variable is "true", reading it at each call.
TOTP_VALIDATION_VARIABLE = "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"

# moto draws KMS key material (moto.kms.utils.MASTER_KEY_LEN, 32 bytes) from
# os.urandom, which no seed reaches. The replacement draws it from moto's seeded
# generator, so a replayed CreateKey makes a key that decrypts the old ciphertexts.
_KMS_KEY_BYTES = 32


class EmulatorCallError(Exception):
    """An internal call to the emulator returned an AWS error."""

    def __init__(self, action: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{action} failed with {status} {code}: {message}")
        self.action = action
        self.status = status
        self.code = code


@dataclass(frozen=True)
class EmulatorRequest:
    """One request to the emulator, as the journal stores it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def action(self) -> str | None:
        return action_name(self.headers, self.body)

    @property
    def is_cognito(self) -> bool:
        target = _header(self.headers, "X-Amz-Target") or ""
        return target.startswith(COGNITO_TARGET_PREFIX)

    def json(self) -> dict[str, Any]:
        """Return the body's JSON object, or {} for a body that is not one."""
        try:
            document = json.loads(self.body) if self.body else {}
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def with_json(self, document: Mapping[str, Any]) -> EmulatorRequest:
        """Return a copy of this request with another JSON body."""
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() != "content-length"
        }
        body = json.dumps(document).encode()
        return EmulatorRequest(self.method, self.path, self.query, headers, body)


# A rewriter receives each request first and returns the request to process, itself
# if unchanged. The journal stores the rewritten request, and replay rewrites each
# entry again, so a rewriter must return a rewritten request unchanged.
RequestRewriter = Callable[[EmulatorRequest], EmulatorRequest]
# A hook receives each request and moto's response and returns the response to send.
ResponseHook = Callable[[EmulatorRequest, RawResponse], RawResponse]
# A guard receives each request before moto does. A response it returns is sent in
# place of moto's, and moto never receives the request.
RequestGuard = Callable[[EmulatorRequest], RawResponse | None]


@dataclass(frozen=True)
class ReplayReport:
    """Outcome of a journal replay: entries applied and entries moto rejected."""

    applied: int
    rejected: int


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def creation_seed(action: str, request: Mapping[str, Any]) -> int:
    """Return a seed derived from a request's content.

    The environment creates its own resources with it, so a start after `--reset`
    recreates them with the same ids.
    """
    text = action + json.dumps(request, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def enable_totp_validation() -> None:
    """Make moto check TOTP codes against its fixed secret, as Cognito checks them.

    moto gives every user the same secret from AssociateSoftwareToken, so an
    authenticator app that scanned it produces codes that pass.
    """
    os.environ[TOTP_VALIDATION_VARIABLE] = "true"


@contextmanager
def _totp_validation_off() -> Iterator[None]:
    # A replayed VerifySoftwareToken carries a code that was valid only when it was
    # acknowledged, so replay must not check it again.
    previous = os.environ.get(TOTP_VALIDATION_VARIABLE)
    os.environ[TOTP_VALIDATION_VARIABLE] = "false"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[TOTP_VALIDATION_VARIABLE]
        else:
            os.environ[TOTP_VALIDATION_VARIABLE] = previous


def make_kms_keys_replayable() -> None:
    """Make moto draw new KMS key material from its seeded random generator."""
    if not callable(getattr(moto.kms.models, "generate_master_key", None)):
        raise RuntimeError(
            "moto.kms.models.generate_master_key is missing: this moto version is not "
            "supported by the local environment, install the one in "
            "requirements-dev.txt"
        )

    def seeded_master_key() -> bytes:
        return mock_random.randbytes(_KMS_KEY_BYTES)

    # setattr, because moto's package does not export the name for mypy.
    setattr(moto.kms.models, "generate_master_key", seeded_master_key)  # noqa: B010


class Emulator:
    """moto's WSGI app with seeded, serialized requests, a journal and hooks."""

    def __init__(self, region: str, journal: Journal | None) -> None:
        make_kms_keys_replayable()
        self.region = region
        self.rewriters: list[RequestRewriter] = []
        self.hooks: list[ResponseHook] = []
        self.guards: list[RequestGuard] = [reject_moto_api_writes]
        self._journal = journal
        self._moto = DomainDispatcherApplication(create_backend_app)
        # One request at a time: a seed must reach exactly the request it belongs to,
        # and the journal order must be the order moto applied the writes in.
        self._lock = threading.Lock()

    # WSGI entry point, for requests that arrive over HTTP.
    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        body = read_body(environ)
        received = EmulatorRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            path=str(environ.get("PATH_INFO", "")),
            query=str(environ.get("QUERY_STRING", "")),
            headers=request_headers(environ),
            body=body,
        )
        request = self._rewrite(received)
        rejection = self._check_guards(request)
        if rejection is not None:
            return rejection.send(start_response)
        if request is received:
            response = self._apply(request, lambda: call_app(self._moto, environ), None)
        else:
            response = self._apply(request, lambda: self._dispatch(request), None)
        return self._run_hooks(request, response).send(start_response)

    def handle(self, request: EmulatorRequest, seed: int | None = None) -> RawResponse:
        """Process a request built in this process through rewriters, guards,
        journal and hooks."""
        request = self._rewrite(request)
        rejection = self._check_guards(request)
        if rejection is not None:
            return rejection
        response = self._apply(request, lambda: self._dispatch(request), seed)
        return self._run_hooks(request, response)

    def call(
        self,
        service: str,
        action: str,
        payload: Mapping[str, Any],
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Call a JSON-protocol action in this process; raise EmulatorCallError."""
        prefix, content_type = SERVICE_PROTOCOLS[service]
        request = EmulatorRequest(
            method="POST",
            path="/",
            query="",
            headers={
                "Content-Type": content_type,
                "X-Amz-Target": f"{prefix}.{action}",
                # moto routes a request by the service and region of the signature's
                # credential scope. It never checks the signature itself.
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=local/20260101/"
                    f"{self.region}/{service}/aws4_request, "
                    "SignedHeaders=host, Signature=0"
                ),
            },
            body=json.dumps(payload).encode(),
        )
        response = self.handle(request, seed)
        document = response.json() or {}
        if not response.ok:
            code = str(document.get("__type", "Unknown")).rsplit("#", 1)[-1]
            message = str(document.get("message") or document.get("Message") or "")
            raise EmulatorCallError(action, response.status, code, message)
        return dict(document)

    def replay(self, entries: Iterable[JournalEntry]) -> ReplayReport:
        """Apply journal entries to moto in order, through the rewriters but without
        guards, journal or hooks."""
        applied = rejected = 0
        with _totp_validation_off():
            for entry in entries:
                if self._replay_entry(entry):
                    applied += 1
                else:
                    rejected += 1
        return ReplayReport(applied, rejected)

    def _replay_entry(self, entry: JournalEntry) -> bool:
        # Rewritten here too, for entries stored before a rewriter was added.
        request = self._rewrite(
            EmulatorRequest(
                entry.method, entry.path, entry.query, entry.headers, entry.body
            )
        )
        with self._lock:
            mock_random.seed(entry.seed)
            response = self._dispatch(request)
        if not response.ok:
            logger.error(
                "journal entry rejected on replay",
                extra={**entry_summary(entry), "status": response.status},
            )
        return response.ok

    def _apply(
        self,
        request: EmulatorRequest,
        dispatch: Callable[[], RawResponse],
        seed: int | None,
    ) -> RawResponse:
        with self._lock:
            seed = secrets.randbits(63) if seed is None else seed
            mock_random.seed(seed)
            response = dispatch()
            if (
                self._journal is not None
                and response.ok
                and changes_state(request.method, request.action)
            ):
                entry = JournalEntry(
                    seed=seed,
                    method=request.method,
                    path=request.path,
                    query=request.query,
                    headers=replayable_headers(request.headers),
                    body=request.body,
                )
                try:
                    self._journal.append(entry)
                except JournalError:
                    logger.exception(
                        "journal append failed", extra=entry_summary(entry)
                    )
                    return json_response(
                        500,
                        {
                            "__type": "InternalFailure",
                            "message": "the local environment failed to store "
                            "the write on disk, see its log",
                        },
                    )
        return response

    def _rewrite(self, request: EmulatorRequest) -> EmulatorRequest:
        for rewriter in self.rewriters:
            request = rewriter(request)
        return request

    def _check_guards(self, request: EmulatorRequest) -> RawResponse | None:
        for guard in self.guards:
            rejection = guard(request)
            if rejection is not None:
                return rejection
        return None

    def _run_hooks(
        self, request: EmulatorRequest, response: RawResponse
    ) -> RawResponse:
        for hook in self.hooks:
            response = hook(request, response)
        return response

    def _dispatch(self, request: EmulatorRequest) -> RawResponse:
        headers = {
            key: value
            for key, value in request.headers.items()
            if key.lower() != "host"
        }
        builder = EnvironBuilder(
            path=request.path,
            method=request.method,
            query_string=request.query,
            headers=list(headers.items()),
            data=request.body,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        return call_app(self._moto, environ)


def reject_moto_api_writes(request: EmulatorRequest) -> RawResponse | None:
    """Reject moto's reset, seed and recorder endpoints, which bypass the journal."""
    if not request.path.startswith("/moto-api") or request.method.upper() in {
        "GET",
        "HEAD",
        "OPTIONS",
    }:
        return None
    return json_response(
        403,
        {
            "message": f"{request.method} {request.path} is disabled in the local "
            "environment because the journal would not record it. To start "
            "empty, restart with --reset."
        },
    )


class EmulatorRequestHandler(MotoRequestHandler, QuietRequestHandler):
    """moto's request handler, which keeps header names with underscores (S3
    metadata), logging through `logging` at DEBUG."""
