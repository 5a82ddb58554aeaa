"""Property tests: hostile bytes only ever raise MalformedServerResponseError, and ClientHellos round-trip."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.wire.test_server import (
    certificate,
    ecdhe_ske_body,
    handshake,
    hello_retry_request,
    record,
    server_hello,
    sslv2_server_hello,
    tls12_flight,
    tls13_server_hello,
    vec,
)
from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire import (
    ClientHelloSpec,
    ExtensionType,
    KeyExchange,
    RecordReader,
    ServerFlightReader,
    TLSVersion,
    client_hello_body,
    parse_client_hello,
    parse_server_key_exchange,
    supports_key_share,
)

pytestmark = pytest.mark.slow  # hundreds of examples each: 0.2 to 1 s a test

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID_FLIGHTS = (
    tls12_flight(),
    tls13_server_hello() + record(20, b"\x01"),
    hello_retry_request(),
    record(21, b"\x01\x70") + record(22, server_hello() + certificate() + handshake(14, b"")),
    sslv2_server_hello(),
    b"\x80\x03\x00\x00\x01",
)

chunkings = st.lists(st.integers(min_value=0, max_value=4000), max_size=8).map(sorted)


def feed_chunked(reader: ServerFlightReader, data: bytes, cuts: Sequence[int]) -> None:
    start = 0
    for end in [*cuts, len(data)]:
        reader.feed(data[start:end])
        start = max(start, end)


def survives(data: bytes, cuts: Sequence[int], *, sslv2: bool) -> None:
    """Feeding ``data`` either works or raises MalformedServerResponseError, within the byte budget."""
    reader = ServerFlightReader(sslv2=sslv2, max_bytes=2048)
    with contextlib.suppress(MalformedServerResponseError):
        feed_chunked(reader, data, cuts)


@FUZZ
@given(data=st.binary(max_size=3000), cuts=chunkings, sslv2=st.booleans())
def test_arbitrary_bytes_to_flight_reader(data: bytes, cuts: list[int], sslv2: bool) -> None:
    survives(data, cuts, sslv2=sslv2)


@FUZZ
@given(data=st.binary(max_size=3000), cuts=chunkings, sslv2=st.booleans())
def test_record_shaped_bytes_to_flight_reader(data: bytes, cuts: list[int], sslv2: bool) -> None:
    # Random bytes rarely get past the record header check; a valid header gets the payload parsed.
    survives(record(22, data[:2000]) + data[2000:], cuts, sslv2=sslv2)


@FUZZ
@given(data=st.binary(max_size=3000), cuts=chunkings)
def test_arbitrary_bytes_to_record_reader(data: bytes, cuts: list[int]) -> None:
    reader = RecordReader(max_buffered=4096)
    start = 0
    try:
        for end in [*cuts, len(data)]:
            reader.feed(data[start:end])
            start = max(start, end)
            while reader.next_record() is not None:
                pass
    except MalformedServerResponseError:
        pass
    assert reader.buffered <= 4096


@st.composite
def mutated_flights(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID_FLIGHTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        mutation = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if mutation == "flip" and position < len(data):
            data[position] ^= draw(st.integers(min_value=1, max_value=255))
        elif mutation == "truncate":
            del data[position:]
        elif mutation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif mutation == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=8))]
    return bytes(data)


@FUZZ
@given(data=mutated_flights(), cuts=chunkings, sslv2=st.booleans())
def test_mutated_flights(data: bytes, cuts: list[int], sslv2: bool) -> None:
    survives(data, cuts, sslv2=sslv2)


KEY_EXCHANGES = [
    KeyExchange.ECDHE,
    KeyExchange.ECDH,
    KeyExchange.ECDHE_PSK,
    KeyExchange.DHE,
    KeyExchange.DH,
    KeyExchange.DHE_PSK,
    KeyExchange.RSA,
]
SKE_SEEDS = (
    ecdhe_ske_body(),
    ecdhe_ske_body(tls12_signature=False),
    vec(2, b"\xff" * 64) + vec(2, b"\x02") + vec(2, b"\x07" * 64) + b"\x04\x01" + vec(2, b"s"),
    b"\x01" + vec(1, b"\xff" * 32) + b"\x01\x01\x01\x02\x02\x04\x01\x01\x01\x01\x01\x01\x02\x04\x05",
    b"\x02\x00\xe9\x02\x01\x05\x01\x07\x01\x0c\x01\x01\x01\x02\x01\x04\x01\x07\x01\x01\x01\x04",
)


@st.composite
def ske_bodies(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(SKE_SEEDS)))
    position = draw(st.integers(min_value=0, max_value=len(data)))
    data[position:position] = draw(st.binary(max_size=3))
    return bytes(data[: draw(st.integers(min_value=0, max_value=len(data)))])


@FUZZ
@given(
    body=ske_bodies(),
    key_exchange=st.sampled_from(KEY_EXCHANGES),
    version=st.sampled_from([TLSVersion.SSL3, TLSVersion.TLS1_0, TLSVersion.TLS1_2]),
)
def test_server_key_exchange_on_arbitrary_bytes(body: bytes, key_exchange: KeyExchange, version: TLSVersion) -> None:
    try:
        key = parse_server_key_exchange(body, key_exchange, version)
    except MalformedServerResponseError:
        return
    assert key.size >= 0


# ------------------------------------------------------------------------------------- ClientHello round trip

GROUPS = (0x001D, 0x0017, 0x0018, 0x001E, 0x0100, 0x11EC, 0x0200, 0x0001, 0x0019, 0x001F, 0xFAFA)
host_names = st.from_regex(r"[a-z][a-z0-9]{0,15}(\.[a-z][a-z0-9-]{0,15}[a-z0-9]){0,3}", fullmatch=True)
ip_literals = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


@st.composite
def hello_specs(draw: st.DrawFn) -> ClientHelloSpec:
    version = draw(st.sampled_from([v for v in TLSVersion if v is not TLSVersion.SSL2]))
    groups = tuple(draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=6)))
    key_share_groups: tuple[int, ...] = ()
    if version is TLSVersion.TLS1_3:
        shareable = [group for group in groups if supports_key_share(group)]
        key_share_groups = tuple(draw(st.lists(st.sampled_from(shareable), unique=True))) if shareable else ()
    return ClientHelloSpec(
        version=version,
        cipher_suites=tuple(draw(st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=80))),
        server_name=draw(st.none() | host_names | ip_literals),
        groups=groups,
        key_share_groups=key_share_groups,
        signature_algorithms=tuple(draw(st.lists(st.integers(0, 0xFFFF), max_size=20))),
        min_version=draw(st.none() | st.sampled_from([v for v in TLSVersion if TLSVersion.SSL3 <= v <= version])),
        alpn_protocols=tuple(draw(st.lists(st.text("abcdefgh/1.", min_size=1, max_size=10), max_size=3))),
        compression_methods=tuple(draw(st.lists(st.integers(0, 255), min_size=1, max_size=3))),
        extended_master_secret=draw(st.booleans()),
        renegotiation_info=draw(st.booleans()),
        session_ticket=draw(st.booleans()),
        status_request=draw(st.booleans()),
        signed_certificate_timestamp=draw(st.booleans()),
        heartbeat=draw(st.booleans()),
        extra_extensions=tuple(
            draw(st.lists(st.tuples(st.integers(0x3000, 0x3FFF), st.binary(max_size=40)), max_size=3))
        ),
        random=draw(st.none() | st.binary(min_size=32, max_size=32)),
        session_id=draw(st.none() | st.binary(max_size=32)),
        pad_to_avoid_f5_bug=draw(st.booleans()),
    )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@FUZZ
@given(spec=hello_specs())
def test_client_hello_round_trip(spec: ClientHelloSpec) -> None:
    body = client_hello_body(spec)
    parsed = parse_client_hello(body)
    assert parsed.legacy_version == min(spec.version, TLSVersion.TLS1_2).wire_code
    assert parsed.cipher_suites == spec.cipher_suites
    assert parsed.compression_methods == spec.compression_methods
    if spec.random is not None:
        assert parsed.random == spec.random
    if spec.session_id is not None:
        assert parsed.session_id == spec.session_id
    else:
        assert len(parsed.session_id) == (32 if spec.version is TLSVersion.TLS1_3 else 0)
    if spec.version is TLSVersion.SSL3:
        assert parsed.extensions == ()
        return
    types = [ext_type for ext_type, _ in parsed.extensions]
    assert parsed.groups == spec.groups
    assert parsed.key_share_groups == spec.key_share_groups
    expected_name = None if spec.server_name is None or _is_ip(spec.server_name) else spec.server_name
    assert parsed.server_name == expected_name
    if spec.version is TLSVersion.TLS1_3:
        lowest = spec.min_version or TLSVersion.TLS1_0
        expected_versions = tuple(v.wire_code for v in reversed(TLSVersion) if lowest <= v)
        assert parsed.supported_versions == expected_versions
    else:
        assert parsed.supported_versions == ()
    if spec.extra_extensions:
        assert parsed.extensions[-len(spec.extra_extensions) :] == spec.extra_extensions
    sends_sigalgs = spec.version >= TLSVersion.TLS1_2 and bool(spec.signature_algorithms)
    assert (ExtensionType.signature_algorithms in types) == sends_sigalgs
    if spec.pad_to_avoid_f5_bug:
        assert not 256 <= len(body) <= 511
