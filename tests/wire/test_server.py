"""Tests of the server-side parsers: hand-assembled RFC structures, chunkings, errors, and real servers."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    HRR_RANDOM,
    Alert,
    CertificateMessage,
    CertificateRequest,
    CertificateStatus,
    ChangeCipherSpec,
    ClientHelloSpec,
    EphemeralKeyKind,
    ExtensionType,
    HelloRetryRequest,
    KeyExchange,
    NewSessionTicket,
    RecordReader,
    ServerEvent,
    ServerFlightReader,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    SSL2Error,
    SSL2ServerHello,
    TLSVersion,
    build_client_hello,
    build_sslv2_client_hello,
    ephemeral_key_for_tls13_group,
    parse_server_key_exchange,
)

X25519, SECP256R1, SECP384R1, FFDHE2048, X25519_MLKEM768 = 0x001D, 0x0017, 0x0018, 0x0100, 0x11EC
ECDHE_RSA_AES128_GCM = 0xC02F
TLS_AES_128_GCM = 0x1301
SERVER_RANDOM = bytes(range(0x40, 0x60))
FAKE_CHAIN = (b"\x30\x03leaf", b"\x30\x05inter")

# ---------------------------------------------------------------------- builders of RFC 8446/5246 structures


def vec(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    return bytes([content_type]) + version.to_bytes(2, "big") + vec(2, payload)


def handshake(message_type: int, body: bytes) -> bytes:
    return bytes([message_type]) + vec(3, body)


def extension(ext_type: int, body: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + vec(2, body)


def server_hello(
    *,
    version: int = 0x0303,
    random: bytes = SERVER_RANDOM,
    session_id: bytes = b"\x11" * 32,
    suite: int = ECDHE_RSA_AES128_GCM,
    extensions: Sequence[bytes] | None = (),
) -> bytes:
    body = version.to_bytes(2, "big") + random + vec(1, session_id) + suite.to_bytes(2, "big") + b"\x00"
    if extensions is not None:
        body += vec(2, b"".join(extensions))
    return handshake(2, body)


def certificate(chain: Sequence[bytes] = FAKE_CHAIN) -> bytes:
    return handshake(11, vec(3, b"".join(vec(3, cert) for cert in chain)))


def ecdhe_ske_body(group: int = X25519, point: bytes = b"\x09" * 32, *, tls12_signature: bool = True) -> bytes:
    params = b"\x03" + group.to_bytes(2, "big") + vec(1, point)
    signature = (b"\x08\x04" if tls12_signature else b"") + vec(2, b"\x5a" * 256)
    return params + signature


def tls12_flight() -> bytes:
    """ServerHello, Certificate, ServerKeyExchange, ServerHelloDone: one record per message."""
    messages = [
        server_hello(extensions=[extension(ExtensionType.renegotiation_info, b"\x00")]),
        certificate(),
        handshake(12, ecdhe_ske_body()),
        handshake(14, b""),
    ]
    return b"".join(record(22, message) for message in messages)


def tls13_server_hello(group: int = X25519) -> bytes:
    extensions = [
        extension(ExtensionType.supported_versions, b"\x03\x04"),
        extension(ExtensionType.key_share, group.to_bytes(2, "big") + vec(2, b"\x07" * 32)),
    ]
    return record(22, server_hello(suite=TLS_AES_128_GCM, extensions=extensions))


def hello_retry_request(group: int | None = SECP256R1, cookie: bytes | None = b"cookie!") -> bytes:
    extensions = [extension(ExtensionType.supported_versions, b"\x03\x04")]
    if group is not None:
        extensions.append(extension(ExtensionType.key_share, group.to_bytes(2, "big")))
    if cookie is not None:
        extensions.append(extension(ExtensionType.cookie, vec(2, cookie)))
    return record(22, server_hello(random=HRR_RANDOM, suite=TLS_AES_128_GCM, extensions=extensions))


def sslv2_server_hello(kinds: Sequence[int] = (0x010080, 0x0700C0), cert: bytes = b"\x30\x02DER") -> bytes:
    specs = b"".join(kind.to_bytes(3, "big") for kind in kinds)
    connection_id = b"\xcc" * 16
    message = (
        b"\x04\x00\x01\x00\x02"
        + len(cert).to_bytes(2, "big")
        + len(specs).to_bytes(2, "big")
        + len(connection_id).to_bytes(2, "big")
        + cert
        + specs
        + connection_id
    )
    return (0x8000 | len(message)).to_bytes(2, "big") + message


def feed_all(data: bytes, *, sslv2: bool = False, chunks: Sequence[int] = ()) -> tuple[list[ServerEvent], bool]:
    """Feed ``data`` split at the ``chunks`` offsets; return the events and ``done``."""
    reader = ServerFlightReader(sslv2=sslv2)
    events: list[ServerEvent] = []
    start = 0
    for end in [*chunks, len(data)]:
        events += reader.feed(data[start:end])
        start = end
    return events, reader.done


# ---------------------------------------------------------------------------------------------- TLS flights


def test_tls12_flight() -> None:
    events, done = feed_all(tls12_flight())
    assert done
    hello, cert, ske, hello_done = events
    assert isinstance(hello, ServerHello)
    assert hello.version is TLSVersion.TLS1_2
    assert hello.legacy_version == 0x0303
    assert hello.cipher_suite == ECDHE_RSA_AES128_GCM
    assert hello.random == SERVER_RANDOM
    assert hello.session_id == b"\x11" * 32
    assert hello.compression_method == 0
    assert hello.extension(ExtensionType.renegotiation_info) == b"\x00"
    assert hello.extension(ExtensionType.extended_master_secret) is None
    assert hello.key_share_group is None
    assert hello.downgrade_sentinel is None
    assert hello.alpn_protocol is None
    assert cert == CertificateMessage(certificates=FAKE_CHAIN)
    assert ske == ServerKeyExchange(body=ecdhe_ske_body())
    assert hello_done == ServerHelloDone()


def test_every_split_point_gives_the_same_events() -> None:
    data = tls12_flight()
    expected, _ = feed_all(data)
    for split in range(len(data) + 1):
        assert feed_all(data, chunks=[split]) == (expected, True), split
    assert feed_all(data, chunks=range(1, len(data))) == (expected, True)


def test_messages_spanning_records_and_sharing_records() -> None:
    messages = server_hello() + certificate() + handshake(12, ecdhe_ske_body()) + handshake(14, b"")
    one_record = record(22, messages)
    byte_per_record = b"".join(record(22, messages[i : i + 1]) for i in range(len(messages)))
    expected, _ = feed_all(tls12_flight())
    assert [type(event) for event in expected] == [
        ServerHello,
        CertificateMessage,
        ServerKeyExchange,
        ServerHelloDone,
    ]
    assert feed_all(one_record)[0][1:] == expected[1:]
    assert feed_all(byte_per_record)[0][1:] == expected[1:]


def test_hello_without_extensions_block() -> None:
    (hello,), done = feed_all(record(22, server_hello(extensions=None, session_id=b"")))
    assert isinstance(hello, ServerHello)
    assert hello.extensions == ()
    assert hello.session_id == b""
    assert not done


def test_optional_flight_messages() -> None:
    ocsp = b"\x30\x82\x00\x01X"
    data = record(
        22,
        server_hello()
        + certificate()
        + handshake(22, b"\x01" + vec(3, ocsp))
        + handshake(12, ecdhe_ske_body())
        + handshake(13, b"\x01\x01\x00\x00")
        + handshake(14, b""),
    )
    events, done = feed_all(data)
    assert done
    assert events[2] == CertificateStatus(ocsp_response=ocsp)
    assert events[4] == CertificateRequest(body=b"\x01\x01\x00\x00")


def test_abbreviated_handshake_ends_at_the_change_cipher_spec() -> None:
    # A resumption (RFC 5246 §7.3): ServerHello then ChangeCipherSpec; with a ticket renewed, NewSessionTicket
    # between them (RFC 5077 §3.1). What follows is the encrypted Finished, never read.
    encrypted_finished = record(22, b"\xee" * 40)
    events, done = feed_all(record(22, server_hello()) + record(20, b"\x01") + encrypted_finished)
    assert done
    assert isinstance(events[0], ServerHello)
    assert events[1:] == [ChangeCipherSpec()]
    ticket = handshake(4, (7200).to_bytes(4, "big") + vec(2, b"ticket!"))
    events, done = feed_all(record(22, server_hello() + ticket) + record(20, b"\x01") + encrypted_finished)
    assert done
    assert events[1:] == [NewSessionTicket(lifetime_hint_s=7200, ticket=b"ticket!"), ChangeCipherSpec()]


def test_tls13_server_hello_ends_the_flight() -> None:
    ccs_and_encrypted = record(20, b"\x01") + record(23, b"\xee" * 100)
    events, done = feed_all(tls13_server_hello() + ccs_and_encrypted)
    assert done
    (hello,) = events
    assert isinstance(hello, ServerHello)
    assert hello.version is TLSVersion.TLS1_3
    assert hello.legacy_version == 0x0303
    assert hello.key_share_group == X25519
    assert hello.cipher_suite == TLS_AES_128_GCM


def test_hello_retry_request() -> None:
    events, done = feed_all(hello_retry_request() + record(20, b"\x01"))
    assert done
    assert events == [
        HelloRetryRequest(
            cipher_suite=TLS_AES_128_GCM,
            selected_group=SECP256R1,
            cookie=b"cookie!",
            version=TLSVersion.TLS1_3,
            extensions=(
                (ExtensionType.supported_versions, b"\x03\x04"),
                (ExtensionType.key_share, b"\x00\x17"),
                (ExtensionType.cookie, b"\x00\x07cookie!"),
            ),
        )
    ]
    (cookie_only,), _ = feed_all(hello_retry_request(group=None))
    assert isinstance(cookie_only, HelloRetryRequest)
    assert cookie_only.selected_group is None


@pytest.mark.parametrize(
    ("tail", "sentinel"), [(DOWNGRADE_TLS12, TLSVersion.TLS1_2), (DOWNGRADE_TLS11, TLSVersion.TLS1_1)]
)
def test_downgrade_sentinels(tail: bytes, sentinel: TLSVersion) -> None:
    (hello, *_), _ = feed_all(record(22, server_hello(random=bytes(24) + tail)))
    assert isinstance(hello, ServerHello)
    assert hello.downgrade_sentinel is sentinel


def test_alpn_and_old_versions() -> None:
    alpn = extension(ExtensionType.application_layer_protocol_negotiation, vec(2, vec(1, b"h2")))
    (hello,), _ = feed_all(record(22, server_hello(version=0x0300, extensions=[alpn]), version=0x0300))
    assert isinstance(hello, ServerHello)
    assert hello.version is TLSVersion.SSL3
    assert hello.alpn_protocol == "h2"


def test_fatal_alert_ends_the_flight() -> None:
    events, done = feed_all(record(21, b"\x02\x28", version=0x0301) + b"ignored garbage")
    assert done
    assert events == [Alert(level=2, description=40)]
    assert events[0].description_name == "handshake_failure"  # type: ignore[union-attr]
    assert Alert(level=2, description=255).description_name == "unknown_alert_255"


def test_warning_alert_does_not_end_the_flight() -> None:
    events, done = feed_all(record(21, b"\x01\x70") + tls12_flight())
    assert done
    assert events[0] == Alert(level=1, description=112)
    assert isinstance(events[1], ServerHello)
    close, done = feed_all(record(21, b"\x01\x00"))
    assert done
    assert close == [Alert(level=1, description=0)]


def test_feed_after_done_is_ignored() -> None:
    reader = ServerFlightReader()
    reader.feed(tls12_flight())
    assert reader.done
    assert reader.feed(b"HTTP/1.1 400 Bad Request\r\n") == []


def test_bytes_after_the_flight_in_the_same_chunk_are_handed_over() -> None:
    # The reaction to records sent right behind the hello often comes in the same read as the flight.
    reaction = record(21, b"\x02\x0a") + record(21, b"\x01")[:4]  # an alert, and the start of the next record
    reader = ServerFlightReader()
    reader.feed(tls12_flight() + reaction)
    assert reader.done
    assert reader.take_unread() == reaction
    assert reader.take_unread() == b""
    after_feed = ServerFlightReader()
    after_feed.feed(tls12_flight())
    assert after_feed.take_unread() == b""


# -------------------------------------------------------------------------------------------------- SSL 2.0


def test_sslv2_server_hello() -> None:
    data = sslv2_server_hello()
    expected = SSL2ServerHello(
        cipher_kinds=(0x010080, 0x0700C0),
        certificate=b"\x30\x02DER",
        connection_id=b"\xcc" * 16,
        session_id_hit=False,
    )
    for split in range(len(data) + 1):
        assert feed_all(data, sslv2=True, chunks=[split]) == ([expected], True)


def test_sslv2_three_byte_header_with_padding() -> None:
    message = sslv2_server_hello()[2:]
    padded = bytes([len(message) + 3 >> 8, len(message) + 3 & 0xFF, 3]) + message + b"\x00\x00\x00"
    (event,), done = feed_all(padded, sslv2=True)
    assert done
    assert isinstance(event, SSL2ServerHello)


def test_sslv2_error_and_tls_answers() -> None:
    assert feed_all(b"\x80\x03\x00\x00\x01", sslv2=True) == ([SSL2Error(code=1)], True)
    assert feed_all(record(21, b"\x02\x46", version=0x0300), sslv2=True) == (
        [Alert(level=2, description=70)],
        True,
    )


def test_sslv2_errors() -> None:
    with pytest.raises(MalformedServerResponseError, match="plain HTTP"):
        feed_all(b"HTTP/1.0 400 Bad Request\r\n\r\n", sslv2=True)
    with pytest.raises(MalformedServerResponseError, match="neither SERVER-HELLO nor ERROR"):
        feed_all(b"\x80\x02\x07\x00", sslv2=True)
    overlong_certificate = b"\x04\x00\x01\x00\x02\x00\x64\x00\x03\x00\x00" + bytes(10)
    with pytest.raises(MalformedServerResponseError, match="SERVER-HELLO: certificate needs 100 bytes"):
        feed_all(bytes([0x80, len(overlong_certificate)]) + overlong_certificate, sslv2=True)
    with pytest.raises(MalformedServerResponseError, match="claims 9 bytes of padding"):
        feed_all(b"\x00\x02\x09\x00\x01", sslv2=True)


# --------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "plain HTTP"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "SSH"),
        (b"\x00" * 40, "not TLS: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ..."),
        (b"\x16\x02\x00\x00\x01\x02", "not TLS: 16 02 00 00 01 02$"),
        (b"\x16\x03\x03\x48\x01", "record of 18433 bytes"),
        (record(22, b""), "empty handshake record"),
        (record(23, b"data"), "application data"),
        (record(20, b"\x01"), "ChangeCipherSpec"),
        # Only right after the ServerHello (and a NewSessionTicket) does a ChangeCipherSpec end the flight.
        (record(22, server_hello() + certificate()) + record(20, b"\x01"), "ChangeCipherSpec before completing"),
        (record(22, server_hello()) + record(20, b"\x02"), "malformed ChangeCipherSpec \\(02\\)"),
        (record(22, server_hello() + handshake(4, b"\x00")), "malformed NewSessionTicket"),
        (
            record(22, server_hello() + handshake(4, bytes(6)) + handshake(4, bytes(6))),
            "new_session_ticket out of place",
        ),
        (record(22, server_hello() + handshake(4, bytes(6)) + certificate()), "certificate out of place"),
        (record(24, b"\x01\x00"), "heartbeat"),
        (record(21, b"\x02"), "alert record of 1 bytes"),
        (record(22, certificate()), "certificate where a ServerHello was expected"),
        (
            record(22, server_hello() + handshake(12, b"x") + handshake(12, b"x")),
            "server_key_exchange out of place",
        ),
        (record(22, server_hello() + handshake(12, b"x") + certificate()), "certificate out of place"),
        (record(22, server_hello() + handshake(99, b"")), "unknown handshake type 99 out of place"),
        (record(22, server_hello() + handshake(14, b"\x00")), "ServerHelloDone: 1 unexpected bytes"),
        (record(22, handshake(2, server_hello()[4:-1])), "malformed ServerHello"),
        (record(22, handshake(2, server_hello()[4:] + b"\x00")), "malformed ServerHello"),
        (record(22, server_hello(version=0x0305)), "unknown protocol version 0x0305"),
        (record(22, server_hello(version=0x0002)), "unknown protocol version 0x0002"),
        (record(22, server_hello(session_id=bytes(33))), "more than 32"),
        (record(22, server_hello(extensions=[extension(43, b"\x03")])), "supported_versions"),
        (
            record(22, server_hello(extensions=[extension(16, vec(2, vec(1, b"a") + vec(1, b"b")))])),
            "exactly one",
        ),
        (
            record(22, server_hello() + handshake(11, vec(3, vec(3, b"abc") + b"\x00"))),
            "certificate_list of Certificate",
        ),
        (record(22, server_hello() + handshake(22, b"\x02" + vec(3, b"x"))), "status_type 2"),
        (record(22, server_hello(extensions=[b"\x00"])), "extensions"),
        (record(22, b"\x02\xff\xff\xff"), "handshake message of 16777215 bytes"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_malformed_responses(data: bytes, message: str) -> None:
    with pytest.raises(MalformedServerResponseError, match=message):
        feed_all(data)


def test_error_is_raised_again() -> None:
    reader = ServerFlightReader()
    with pytest.raises(MalformedServerResponseError):
        reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(MalformedServerResponseError, match="plain HTTP"):
        reader.feed(tls12_flight())


def test_max_bytes() -> None:
    reader = ServerFlightReader(max_bytes=100)
    reader.feed(record(22, server_hello()))
    with pytest.raises(MalformedServerResponseError, match="more than 100 bytes"):
        reader.feed(record(22, certificate([bytes(200)])))


def test_truncated_flight_waits_for_more() -> None:
    data = tls12_flight()
    reader = ServerFlightReader()
    events = reader.feed(data[:-3])
    assert len(events) == 3
    assert not reader.done


def test_record_reader() -> None:
    reader = RecordReader(max_buffered=64)
    assert reader.next_record() is None
    reader.feed(record(21, b"\x02\x28")[:4])
    assert reader.next_record() is None
    reader.feed(b"\x02\x02\x28")
    first = reader.next_record()
    assert first is not None
    assert (first.content_type, first.version, first.payload) == (21, 0x0303, b"\x02\x28")
    assert reader.buffered == 0
    with pytest.raises(MalformedServerResponseError, match="more than 64 bytes"):
        reader.feed(bytes(65))
    http = RecordReader()
    http.feed(b"HTTP/")
    with pytest.raises(MalformedServerResponseError, match="plain HTTP"):
        http.next_record()


# ------------------------------------------------------------------------------------------ ServerKeyExchange


def test_ske_ecdhe_named_curves() -> None:
    key = parse_server_key_exchange(ecdhe_ske_body(), KeyExchange.ECDHE, TLSVersion.TLS1_2)
    assert (key.kind, key.size, key.group, key.public_key) == (
        EphemeralKeyKind.ECDH,
        253,
        X25519,
        b"\x09" * 32,
    )
    point = b"\x04" + b"\x01" * 64
    body = ecdhe_ske_body(SECP256R1, point, tls12_signature=False)
    key = parse_server_key_exchange(body, KeyExchange.ECDHE, TLSVersion.TLS1_0)
    assert (key.size, key.group, key.public_key) == (256, SECP256R1, point)
    unknown = parse_server_key_exchange(ecdhe_ske_body(0xFAFA), KeyExchange.ECDHE, TLSVersion.TLS1_2)
    assert (unknown.size, unknown.group) == (0, 0xFAFA)
    anon = parse_server_key_exchange(b"\x03\x00\x18" + vec(1, b"\x04" * 97), KeyExchange.ECDH, TLSVersion.TLS1_2)
    assert anon.size == 384


def test_ske_ecdhe_explicit_curves() -> None:
    prime = (2**255 - 19).to_bytes(32, "big")
    curve = vec(1, b"\x01") + vec(1, b"\x02") + vec(1, b"\x04" + bytes(64)) + vec(1, b"\x07") + vec(1, b"\x01")
    explicit_prime = b"\x01" + vec(1, prime) + curve + vec(1, b"\x04" + bytes(64))
    key = parse_server_key_exchange(explicit_prime, KeyExchange.ECDHE, TLSVersion.TLS1_1)
    assert (key.kind, key.size, key.group) == (EphemeralKeyKind.ECDH, 255, None)
    trinomial = b"\x02\x00\xe9\x01" + vec(1, b"\x4a") + curve + vec(1, b"\x04" + bytes(60))
    assert parse_server_key_exchange(trinomial, KeyExchange.ECDHE, TLSVersion.TLS1_1).size == 233
    pentanomial = b"\x02\x01\x1b\x02" + vec(1, b"\x05") + vec(1, b"\x07") + vec(1, b"\x0c") + curve + vec(1, b"\x04")
    assert parse_server_key_exchange(pentanomial, KeyExchange.ECDHE, TLSVersion.TLS1_1).size == 283


def test_ske_dhe_and_psk_variants() -> None:
    prime = b"\x00" + b"\xff" * 128  # a leading zero does not count
    params = vec(2, prime) + vec(2, b"\x02") + vec(2, b"\x33" * 128)
    key = parse_server_key_exchange(params + b"\x04\x01" + vec(2, b"sig"), KeyExchange.DHE, TLSVersion.TLS1_2)
    assert (key.kind, key.size, key.group) == (EphemeralKeyKind.DH, 1024, None)
    assert (key.dh_prime, key.dh_generator, key.public_key) == (prime, b"\x02", b"\x33" * 128)
    assert parse_server_key_exchange(params, KeyExchange.DH, TLSVersion.TLS1_0).size == 1024
    hinted = parse_server_key_exchange(vec(2, b"hint") + params, KeyExchange.DHE_PSK, TLSVersion.TLS1_2)
    assert hinted.size == 1024
    ec_hinted = parse_server_key_exchange(vec(2, b"") + ecdhe_ske_body()[:36], KeyExchange.ECDHE_PSK, TLSVersion.TLS1_2)
    assert ec_hinted.size == 253


def test_ske_rsa_export() -> None:
    modulus = b"\xc0" + bytes(63)
    body = vec(2, modulus) + vec(2, b"\x01\x00\x01") + vec(2, b"s" * 64)
    key = parse_server_key_exchange(body, KeyExchange.RSA, TLSVersion.TLS1_0)
    assert (key.kind, key.size, key.group, key.public_key) == (EphemeralKeyKind.RSA, 512, None, modulus)


@pytest.mark.parametrize(
    ("body", "key_exchange", "message"),
    [
        (b"", KeyExchange.ECDHE, "curve_type"),
        (b"\x04", KeyExchange.ECDHE, "unknown curve_type 4"),
        (b"\x02\x00\xe9\x03", KeyExchange.ECDHE, "basis type 3"),
        (b"\x03\x00\x1d" + vec(1, b""), KeyExchange.ECDHE, "shorter than the minimum"),
        (b"\x03\x00\x1d\x20" + bytes(31), KeyExchange.ECDHE, "needs 32 bytes"),
        (ecdhe_ske_body() + b"\x00", KeyExchange.ECDHE, "unexpected bytes"),
        (ecdhe_ske_body(tls12_signature=False), KeyExchange.ECDHE, "signature"),
        (vec(2, b"\x01") + vec(2, b"\x02"), KeyExchange.DHE, "dh_Ys"),
    ],
)
def test_ske_malformed(body: bytes, key_exchange: KeyExchange, message: str) -> None:
    with pytest.raises(MalformedServerResponseError, match=message):
        parse_server_key_exchange(body, key_exchange, TLSVersion.TLS1_2)


def test_ske_without_key() -> None:
    with pytest.raises(ValueError, match="PSK"):
        parse_server_key_exchange(vec(2, b"hint"), KeyExchange.PSK, TLSVersion.TLS1_2)


def test_ephemeral_key_for_tls13_group() -> None:
    x25519 = ephemeral_key_for_tls13_group(X25519)
    assert (x25519.kind, x25519.size, x25519.group, x25519.public_key) == (
        EphemeralKeyKind.ECDH,
        253,
        X25519,
        b"",
    )
    ffdhe = ephemeral_key_for_tls13_group(FFDHE2048)
    assert (ffdhe.kind, ffdhe.size, ffdhe.dh_generator) == (EphemeralKeyKind.DH, 2048, b"\x02")
    assert ffdhe.dh_prime is not None
    assert len(ffdhe.dh_prime) == 256
    assert ephemeral_key_for_tls13_group(X25519_MLKEM768).kind is EphemeralKeyKind.ECDH
    unknown = ephemeral_key_for_tls13_group(0xFAFA)
    assert (unknown.size, unknown.group) == (0, 0xFAFA)


# ----------------------------------------------------------------------------------------------- real servers


@pytest.fixture(scope="module")
def rsa_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("wire-cert")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def python_tls_server(rsa_cert: tuple[Path, Path]) -> Iterator[tuple[str, int]]:
    """A Python ``ssl`` server thread on 127.0.0.1 that answers one ClientHello."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*rsa_cert)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(10)
            try:
                with context.wrap_socket(connection, server_side=True):
                    pass
            except OSError:  # the probe hangs up mid-handshake, as scanners do
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        listener.close()
        thread.join(timeout=10)


def exchange(address: tuple[str, int], hello: bytes, *, sslv2: bool = False) -> list[ServerEvent]:
    reader = ServerFlightReader(sslv2=sslv2)
    events: list[ServerEvent] = []
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(hello)
        while not reader.done:
            data = connection.recv(65536)
            if not data:
                break
            events += reader.feed(data)
    assert reader.done, events
    return events


@pytest.mark.realserver
def test_python_ssl_server_tls12(python_tls_server: tuple[str, int]) -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_2,
        cipher_suites=(ECDHE_RSA_AES128_GCM,),
        server_name="localhost",
        groups=(X25519, SECP256R1),
    )
    events = exchange(python_tls_server, build_client_hello(spec))
    hello, cert, ske, done = events
    assert isinstance(hello, ServerHello)
    assert (hello.version, hello.cipher_suite) == (TLSVersion.TLS1_2, ECDHE_RSA_AES128_GCM)
    assert hello.extension(ExtensionType.extended_master_secret) == b""
    assert isinstance(cert, CertificateMessage)
    assert x509.load_der_x509_certificate(cert.certificates[0]).subject.rfc4514_string() == "CN=localhost"
    assert isinstance(ske, ServerKeyExchange)
    key = parse_server_key_exchange(ske.body, KeyExchange.ECDHE, hello.version)
    assert (key.kind, key.group, key.size, len(key.public_key)) == (EphemeralKeyKind.ECDH, X25519, 253, 32)
    assert done == ServerHelloDone()


@pytest.mark.realserver
def test_python_ssl_server_tls13(python_tls_server: tuple[str, int]) -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM,),
        groups=(X25519, SECP256R1),
        key_share_groups=(X25519,),
    )
    (hello,) = exchange(python_tls_server, build_client_hello(spec))
    assert isinstance(hello, ServerHello)
    assert (hello.version, hello.key_share_group, hello.cipher_suite) == (
        TLSVersion.TLS1_3,
        X25519,
        TLS_AES_128_GCM,
    )
    assert hello.downgrade_sentinel is None


@pytest.mark.realserver
def test_python_ssl_server_rejects_sslv2(python_tls_server: tuple[str, int]) -> None:
    reader = ServerFlightReader(sslv2=True)
    with socket.create_connection(python_tls_server, timeout=10) as connection:
        connection.sendall(build_sslv2_client_hello([0x010080, 0x0700C0]))
        events: list[ServerEvent] = []
        while not reader.done and (data := connection.recv(65536)):
            events += reader.feed(data)
    # OpenSSL 3 either answers with a TLS alert or just hangs up; both mean "no SSL 2.0".
    assert all(isinstance(event, Alert) for event in events)


@pytest.mark.realserver
def test_openssl_s_server_hello_retry_request(rsa_cert: tuple[Path, Path]) -> None:
    from tests.servers.processes import start_openssl_s_server

    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM,),
        groups=(SECP384R1, X25519),
        key_share_groups=(SECP384R1,),
    )
    with start_openssl_s_server(["-tls1_3", "-groups", "X25519"], *rsa_cert) as server:
        (retry,) = exchange(server.address, build_client_hello(spec))
    assert isinstance(retry, HelloRetryRequest)
    assert (retry.selected_group, retry.version, retry.cipher_suite) == (
        X25519,
        TLSVersion.TLS1_3,
        TLS_AES_128_GCM,
    )
