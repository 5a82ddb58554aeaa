"""An HTTPS server whose answers each test chooses: Python's ``ssl`` (the system OpenSSL) and a tiny HTTP/1.1
responder, run in background threads on 127.0.0.1.

The responder sees each request (method, target, headers, and the SNI name of its connection) and returns the
raw bytes to send, which may be any HTTP response or not HTTP at all; ``CLOSE`` ends the connection without a
word (close_notify), ``STALL`` keeps it open, silent, until the client leaves. Every request is recorded, so a
test can assert what the client sent.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Self

import attrs

from tests.servers.sockets import lingering_close

CLOSE: Final = "close"
STALL: Final = "stall"
Answer = bytes | Literal["close", "stall"]

_ACCEPT_POLL_S = 0.05
_SOCKET_TIMEOUT_S = 5.0
_STALL_POLL_S = 0.1
_JOIN_TIMEOUT_S = 2.0
_MAX_REQUEST = 16384

_REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
            307: "Temporary Redirect", 308: "Permanent Redirect", 404: "Not Found"}  # fmt: skip


@attrs.frozen
class ReceivedRequest:
    """A request as the server read it."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    server_name: str | None
    """The SNI name of the connection (None when the client sent none)."""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


Responder = Callable[[ReceivedRequest], Answer]


def http_response(
    status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b"", *, chunked: bool = False
) -> bytes:
    """A raw HTTP/1.1 response; ``Content-Length`` or chunked framing is added, and ``Connection: close``."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", *(f"{name}: {value}" for name, value in headers)]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        halves = [body[: len(body) // 2], body[len(body) // 2 :]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in halves if part) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def routes(answers: Mapping[str, Answer], default: Answer | None = None) -> Responder:
    """A responder answering by request target; unknown targets get ``default`` (a 404 when None)."""
    fallback = default if default is not None else http_response(404, body=b"not found\n")
    return lambda request: answers.get(request.target, fallback)


class HTTPSTestServer:
    """A concurrent HTTPS server on 127.0.0.1 that answers each request with ``responder(request)``."""

    def __init__(
        self,
        responder: Responder,
        *,
        certfile: str | Path,
        keyfile: str | Path,
        maximum_version: ssl.TLSVersion | None = None,
    ) -> None:
        self._responder = responder
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certfile=str(certfile), keyfile=str(keyfile))
        if maximum_version is not None:
            self._context.maximum_version = maximum_version
        self._context.sni_callback = self._record_server_name
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self.requests: list[ReceivedRequest] = []
        self.connections = 0
        self.port = 0

    def start(self) -> Self:
        listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        listener.settimeout(_ACCEPT_POLL_S)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a thread blocked in recv()
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _record_server_name(self, _sock: object, server_name: str | None, _context: ssl.SSLContext) -> None:
        self._local.server_name = server_name  # the callback runs in the thread doing the handshake

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(_SOCKET_TIMEOUT_S)
            with self._lock:
                self.connections += 1
                self._sockets.append(sock)
            self._spawn(self._serve, sock)

    def _serve(self, raw: socket.socket) -> None:
        self._local.server_name = None
        with (
            contextlib.suppress(OSError, ValueError),
            raw,
            self._context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False) as tls,
        ):
            with self._lock:
                self._sockets.append(tls)  # ``raw`` is detached now: stop() must wake this one
            tls.do_handshake()
            request = self._read_request(tls)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            answer = self._responder(request)
            if answer == STALL:
                tls.settimeout(_STALL_POLL_S)
                while not self._stopping.is_set():
                    with contextlib.suppress(TimeoutError):
                        if not socket.socket.recv(tls, 4096):
                            break
                return
            if isinstance(answer, bytes):
                tls.sendall(answer)
            with contextlib.suppress(OSError, ValueError):
                tls.setblocking(False)  # send close_notify without waiting for the client's
                tls.unwrap()
            lingering_close(tls)

    def _read_request(self, tls: ssl.SSLSocket) -> ReceivedRequest | None:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < _MAX_REQUEST:
            chunk = tls.recv(4096)
            if not chunk:
                return None
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _version = head[0].split(" ", 2)
        headers = tuple((name, value.strip()) for name, _, value in (line.partition(":") for line in head[1:]))
        return ReceivedRequest(method=method, target=target, headers=headers, server_name=self._local.server_name)
