"""Threaded HTTP servers on the loopback interface, bound before anything else starts.

Each server binds its socket in the caller's thread, so a port in use fails at once
with `PortInUseError` instead of inside a background thread. werkzeug's own bind would
print a message of its own and call sys.exit(1), so the socket is bound here and
handed to werkzeug as a file descriptor.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tools.local.wsgi import WsgiApp

HOST = "127.0.0.1"
# How often a serving thread checks for a stop request.
_POLL_SECONDS = 0.1
# Maximum length of an error message logged for a request, in characters.
_MAX_LOGGED_CHARS = 200

logger = logging.getLogger("pfmon.local.http")


class PortInUseError(Exception):
    """A port is taken. The message names the port and how to choose another."""

    def __init__(self, role: str, port: int, option: str, env_var: str) -> None:
        super().__init__(
            f"port {port} on {HOST} ({role}) is already in use. Stop the program "
            f"that uses it, or choose another port with {option} or {env_var}."
        )
        self.port = port


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs through `logging`: each request at DEBUG, and each
    error response that http.server sends itself at INFO."""

    # The version assumed until the request line is parsed. With http.server's
    # default, HTTP/0.9, the 400 for an unparsable request line has no status line
    # and no headers, only the HTML body. HTTP/0.9 requests (no version) are
    # served as HTTP/1.0.
    default_request_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # http.server rejects a request line it cannot parse (400) or one longer than
        # 65536 bytes (414) before it sets `command` and `path`, and log_error has
        # already logged the reason. Reading `path` then would raise AttributeError.
        if not getattr(self, "command", None):
            return
        logger.debug("%s %s %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # The message can quote the whole rejected request line.
        message = format % args
        if len(message) > _MAX_LOGGED_CHARS:
            message = message[:_MAX_LOGGED_CHARS] + "..."
        logger.info(
            "HTTP request failed: %s",
            message,
            extra={"client": self.client_address[0]},
        )

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


def bind_socket(port: int, role: str, option: str, env_var: str) -> socket.socket:
    """Bind and listen on HOST:port. Raise PortInUseError if the port is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # SO_REUSEADDR lets a restart bind while old connections are in TIME_WAIT. Linux
    # still rejects a port that another socket listens on.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(role, port, option, env_var) from exc
        raise
    return listener


class BackgroundServer:
    """A threaded werkzeug server on an already bound socket, served from a thread."""

    def __init__(
        self,
        role: str,
        listener: socket.socket,
        app: WsgiApp,
        handler: type[WSGIRequestHandler] = QuietRequestHandler,
    ) -> None:
        self.role = role
        self.port: int = listener.getsockname()[1]
        self._server: BaseWSGIServer = make_server(
            HOST,
            self.port,
            app,
            threaded=True,
            request_handler=handler,
            fd=listener.fileno(),
        )
        # werkzeug duplicated the descriptor, so this copy is no longer needed.
        listener.close()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name=f"{self.role}-server",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and wait for the serving thread to end."""
        if self._thread is None:
            self._server.server_close()
            return
        self._server.shutdown()
        self._thread.join()
        self._thread = None
