"""A server on loopback that answers ClientHellos with malformed ServerHellos, really sent on the wire.

:class:`MalformedHelloServer` reads a ClientHello (checked with ``tlsprobe.wire.parse_client_hello``) and answers
it as its ``case`` says, each answer built to be valid in every other respect (a suite, a version and a compression
method the client offered, its session id echoed under TLS 1.3), so that the one flaw is what a client meets:

- ``"duplicate_extension"``: a TLS 1.2 ServerHello with renegotiation_info twice, then ServerHelloDone;
- ``"tls13_without_key_share"``: a TLS 1.3 ServerHello (supported_versions 0x0304) with no key_share;
- ``"cut_then_reset"``: the first ``CUT_AT`` bytes of a valid TLS 1.2 ServerHello record, then, once the client
  has them (the send queue is empty), a reset (``SO_LINGER`` 0);
- ``"extension_overrun"``: a TLS 1.2 ServerHello whose last extension announces more bytes than are left;
- ``"version_not_offered"``: a TLS 1.3 ServerHello (with a key share) choosing a suite below TLS 1.3: to a hello
  that offered TLS 1.2 at most, a version not offered; to one offering TLS 1.3, a suite of another version;
- ``"suite_not_offered"``: a TLS 1.2 ServerHello choosing a suite the hello did not offer;
- ``"compression_not_offered"``: a TLS 1.2 ServerHello choosing DEFLATE when only null compression was offered;
- ``"key_share_not_offered"``: a TLS 1.3 ServerHello whose key share is for secp384r1, for which the client
  sent no share;
- ``"empty_hello_retry_request"``: a HelloRetryRequest that asks for neither a key share nor a cookie.

With ``only_without_supported_versions`` the malformed answer goes only to hellos without supported_versions
(TLS 1.2 and older hellos: the cipher-suite enumerations' below TLS 1.3); a hello with it gets a real TLS 1.2 answer
from Python's ssl, as from any server, and the rest of the connection goes to ssl too. So the connectivity phase
reaches the server and the misbehaviour meets the checks. ``malformed_answers`` counts the malformed answers sent.
"""

from __future__ import annotations

import array
import fcntl
import os
import socket
import ssl
import struct
import termios
from typing import Literal

from tests.servers.hostile import HostileServer, tls_server_context
from tests.servers.sockets import lingering_close
from tlsprobe.wire import ContentType, ExtensionType, HandshakeType, TLSVersion, encode_record, parse_client_hello
from tlsprobe.wire._records import RecordReader
from tlsprobe.wire.catalogue import suites_for_version

Case = Literal[
    "duplicate_extension",
    "tls13_without_key_share",
    "cut_then_reset",
    "extension_overrun",
    "version_not_offered",
    "suite_not_offered",
    "compression_not_offered",
    "key_share_not_offered",
    "empty_hello_retry_request",
]
CASES: tuple[Case, ...] = (
    "duplicate_extension",
    "tls13_without_key_share",
    "cut_then_reset",
    "extension_overrun",
    "version_not_offered",
    "suite_not_offered",
    "compression_not_offered",
    "key_share_not_offered",
    "empty_hello_retry_request",
)
CUT_AT = 40
"""Bytes of the ServerHello record sent before the reset: the record header and part of the message."""

_HANDSHAKE_HEADER_LENGTH = 4
_TLS1_2 = 0x0303
_TLS1_3 = 0x0304
_X25519, _SECP384R1 = 0x001D, 0x0018
_DEFLATE = 1
# RFC 8446 §4.1.3: the random that marks a HelloRetryRequest.
_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
_TLS13_SUITES = frozenset(suite.code for suite in suites_for_version(TLSVersion.TLS1_3))
_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
_POLL_S = 0.001


def _vector(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _extension(ext_type: int, body: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + _vector(2, body)


def server_hello_message(
    *,
    version: int = _TLS1_2,
    random: bytes | None = None,
    session_id: bytes = b"",
    suite: int,
    compression: int = 0,
    extensions: bytes = b"",
) -> bytes:
    """A ServerHello handshake message (header included) from its fields; ``extensions`` is the raw block's
    content (its length is added)."""
    body = (
        version.to_bytes(2, "big")
        + (random if random is not None else os.urandom(32))
        + _vector(1, session_id)
        + suite.to_bytes(2, "big")
        + bytes((compression,))
        + _vector(2, extensions)
    )
    return bytes((HandshakeType.server_hello,)) + _vector(3, body)


def _handshake_record(*messages: bytes) -> bytes:
    return encode_record(ContentType.handshake, _TLS1_2, b"".join(messages))


_SERVER_HELLO_DONE = bytes((HandshakeType.server_hello_done,)) + _vector(3, b"")


def malformed_answer(case: Case, hello_message: bytes) -> bytes:
    """The bytes ``case`` answers the ClientHello handshake message ``hello_message`` with (``cut_then_reset``:
    the whole valid record, of which the server sends only the first ``CUT_AT`` bytes)."""
    hello = parse_client_hello(hello_message)
    older = [c for c in hello.cipher_suites if c not in _TLS13_SUITES and c != _EMPTY_RENEGOTIATION_INFO_SCSV]
    newer = [code for code in hello.cipher_suites if code in _TLS13_SUITES]
    tls12_suite = older[0] if older else hello.cipher_suites[0]
    legacy = min(hello.legacy_version, _TLS1_2)  # TLS 1.2 or the client's older version, as a server answers
    renegotiation_info = _extension(ExtensionType.renegotiation_info, b"\x00")
    share = _extension(ExtensionType.key_share, _X25519.to_bytes(2, "big") + _vector(2, os.urandom(32)))
    tls13 = _extension(ExtensionType.supported_versions, _TLS1_3.to_bytes(2, "big"))
    tls13_suite = newer[0] if newer else 0x1301
    if case == "duplicate_extension":
        return _handshake_record(
            server_hello_message(version=legacy, suite=tls12_suite, extensions=renegotiation_info * 2),
            _SERVER_HELLO_DONE,
        )
    if case == "tls13_without_key_share":
        message = server_hello_message(session_id=hello.session_id, suite=tls13_suite, extensions=tls13)
        return _handshake_record(message)
    if case == "cut_then_reset":
        return _handshake_record(
            server_hello_message(version=legacy, suite=tls12_suite, extensions=renegotiation_info), _SERVER_HELLO_DONE
        )
    if case == "extension_overrun":
        overrun = ExtensionType.renegotiation_info.to_bytes(2, "big") + (40).to_bytes(2, "big") + b"\x00"
        return _handshake_record(
            server_hello_message(version=legacy, suite=tls12_suite, extensions=overrun), _SERVER_HELLO_DONE
        )
    if case == "version_not_offered":
        message = server_hello_message(session_id=hello.session_id, suite=tls12_suite, extensions=tls13 + share)
        return _handshake_record(message)
    if case == "suite_not_offered":
        catalogue = (suite.code for suite in suites_for_version(TLSVersion.TLS1_2))
        unoffered = next(code for code in catalogue if code not in hello.cipher_suites)
        return _handshake_record(
            server_hello_message(version=legacy, suite=unoffered, extensions=renegotiation_info), _SERVER_HELLO_DONE
        )
    if case == "compression_not_offered":
        return _handshake_record(
            server_hello_message(
                version=legacy, suite=tls12_suite, compression=_DEFLATE, extensions=renegotiation_info
            ),
            _SERVER_HELLO_DONE,
        )
    if case == "key_share_not_offered":
        other = _extension(ExtensionType.key_share, _SECP384R1.to_bytes(2, "big") + _vector(2, b"\x04" + bytes(96)))
        message = server_hello_message(session_id=hello.session_id, suite=tls13_suite, extensions=tls13 + other)
        return _handshake_record(message)
    assert case == "empty_hello_retry_request", case
    message = server_hello_message(random=_HRR_RANDOM, session_id=hello.session_id, suite=tls13_suite, extensions=tls13)
    return _handshake_record(message)


class MalformedHelloServer(HostileServer):
    """Answers ClientHellos with the malformed ServerHello of ``case`` (see the module docstring)."""

    def __init__(self, case: Case, *, only_without_supported_versions: bool = False) -> None:
        super().__init__()
        self.case = case
        self.only_without_supported_versions = only_without_supported_versions
        self._context = tls_server_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        self.malformed_answers = 0

    def _serve(self, connection: socket.socket) -> None:
        records = RecordReader()
        hello_records = bytearray()
        handshake = bytearray()
        while len(handshake) < _HANDSHAKE_HEADER_LENGTH or len(handshake) < _HANDSHAKE_HEADER_LENGTH + int.from_bytes(
            handshake[1:4], "big"
        ):
            record = records.next_record()
            if record is None:
                data = self._receive(connection)
                if data == b"" or self._stopping.is_set():
                    return
                if data:
                    records.feed(data)
                continue
            if record.content_type != ContentType.handshake:
                return  # not a TLS client: hang up
            handshake += record.payload
            hello_records += encode_record(record.content_type, record.version, record.payload)
        end = _HANDSHAKE_HEADER_LENGTH + int.from_bytes(handshake[1:4], "big")
        message = bytes(handshake[:end])
        if self.only_without_supported_versions and parse_client_hello(message).supported_versions:
            self._serve_with_ssl(connection, bytes(hello_records), records)
            return
        answer = malformed_answer(self.case, message)
        self._count(malformed_answers=1)
        if self.case == "cut_then_reset":
            self._send(connection, answer[:CUT_AT])
            if not self._wait_until_received(connection):
                return
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return  # closed by the base class: with SO_LINGER 0, a reset
        self._send(connection, answer)
        if not self._stopping.is_set():
            lingering_close(connection)

    def _wait_until_received(self, connection: socket.socket) -> bool:
        """Wait until the client's kernel has acknowledged every byte sent (the send queue is empty), so that the
        reset cannot discard bytes meant to reach the client before it; False when stopped first. A poll for a
        condition, not a wait for time to pass."""
        while not self._stopping.is_set():
            queued = array.array("i", [0])
            fcntl.ioctl(connection, termios.TIOCOUTQ, queued)
            if queued[0] == 0:
                return True
            self._stopping.wait(_POLL_S)
        return False

    def _serve_with_ssl(self, connection: socket.socket, hello: bytes, records: RecordReader) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)
        incoming.write(hello + records.take_buffered())
        while not self._stopping.is_set():
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                self._send(connection, outgoing.read())
                break
            else:
                self._send(connection, outgoing.read())
                break
            self._send(connection, outgoing.read())
            data = self._receive(connection)
            if data == b"":
                break
            if data:
                incoming.write(data)
        if not self._stopping.is_set():
            lingering_close(connection)
