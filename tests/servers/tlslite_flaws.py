"""Deliberate flaws for the tlslite-ng test server: Heartbleed, CCS injection and a ROBOT padding oracle.

:class:`FlawedSocket` wraps the accepted socket. It sees every client record before tlslite does, and every
record tlslite sends, and misbehaves on the wire the way vulnerable OpenSSL builds did. It only reads records
while they are cleartext (before the client's ChangeCipherSpec, and never once TLS 1.3 is negotiated) plus
the RSA ClientKeyExchange; it knows nothing of any scanner. Records are handled lazily, one at a time, when
tlslite asks for more bytes, so the wrapper always knows what tlslite has sent before the record arrived.

**Heartbleed** (CVE-2014-0160, OpenSSL 1.0.1 to 1.0.1f). A heartbeat record (content type 24) holding a
heartbeat_request is answered by the wrapper, never passed to tlslite, whether or not the heartbeat
extension was negotiated (OpenSSL did not check). The answer is a heartbeat_response of the *declared*
payload_length: the bytes the request really carried after its length field, then, when it declared more
than it sent, bytes "read past the request" from a fake secret buffer (``SECRET-KEY-MATERIAL`` repeated),
then 16 random padding bytes, split into records of at most 2^14 bytes under the request's record version.
Requests without the RFC 6520 minimum of 16 padding bytes are answered too (1.0.1g started dropping them;
SSLyze's non-exploiting probe relies on that). Heartbeat responses from the client are dropped. The clean
server leaves heartbeats to tlslite: once the client offered the extension, tlslite answers a well-formed
request that has 16 or more padding bytes and silently ignores one whose payload_length exceeds the record
(and one without the padding); before the extension is negotiated it answers unexpected_message. tlslite
already sends the heartbeat extension (mode peer_allowed_to_send) in its ServerHello whenever the client
offers it (``HandshakeSettings.use_heartbeat_extension`` is on by default), flawed or not.

**CCS injection** (CVE-2014-0224, OpenSSL before 0.9.8za, 1.0.0m and 1.0.1h). A ChangeCipherSpec from the
client after the server's ServerHelloDone but before its ClientKeyExchange (TLS 1.2 and below) is swallowed,
as if the server had switched to keys derived from an empty master secret; the next client record, whatever
its content type, is then "undecryptable" and gets a fatal bad_record_mac alert (20) before the connection
closes. The clean tlslite server answers such an early CCS at once with a fatal unexpected_message alert (10),
as patched OpenSSL does.

**ROBOT** (Bleichenbacher's oracle, CVE-2017-13099 and its family). When the ServerHello chose an RSA
key-exchange suite (tlslite's ``CipherSuite.certSuites``, the TLS_RSA_WITH_* ones), the wrapper raw-decrypts
the ClientKeyExchange (``m = c^d mod n``) and classifies the PKCS#1 v1.5 block: ``00 02``, at least 8 nonzero
padding bytes, ``00``, a 48-byte premaster that starts with the ClientHello's client_version. A correct block
is passed to tlslite untouched. tlslite's own answer to it (and, being constant-time, to any malformed one)
when a ChangeCipherSpec and a junk Finished follow is a fatal bad_record_mac alert (20); with the
ClientKeyExchange alone it waits for the next record (it closes without an alert when the client closes,
after its 5-second timeout otherwise). A malformed block changes that:

- ``weak``: the ClientKeyExchange still goes to tlslite, and so does the client's ChangeCipherSpec, but the
  record after that (the Finished) makes the server close the connection silently, with no alert. All
  malformations look alike, and only with the whole ClientKeyExchange + ChangeCipherSpec + Finished flight:
  the ClientKeyExchange alone gets the same answer as a correct one.
- ``strong``: the ClientKeyExchange alone is answered at once with a fatal alert that depends on the
  malformation, then the connection closes: wrong first two bytes -> handshake_failure (40), no ``00``
  separator -> decode_error (50), separator misplaced (padding shorter than 8 bytes or a premaster that is not
  48 bytes) -> decrypt_error (51), wrong version in the premaster -> illegal_parameter (47).

Each answer depends only on the kind of payload, so it is the same every time.
"""

from __future__ import annotations

import enum
import os
import socket
from typing import Any, Literal

import attrs
from tlslite.constants import AlertDescription, AlertLevel, CipherSuite, ContentType, ExtensionType, HandshakeType

RobotMode = Literal["weak", "strong"]

#: What a vulnerable server leaks: stands in for the heap memory OpenSSL copied past the request.
FAKE_SECRET = b"SECRET-KEY-MATERIAL"

_RECORD_HEADER_LENGTH = 5
_MAX_FRAGMENT = 2**14
_MAX_RECORD = _MAX_FRAGMENT + 2048
_HANDSHAKE_HEADER_LENGTH = 4
_HEARTBEAT_REQUEST = 1
_HEARTBEAT_RESPONSE = 2
_HEARTBEAT_PADDING = 16  # what OpenSSL 1.0.1 appended to every response
_PREMASTER_LENGTH = 48
_MIN_PKCS1_PADDING = 8
_SSL3 = 0x0300
_TLS1_3 = 0x0304
_RSA_KEY_EXCHANGE_SUITES = frozenset(CipherSuite.certSuites)


@attrs.frozen(kw_only=True)
class Flaws:
    """Which flaws a server has; all off means the plain tlslite server."""

    heartbleed: bool = False
    ccs_injection: bool = False
    robot: RobotMode | None = None

    @property
    def any(self) -> bool:
        """Whether the socket needs wrapping at all."""
        return self.heartbleed or self.ccs_injection or self.robot is not None


class Padding(enum.Enum):
    """How a decrypted RSA ClientKeyExchange block is formed (the five ROBOT payload kinds)."""

    VALID = "valid"
    WRONG_PREFIX = "wrong first two bytes"
    NO_SEPARATOR = "no 00 separator"
    MISPLACED_SEPARATOR = "00 separator misplaced"
    WRONG_VERSION = "wrong premaster version"


#: ``--robot strong``: the alert each malformation gets (a correct block gets none from the wrapper).
STRONG_ORACLE_ALERTS: dict[Padding, int] = {
    Padding.WRONG_PREFIX: AlertDescription.handshake_failure,
    Padding.NO_SEPARATOR: AlertDescription.decode_error,
    Padding.MISPLACED_SEPARATOR: AlertDescription.decrypt_error,
    Padding.WRONG_VERSION: AlertDescription.illegal_parameter,
}


def classify_premaster_block(block: bytes, client_version: int) -> Padding:
    """Classify a raw-decrypted PKCS#1 v1.5 block (as long as the modulus) holding a TLS premaster secret."""
    if block[:2] != b"\x00\x02":
        return Padding.WRONG_PREFIX
    separator = block.find(b"\x00", 2)
    if separator < 0:
        return Padding.NO_SEPARATOR
    if separator - 2 < _MIN_PKCS1_PADDING or len(block) - separator - 1 != _PREMASTER_LENGTH:
        return Padding.MISPLACED_SEPARATOR
    if int.from_bytes(block[separator + 1 : separator + 3], "big") != client_version:
        return Padding.WRONG_VERSION
    return Padding.VALID


def heartbeat_response(message: bytes) -> bytes | None:
    """OpenSSL 1.0.1f's answer to a HeartbeatMessage, or None when it sends nothing (not a request).

    The payload is copied for the declared payload_length, whatever the record really held: past the
    request, the copy runs into :data:`FAKE_SECRET`.
    """
    if len(message) < 3 or message[0] != _HEARTBEAT_REQUEST:
        return None
    declared = int.from_bytes(message[1:3], "big")
    sent = message[3:]
    over_read = max(0, declared - len(sent))
    leaked = (FAKE_SECRET * (over_read // len(FAKE_SECRET) + 1))[:over_read]
    payload = (sent + leaked)[:declared]
    return bytes((_HEARTBEAT_RESPONSE,)) + declared.to_bytes(2, "big") + payload + os.urandom(_HEARTBEAT_PADDING)


def encode_records(content_type: int, version: int, payload: bytes) -> bytes:
    """``payload`` as records of at most 2^14 bytes."""
    header = bytes((content_type,)) + version.to_bytes(2, "big")
    chunks = [payload[start : start + _MAX_FRAGMENT] for start in range(0, len(payload), _MAX_FRAGMENT)] or [b""]
    return b"".join(header + len(chunk).to_bytes(2, "big") + chunk for chunk in chunks)


def _handshake_messages(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Pop the complete handshake messages off the front of ``buffer``."""
    messages = []
    while len(buffer) >= _HANDSHAKE_HEADER_LENGTH:
        end = _HANDSHAKE_HEADER_LENGTH + int.from_bytes(buffer[1:4], "big")
        if len(buffer) < end:
            break
        messages.append((buffer[0], bytes(buffer[_HANDSHAKE_HEADER_LENGTH:end])))
        del buffer[:end]
    return messages


def _server_hello_fields(body: bytes) -> tuple[int, int] | None:
    """(negotiated version, cipher suite) of a ServerHello body, or None when it cannot be read."""
    try:
        version = int.from_bytes(body[0:2], "big")
        offset = 2 + 32
        offset += 1 + body[offset]
        suite = int.from_bytes(body[offset : offset + 2], "big")
        offset += 3  # suite and compression method
        if len(body) < offset:
            return None
        if len(body) >= offset + 2:
            end = offset + 2 + int.from_bytes(body[offset : offset + 2], "big")
            offset += 2
            while offset + 4 <= end:
                ext_type = int.from_bytes(body[offset : offset + 2], "big")
                ext_length = int.from_bytes(body[offset + 2 : offset + 4], "big")
                if ext_type == ExtensionType.supported_versions and ext_length == 2:
                    version = int.from_bytes(body[offset + 4 : offset + 6], "big")
                offset += 4 + ext_length
    except IndexError:
        return None
    return version, suite


class _Records:
    """Splits a byte stream into (content type, record version, payload, raw bytes) records."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def looks_like_tls(self) -> bool:
        """False when the stream does not start with an SSL 3.0+ record header (say an SSL 2.0 hello)."""
        if len(self.buffer) < 3:
            return True
        length = int.from_bytes(self.buffer[3:5], "big") if len(self.buffer) >= _RECORD_HEADER_LENGTH else 0
        return self.buffer[0] in ContentType.all and self.buffer[1] == 3 and length <= _MAX_RECORD

    def next(self) -> tuple[int, int, bytes, bytes] | None:
        if len(self.buffer) < _RECORD_HEADER_LENGTH:
            return None
        end = _RECORD_HEADER_LENGTH + int.from_bytes(self.buffer[3:5], "big")
        if len(self.buffer) < end:
            return None
        raw = bytes(self.buffer[:end])
        del self.buffer[:end]
        return raw[0], int.from_bytes(raw[1:3], "big"), raw[_RECORD_HEADER_LENGTH:], raw


class FlawedSocket:
    """The accepted socket as tlslite sees it, with ``flaws`` added on the wire.

    ``rsa_key`` is the server's (n, d), or None when its key is not RSA (no ROBOT then).
    """

    def __init__(self, sock: socket.socket, flaws: Flaws, rsa_key: tuple[int, int] | None) -> None:
        self._sock = sock
        self._flaws = flaws
        self._rsa_key = rsa_key
        self._incoming = _Records()
        self._to_tlslite = bytearray()
        self._raw = False  # not TLS records: pass everything through untouched
        self._ended = False  # the wrapper answered and closed: tlslite sees the end of the stream
        self._client_handshake = bytearray()
        self._client_version: int | None = None
        self._client_key_exchange_seen = False
        self._client_ccs_seen = False
        self._ccs_injected = False
        self._robot_pending = False  # weak oracle: close silently on the record after the client's CCS
        self._outgoing = _Records()
        self._server_handshake = bytearray()
        self._server_version: int | None = None
        self._server_suite: int | None = None
        self._server_hello_done_sent = False
        self._server_ccs_sent = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    # -- what tlslite sends

    def send(self, data: bytes) -> int:
        if self._ended:
            return len(data)
        sent = self._sock.send(data)
        self._sniff(bytes(data[:sent]))
        return sent

    def sendall(self, data: bytes) -> None:
        if self._ended:
            return
        self._sock.sendall(data)
        self._sniff(bytes(data))

    def _sniff(self, data: bytes) -> None:
        """Follow the server's cleartext flight: the chosen version and suite, and where the flight ends."""
        if self._server_ccs_sent:
            return
        self._outgoing.buffer += data
        while (record := self._outgoing.next()) is not None:
            content_type, _version, payload, _raw = record
            if content_type == ContentType.change_cipher_spec:
                self._server_ccs_sent = True
                return
            if content_type != ContentType.handshake:
                continue
            self._server_handshake += payload
            for message_type, body in _handshake_messages(self._server_handshake):
                if message_type == HandshakeType.server_hello and (fields := _server_hello_fields(body)):
                    self._server_version, self._server_suite = fields
                elif message_type == HandshakeType.server_hello_done:
                    self._server_hello_done_sent = True

    # -- what the client sends

    def recv(self, size: int, flags: int = 0) -> bytes:
        while not self._to_tlslite and not self._ended:
            if self._raw:
                return self._sock.recv(size)
            if not self._incoming.looks_like_tls():
                self._pass_rest_through()
            elif (record := self._incoming.next()) is not None:
                self._on_client_record(*record)
            elif data := self._sock.recv(65536):  # timeouts and would-block errors reach tlslite as they are
                self._incoming.buffer += data
            else:
                self._pass_rest_through()  # the client closed, maybe mid-record: tlslite reports it
        chunk = bytes(self._to_tlslite[:size])
        del self._to_tlslite[:size]
        return chunk

    def _pass_rest_through(self) -> None:
        """Stop reading records (not TLS, or the end of the stream): tlslite gets the bytes as they are."""
        self._to_tlslite += self._incoming.buffer
        self._incoming.buffer.clear()
        self._raw = True

    def _end(self, alert: int | None = None) -> None:
        """Answer with a fatal alert (or nothing) and let tlslite see the end of the stream."""
        if alert is not None:
            version = self._server_version or self._client_version or 0x0301
            self._sock.sendall(
                encode_records(ContentType.alert, min(version, 0x0303), bytes((AlertLevel.fatal, alert)))
            )
        self._ended = True

    @property
    def _cleartext(self) -> bool:
        tls13 = self._server_version is not None and self._server_version >= _TLS1_3
        return not (self._client_ccs_seen or self._server_ccs_sent or tls13)

    def _on_client_record(self, content_type: int, version: int, payload: bytes, raw: bytes) -> None:
        if self._ccs_injected:
            self._end(AlertDescription.bad_record_mac)  # "decrypted" under the null-derived key
            return
        if self._robot_pending and self._client_ccs_seen:
            self._end()
            return
        if not self._cleartext:
            self._to_tlslite += raw
            return
        if content_type == ContentType.heartbeat and self._flaws.heartbleed:
            response = heartbeat_response(payload)
            if response is not None:
                self._sock.sendall(encode_records(ContentType.heartbeat, version, response))
            return
        if content_type == ContentType.change_cipher_spec:
            if self._flaws.ccs_injection and self._server_hello_done_sent and not self._client_key_exchange_seen:
                self._ccs_injected = True
                return
            self._client_ccs_seen = True
        elif content_type == ContentType.handshake:
            self._client_handshake += payload
            for message_type, body in _handshake_messages(self._client_handshake):
                if message_type == HandshakeType.client_hello and len(body) >= 2:
                    self._client_version = int.from_bytes(body[:2], "big")
                elif message_type == HandshakeType.client_key_exchange:
                    self._client_key_exchange_seen = True
                    padding = self._robot_padding(body)
                    if padding not in (None, Padding.VALID):
                        if self._flaws.robot == "strong":
                            self._end(STRONG_ORACLE_ALERTS[padding])
                            return
                        self._robot_pending = True
        self._to_tlslite += raw

    def _robot_padding(self, body: bytes) -> Padding | None:
        """The kind of the ClientKeyExchange's RSA block, or None when the ROBOT flaw does not apply."""
        if self._flaws.robot is None or self._rsa_key is None or self._client_version is None:
            return None
        if self._server_suite not in _RSA_KEY_EXCHANGE_SUITES or self._server_version is None:
            return None
        modulus, private_exponent = self._rsa_key
        if self._server_version == _SSL3:
            ciphertext = body
        else:
            if len(body) < 2 or int.from_bytes(body[:2], "big") != len(body) - 2:
                return None  # malformed encoding: tlslite answers decode_error itself
            ciphertext = body[2:]
        size = (modulus.bit_length() + 7) // 8
        value = int.from_bytes(ciphertext, "big")
        if len(ciphertext) != size or value >= modulus:
            return None
        block = pow(value, private_exponent, modulus).to_bytes(size, "big")
        return classify_premaster_block(block, self._client_version)


def rsa_key_numbers(private_key: Any) -> tuple[int, int] | None:
    """(n, d) of a tlslite private key, or None for a key that is not RSA."""
    if getattr(private_key, "key_type", None) != "rsa" or not getattr(private_key, "d", 0):
        return None
    return int(private_key.n), int(private_key.d)
