"""Socket helpers shared by the test servers that run as their own processes."""

from __future__ import annotations

import contextlib
import socket
import time

LINGER_S = 1.0


def lingering_close(sock: socket.socket) -> None:
    """Half-close, then drain the client's remaining bytes until it closes (at most ``LINGER_S``).

    Closing with unread input makes the kernel send an RST, which can destroy the alert or the response still
    on its way to the client.
    """
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_S)
        deadline = time.monotonic() + LINGER_S
        while time.monotonic() < deadline and sock.recv(4096):
            pass
