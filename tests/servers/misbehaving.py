"""TCP servers that misbehave on purpose, on loopback: they stall, answer garbage, hang up, or reset.

Each one really does that on the wire; none of them touches tlsprobe's code.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType
from typing import Literal, Self

Behaviour = Literal["stall", "garbage", "http", "hangup", "reset"]

_GARBAGE = bytes(range(256)) * 4
_HTTP = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class MisbehavingServer:
    """Accepts TCP connections on 127.0.0.1 and treats each one according to ``behaviour``.

    - ``stall``: reads whatever comes and never answers (until stopped);
    - ``garbage``: answers the first bytes with 1 KiB that is not TLS;
    - ``http``: answers like a plain-text HTTP server;
    - ``hangup``: closes the connection at once (FIN);
    - ``reset``: resets the connection at once (RST).
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.accepted_connections = 0

    def start(self) -> Self:
        thread = threading.Thread(target=self._accept_loop, name=f"misbehaving-{self.behaviour}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for connection in self._connections:
                connection.close()
        for thread in list(self._threads):
            thread.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted_connections += 1
            with self._lock:
                self._connections.append(connection)
            worker = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, connection: socket.socket) -> None:
        try:  # stop() may have closed the connection before this thread ran
            connection.settimeout(0.2)
            if self.behaviour == "reset":
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            elif self.behaviour == "hangup":
                connection.close()
            elif self.behaviour in ("garbage", "http"):
                self._read_some(connection)
                connection.sendall(_GARBAGE if self.behaviour == "garbage" else _HTTP)
                connection.close()
            else:
                while not self._stopping.is_set():
                    self._read_some(connection)
        except OSError:
            pass
        finally:
            connection.close()

    def _read_some(self, connection: socket.socket) -> None:
        with contextlib.suppress(TimeoutError):
            connection.recv(65536)
