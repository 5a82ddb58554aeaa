"""A TLS 1.2 server on loopback that answers records pipelined behind the ClientHello out of order: with a fatal
alert before its flight, or inside it, and then sends its flight all the same.

:class:`EarlyAnswerServer` answers whatever record comes right behind the hello (the byte-level probes' early
records: a ChangeCipherSpec, a ClientKeyExchange, a heartbeat); ``tests/servers/hostile.py``'s
``EarlyAnswerHeartbeatServer`` answers only heartbeats. The flight is Python ssl's own (an ``SSLObject`` on memory
BIOs fed the hello alone); every later record goes to ssl, whose answers are sent as they come.
"""

from __future__ import annotations

import socket
import ssl
from typing import Literal

from tests.servers.hostile import HostileServer, tls_server_context
from tests.servers.sockets import lingering_close
from tlsprobe.wire import AlertDescription, AlertLevel, ContentType, HandshakeType, encode_record
from tlsprobe.wire._records import Record, RecordReader

_HANDSHAKE_HEADER_LENGTH = 4


def rsa_key_exchange_context() -> ssl.SSLContext:
    """TLS 1.2 at most, with RSA key exchange besides ECDHE (so that ROBOT has something to test)."""
    context = tls_server_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    context.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES128-SHA")
    return context


class _Connection:
    """One client's records, and the server side of its handshake (ssl over memory BIOs)."""

    def __init__(self, server: EarlyAnswerServer, sock: socket.socket, context: ssl.SSLContext) -> None:
        self._server = server
        self._sock = sock
        self._records = RecordReader()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.failed = False
        self.eof = False

    def receive(self) -> bool:
        """Read what the client sent next; False at its FIN or when the server stops."""
        while not self._server.stopping:
            data = self._server.receive(self._sock)
            if data == b"":
                self.eof = True
                return False
            if data:
                self._records.feed(data)
                return True
        return False

    def receive_buffered(self) -> None:
        """Take what the client has sent already, without waiting (pipelined records come in the hello's
        segment: the client wrote them in the same send)."""
        timeout = self._sock.gettimeout()
        self._sock.settimeout(0.0)
        try:
            data = self._sock.recv(65536)
        except BlockingIOError:
            return
        finally:
            self._sock.settimeout(timeout)
        if data == b"":
            self.eof = True
        self._records.feed(data)

    def next_record(self) -> Record | None:
        return self._records.next_record()

    def handshake(self, records: bytes) -> bytes:
        """Give the client's records to ssl; what it sends in answer (a flight, or an alert once it failed)."""
        if self.failed:
            return b""
        self._incoming.write(records)
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError:
            self.failed = True
        return self._outgoing.read()


def _raw(record: Record) -> bytes:
    return encode_record(record.content_type, record.version, record.payload)


def _split_after_server_hello(flight: bytes) -> tuple[bytes, bytes]:
    """ssl's flight as its ServerHello in a record of its own, and the rest in another (however ssl framed it)."""
    reader = RecordReader()
    reader.feed(flight)
    handshake = b""
    version = 0x0303
    while (record := reader.next_record()) is not None:
        assert record.content_type == ContentType.handshake, record
        handshake += record.payload
        version = record.version
    assert handshake[0] == HandshakeType.server_hello
    end = _HANDSHAKE_HEADER_LENGTH + int.from_bytes(handshake[1:4], "big")
    return (
        encode_record(ContentType.handshake, version, handshake[:end]),
        encode_record(ContentType.handshake, version, handshake[end:]),
    )


class EarlyAnswerServer(HostileServer):
    """A TLS 1.2 server (``context``; by default RSA and ECDHE key exchange, see ``rsa_key_exchange_context``)
    that answers records pipelined right behind the ClientHello (already received with it) with a fatal
    unexpected_message alert, ``placement`` ``"before"`` its flight or ``"inside"`` it (after the ServerHello),
    then sends its flight all the same; without such records it is a plain server. After the flight every record
    goes to ssl, its answers sent back; it closes once ssl failed, at the client's FIN, or when stopped.
    ``early_answers`` counts the connections answered out of order."""

    def __init__(
        self, *, placement: Literal["before", "inside"] = "before", context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__()
        self.placement = placement
        self._context = context or rsa_key_exchange_context()
        self.early_answers = 0

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def receive(self, sock: socket.socket) -> bytes | None:
        return self._receive(sock)

    def _serve(self, connection: socket.socket) -> None:
        client = _Connection(self, connection, self._context)
        hello = b""
        handshake = b""
        while len(handshake) < _HANDSHAKE_HEADER_LENGTH or len(handshake) < _HANDSHAKE_HEADER_LENGTH + int.from_bytes(
            handshake[1:4], "big"
        ):
            record = client.next_record()
            if record is None:
                if not client.receive():
                    return
                continue
            if record.content_type != ContentType.handshake or handshake[:1] not in (b"", b"\x01"):
                return  # not a TLS client: hang up
            handshake += record.payload
            hello += _raw(record)
        flight = client.handshake(hello)
        client.receive_buffered()
        early = client.next_record()
        if early is not None:
            alert = encode_record(
                ContentType.alert, early.version, bytes((AlertLevel.fatal, AlertDescription.unexpected_message))
            )
            if self.placement == "before":
                flight = alert + flight
            else:
                server_hello, rest = _split_after_server_hello(flight)
                flight = server_hello + alert + rest
            self._count(early_answers=1)
        self._send(connection, flight)
        pending = early
        while not client.failed:
            record = pending if pending is not None else client.next_record()
            pending = None
            if record is None:
                if client.eof or not client.receive():
                    break
                continue
            self._send(connection, client.handshake(_raw(record)))
        if not self._stopping.is_set():
            lingering_close(connection)
