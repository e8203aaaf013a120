"""The ports and the data directory that a start claims before loading anything heavy.

Binding the ports and locking the data directory come first, so a port in use or a
second environment on the same data fails at once. Loading moto, Pulumi's settings
module and the function packages takes about a second more.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from tools.local.endpoints import DEFAULT_DATA_DIR
from tools.local.persistence import Journal
from tools.local.servers import bind_socket


@dataclass(frozen=True)
class PortOption:
    """A port, and the option and environment variable that set it."""

    role: str
    label: str
    port: int
    option: str
    env_var: str


@dataclass(frozen=True)
class Options:
    """Options of one start of the local environment."""

    emulator: PortOption
    api: PortOption
    site: PortOption
    data_dir: Path = DEFAULT_DATA_DIR
    reset: bool = False
    # None: the dev stack's siteBuildDir.
    site_dir: Path | None = None


class Reservation:
    """The bound listening sockets and the open, locked journal of one start."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.listeners: dict[str, socket.socket] = {}
        self.journal = Journal(options.data_dir)

    def acquire(self) -> None:
        """Bind the emulator and API ports, then lock and open the journal.

        Raises PortInUseError or JournalError (DataDirLockedError and
        DataDirUnusableError among them), holding nothing afterwards.
        """
        try:
            self.bind(self.options.emulator)
            self.bind(self.options.api)
            self.journal.open(reset=self.options.reset)
        except BaseException:
            self.release()
            raise

    def bind(self, port: PortOption) -> socket.socket:
        listener = bind_socket(port.port, port.label, port.option, port.env_var)
        self.listeners[port.role] = listener
        return listener

    def release(self) -> None:
        for listener in self.listeners.values():
            listener.close()
        self.listeners.clear()
        self.journal.close()
