"""Parsing what servers send back to a ClientHello, sans-I/O.

``ServerFlightReader`` turns received bytes into events (``ServerHello``, ``CertificateMessage`` ...) up to
the end of the server's cleartext flight; ``parse_server_key_exchange`` reads the ephemeral key out of a
TLS 1.2-and-below ServerKeyExchange. Server bytes are untrusted: every malformation ends in
``MalformedServerResponseError``, whose message says what was wrong and quotes the offending bytes with their
position (``Decoder.error``, ``ServerHello.evidence``). A ServerHello is held to what RFC 8446 and RFC 5246 require
of it whatever the offer (no extension twice; supported_versions only for TLS 1.3, with legacy_version 0x0303, null
compression and a key_share or pre_shared_key; a HelloRetryRequest only for TLS 1.3, and one that changes
something); what it must match of the ClientHello is checked by ``_answers.interpret_tls_flight``. An answer the
server broke off is described by ``ServerFlightReader.cut_short``.
References: RFC 8446 §4.1.3-§4.1.4 (ServerHello, HelloRetryRequest, downgrade sentinels), §4.2 (extensions),
§6 (alerts); RFC 5246 §7.4 (TLS 1.2 handshake flight), RFC 6066 §8 (CertificateStatus), RFC 8422 §5.4
(ECDHE ServerKeyExchange and ECParameters), RFC 4492 §5.4 (explicit curves), RFC 4346 §7.4.3 and RFC 2246 (RSA
export and DHE ServerKeyExchange), RFC 4279 and RFC 5489 (PSK variants), RFC 7301 §3.1 (ALPN), and the SSL 2.0
specification (Netscape, 1995) for SERVER-HELLO and ERROR.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeAlias

import attrs

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire._catalogue_types import GroupKind, KeyExchange
from tlsprobe.wire._constants import (
    CHANGE_CIPHER_SPEC_PAYLOAD,
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    HRR_RANDOM,
    AlertDescription,
    AlertLevel,
    ContentType,
    ExtensionType,
    HandshakeType,
)
from tlsprobe.wire._groups import named_group_by_code
from tlsprobe.wire._keyshare import ffdhe_prime
from tlsprobe.wire._records import (
    RECORD_HEADER_LENGTH,
    Decoder,
    Record,
    RecordReader,
    describe_unexpected_bytes,
    located,
    quote_bytes,
)
from tlsprobe.wire._versions import TLSVersion

# ---------------------------------------------------------------------------------------------- events


def _find_extension(extensions: tuple[tuple[int, bytes], ...], ext_type: int) -> bytes | None:
    return next((body for code, body in extensions if code == ext_type), None)


_SESSION_ID_AT = 2 + 32  # legacy_version, random
_TLS1_2_CODE = 0x0303
_FIELD_SIZES = {"legacy_version": 2, "cipher_suite": 2, "compression_method": 1}


def _hello_evidence(body: bytes, part: str | int, structure: str) -> str:
    """Where ``part`` (a field name, or an extension's type) is in a parsed ServerHello ``body``, and its bytes:
    the evidence a message about it quotes. Empty when ``body`` was not kept."""
    if len(body) <= _SESSION_ID_AT:
        return ""
    suite_at = _SESSION_ID_AT + 1 + body[_SESSION_ID_AT]
    if isinstance(part, str):
        start = {"legacy_version": 0, "cipher_suite": suite_at, "compression_method": suite_at + 2}[part]
        return located(body[start : start + _FIELD_SIZES[part]], start, structure)
    position = suite_at + 3 + 2  # past the suite, the compression method and the extensions' length
    while position + 4 <= len(body):
        length = int.from_bytes(body[position + 2 : position + 4], "big")
        if int.from_bytes(body[position : position + 2], "big") == part:
            return located(body[position : position + 4 + length], position, structure)
        position += 4 + length
    return ""


@attrs.frozen(kw_only=True)
class ServerHello:
    """A ServerHello (not a HelloRetryRequest)."""

    legacy_version: int
    version: TLSVersion
    """The negotiated version: from supported_versions when present, else ``legacy_version``."""
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: tuple[tuple[int, bytes], ...]
    key_share_group: int | None
    """TLS 1.3: the group of the server's key share."""
    downgrade_sentinel: TLSVersion | None
    """TLS1_2 or TLS1_1 when the random ends with that RFC 8446 downgrade sentinel."""
    alpn_protocol: str | None
    """The protocol the server selected with ALPN (TLS 1.2 and below; TLS 1.3 sends it encrypted)."""
    body: bytes = attrs.field(default=b"", eq=False, repr=False)
    """The message as received (after its handshake header), kept for evidence; empty when built by hand."""

    def extension(self, ext_type: int) -> bytes | None:
        """The body of the extension of this type, or None when the server did not send it."""
        return _find_extension(self.extensions, ext_type)

    def evidence(self, part: str | int) -> str:
        """Where ``part`` is in the message, with its bytes: ``"legacy_version"``, ``"cipher_suite"``,
        ``"compression_method"`` or an extension type. Empty when it is not there or ``body`` was not kept."""
        return _hello_evidence(self.body, part, "ServerHello")


@attrs.frozen(kw_only=True)
class HelloRetryRequest:
    """A TLS 1.3 HelloRetryRequest: the server wants another ClientHello."""

    cipher_suite: int
    selected_group: int | None
    """The group the server asks a key share for, or None when it only wants a cookie round trip."""
    cookie: bytes | None
    version: TLSVersion
    extensions: tuple[tuple[int, bytes], ...]
    body: bytes = attrs.field(default=b"", eq=False, repr=False)
    """The message as received (after its handshake header), kept for evidence; empty when built by hand."""

    def evidence(self, part: str | int) -> str:
        """Where ``part`` is in the message, with its bytes (see ``ServerHello.evidence``)."""
        return _hello_evidence(self.body, part, "HelloRetryRequest")


@attrs.frozen(kw_only=True)
class Alert:
    """An alert record."""

    level: int
    description: int

    @property
    def description_name(self) -> str:
        """The RFC name of the description, e.g. ``handshake_failure``."""
        try:
            return AlertDescription(self.description).name
        except ValueError:
            return f"unknown_alert_{self.description}"


@attrs.frozen(kw_only=True)
class CertificateMessage:
    """A TLS 1.2-and-below Certificate message: the server's chain as DER, leaf first."""

    certificates: tuple[bytes, ...]


@attrs.frozen(kw_only=True)
class ServerKeyExchange:
    """A ServerKeyExchange; read its key with ``parse_server_key_exchange`` once the suite is known."""

    body: bytes


@attrs.frozen(kw_only=True)
class CertificateRequest:
    """A CertificateRequest: the server asks for a client certificate."""

    body: bytes


@attrs.frozen(kw_only=True)
class CertificateStatus:
    """A stapled OCSP response (CertificateStatus of status_type ocsp)."""

    ocsp_response: bytes


@attrs.frozen(kw_only=True)
class ServerHelloDone:
    """The end of a TLS 1.2-and-below server flight."""


@attrs.frozen(kw_only=True)
class NewSessionTicket:
    """A TLS <= 1.2 NewSessionTicket (RFC 5077 §3.3) in a server's first flight: it renews the ticket of a session
    it resumes (after a full handshake the ticket comes later, behind the client's Finished)."""

    lifetime_hint_s: int
    ticket: bytes


@attrs.frozen(kw_only=True)
class ChangeCipherSpec:
    """A ChangeCipherSpec right after the ServerHello (and any NewSessionTicket): an abbreviated handshake, in
    which the server resumed the session the client offered (RFC 5246 §7.3, RFC 5077 §3.1); what follows is
    encrypted."""


@attrs.frozen(kw_only=True)
class SSL2ServerHello:
    """An SSL 2.0 SERVER-HELLO."""

    cipher_kinds: tuple[int, ...]
    certificate: bytes
    connection_id: bytes
    session_id_hit: bool


@attrs.frozen(kw_only=True)
class SSL2Error:
    """An SSL 2.0 ERROR message (e.g. 0x0001 NO-CIPHER-ERROR)."""

    code: int


ServerEvent: TypeAlias = (
    ServerHello
    | HelloRetryRequest
    | Alert
    | CertificateMessage
    | ServerKeyExchange
    | CertificateRequest
    | CertificateStatus
    | ServerHelloDone
    | NewSessionTicket
    | ChangeCipherSpec
    | SSL2ServerHello
    | SSL2Error
)

# ------------------------------------------------------------------------------------ handshake messages


def _version(code: int, where: str) -> TLSVersion:
    try:
        version = TLSVersion.from_wire_code(code)
    except ValueError:
        version = TLSVersion.SSL2
    if version is TLSVersion.SSL2:
        raise MalformedServerResponseError(f"server selected an unknown protocol version 0x{code:04x} ({where})")
    return version


def _extension_name(ext_type: int) -> str:
    try:
        return f"{ExtensionType(ext_type).name} (0x{ext_type:04x})"
    except ValueError:
        return f"0x{ext_type:04x}"


def _parse_extensions(decoder: Decoder) -> tuple[tuple[int, bytes], ...]:
    # TLS 1.2 and below may omit the extensions block altogether (RFC 5246 §7.4.1.3).
    if not decoder.remaining:
        return ()
    block = decoder.sub(2, "extensions")
    extensions = []
    seen: set[int] = set()
    while block.remaining:
        start = block.position
        ext_type = block.uint(2, "extension_type")
        extensions.append((ext_type, block.vector(2, "extension_data")))
        if ext_type in seen:
            # RFC 8446 §4.2 and RFC 5246 §7.4.1.4: never more than one extension of a type in a block.
            raise block.error(f"extension {_extension_name(ext_type)} appears twice", at=start)
        seen.add(ext_type)
    return tuple(extensions)


def _selected_version(body: bytes, where: Callable[[], str]) -> TLSVersion:
    """The version a ServerHello's supported_versions extension selects; RFC 8446 §4.2.1 allows it to select
    TLS 1.3 (or later) only."""
    decoder = Decoder(body, "supported_versions extension")
    code = decoder.uint(2, "selected_version")
    decoder.expect_end()
    version = _version(code, "supported_versions")
    if version < TLSVersion.TLS1_3:
        raise MalformedServerResponseError(
            f"malformed ServerHello: supported_versions selects {version.label}, but only TLS 1.3 and later are "
            f"negotiated with it ({where()})"
        )
    return version


def _negotiated_version(legacy_version: int, extensions: tuple[tuple[int, bytes], ...], body: bytes) -> TLSVersion:
    selected = _find_extension(extensions, ExtensionType.supported_versions)
    if selected is None:
        version = _version(legacy_version, "legacy_version")
        if version >= TLSVersion.TLS1_3:
            raise MalformedServerResponseError(
                f"malformed ServerHello: legacy_version says {version.label}, which is only negotiated with the "
                f"supported_versions extension ({_hello_evidence(body, 'legacy_version', 'ServerHello')})"
            )
        return version
    version = _selected_version(
        selected, lambda: _hello_evidence(body, ExtensionType.supported_versions, "ServerHello")
    )
    if legacy_version != _TLS1_2_CODE:
        # RFC 8446 §4.1.3: a TLS 1.3 ServerHello's legacy_version is 0x0303.
        raise MalformedServerResponseError(
            f"malformed ServerHello: legacy_version 0x{legacy_version:04x} in a {version.label} ServerHello, "
            f"where it must be 0x0303 ({_hello_evidence(body, 'legacy_version', 'ServerHello')})"
        )
    return version


def _downgrade_sentinel(random: bytes) -> TLSVersion | None:
    tail = random[-8:]
    if tail == DOWNGRADE_TLS12:
        return TLSVersion.TLS1_2
    if tail == DOWNGRADE_TLS11:
        return TLSVersion.TLS1_1
    return None


def _alpn_protocol(body: bytes | None, *, error: type[Exception] = MalformedServerResponseError) -> str | None:
    """The protocol a server's ALPN extension selects (ServerHello or EncryptedExtensions)."""
    if body is None:
        return None
    decoder = Decoder(body, "ALPN extension", error=error)
    names = decoder.sub(2, "protocol_name_list")
    decoder.expect_end()
    name = names.vector(1, "protocol_name", minimum=1)
    if names.remaining:
        raise names.error("the server must select exactly one protocol")
    return name.decode("utf-8", errors="backslashreplace")


def _server_key_share_group(body: bytes | None) -> int | None:
    if body is None:
        return None
    decoder = Decoder(body, "key_share extension")
    group = decoder.uint(2, "group")
    decoder.vector(2, "key_exchange", minimum=1)
    decoder.expect_end()
    return group


def _parse_server_hello(body: bytes) -> ServerHello | HelloRetryRequest:
    decoder = Decoder(body, "ServerHello")
    legacy_version = decoder.uint(2, "legacy_version")
    random = decoder.read(32, "random")
    session_id = decoder.vector(1, "session_id")
    if len(session_id) > 32:
        raise decoder.error(f"session_id of {len(session_id)} bytes, more than 32", at=_SESSION_ID_AT)
    cipher_suite = decoder.uint(2, "cipher_suite")
    compression_method = decoder.uint(1, "compression_method")
    extensions = _parse_extensions(decoder)
    decoder.expect_end()
    version = _negotiated_version(legacy_version, extensions, body)
    if random == HRR_RANDOM:
        return _hello_retry_request(cipher_suite, compression_method, version, extensions, body)
    hello = ServerHello(
        legacy_version=legacy_version,
        version=version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        compression_method=compression_method,
        extensions=extensions,
        key_share_group=_server_key_share_group(_find_extension(extensions, ExtensionType.key_share)),
        downgrade_sentinel=_downgrade_sentinel(random),
        alpn_protocol=_alpn_protocol(_find_extension(extensions, ExtensionType.application_layer_protocol_negotiation)),
        body=body,
    )
    if version is TLSVersion.TLS1_3:
        _check_tls13_server_hello(hello)
    return hello


def _check_tls13_server_hello(hello: ServerHello) -> None:
    """What RFC 8446 §4.1.3 and §4.2.8 require of a TLS 1.3 ServerHello beyond its structure."""
    if hello.compression_method != 0:
        raise MalformedServerResponseError(
            f"malformed ServerHello: compression method {hello.compression_method} in a TLS 1.3 ServerHello, "
            f"where it must be 0 ({hello.evidence('compression_method')})"
        )
    if hello.key_share_group is None and hello.extension(ExtensionType.pre_shared_key) is None:
        # Without a key share nor a pre-shared key there is no key exchange: no client can go on.
        raise MalformedServerResponseError(
            "malformed ServerHello: TLS 1.3 ServerHello without a key_share (nor a pre_shared_key), so no key "
            f"exchange (extensions: {', '.join(_extension_name(code) for code, _ in hello.extensions) or 'none'})"
        )


def _hello_retry_request(
    cipher_suite: int,
    compression_method: int,
    version: TLSVersion,
    extensions: tuple[tuple[int, bytes], ...],
    body: bytes,
) -> HelloRetryRequest:
    if version < TLSVersion.TLS1_3:
        raise MalformedServerResponseError(
            f"malformed HelloRetryRequest: it negotiates {version.label}, without supported_versions selecting "
            f"TLS 1.3 ({_hello_evidence(body, 'legacy_version', 'HelloRetryRequest')})"
        )
    if compression_method != 0:
        raise MalformedServerResponseError(
            f"malformed HelloRetryRequest: compression method {compression_method}, where it must be 0 "
            f"({_hello_evidence(body, 'compression_method', 'HelloRetryRequest')})"
        )
    selected_group = None
    key_share = _find_extension(extensions, ExtensionType.key_share)
    if key_share is not None:
        decoder = Decoder(key_share, "HelloRetryRequest key_share")
        selected_group = decoder.uint(2, "selected_group")
        decoder.expect_end()
    cookie = None
    cookie_extension = _find_extension(extensions, ExtensionType.cookie)
    if cookie_extension is not None:
        decoder = Decoder(cookie_extension, "HelloRetryRequest cookie")
        cookie = decoder.vector(2, "cookie", minimum=1)
        decoder.expect_end()
    if selected_group is None and cookie is None:
        # RFC 8446 §4.1.4: a HelloRetryRequest that would change nothing in the ClientHello is an error.
        raise MalformedServerResponseError(
            "malformed HelloRetryRequest: it asks for neither a key share nor a cookie, so nothing would change "
            f"in the next ClientHello (extensions: {', '.join(_extension_name(code) for code, _ in extensions)})"
        )
    return HelloRetryRequest(
        cipher_suite=cipher_suite,
        selected_group=selected_group,
        cookie=cookie,
        version=version,
        extensions=extensions,
        body=body,
    )


def _parse_certificate(body: bytes) -> CertificateMessage:
    decoder = Decoder(body, "Certificate")
    chain = decoder.sub(3, "certificate_list")
    decoder.expect_end()
    certificates = []
    while chain.remaining:
        certificates.append(chain.vector(3, "certificate", minimum=1))
    return CertificateMessage(certificates=tuple(certificates))


def _parse_certificate_status(body: bytes) -> CertificateStatus:
    decoder = Decoder(body, "CertificateStatus")
    status_type = decoder.uint(1, "status_type")
    # Only ocsp (1): tlsprobe never sends status_request_v2, the one way to get ocsp_multi (RFC 6961).
    if status_type != 1:
        raise decoder.error(f"status_type {status_type} is not ocsp (1)")
    response = decoder.vector(3, "OCSPResponse", minimum=1)
    decoder.expect_end()
    return CertificateStatus(ocsp_response=response)


def _parse_new_session_ticket(body: bytes) -> NewSessionTicket:
    decoder = Decoder(body, "NewSessionTicket")
    lifetime_hint_s = decoder.uint(4, "ticket_lifetime_hint")
    ticket = decoder.vector(2, "ticket")
    decoder.expect_end()
    return NewSessionTicket(lifetime_hint_s=lifetime_hint_s, ticket=ticket)


def _parse_server_hello_done(body: bytes) -> ServerHelloDone:
    Decoder(body, "ServerHelloDone").expect_end()
    return ServerHelloDone()


# The order RFC 5246 §7.3 gives the optional messages between ServerHello and ServerHelloDone.
_FLIGHT_PARSERS: dict[int, Callable[[bytes], ServerEvent]] = {
    HandshakeType.certificate: _parse_certificate,
    HandshakeType.certificate_status: _parse_certificate_status,
    HandshakeType.server_key_exchange: lambda body: ServerKeyExchange(body=body),
    HandshakeType.certificate_request: lambda body: CertificateRequest(body=body),
    HandshakeType.server_hello_done: _parse_server_hello_done,
}
_FLIGHT_RANK = {message_type: rank for rank, message_type in enumerate(_FLIGHT_PARSERS, start=1)}

# --------------------------------------------------------------------------------------- the flight reader

_HANDSHAKE_HEADER_LENGTH = 4
_SSL2_ERROR = 0
_SSL2_SERVER_HELLO = 4
_TEXT_PROTOCOL_PREFIXES = (b"HTTP/", b"SSH-")
_CONTENT_TYPES = frozenset(ContentType)


def _content_name(content_type: int) -> str:
    try:
        return ContentType(content_type).name
    except ValueError:
        return f"unknown content type {content_type}"


def _handshake_name(message_type: int) -> str:
    try:
        return HandshakeType(message_type).name
    except ValueError:
        return f"unknown handshake type {message_type}"


def _parse_ssl2_message(message: bytes) -> SSL2ServerHello | SSL2Error:
    decoder = Decoder(message, "SSL 2.0 message")
    message_type = decoder.uint(1, "msg_type")
    if message_type == _SSL2_ERROR:
        code = decoder.uint(2, "error_code")
        decoder.expect_end()
        return SSL2Error(code=code)
    if message_type != _SSL2_SERVER_HELLO:
        raise MalformedServerResponseError(
            f"SSL 2.0 message type {message_type} is neither SERVER-HELLO nor ERROR; "
            + describe_unexpected_bytes(message)
        )
    decoder = Decoder(message[1:], "SSL 2.0 SERVER-HELLO")
    session_id_hit = decoder.uint(1, "session_id_hit")
    decoder.uint(1, "certificate_type")
    decoder.uint(2, "server_version")
    certificate_length = decoder.uint(2, "certificate_length")
    cipher_specs_length = decoder.uint(2, "cipher_specs_length")
    connection_id_length = decoder.uint(2, "connection_id_length")
    certificate = decoder.read(certificate_length, "certificate")
    cipher_specs = decoder.read(cipher_specs_length, "cipher_specs")
    connection_id = decoder.read(connection_id_length, "connection_id")
    decoder.expect_end()
    if cipher_specs_length % 3:
        raise decoder.error(f"cipher_specs length {cipher_specs_length} is not a multiple of 3")
    kinds = tuple(int.from_bytes(cipher_specs[i : i + 3], "big") for i in range(0, cipher_specs_length, 3))
    return SSL2ServerHello(
        cipher_kinds=kinds,
        certificate=certificate,
        connection_id=connection_id,
        session_id_hit=bool(session_id_hit),
    )


class ServerFlightReader:
    """Turns the server's answer to a ClientHello into events, up to the end of its cleartext flight.

    ``feed`` returns the events each chunk of bytes completes. ``done`` becomes True after ServerHelloDone, a
    HelloRetryRequest, a fatal alert or close_notify, a TLS 1.3 ServerHello (what follows is encrypted), the
    ChangeCipherSpec of an abbreviated handshake (a resumption: ServerHello, maybe NewSessionTicket, then
    ChangeCipherSpec), or an SSL 2.0 SERVER-HELLO or ERROR; later bytes are ignored. Warning alerts (say
    unrecognized_name) are reported without ending the flight, since servers go on with the handshake after them. With
    ``sslv2=True`` the reader expects an SSL 2.0 answer but still understands a TLS one, such as an alert.
    Any malformation raises ``MalformedServerResponseError``, and so does every later ``feed``.
    """

    def __init__(self, *, sslv2: bool = False, max_bytes: int = 512 * 1024) -> None:
        self._sslv2_pending = sslv2
        self._max_bytes = max_bytes
        self._received = 0
        self._done = False
        self._error: MalformedServerResponseError | None = None
        self._initial = bytearray()
        self._records = RecordReader(max_buffered=max_bytes)
        self._handshake = bytearray()
        self._server_hello_seen = False
        self._new_session_ticket_seen = False
        self._flight_rank = 0

    @property
    def done(self) -> bool:
        """Whether the cleartext part of the server's answer is complete."""
        return self._done

    def take_unread(self) -> bytes:
        """The bytes that came after the last record of the flight in what was fed (the start of the server's
        reaction to records the client sent right behind its hello), which the reader then forgets."""
        return self._records.take_buffered()

    def cut_short(self) -> str:
        """For an answer the server broke off (closed or reset the connection) before its flight was whole: how
        much came, and what it stopped in the middle of, quoting those bytes, e.g. ``after 36 bytes, in the middle
        of a handshake record announcing 90 bytes (31 received; the start of a ServerHello): 16 03 03 ...``."""
        return f"after {self._received} bytes, {self._pending()}"

    def _pending(self) -> str:
        if self._sslv2_pending:
            return f"in the middle of an SSL 2.0 record: {quote_bytes(bytes(self._initial))}"
        buffered = self._records.peek_buffered()
        if buffered:
            if len(buffered) < RECORD_HEADER_LENGTH:
                return f"in the middle of a record header: {quote_bytes(buffered)}"
            payload = buffered[RECORD_HEADER_LENGTH:]
            announced = int.from_bytes(buffered[3:5], "big")
            start = ""
            if buffered[0] == ContentType.handshake and (self._handshake or payload):
                start = f"; the start of a {_handshake_name((bytes(self._handshake) + payload)[0])}"
            return (
                f"in the middle of a {_content_name(buffered[0])} record announcing {announced} bytes "
                f"({len(payload)} received{start}): {quote_bytes(buffered)}"
            )
        if self._handshake:
            size = ""
            if len(self._handshake) >= _HANDSHAKE_HEADER_LENGTH:
                size = f" of {int.from_bytes(self._handshake[1:4], 'big')} bytes"
            return (
                f"in the middle of a {_handshake_name(self._handshake[0])}{size} spread over records "
                f"({len(self._handshake)} bytes of it received): {quote_bytes(bytes(self._handshake))}"
            )
        return "between two records, before the end of its flight"

    def feed(self, data: bytes) -> list[ServerEvent]:
        """Consume received bytes and return the events they complete."""
        if self._error is not None:
            raise self._error
        if self._done:
            return []
        try:
            return self._feed(data)
        except MalformedServerResponseError as error:
            self._error = error
            raise

    def _feed(self, data: bytes) -> list[ServerEvent]:
        self._received += len(data)
        if self._received > self._max_bytes:
            raise MalformedServerResponseError(
                f"server sent more than {self._max_bytes} bytes without completing its handshake flight"
            )
        if self._sslv2_pending:
            self._initial += data
            return self._feed_sslv2()
        self._records.feed(data)
        return self._drain_records()

    def _feed_sslv2(self) -> list[ServerEvent]:
        buffer = self._initial
        if len(buffer) < 2:
            return []
        if buffer[0] in _CONTENT_TYPES and buffer[1] == 3:
            # An SSL 3.0+ record: the server does not speak SSL 2.0 and says so the TLS way.
            self._sslv2_pending = False
            self._records.feed(bytes(buffer))
            buffer.clear()
            return self._drain_records()
        if bytes(buffer[:5]).startswith(_TEXT_PROTOCOL_PREFIXES):
            raise MalformedServerResponseError(describe_unexpected_bytes(bytes(buffer)))
        if buffer[0] & 0x80:
            header_length, length, padding = 2, (buffer[0] & 0x7F) << 8 | buffer[1], 0
        else:
            if len(buffer) < 3:
                return []
            header_length, length, padding = 3, (buffer[0] & 0x3F) << 8 | buffer[1], buffer[2]
        if len(buffer) < header_length + length:
            return []
        if padding > length:
            raise MalformedServerResponseError(f"SSL 2.0 record of {length} bytes claims {padding} bytes of padding")
        event = _parse_ssl2_message(bytes(buffer[header_length : header_length + length - padding]))
        self._done = True
        return [event]

    def _drain_records(self) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        while not self._done and (record := self._records.next_record()) is not None:
            events += self._on_record(record)
        return events

    def _on_record(self, record: Record) -> list[ServerEvent]:
        if record.content_type == ContentType.handshake:
            if not record.payload:
                raise MalformedServerResponseError("server sent an empty handshake record")
            self._handshake += record.payload
            return self._drain_handshake()
        if record.content_type == ContentType.alert:
            return self._on_alerts(record.payload)
        if record.content_type == ContentType.change_cipher_spec and self._abbreviated_so_far():
            if record.payload != CHANGE_CIPHER_SPEC_PAYLOAD or self._handshake:
                raise MalformedServerResponseError(
                    f"server sent a malformed ChangeCipherSpec ({record.payload.hex() or 'empty'}) "
                    "after its ServerHello"
                )
            self._done = True
            return [ChangeCipherSpec()]
        names = {
            ContentType.change_cipher_spec: "a ChangeCipherSpec",
            ContentType.application_data: "application data",
            ContentType.heartbeat: "a heartbeat message",
        }
        raise MalformedServerResponseError(
            f"server sent {names[ContentType(record.content_type)]} before completing its handshake flight"
        )

    def _on_alerts(self, payload: bytes) -> list[ServerEvent]:
        if not payload or len(payload) % 2:
            raise MalformedServerResponseError(f"server sent an alert record of {len(payload)} bytes")
        events: list[ServerEvent] = []
        for offset in range(0, len(payload), 2):
            alert = Alert(level=payload[offset], description=payload[offset + 1])
            events.append(alert)
            if alert.level != AlertLevel.warning or alert.description == AlertDescription.close_notify:
                self._done = True
                break
        return events

    def _abbreviated_so_far(self) -> bool:
        # Nothing but a ServerHello (below TLS 1.3: it ends the reading otherwise) and maybe a NewSessionTicket.
        return self._server_hello_seen and self._flight_rank == 0

    def _drain_handshake(self) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        while not self._done and len(self._handshake) >= _HANDSHAKE_HEADER_LENGTH:
            length = int.from_bytes(self._handshake[1:4], "big")
            if length > self._max_bytes:
                raise MalformedServerResponseError(
                    f"server announced a handshake message of {length} bytes, more than the {self._max_bytes} allowed"
                )
            end = _HANDSHAKE_HEADER_LENGTH + length
            if len(self._handshake) < end:
                break
            message_type = self._handshake[0]
            body = bytes(self._handshake[_HANDSHAKE_HEADER_LENGTH:end])
            del self._handshake[:end]
            events.append(self._on_handshake_message(message_type, body))
        return events

    def _on_handshake_message(self, message_type: int, body: bytes) -> ServerEvent:
        if not self._server_hello_seen:
            if message_type != HandshakeType.server_hello:
                raise MalformedServerResponseError(
                    f"server sent {_handshake_name(message_type)} where a ServerHello was expected"
                )
            self._server_hello_seen = True
            hello = _parse_server_hello(body)
            self._done = isinstance(hello, HelloRetryRequest) or hello.version is TLSVersion.TLS1_3
            return hello
        if (
            message_type == HandshakeType.new_session_ticket
            and self._abbreviated_so_far()
            and not self._new_session_ticket_seen
        ):
            self._new_session_ticket_seen = True
            return _parse_new_session_ticket(body)
        rank = _FLIGHT_RANK.get(message_type)
        if self._new_session_ticket_seen:
            rank = None  # after a NewSessionTicket only the ChangeCipherSpec of a resumption may come
        if rank is None or rank <= self._flight_rank:
            raise MalformedServerResponseError(
                f"server sent {_handshake_name(message_type)} out of place in its handshake flight"
            )
        self._flight_rank = rank
        event = _FLIGHT_PARSERS[message_type](body)
        self._done = isinstance(event, ServerHelloDone)
        return event


# ----------------------------------------------------------------------------------------- ephemeral keys


class EphemeralKeyKind(enum.Enum):
    """The family of a server's ephemeral key. KEM-based TLS 1.3 groups count as ECDH, their closest kin."""

    ECDH = "ECDH"
    DH = "DH"
    RSA = "RSA"


@attrs.frozen(kw_only=True)
class EphemeralKey:
    """The key a server used for key exchange."""

    kind: EphemeralKeyKind
    size: int
    """Bits: the group size from the catalogue, the prime length for DH, the modulus length for RSA."""
    group: int | None
    """The named group code, or None for explicit curves, custom DH primes and RSA."""
    public_key: bytes
    """The server's public value: EC point, DH Ys, or the RSA modulus; empty for TLS 1.3 (not parsed)."""
    dh_prime: bytes | None = None
    dh_generator: bytes | None = None


_EC_KEY_EXCHANGES = frozenset({KeyExchange.ECDHE, KeyExchange.ECDH, KeyExchange.ECDHE_PSK})
_DH_KEY_EXCHANGES = frozenset({KeyExchange.DHE, KeyExchange.DH, KeyExchange.DHE_PSK})
_PSK_HINTED = frozenset({KeyExchange.DHE_PSK, KeyExchange.ECDHE_PSK})
_EC_NAMED_CURVE = 3
_EC_EXPLICIT_PRIME = 1
_EC_EXPLICIT_CHAR2 = 2


def _bits(data: bytes) -> int:
    return int.from_bytes(data, "big").bit_length()


def _skip_curve_description(decoder: Decoder) -> None:
    for field in ("curve a", "curve b", "base point", "order", "cofactor"):
        decoder.vector(1, field, minimum=1)


def _parse_ec_parameters(decoder: Decoder) -> EphemeralKey:
    curve_type = decoder.uint(1, "curve_type")
    group: int | None = None
    if curve_type == _EC_NAMED_CURVE:
        group = decoder.uint(2, "named_curve")
        named = named_group_by_code(group)
        size = 0 if named is None else named.size
    elif curve_type == _EC_EXPLICIT_PRIME:
        size = _bits(decoder.vector(1, "prime_p", minimum=1))
        _skip_curve_description(decoder)
    elif curve_type == _EC_EXPLICIT_CHAR2:
        size = decoder.uint(2, "m")
        basis = decoder.uint(1, "basis")
        if basis not in (1, 2):
            raise decoder.error(f"unknown characteristic-2 basis type {basis}")
        for field in ("k",) if basis == 1 else ("k1", "k2", "k3"):
            decoder.vector(1, field, minimum=1)
        _skip_curve_description(decoder)
    else:
        raise decoder.error(f"unknown curve_type {curve_type}")
    point = decoder.vector(1, "public point", minimum=1)
    return EphemeralKey(kind=EphemeralKeyKind.ECDH, size=size, group=group, public_key=point)


def _read_signature(decoder: Decoder, version: TLSVersion) -> int | None:
    # Anonymous and PSK suites carry no signature; the others end with one (its value does not matter here).
    if not decoder.remaining:
        return None
    scheme = decoder.uint(2, "signature algorithm") if version >= TLSVersion.TLS1_2 else None
    decoder.vector(2, "signature")
    decoder.expect_end()
    return scheme


def parse_server_key_exchange(body: bytes, key_exchange: KeyExchange, version: TLSVersion) -> EphemeralKey:
    """The server's ephemeral key from a ServerKeyExchange body, for the negotiated suite's key exchange.

    Handles ECDHE/ECDH_anon (named and explicit curves), DHE/DH_anon, their PSK variants, and RSA export keys.
    ``ValueError`` for a key exchange whose ServerKeyExchange holds no key (PSK, SRP...).
    """
    return _parse_server_key_exchange(body, key_exchange, version)[0]


def parse_signed_server_key_exchange(
    body: bytes, key_exchange: KeyExchange, version: TLSVersion
) -> tuple[EphemeralKey, int | None]:
    """``parse_server_key_exchange``, with the SignatureScheme code the message is signed with: None before TLS 1.2
    (the scheme is implied there) and for unsigned ones."""
    return _parse_server_key_exchange(body, key_exchange, version)


def _parse_server_key_exchange(
    body: bytes, key_exchange: KeyExchange, version: TLSVersion
) -> tuple[EphemeralKey, int | None]:
    decoder = Decoder(body, "ServerKeyExchange")
    if key_exchange in _PSK_HINTED:
        decoder.vector(2, "psk_identity_hint")
    if key_exchange in _EC_KEY_EXCHANGES:
        key = _parse_ec_parameters(decoder)
    elif key_exchange in _DH_KEY_EXCHANGES:
        prime = decoder.vector(2, "dh_p", minimum=1)
        generator = decoder.vector(2, "dh_g", minimum=1)
        public = decoder.vector(2, "dh_Ys", minimum=1)
        key = EphemeralKey(
            kind=EphemeralKeyKind.DH,
            size=_bits(prime),
            group=None,
            public_key=public,
            dh_prime=prime,
            dh_generator=generator,
        )
    elif key_exchange is KeyExchange.RSA:
        modulus = decoder.vector(2, "rsa_modulus", minimum=1)
        decoder.vector(2, "rsa_exponent", minimum=1)
        key = EphemeralKey(kind=EphemeralKeyKind.RSA, size=_bits(modulus), group=None, public_key=modulus)
    else:
        raise ValueError(f"a {key_exchange.value} ServerKeyExchange carries no ephemeral key")
    return key, _read_signature(decoder, version)


def ephemeral_key_for_tls13_group(group_code: int) -> EphemeralKey:
    """The ephemeral key a TLS 1.3 server's key_share group implies; size from the catalogue, 0 if unknown."""
    group = named_group_by_code(group_code)
    prime = ffdhe_prime(group_code)
    if group is not None and group.kind is GroupKind.FFDHE and prime is not None:
        return EphemeralKey(
            kind=EphemeralKeyKind.DH,
            size=group.size,
            group=group_code,
            public_key=b"",
            dh_prime=prime.to_bytes((prime.bit_length() + 7) // 8, "big"),
            dh_generator=b"\x02",
        )
    return EphemeralKey(
        kind=EphemeralKeyKind.ECDH, size=0 if group is None else group.size, group=group_code, public_key=b""
    )
