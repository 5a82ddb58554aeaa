"""A threaded TCP proxy that counts connections, to check the scanner's concurrency limits.

Why: a scanner that promises "at most N connections at once per server" needs a test that can see how many
connections were really open at once. The proxy sits between the scanner and a real server on 127.0.0.1,
forwards bytes both ways unchanged, and records the peak. With ``refuse_beyond`` it also plays a server that
drops connections beyond a limit (accept, then reset), like a rate-limiting front end. With
``drop_on_client_eof`` it plays a front end that takes a client's FIN for the end of the whole connection: a
client that half-closed before the server answered gets a reset instead of the answer.

A connection counts as current from ``accept()`` until the server is done with it: until the server has closed
its side (or the connection failed), which is the moment it stops holding the connection open. The server's FIN
is forwarded to the client only after that, so a client that waits for it before opening its next connection is
never counted twice. Refused connections are counted in ``refused_connections`` only, not in
``total_connections``. ``half_closed_before_answer`` counts the connections whose client sent its FIN before the
server had sent a byte. On loopback a server's answer can overtake a FIN sent right behind the hello, which no
real network lets it do: ``answer_delay_s`` holds each server's first bytes that long, as a round trip would.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

_POLL_S = 0.05
_CONNECT_TIMEOUT_S = 5.0
_IDLE_TIMEOUT_S = 30.0
_SEND_TIMEOUT_S = 10.0
_JOIN_TIMEOUT_S = 2.0


class CountingProxy:
    """Forward ``127.0.0.1:port`` to ``target_host:target_port`` and count the connections.

    With ``listen_ports=n`` it listens on ``n`` ports (``ports``) that forward to the same target and share one
    count: one server address seen as many ports of one IP."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        refuse_beyond: int | None = None,
        drop_on_client_eof: bool = False,
        answer_delay_s: float = 0.0,
        listen_ports: int = 1,
    ) -> None:
        self.target = (target_host, target_port)
        self.listen_ports = listen_ports
        self.refuse_beyond = refuse_beyond
        self.drop_on_client_eof = drop_on_client_eof
        self.answer_delay_s = answer_delay_s
        self.total_connections = 0
        self.current_connections = 0
        self.max_concurrent_connections = 0
        self.refused_connections = 0
        self.failed_upstream_connections = 0
        self.half_closed_before_answer = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listeners: list[socket.socket] = []
        self._accept_threads: list[threading.Thread] = []
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._ports: tuple[int, ...] = ()

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def ports(self) -> tuple[int, ...]:
        if not self._ports:
            raise RuntimeError("the proxy is not started")
        return self._ports

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> Self:
        for _ in range(self.listen_ports):
            listener = socket.create_server(("127.0.0.1", 0), backlog=128)
            listener.settimeout(_POLL_S)
            self._listeners.append(listener)
            thread = threading.Thread(
                target=self._accept_loop, args=(listener,), name="CountingProxy-accept", daemon=True
            )
            self._accept_threads.append(thread)
            thread.start()
        self._ports = tuple(int(listener.getsockname()[1]) for listener in self._listeners)
        return self

    def stop(self) -> None:
        """Stop accepting, cut every forwarded connection and join all threads."""
        self._stopping.set()
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        for thread in self._accept_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._accept_threads = []
        for listener in self._listeners:
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refuse = self.refuse_beyond is not None and self.current_connections >= self.refuse_beyond
                if refuse:
                    self.refused_connections += 1
                else:
                    self.total_connections += 1
                    self.current_connections += 1
                    self.max_concurrent_connections = max(self.max_concurrent_connections, self.current_connections)
            if refuse:
                _reset(client)
                continue
            thread = threading.Thread(target=self._handle, args=(client,), name="CountingProxy-conn", daemon=True)
            with self._lock:
                self._threads.add(thread)
            thread.start()

    def _track(self, sock: socket.socket) -> None:
        sock.settimeout(_SEND_TIMEOUT_S)
        with self._lock:
            self._sockets.add(sock)
        if self._stopping.is_set():  # stop() may have missed it
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _handle(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        released = threading.Event()
        answered = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self.current_connections -= 1

        def on_answer() -> bool:
            if answered.is_set():
                return True
            answered.set()
            if self.answer_delay_s > 0:
                time.sleep(self.answer_delay_s)
            # The client's FIN, if it came first, is in the kernel before the server's first bytes are passed on:
            # read there, not from the other pump thread, so that thread scheduling cannot blur the order.
            if not _peer_has_closed(client):
                return True
            with self._lock:
                self.half_closed_before_answer += 1
            return not self.drop_on_client_eof

        try:
            self._track(client)
            try:
                upstream = socket.create_connection(self.target, timeout=_CONNECT_TIMEOUT_S)
            except OSError:
                with self._lock:
                    self.failed_upstream_connections += 1
                _reset(client)
                return
            self._track(upstream)
            backward = threading.Thread(
                target=self._pump,
                args=(upstream, client),
                kwargs={"on_source_done": release, "on_data": on_answer},
                daemon=True,
            )
            backward.start()
            self._pump(client, upstream)
            backward.join()
        except Exception:  # never let a proxy thread die noisily
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
                    with self._lock:
                        self._sockets.discard(sock)
            release()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _pump(
        self,
        source: socket.socket,
        destination: socket.socket,
        on_source_done: Callable[[], None] | None = None,
        on_data: Callable[[], bool] | None = None,
    ) -> None:
        """Copy ``source`` to ``destination`` until EOF (then half-close) or an error (then cut both).

        ``on_source_done`` runs as soon as ``source`` is finished, before its EOF is passed on. ``on_data`` runs
        before each chunk is passed on; when it says False, both sides are cut instead (``destination`` reset).
        """
        idle_since = time.monotonic()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(source, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    if not selector.select(_POLL_S):
                        if time.monotonic() - idle_since > _IDLE_TIMEOUT_S:
                            break
                        continue
                    data = source.recv(65536)
                    if not data:
                        if on_source_done is not None:
                            on_source_done()
                        with contextlib.suppress(OSError):
                            destination.shutdown(socket.SHUT_WR)
                        return
                    idle_since = time.monotonic()
                    if on_data is not None and not on_data():
                        _reset(destination)
                        return
                    destination.sendall(data)  # bounded by the socket timeout
        except (OSError, ValueError):
            pass
        # Stopped, reset or idle for too long: make the other direction finish too.
        if on_source_done is not None:
            on_source_done()
        for sock in (source, destination):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _peer_has_closed(sock: socket.socket) -> bool:
    """Whether the peer's FIN is next to read on ``sock`` (read without taking it)."""
    try:
        # A socket with a timeout waits for readability before any recv: ask select, which does not wait.
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # the socket is gone
        return False


def _reset(sock: socket.socket) -> None:
    """Close with an RST rather than a FIN (SO_LINGER with a zero timeout)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
