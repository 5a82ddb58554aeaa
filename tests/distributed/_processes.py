"""What the cluster tests need to see from outside: a server that holds its connections until the test lets them
through, and which process owns a connection (to kill a worker by its PID, found at the server's side)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from tlsprobe.testing import CountingProxy

_HOLD_POLL_S = 0.05


class GatedProxy(CountingProxy):
    """A ``CountingProxy`` that accepts every connection at once but forwards none until ``open()``: a server
    that keeps a scan waiting mid-way for as long as a test needs, without any timing."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self.arrived = threading.Event()
        """Set when the first connection arrives."""
        self._opened = threading.Event()
        self._peers: list[tuple[str, int]] = []

    @property
    def peers(self) -> list[tuple[str, int]]:
        """The client end of every connection held or forwarded so far."""
        with self._lock:
            return list(self._peers)

    def open(self) -> None:
        """Forward every connection, held or new."""
        self._opened.set()

    def _handle(self, client: socket.socket) -> None:
        with self._lock:
            self._peers.append(client.getpeername()[:2])
        self.arrived.set()
        while not self._opened.wait(_HOLD_POLL_S) and not self._stopping.is_set():
            pass
        super()._handle(client)


def owner_of(client: tuple[str, int]) -> int | None:
    """The PID of the process holding the TCP socket whose local end is ``client`` (IPv4, this network namespace),
    or None when no process holds it any more."""
    host, port = client
    local = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[9] != "0":
            inode = fields[9]
            break
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for descriptor in (entry / "fd").iterdir():
                if os.readlink(descriptor) == wanted:
                    return int(entry.name)
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
    return None


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
