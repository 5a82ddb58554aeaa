"""Building ClientHello messages (TLS, SSL 3.0 and SSL 2.0), and parsing them back.

The builder is the probe's main instrument: one ``ClientHelloSpec`` says what to offer, ``build_client_hello``
turns it into the bytes to send. ``parse_client_hello`` reads a ClientHello, for tests and test servers.
References: RFC 8446 §4.1.2 and §4.2 (ClientHello, supported_versions, key_share), RFC 5246 §7.4.1.2 (TLS 1.2
ClientHello), RFC 6101 §5.6.1.2 (SSL 3.0), RFC 6066 §3 (server_name) and §8 (status_request), RFC 8422 §5.1
(supported_groups, ec_point_formats), RFC 7301 (ALPN), RFC 6520 (heartbeat), RFC 6962 §3.3.1 (SCT),
RFC 7627 (extended_master_secret), RFC 5077 (session_ticket), RFC 5746 (renegotiation_info), RFC 7685
(padding), and the SSL 2.0 specification (Netscape, 1995) for the SSL 2.0 CLIENT-HELLO.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence

import attrs

from tlsprobe.wire._catalogue_types import GroupKind, KeyExchange
from tlsprobe.wire._constants import ContentType, ExtensionType, HandshakeType
from tlsprobe.wire._groups import named_group_by_code
from tlsprobe.wire._keyshare import key_share_entry, supports_key_share
from tlsprobe.wire._random import nonce_bytes
from tlsprobe.wire._records import Decoder, encode_record
from tlsprobe.wire._sigalgs import DEFAULT_SIGNATURE_ALGORITHMS
from tlsprobe.wire._suites import cipher_suite_by_code
from tlsprobe.wire._versions import TLSVersion

_ECC_KEY_EXCHANGES = frozenset({KeyExchange.ECDH, KeyExchange.ECDHE, KeyExchange.ECDHE_PSK})
# RFC 7685 §4: some F5 load balancers hang on ClientHello messages of 256 to 511 bytes.
_F5_BUG_LENGTHS = range(256, 512)
_SSL2_CLIENT_HELLO = 1
_SSL2_CHALLENGE_LENGTHS = range(16, 33)


def _vector(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _uint16s(values: Sequence[int]) -> bytes:
    return struct.pack(f">{len(values)}H", *values)


def _check_uint16s(field: str, values: Sequence[int]) -> None:
    if values and not 0 <= min(values) <= max(values) <= 0xFFFF:
        value = next(value for value in values if not 0 <= value <= 0xFFFF)
        raise ValueError(f"{field}: {value:#x} does not fit in two bytes")


def _sni_host_name(server_name: str | None) -> bytes | None:
    """The HostName to send in server_name, or None when nothing may be sent (RFC 6066 §3: no IP literals)."""
    if server_name is None:
        return None
    name = server_name.rstrip(".")
    try:
        ipaddress.ip_address(name.strip("[]").partition("%")[0])
    except ValueError:
        pass
    else:
        return None
    try:
        return name.encode("idna")
    except UnicodeError:
        raise ValueError(f"server_name {server_name!r} is not a valid host name") from None


@attrs.frozen(kw_only=True)
class ClientHelloSpec:
    """What a ClientHello offers. Codes are the IANA numbers; the defaults fit a scanner's probing hello."""

    version: TLSVersion
    """Highest version offered."""
    cipher_suites: tuple[int, ...]
    """Two-byte cipher-suite codes, in order (SSL 2.0 cipher kinds go to ``build_sslv2_client_hello``)."""
    server_name: str | None = None
    """SNI host name; not sent when it is an IP literal."""
    groups: tuple[int, ...] = ()
    """supported_groups extension (omitted when empty)."""
    key_share_groups: tuple[int, ...] = ()
    """TLS 1.3: a key share is sent for each of these; each must be in ``groups``."""
    signature_algorithms: tuple[int, ...] = DEFAULT_SIGNATURE_ALGORITHMS
    """signature_algorithms extension; not sent for SSL 3.0, TLS 1.0 and TLS 1.1 hellos, or when empty."""
    min_version: TLSVersion | None = None
    """TLS 1.3 hellos: supported_versions lists ``version`` down to this (default TLS 1.0)."""
    alpn_protocols: tuple[str, ...] = ()
    compression_methods: tuple[int, ...] = (0,)
    extended_master_secret: bool = True
    renegotiation_info: bool = True
    """Empty renegotiation_info extension (RFC 5746)."""
    session_ticket: bool = True
    """Empty session_ticket extension."""
    status_request: bool = False
    """OCSP status_request extension."""
    signed_certificate_timestamp: bool = False
    ec_point_formats: bool = True
    """Sent when any EC group or ECC cipher suite is offered."""
    heartbeat: bool = False
    """heartbeat extension with mode peer_allowed_to_send."""
    extra_extensions: tuple[tuple[int, bytes], ...] = ()
    """Appended verbatim as (type, body), after every other extension."""
    random: bytes | None = None
    """32 bytes; random when None."""
    session_id: bytes | None = None
    """None: 32 random bytes for TLS 1.3 hellos (middlebox compatibility, RFC 8446 §D.4), empty otherwise."""
    record_version: int | None = None
    """Record-layer version; default 0x0301, or 0x0300 for SSL 3.0 hellos."""
    pad_to_avoid_f5_bug: bool = True
    """Add RFC 7685 padding so that the handshake message is not 256 to 511 bytes long."""

    def __attrs_post_init__(self) -> None:
        if self.version is TLSVersion.SSL2:
            raise ValueError("SSL 2.0 hellos are built with build_sslv2_client_hello, not a ClientHelloSpec")
        if not self.cipher_suites:
            raise ValueError("cipher_suites is empty: a ClientHello must offer at least one cipher suite")
        _check_uint16s("cipher_suites", self.cipher_suites)
        _check_uint16s("groups", self.groups)
        _check_uint16s("signature_algorithms", self.signature_algorithms)
        _check_uint16s("extra_extensions", [ext_type for ext_type, _ in self.extra_extensions])
        self._check_key_shares()
        if self.min_version is not None and not TLSVersion.SSL3 <= self.min_version <= self.version:
            raise ValueError(f"min_version {self.min_version.label} is not between SSL 3.0 and {self.version.label}")
        if not self.compression_methods or any(not 0 <= method <= 0xFF for method in self.compression_methods):
            raise ValueError("compression_methods must be one or more one-byte values")
        if any(not 1 <= len(protocol.encode()) <= 0xFF for protocol in self.alpn_protocols):
            raise ValueError("each ALPN protocol name must be 1 to 255 bytes long")
        if self.random is not None and len(self.random) != 32:
            raise ValueError(f"random must be 32 bytes, not {len(self.random)}")
        if self.session_id is not None and len(self.session_id) > 32:
            raise ValueError(f"session_id must be at most 32 bytes, not {len(self.session_id)}")
        if self.record_version is not None and not 0 <= self.record_version <= 0xFFFF:
            raise ValueError(f"record_version {self.record_version:#x} does not fit in two bytes")
        host_name = _sni_host_name(self.server_name)
        if host_name is not None and not 1 <= len(host_name) <= 0xFFFF - 5:
            raise ValueError(f"server_name {self.server_name!r} cannot be sent as an SNI host name")

    def _check_key_shares(self) -> None:
        if self.key_share_groups and self.version < TLSVersion.TLS1_3:
            raise ValueError("key_share_groups is for TLS 1.3 hellos only")
        for group in self.key_share_groups:
            if group not in self.groups:
                raise ValueError(f"key share group 0x{group:04x} is not in groups")
            if not supports_key_share(group):
                raise ValueError(f"no key share can be generated for group 0x{group:04x}")


def _offers_ecc(spec: ClientHelloSpec) -> bool:
    for code in spec.groups:
        group = named_group_by_code(code)
        if group is not None and group.kind is GroupKind.EC:
            return True
    for code in spec.cipher_suites:
        suite = cipher_suite_by_code(code)
        if suite is not None and (suite.key_exchange in _ECC_KEY_EXCHANGES or suite.authentication == "ECDSA"):
            return True
    return False


def _extensions(spec: ClientHelloSpec) -> list[tuple[int, bytes]]:
    """The extensions of a TLS 1.0+ hello, in the order sent, without padding and ``extra_extensions``."""
    extensions: list[tuple[int, bytes]] = []
    host_name = _sni_host_name(spec.server_name)
    if host_name is not None:
        # ServerNameList with one entry of NameType host_name (0).
        extensions.append((ExtensionType.server_name, _vector(2, b"\x00" + _vector(2, host_name))))
    if spec.status_request:
        # status_type ocsp (1), no responder IDs, no request extensions.
        extensions.append((ExtensionType.status_request, b"\x01\x00\x00\x00\x00"))
    if spec.groups:
        extensions.append((ExtensionType.supported_groups, _vector(2, _uint16s(spec.groups))))
    if spec.ec_point_formats and _offers_ecc(spec):
        extensions.append((ExtensionType.ec_point_formats, b"\x01\x00"))  # uncompressed only
    if spec.version >= TLSVersion.TLS1_2 and spec.signature_algorithms:
        extensions.append((ExtensionType.signature_algorithms, _vector(2, _uint16s(spec.signature_algorithms))))
    if spec.heartbeat:
        extensions.append((ExtensionType.heartbeat, b"\x01"))  # peer_allowed_to_send
    if spec.alpn_protocols:
        names = b"".join(_vector(1, protocol.encode()) for protocol in spec.alpn_protocols)
        extensions.append((ExtensionType.application_layer_protocol_negotiation, _vector(2, names)))
    if spec.signed_certificate_timestamp:
        extensions.append((ExtensionType.signed_certificate_timestamp, b""))
    if spec.extended_master_secret:
        extensions.append((ExtensionType.extended_master_secret, b""))
    if spec.session_ticket:
        extensions.append((ExtensionType.session_ticket, b""))
    if spec.version is TLSVersion.TLS1_3:
        lowest = spec.min_version or TLSVersion.TLS1_0
        versions = [version.wire_code for version in reversed(TLSVersion) if lowest <= version <= spec.version]
        extensions.append((ExtensionType.supported_versions, _vector(1, _uint16s(versions))))
        shares = b"".join(
            group.to_bytes(2, "big") + _vector(2, key_share_entry(group)) for group in spec.key_share_groups
        )
        extensions.append((ExtensionType.key_share, _vector(2, shares)))
    if spec.renegotiation_info:
        extensions.append((ExtensionType.renegotiation_info, b"\x00"))  # empty renegotiated_connection
    return extensions


def _encode_extensions(extensions: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(ext_type.to_bytes(2, "big") + _vector(2, body) for ext_type, body in extensions)


def _handshake(message_type: int, body: bytes) -> bytes:
    return bytes((message_type,)) + _vector(3, body)


def client_hello_body(spec: ClientHelloSpec) -> bytes:
    """The ClientHello handshake message (type, length and body) for ``spec``."""
    if spec.session_id is not None:
        session_id = spec.session_id
    else:
        session_id = nonce_bytes(32) if spec.version is TLSVersion.TLS1_3 else b""
    fixed = (
        min(spec.version, TLSVersion.TLS1_2).wire_code.to_bytes(2, "big")
        + (spec.random if spec.random is not None else nonce_bytes(32))
        + _vector(1, session_id)
        + _vector(2, _uint16s(spec.cipher_suites))
        + _vector(1, bytes(spec.compression_methods))
    )
    # SSL 3.0 servers may not expect the extensions block at all (RFC 6101 has none).
    if spec.version is TLSVersion.SSL3:
        return _handshake(HandshakeType.client_hello, fixed)
    extensions = _encode_extensions(_extensions(spec))
    extra = _encode_extensions(spec.extra_extensions)
    unpadded_length = 4 + len(fixed) + 2 + len(extensions) + len(extra)
    if spec.pad_to_avoid_f5_bug and unpadded_length in _F5_BUG_LENGTHS:
        # Before extra_extensions, so that a caller's pre_shared_key can stay last (RFC 8446 §4.2.11).
        padding_length = max(0, _F5_BUG_LENGTHS.stop - unpadded_length - 4)
        extensions += _encode_extensions([(ExtensionType.padding, bytes(padding_length))])
    return _handshake(HandshakeType.client_hello, fixed + _vector(2, extensions + extra))


def build_client_hello(spec: ClientHelloSpec) -> bytes:
    """The ClientHello as records, ready to send."""
    record_version = spec.record_version
    if record_version is None:
        record_version = min(spec.version, TLSVersion.TLS1_0).wire_code
    return encode_record(ContentType.handshake, record_version, client_hello_body(spec))


def build_sslv2_client_hello(cipher_kinds: Sequence[int], challenge: bytes | None = None) -> bytes:
    """An SSL 2.0 CLIENT-HELLO record offering version 0x0002 and the given three-byte cipher kinds."""
    if not cipher_kinds:
        raise ValueError("an SSL 2.0 CLIENT-HELLO must offer at least one cipher kind")
    if any(not 0 <= kind <= 0xFFFFFF for kind in cipher_kinds):
        raise ValueError("SSL 2.0 cipher kinds are three-byte values")
    if challenge is None:
        challenge = nonce_bytes(16)
    if len(challenge) not in _SSL2_CHALLENGE_LENGTHS:
        raise ValueError(f"the SSL 2.0 challenge must be 16 to 32 bytes, not {len(challenge)}")
    specs = b"".join(kind.to_bytes(3, "big") for kind in cipher_kinds)
    message = (
        bytes((_SSL2_CLIENT_HELLO,))
        + TLSVersion.SSL2.wire_code.to_bytes(2, "big")
        + len(specs).to_bytes(2, "big")
        + b"\x00\x00"  # no session id
        + len(challenge).to_bytes(2, "big")
        + specs
        + challenge
    )
    if len(message) > 0x7FFF:
        raise ValueError("too many cipher kinds for one SSL 2.0 record")
    # Two-byte record header: the high bit set says there is no padding.
    return (0x8000 | len(message)).to_bytes(2, "big") + message


@attrs.frozen(kw_only=True)
class ParsedClientHello:
    """The fields of a ClientHello; extensions are kept raw as (type, body), in order."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: tuple[int, ...]
    extensions: tuple[tuple[int, bytes], ...]

    def extension(self, ext_type: int) -> bytes | None:
        """The body of the first extension of this type, or None."""
        return next((body for code, body in self.extensions if code == ext_type), None)

    @property
    def server_name(self) -> str | None:
        """The first host_name of the server_name extension."""
        body = self.extension(ExtensionType.server_name)
        if body is None:
            return None
        names = _decoder(body, "server_name").sub(2, "server_name_list")
        while names.remaining:
            name_type = names.uint(1, "name_type")
            name = names.vector(2, "host_name")
            if name_type == 0:
                return name.decode("ascii", errors="replace")
        return None

    @property
    def supported_versions(self) -> tuple[int, ...]:
        """The versions of the supported_versions extension (empty when absent)."""
        body = self.extension(ExtensionType.supported_versions)
        return () if body is None else _decoder(body, "supported_versions").uint16s(1, "versions")

    @property
    def groups(self) -> tuple[int, ...]:
        """The groups of the supported_groups extension (empty when absent)."""
        body = self.extension(ExtensionType.supported_groups)
        return () if body is None else _decoder(body, "supported_groups").uint16s(2, "named_group_list")

    @property
    def key_share_groups(self) -> tuple[int, ...]:
        """The groups of the key_share extension's entries (empty when absent)."""
        body = self.extension(ExtensionType.key_share)
        if body is None:
            return ()
        shares = _decoder(body, "key_share").sub(2, "client_shares")
        groups = []
        while shares.remaining:
            groups.append(shares.uint(2, "group"))
            shares.vector(2, "key_exchange", minimum=1)
        return tuple(groups)


def _decoder(data: bytes, what: str) -> Decoder:
    # A ClientHello is the client's own message: malformed ones are the caller's mistake, not the server's.
    return Decoder(data, what, error=ValueError)


def parse_client_hello(message: bytes) -> ParsedClientHello:
    """Parse a ClientHello handshake message (type, length, body); ``ValueError`` when malformed.

    The extensions are kept raw; the convenience properties parse theirs when read.
    """
    outer = _decoder(message, "ClientHello")
    if (message_type := outer.uint(1, "msg_type")) != HandshakeType.client_hello:
        raise outer.error(f"handshake type {message_type} is not client_hello")
    decoder = outer.sub(3, "body")
    outer.expect_end()
    legacy_version = decoder.uint(2, "legacy_version")
    random = decoder.read(32, "random")
    session_id = decoder.vector(1, "legacy_session_id")
    cipher_suites = decoder.uint16s(2, "cipher_suites", minimum=2)
    compression_methods = tuple(decoder.vector(1, "compression_methods", minimum=1))
    extensions: list[tuple[int, bytes]] = []
    if decoder.remaining:
        block = decoder.sub(2, "extensions")
        while block.remaining:
            extensions.append((block.uint(2, "extension_type"), block.vector(2, "extension_data")))
    decoder.expect_end()
    return ParsedClientHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suites=cipher_suites,
        compression_methods=compression_methods,
        extensions=tuple(extensions),
    )
