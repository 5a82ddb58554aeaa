"""A small, real TLS server on Python's ``ssl`` module (the system OpenSSL), run in background threads.

It exists for two users: tlsprobe's own tests, which need a well-behaved modern server they can configure per
test (versions, cipher string, client authentication, cipher preference), and the ``tlsprobe demo`` command,
which scans one without needing any external server. It answers every connection with a tiny HTTP response
that carries a ``Strict-Transport-Security`` header, so HTTP-level checks have something to find.

Every connection gets its own thread, so scans that open many connections at once are served concurrently.
Every socket has a timeout, failed handshakes are counted silently, and :meth:`LocalTLSServer.stop` closes
the listener and all open connections and joins the threads.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

__all__ = ["LocalTLSServer"]

ClientAuth = Literal["none", "optional", "required"]

_ACCEPT_POLL_S = 0.05
_HANDSHAKE_TIMEOUT_S = 5.0
_REQUEST_TIMEOUT_S = 1.0
_JOIN_TIMEOUT_S = 2.0
_LINGER_S = 1.0

_BODY = b"tlsprobe test server\n"
HTTP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/plain\r\n"
    b"Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + _BODY
)


class LocalTLSServer:
    """A concurrent TLS server on ``host:port`` (loopback by default), driven by background threads.

    ``ciphers`` is an OpenSSL cipher string for TLS 1.2 and below (it may contain ``@SECLEVEL=0`` to allow
    TLS 1.0/1.1 with the system OpenSSL); TLS 1.3 suites keep OpenSSL's defaults. ``client_auth`` asks for
    ("optional") or demands ("required") a client certificate issued by ``ca_file``. ``server_preference``
    switches ``OP_CIPHER_SERVER_PREFERENCE`` on or off. With ``http_response`` the server reads a request for
    up to a second after the handshake and answers ``HTTP/1.1 200`` with an HSTS header; otherwise it closes
    the connection right after the handshake.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``port`` and ``address`` are known
    after :meth:`start`. The counters are updated under a lock and may be read at any time.
    """

    def __init__(
        self,
        *,
        certfile: str | Path,
        keyfile: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        minimum_version: ssl.TLSVersion | None = None,
        maximum_version: ssl.TLSVersion | None = None,
        ciphers: str | None = None,
        client_auth: ClientAuth = "none",
        ca_file: str | Path | None = None,
        server_preference: bool = True,
        http_response: bool = True,
    ) -> None:
        if client_auth not in ("none", "optional", "required"):
            raise ValueError(f"client_auth must be 'none', 'optional' or 'required', not {client_auth!r}")
        if client_auth != "none" and ca_file is None:
            raise ValueError("client_auth needs ca_file to verify client certificates")
        self.host = host
        self._requested_port = port
        self.http_response = http_response
        self.context = self._make_context(
            certfile=certfile,
            keyfile=keyfile,
            minimum_version=minimum_version,
            maximum_version=maximum_version,
            ciphers=ciphers,
            client_auth=client_auth,
            ca_file=ca_file,
            server_preference=server_preference,
        )
        self.accepted_connections = 0
        self.completed_handshakes = 0
        self.failed_handshakes = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._port: int | None = None

    @staticmethod
    def _make_context(
        *,
        certfile: str | Path,
        keyfile: str | Path,
        minimum_version: ssl.TLSVersion | None,
        maximum_version: ssl.TLSVersion | None,
        ciphers: str | None,
        client_auth: ClientAuth,
        ca_file: str | Path | None,
        server_preference: bool,
    ) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # Ciphers first: lowering the security level must precede anything it would otherwise forbid.
        if ciphers is not None:
            context.set_ciphers(ciphers)
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0/1.1; a test server offers them on purpose.
            warnings.simplefilter("ignore", DeprecationWarning)
            if minimum_version is not None:
                context.minimum_version = minimum_version
            if maximum_version is not None:
                context.maximum_version = maximum_version
        context.load_cert_chain(certfile=str(certfile), keyfile=str(keyfile))
        if server_preference:
            context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        else:
            context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        if client_auth != "none":
            assert ca_file is not None
            context.load_verify_locations(cafile=str(ca_file))
            context.verify_mode = ssl.CERT_REQUIRED if client_auth == "required" else ssl.CERT_OPTIONAL
        return context

    # -- lifecycle -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``, ready for :func:`socket.create_connection`."""
        return (self.host, self.port)

    @property
    def url(self) -> str:
        """``https://host:port/``, with brackets around an IPv6 host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}/"

    @property
    def current_connections(self) -> int:
        """Connections whose thread is still running."""
        with self._lock:
            return len(self._connections)

    def start(self) -> Self:
        """Bind, listen and start the accept thread. Returns ``self``."""
        if self._listener is not None:
            raise RuntimeError("the server is already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self._requested_port), family=family, backlog=128)
        listener.settimeout(_ACCEPT_POLL_S)
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._stopping.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"LocalTLSServer-accept-{self._port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then join all threads (about 2 s at most)."""
        with self._lock:
            self._stopping.set()
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        if self._accept_thread is not None:
            self._accept_thread.join(_JOIN_TIMEOUT_S)
            self._accept_thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections = list(self._connections.items())
        for _thread, sock in connections:
            # Wake a thread blocked in recv()/do_handshake(); the thread itself closes its socket.
            # socket.socket.shutdown bypasses SSLSocket.shutdown, which would also drop the TLS state.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        for thread, _sock in connections:
            with contextlib.suppress(RuntimeError):  # registered, but never started
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        """Start the server unless :meth:`start` was already called."""
        return self if self._listener is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- threads ---------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed
            sock.settimeout(_HANDSHAKE_TIMEOUT_S)
            thread = threading.Thread(
                target=self._serve_connection, args=(sock,), name="LocalTLSServer-connection", daemon=True
            )
            with self._lock:
                self.accepted_connections += 1
                self._connections[thread] = sock
            thread.start()

    def _serve_connection(self, raw: socket.socket) -> None:
        me = threading.current_thread()
        try:
            with raw:
                try:
                    tls = self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
                except (OSError, ValueError):
                    return
                with self._lock:
                    self._connections[me] = tls
                    # stop() may have tried to shut down ``raw`` while wrap_socket() was detaching it.
                    stopping = self._stopping.is_set()
                if stopping:
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(tls, socket.SHUT_RDWR)
                with tls:
                    try:
                        tls.do_handshake()
                    except (OSError, ValueError):  # ssl.SSLError is an OSError; resets, timeouts too
                        with self._lock:
                            self.failed_handshakes += 1
                    else:
                        with self._lock:
                            self.completed_handshakes += 1
                        if self.http_response and not self._stopping.is_set():
                            self._answer_http(tls)
                    if not self._stopping.is_set():
                        _lingering_close(tls)
        except Exception:  # a test server thread must never die noisily
            pass
        finally:
            with self._lock:
                self._connections.pop(me, None)

    @staticmethod
    def _answer_http(tls: ssl.SSLSocket) -> None:
        tls.settimeout(_REQUEST_TIMEOUT_S)
        request = b""
        with contextlib.suppress(OSError, ValueError):
            while b"\r\n\r\n" not in request and len(request) < 16384:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                request += chunk
        with contextlib.suppress(OSError, ValueError):
            tls.sendall(HTTP_RESPONSE)
            # Send close_notify without waiting for the client's: a non-blocking unwrap() stops there.
            tls.setblocking(False)
            tls.unwrap()


def _lingering_close(sock: socket.socket) -> None:
    """Half-close, then drain what the client still sends until it closes too (at most ``_LINGER_S``).

    Closing a socket with unread input makes the kernel send an RST, which can destroy the alert or the
    response still on its way to the client; lingering avoids that. Works below TLS on an ``SSLSocket``.
    """
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_WR)
        sock.settimeout(_LINGER_S)
        deadline = time.monotonic() + _LINGER_S
        while time.monotonic() < deadline and socket.socket.recv(sock, 4096):
            pass
