"""Hostile TCP/TLS servers on loopback, for "every scan ends on time": they drip, stall or answer out of order.

Each one really does that on the wire, with plain sockets and one thread per connection; none of them touches
tlsprobe's scanner. The TLS answers come from Python's ``ssl`` (an ``SSLObject`` over memory BIOs, so the
server decides byte by byte what reaches the wire).

- :class:`SilentServer`: accepts, reads and discards, never sends a byte, never closes.
- :class:`DripAfterFinServer`: reads until the client's FIN (answering its hello with a real TLS flight when
  ``answer_hello``), then keeps the connection open and sends one byte every ``interval_s``, forever.
- :class:`DripHandshakeServer`: answers the ClientHello with a real TLS flight, one byte every ``interval_s``,
  then an endless record at the same pace: every recv succeeds, the handshake never ends.
- :class:`EarlyAnswerHeartbeatServer`: answers a heartbeat record pipelined behind the ClientHello (with a
  heartbeat_response or a fatal alert) *before* its own TLS 1.2 flight, then sends the flight.

Common ground (:class:`HostileServer`): binds ``127.0.0.1`` port 0, ``.port``/``.address``, a context manager;
``stop()`` shuts down and closes every socket and joins every thread within a few poll intervals even while
clients are still connected (it raises when a thread would not end). A connection is counted as open from
``accept()`` until the server closes it; ``max_concurrent_connections`` is the peak. Waits between drips are
waits on the stop event, so a drip never delays ``stop()``. Used directly as context managers by the tests
(no fixtures in ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import attrs

from tests.servers.sockets import lingering_close
from tests.servers.tlslite_flaws import heartbeat_response
from tlsprobe.testing import generate_test_pki
from tlsprobe.wire import (
    MAX_FRAGMENT_LENGTH,
    MAX_RECORD_LENGTH,
    AlertDescription,
    AlertLevel,
    ContentType,
    ExtensionType,
    encode_record,
    parse_client_hello,
)

_POLL_S = 0.05
_SEND_TIMEOUT_S = 5.0
_STOP_TIMEOUT_S = 5.0
_RECORD_HEADER_LENGTH = 5
_HANDSHAKE_HEADER_LENGTH = 4
_TLS1_2_RECORD_VERSION = 0x0303

#: Prefix of every thread these servers start.
THREAD_PREFIX = "hostile-"


class HostileServer:
    """The common base: a listener on 127.0.0.1, one thread per connection running ``_serve``, counters."""

    def __init__(self) -> None:
        self.accepted_connections = 0
        self.current_connections = 0
        self.max_concurrent_connections = 0
        self.bytes_sent = 0
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._port: int | None = None
        self._accept_thread: threading.Thread | None = None
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._every_socket: list[socket.socket] = []

    # -- life cycle -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> Self:
        listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        listener.settimeout(_POLL_S)
        self._listener = listener
        self._every_socket.append(listener)
        self._port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{THREAD_PREFIX}{type(self).__name__}-accept", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut every connection, join every thread; raises if a thread is still running after
        ``_STOP_TIMEOUT_S`` (a bug in the server, never the client's doing)."""
        self._stopping.set()
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        threads: list[threading.Thread] = []
        if self._accept_thread is not None:
            # Joined first: no connection can be registered after this, so the snapshot below is complete.
            self._accept_thread.join(_STOP_TIMEOUT_S)
            threads.append(self._accept_thread)
        if self._listener is not None:
            self._listener.close()
        with self._condition:
            sockets = list(self._sockets)
            threads += self._threads
        for sock in sockets:  # wakes a thread blocked in recv or send at once
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in self._every_socket:
            sock.close()
        running = [thread.name for thread in threads if thread.is_alive()]
        if running:
            raise RuntimeError(f"{type(self).__name__}.stop(): threads still running: {running}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def open_sockets(self) -> int:
        """Sockets of this server (the listener included) not closed yet."""
        with self._condition:
            return sum(1 for sock in self._every_socket if sock.fileno() != -1)

    @property
    def running_threads(self) -> int:
        """Threads of this server still alive."""
        with self._condition:
            threads = [*self._threads, self._accept_thread]
        return sum(1 for thread in threads if thread is not None and thread.is_alive())

    def wait_until(self, predicate: Callable[[Self], bool], timeout: float = 5.0) -> bool:
        """Wait (at most ``timeout``) until ``predicate(self)`` holds; checked whenever a counter changes."""
        with self._condition:
            return self._condition.wait_for(lambda: predicate(self), timeout)

    def wait_accepted(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` connections have been accepted."""
        return self.wait_until(lambda server: server.accepted_connections >= count, timeout)

    # -- accepting --------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                connection, _peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(
                target=self._run, args=(connection,), name=f"{THREAD_PREFIX}{type(self).__name__}-conn", daemon=True
            )
            with self._condition:
                self.accepted_connections += 1
                self.current_connections += 1
                self.max_concurrent_connections = max(self.max_concurrent_connections, self.current_connections)
                self._sockets.add(connection)
                self._every_socket.append(connection)
                self._threads.add(thread)
                self._condition.notify_all()
            thread.start()

    def _run(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(_POLL_S)
            self._serve(connection)
        except Exception:  # a client that resets, or stop() cutting the socket: never die noisily
            pass
        finally:
            connection.close()
            with self._condition:
                self.current_connections -= 1
                self._sockets.discard(connection)
                self._threads.discard(threading.current_thread())
                self._condition.notify_all()

    def _serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    # -- helpers for _serve -----------------------------------------------------------------------------------

    def _count(self, **increments: int) -> None:
        with self._condition:
            for name, increment in increments.items():
                setattr(self, name, getattr(self, name) + increment)
            self._condition.notify_all()

    def _receive(self, connection: socket.socket) -> bytes | None:
        """What the client sent next: bytes, ``b""`` at its FIN, None when nothing came within a poll."""
        try:
            return connection.recv(65536)
        except TimeoutError:
            return None

    def _read_until_eof(self, connection: socket.socket, on_data: Callable[[bytes], None]) -> bool:
        """Pass what the client sends to ``on_data`` until its FIN (True) or until stopped (False)."""
        while not self._stopping.is_set():
            data = self._receive(connection)
            if data == b"":
                return True
            if data:
                on_data(data)
        return False

    def _send(self, connection: socket.socket, data: bytes) -> None:
        if not data:
            return
        connection.settimeout(_SEND_TIMEOUT_S)  # stop() cuts a blocked send with a shutdown
        try:
            connection.sendall(data)
        finally:
            connection.settimeout(_POLL_S)
        self._count(bytes_sent=len(data))

    def _drip(self, connection: socket.socket, chunks: Iterable[bytes], interval_s: float) -> None:
        """Send ``chunks`` one per ``interval_s`` (the first at once) until they run out or the server stops."""
        for chunk in chunks:
            if self._stopping.is_set():
                return
            self._send(connection, chunk)
            if self._stopping.wait(interval_s):
                return

    def _idle(self) -> None:
        """Hold the connection open, doing nothing, until stopped."""
        self._stopping.wait()


# -- TLS answers from Python's ssl ----------------------------------------------------------------------------


@functools.cache
def _default_pem() -> tuple[bytes, bytes]:
    """An RSA certificate chain and its key from a throw-away test PKI, generated once per process."""
    with tempfile.TemporaryDirectory(prefix="hostile-pki-") as directory:
        pki = generate_test_pki(Path(directory))
        return pki.rsa_chain.read_bytes(), pki.rsa_key.read_bytes()


def tls_server_context(
    certfile: Path | None = None,
    keyfile: Path | None = None,
    *,
    maximum_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context for the servers' TLS answers: the given certificate (e.g. from the ``test_pki``
    fixture) or a throw-away RSA one for localhost; TLS 1.2 and up, at most ``maximum_version``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if maximum_version is not None:
        context.maximum_version = maximum_version
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile)
        return context
    chain, key = _default_pem()
    with tempfile.TemporaryDirectory(prefix="hostile-cert-") as directory:
        chain_path, key_path = Path(directory, "chain.pem"), Path(directory, "key.pem")
        chain_path.write_bytes(chain)
        key_path.write_bytes(key)
        context.load_cert_chain(chain_path, key_path)
    return context


class _Responder:
    """The server side of a handshake over memory BIOs: client bytes in, server bytes out, nothing sent."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.failed = False
        self.completed = False

    def feed(self, data: bytes) -> bytes:
        """Give the client's bytes to ssl; what it would send in answer (a flight, or an alert when it failed).
        Once the handshake failed or completed, further client bytes are dropped."""
        if self.failed or self.completed:
            return b""
        self._incoming.write(data)
        try:
            self._tls.do_handshake()
            self.completed = True
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError:
            self.failed = True
        return self._outgoing.read()


def _one_byte_at_a_time(data: bytes) -> Iterator[bytes]:
    return (data[index : index + 1] for index in range(len(data)))


def endless_records(
    content_type: int = ContentType.handshake, version: int = _TLS1_2_RECORD_VERSION
) -> Iterator[bytes]:
    """One byte at a time, forever: records of ``content_type`` announcing 2^14 bytes, each filled with zeros."""
    header = bytes((content_type,)) + version.to_bytes(2, "big") + MAX_FRAGMENT_LENGTH.to_bytes(2, "big")
    while True:
        yield from _one_byte_at_a_time(header)
        for _ in range(MAX_FRAGMENT_LENGTH):
            yield b"\x00"


def handshake_drip(flight: bytes) -> Iterator[bytes]:
    """What :class:`DripHandshakeServer` sends, one byte per chunk: ``flight``, then :func:`endless_records`."""
    yield from _one_byte_at_a_time(flight)
    yield from endless_records()


def _zeros() -> Iterator[bytes]:
    while True:
        yield b"\x00"


# -- the servers ----------------------------------------------------------------------------------------------


class SilentServer(HostileServer):
    """Accepts, reads and discards whatever comes, never sends a byte, never closes (until stopped)."""

    def _serve(self, connection: socket.socket) -> None:
        if self._read_until_eof(connection, lambda data: None):
            self._idle()  # the client's FIN changes nothing


class DripAfterFinServer(HostileServer):
    """Reads until the client's FIN, then keeps the connection open and sends one byte every ``interval_s``
    until stopped; never closes.

    With ``answer_hello`` the client's bytes go to a real TLS server (``context``, or a throw-away RSA
    certificate) and its answers (ServerHello flight, alerts) are sent as they come, so a hello is answered
    as by any server; the bytes after the FIN are then an endless handshake record (header announcing 2^14
    bytes, then zeros) rather than ``drip``'s default, bare zero bytes. ``fins_received`` counts the FINs.
    """

    def __init__(
        self,
        interval_s: float,
        *,
        answer_hello: bool = False,
        context: ssl.SSLContext | None = None,
        drip: Literal["zeros", "records"] | None = None,
    ) -> None:
        super().__init__()
        if context is not None and not answer_hello:
            raise ValueError("a TLS context is only used with answer_hello=True")
        self.interval_s = interval_s
        self.answer_hello = answer_hello
        self._context = (context or tls_server_context()) if answer_hello else None
        self.drip = drip or ("records" if answer_hello else "zeros")
        self.fins_received = 0

    def _serve(self, connection: socket.socket) -> None:
        responder = None if self._context is None else _Responder(self._context)

        def answer(data: bytes) -> None:
            if responder is not None:
                self._send(connection, responder.feed(data))

        if not self._read_until_eof(connection, answer):
            return
        self._count(fins_received=1)
        self._drip(connection, endless_records() if self.drip == "records" else _zeros(), self.interval_s)


class DripHandshakeServer(HostileServer):
    """Reads the ClientHello, answers it with a real TLS flight from Python's ssl (``context``, or a throw-away
    RSA certificate) one byte every ``interval_s``, then one byte of an endless handshake record every
    ``interval_s`` (:func:`handshake_drip`), until stopped; never closes, ignores the client's FIN and bytes.

    ``flights`` holds each connection's whole flight as ssl produced it, for tests to compare against.
    """

    def __init__(self, interval_s: float, *, context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._context = context or tls_server_context()
        self.flights: list[bytes] = []

    def _serve(self, connection: socket.socket) -> None:
        responder = _Responder(self._context)
        flight = b""
        while not flight:
            data = self._receive(connection)
            if self._stopping.is_set():
                return
            if data == b"":  # gone before its hello was complete: hold the connection anyway
                self._idle()
                return
            if data:
                flight = responder.feed(data)
                if responder.failed and not flight:
                    self._idle()
                    return
        with self._condition:
            self.flights.append(flight)
        self._drip(connection, handshake_drip(flight), self.interval_s)


@attrs.frozen
class _Record:
    content_type: int
    version: int
    payload: bytes

    @property
    def raw(self) -> bytes:
        header = bytes((self.content_type,)) + self.version.to_bytes(2, "big") + len(self.payload).to_bytes(2, "big")
        return header + self.payload


class _NotTLSError(Exception):
    """The client sent something that is not a TLS record: the connection ends (``_run`` closes it)."""


class _RecordReader:
    """The client's records, one at a time, read from the socket as needed."""

    def __init__(self, server: HostileServer, connection: socket.socket) -> None:
        self._server = server
        self._connection = connection
        self._buffer = bytearray()
        self.eof = False

    def _pop(self) -> _Record | None:
        if len(self._buffer) < _RECORD_HEADER_LENGTH:
            return None
        length = int.from_bytes(self._buffer[3:5], "big")
        if self._buffer[1] != 3 or length > MAX_RECORD_LENGTH:
            raise _NotTLSError(bytes(self._buffer[:_RECORD_HEADER_LENGTH]).hex())
        end = _RECORD_HEADER_LENGTH + length
        if len(self._buffer) < end:
            return None
        record = _Record(
            self._buffer[0], int.from_bytes(self._buffer[1:3], "big"), bytes(self._buffer[_RECORD_HEADER_LENGTH:end])
        )
        del self._buffer[:end]
        return record

    def next(self, deadline: float | None = None) -> _Record | None:
        """The next record; None at the client's FIN, when stopped, or (with a ``deadline``) when none is
        complete by then."""
        while True:
            record = self._pop()
            if record is not None:
                return record
            if self.eof or self._server._stopping.is_set():
                return None
            if deadline is not None and time.monotonic() >= deadline:
                return None
            data = self._server._receive(self._connection)
            if data == b"":
                self.eof = True
            elif data:
                self._buffer += data


def _complete_message(handshake: bytearray) -> bool:
    return len(handshake) >= _HANDSHAKE_HEADER_LENGTH and len(handshake) >= _HANDSHAKE_HEADER_LENGTH + int.from_bytes(
        handshake[1:4], "big"
    )


class EarlyAnswerHeartbeatServer(HostileServer):
    """Answers a heartbeat record that follows the ClientHello *before* its own handshake flight.

    Reads the ClientHello records (checked with ``tlsprobe.wire.parse_client_hello``) and has Python's ssl
    (``context``, or a throw-away RSA certificate; TLS 1.2 at most) answer them alone, holding its flight back.
    When the hello offered the heartbeat extension it waits up to ``hold_s`` for a heartbeat record (at once
    otherwise: only records already received count). The first one is answered at once, with ``answer``:

    - ``"heartbeat"``: a heartbeat_response of the request's declared length, over-reading into fake memory as
      OpenSSL 1.0.1f did (``tlslite_flaws.heartbeat_response``; nothing for a record that is not a request);
    - ``"alert"``: a fatal unexpected_message alert;

    and only then the TLS 1.2 flight (ServerHello ... ServerHelloDone) goes out. After that it behaves as a
    server: every further heartbeat record gets the same answer, other records go to ssl and its answer is
    sent; after a failed handshake (ssl's alert sent) or the client's FIN it closes (lingering).
    ``early_answers`` counts the answers sent ahead of a flight.
    """

    def __init__(
        self,
        *,
        answer: Literal["heartbeat", "alert"] = "heartbeat",
        context: ssl.SSLContext | None = None,
        hold_s: float = 2.0,
    ) -> None:
        super().__init__()
        self.answer = answer
        self.hold_s = hold_s
        self._context = context or tls_server_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        self.early_answers = 0

    def _answer(self, record: _Record) -> bytes:
        if self.answer == "alert":
            return encode_record(
                ContentType.alert, record.version, bytes((AlertLevel.fatal, AlertDescription.unexpected_message))
            )
        response = heartbeat_response(record.payload)
        return b"" if response is None else encode_record(ContentType.heartbeat, record.version, response)

    def _serve(self, connection: socket.socket) -> None:
        reader = _RecordReader(self, connection)
        hello_records = bytearray()
        handshake = bytearray()
        while not _complete_message(handshake):
            record = reader.next()
            if record is None or record.content_type != ContentType.handshake:
                return  # gone, stopped, or not a TLS client: hang up
            handshake += record.payload
            hello_records += record.raw
        end = _HANDSHAKE_HEADER_LENGTH + int.from_bytes(handshake[1:4], "big")
        hello = parse_client_hello(bytes(handshake[:end]))
        responder = _Responder(self._context)
        flight = responder.feed(bytes(hello_records))

        held: list[_Record] = []
        hold_s = self.hold_s if hello.extension(ExtensionType.heartbeat) is not None else 0.0
        deadline = time.monotonic() + hold_s
        while (record := reader.next(deadline)) is not None:
            if record.content_type == ContentType.heartbeat:
                self._send(connection, self._answer(record))
                self._count(early_answers=1)
                break
            held.append(record)
        self._send(connection, flight)

        def later_records() -> Iterator[_Record]:
            yield from held
            while (record := reader.next()) is not None:
                yield record

        for record in later_records():
            if responder.failed:
                break
            if record.content_type == ContentType.heartbeat:
                self._send(connection, self._answer(record))
            else:
                self._send(connection, responder.feed(record.raw))
        if not self._stopping.is_set():
            lingering_close(connection)
