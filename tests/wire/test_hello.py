"""Tests of the ClientHello builders against the RFC structures, our own parser, and tlslite-ng's parser."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import mlkem

from tlsprobe.wire import (
    DEFAULT_SIGNATURE_ALGORITHMS,
    MAX_FRAGMENT_LENGTH,
    ClientHelloSpec,
    ExtensionType,
    RecordReader,
    TLSVersion,
    build_client_hello,
    build_sslv2_client_hello,
    client_hello_body,
    encode_record,
    ffdhe_prime,
    key_share_entry,
    parse_client_hello,
    signature_scheme_by_code,
    supports_key_share,
)
from tlsprobe.wire._keyshare import mlkem_structural_encapsulation_key

X25519, X448, SECP256R1, SECP384R1, SECP521R1 = 0x001D, 0x001E, 0x0017, 0x0018, 0x0019
FFDHE = {2048: 0x0100, 3072: 0x0101, 4096: 0x0102, 6144: 0x0103, 8192: 0x0104}
MLKEM512, MLKEM768, MLKEM1024 = 0x0200, 0x0201, 0x0202
SECP256R1_MLKEM768, X25519_MLKEM768, SECP384R1_MLKEM1024, X25519_KYBER768 = 0x11EB, 0x11EC, 0x11ED, 0x6399
ECDHE_RSA_AES128_GCM, RSA_AES128_GCM, TLS_AES_128_GCM = 0xC02F, 0x009C, 0x1301


def _types(extensions: tuple[tuple[int, bytes], ...]) -> list[int]:
    return [ext_type for ext_type, _ in extensions]


@pytest.mark.parametrize("version", [TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2])
def test_round_trip_tls12_and_below(version: TLSVersion) -> None:
    random = bytes(range(32))
    spec = ClientHelloSpec(
        version=version,
        cipher_suites=(ECDHE_RSA_AES128_GCM, RSA_AES128_GCM),
        server_name="example.com",
        groups=(X25519, SECP256R1),
        alpn_protocols=("h2", "http/1.1"),
        random=random,
        status_request=True,
    )
    parsed = parse_client_hello(client_hello_body(spec))
    assert parsed.legacy_version == version.wire_code
    assert parsed.random == random
    assert parsed.session_id == b""
    assert parsed.cipher_suites == (ECDHE_RSA_AES128_GCM, RSA_AES128_GCM)
    assert parsed.compression_methods == (0,)
    assert parsed.server_name == "example.com"
    assert parsed.groups == (X25519, SECP256R1)
    assert parsed.supported_versions == ()
    assert parsed.key_share_groups == ()
    assert parsed.extension(ExtensionType.ec_point_formats) == b"\x01\x00"
    assert parsed.extension(ExtensionType.renegotiation_info) == b"\x00"
    assert parsed.extension(ExtensionType.extended_master_secret) == b""
    assert parsed.extension(ExtensionType.session_ticket) == b""
    assert parsed.extension(ExtensionType.status_request) == b"\x01\x00\x00\x00\x00"
    assert parsed.extension(ExtensionType.application_layer_protocol_negotiation) == b"\x00\x0c\x02h2\x08http/1.1"
    has_sigalgs = parsed.extension(ExtensionType.signature_algorithms) is not None
    assert has_sigalgs == (version is TLSVersion.TLS1_2)
    assert ExtensionType.supported_versions not in _types(parsed.extensions)
    assert ExtensionType.key_share not in _types(parsed.extensions)


def test_round_trip_tls13() -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM, ECDHE_RSA_AES128_GCM),
        server_name="example.com",
        groups=(X25519_MLKEM768, X25519, SECP256R1),
        key_share_groups=(X25519_MLKEM768, X25519),
    )
    parsed = parse_client_hello(client_hello_body(spec))
    assert parsed.legacy_version == 0x0303
    assert len(parsed.session_id) == 32
    assert parsed.supported_versions == (0x0304, 0x0303, 0x0302, 0x0301)
    assert parsed.key_share_groups == (X25519_MLKEM768, X25519)
    assert parsed.groups == (X25519_MLKEM768, X25519, SECP256R1)
    sigalgs = parsed.extension(ExtensionType.signature_algorithms)
    assert sigalgs is not None
    assert sigalgs[2:] == b"".join(code.to_bytes(2, "big") for code in DEFAULT_SIGNATURE_ALGORITHMS)


def test_tls13_min_version_and_empty_key_share() -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM,),
        groups=(X25519,),
        min_version=TLSVersion.TLS1_3,
    )
    parsed = parse_client_hello(client_hello_body(spec))
    assert parsed.supported_versions == (0x0304,)
    assert parsed.extension(ExtensionType.key_share) == b"\x00\x00"


def test_ssl3_hello_has_no_extensions() -> None:
    spec = ClientHelloSpec(version=TLSVersion.SSL3, cipher_suites=(0x000A, 0x0005), server_name="example.com")
    record = build_client_hello(spec)
    assert record[:3] == b"\x16\x03\x00"
    body = record[5:]
    # type, length, version, random, empty session id, suites, compression: nothing after.
    assert len(body) == 4 + 2 + 32 + 1 + 2 + 4 + 2
    parsed = parse_client_hello(body)
    assert parsed.legacy_version == 0x0300
    assert parsed.extensions == ()


def test_record_framing_and_record_version() -> None:
    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,))
    record = build_client_hello(spec)
    assert record[:3] == b"\x16\x03\x01"
    assert int.from_bytes(record[3:5], "big") == len(record) - 5
    assert record[5] == 1  # client_hello
    custom = build_client_hello(
        ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,), record_version=0x0303)
    )
    assert custom[1:3] == b"\x03\x03"


def test_explicit_session_id_and_compression() -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM,),
        session_id=b"",
        compression_methods=(1, 0),
    )
    parsed = parse_client_hello(client_hello_body(spec))
    assert parsed.session_id == b""
    assert parsed.compression_methods == (1, 0)


def test_optional_extensions_and_extra_extensions_come_last() -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_2,
        cipher_suites=(RSA_AES128_GCM,),
        heartbeat=True,
        signed_certificate_timestamp=True,
        extended_master_secret=False,
        renegotiation_info=False,
        session_ticket=False,
        extra_extensions=((0xFFCE, b"\x01\x02"), (ExtensionType.encrypt_then_mac, b"")),
        pad_to_avoid_f5_bug=False,
    )
    parsed = parse_client_hello(client_hello_body(spec))
    assert _types(parsed.extensions) == [
        ExtensionType.signature_algorithms,
        ExtensionType.heartbeat,
        ExtensionType.signed_certificate_timestamp,
        0xFFCE,
        ExtensionType.encrypt_then_mac,
    ]
    assert parsed.extension(ExtensionType.heartbeat) == b"\x01"
    assert parsed.extension(0xFFCE) == b"\x01\x02"


def test_ec_point_formats_only_with_ecc() -> None:
    def point_formats(**kwargs: object) -> bytes | None:
        spec = ClientHelloSpec(version=TLSVersion.TLS1_2, **kwargs)  # type: ignore[arg-type]
        return parse_client_hello(client_hello_body(spec)).extension(ExtensionType.ec_point_formats)

    assert point_formats(cipher_suites=(RSA_AES128_GCM,)) is None
    assert point_formats(cipher_suites=(RSA_AES128_GCM,), groups=(FFDHE[2048],)) is None
    assert point_formats(cipher_suites=(RSA_AES128_GCM,), groups=(SECP256R1,)) == b"\x01\x00"
    assert point_formats(cipher_suites=(ECDHE_RSA_AES128_GCM,)) == b"\x01\x00"
    assert point_formats(cipher_suites=(0xC02B,)) == b"\x01\x00"  # ECDHE_ECDSA
    assert point_formats(cipher_suites=(ECDHE_RSA_AES128_GCM,), ec_point_formats=False) is None


@pytest.mark.parametrize("address", ["192.0.2.1", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0", "127.0.0.1."])
def test_ip_literal_is_not_sent_as_sni(address: str) -> None:
    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,), server_name=address)
    parsed = parse_client_hello(client_hello_body(spec))
    assert parsed.extension(ExtensionType.server_name) is None


def test_sni_encoding() -> None:
    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,), server_name="www.example.org.")
    body = parse_client_hello(client_hello_body(spec)).extension(ExtensionType.server_name)
    assert body == b"\x00\x12\x00\x00\x0fwww.example.org"
    idn = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,), server_name="bücher.example")
    assert parse_client_hello(client_hello_body(idn)).server_name == "xn--bcher-kva.example"


def test_f5_padding_rule() -> None:
    padded_seen = False
    for suite_count in range(40, 300):
        suites = tuple(range(1, suite_count + 1))
        spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=suites, random=bytes(32))
        body = client_hello_body(spec)
        assert not 256 <= len(body) <= 511, suite_count
        padding = parse_client_hello(body).extension(ExtensionType.padding)
        if padding is not None:
            padded_seen = True
            assert padding == bytes(len(padding))
            assert len(body) in (512, 513, 514, 515)
        unpadded = client_hello_body(
            ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=suites, pad_to_avoid_f5_bug=False)
        )
        assert (padding is not None) == (256 <= len(unpadded) <= 511)
    assert padded_seen


def test_padding_sits_before_extra_extensions() -> None:
    pre_shared_key = (ExtensionType.pre_shared_key, bytes(150))  # brings the hello to about 300 bytes
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=(TLS_AES_128_GCM,),
        groups=(X25519,),
        key_share_groups=(X25519,),
        extra_extensions=(pre_shared_key,),
    )
    types = _types(parse_client_hello(client_hello_body(spec)).extensions)
    assert types[-2:] == [ExtensionType.padding, ExtensionType.pre_shared_key]


KEY_SHARE_LENGTHS = {
    X25519: 32,
    X448: 56,
    SECP256R1: 65,
    SECP384R1: 97,
    SECP521R1: 133,
    FFDHE[2048]: 256,
    FFDHE[3072]: 384,
    FFDHE[4096]: 512,
    FFDHE[6144]: 768,
    FFDHE[8192]: 1024,
    MLKEM512: 800,
    MLKEM768: 1184,
    MLKEM1024: 1568,
    X25519_MLKEM768: 1184 + 32,
    SECP256R1_MLKEM768: 65 + 1184,
    SECP384R1_MLKEM1024: 97 + 1568,
    X25519_KYBER768: 32 + 1184,
}


@pytest.mark.parametrize(("group", "length"), KEY_SHARE_LENGTHS.items())
def test_key_share_lengths(group: int, length: int) -> None:
    assert supports_key_share(group)
    share = key_share_entry(group)
    assert len(share) == length
    assert key_share_entry(group) is share  # generated once per process


def test_key_share_contents() -> None:
    for group in (SECP256R1, SECP384R1, SECP521R1):
        assert key_share_entry(group)[0] == 0x04  # uncompressed point
    for bits, group in FFDHE.items():
        prime = ffdhe_prime(group)
        assert prime is not None
        assert prime.bit_length() == bits
        assert 1 < int.from_bytes(key_share_entry(group), "big") < prime - 1
    assert key_share_entry(X25519_MLKEM768) == key_share_entry(MLKEM768) + key_share_entry(X25519)
    assert key_share_entry(SECP256R1_MLKEM768) == key_share_entry(SECP256R1) + key_share_entry(MLKEM768)
    assert key_share_entry(SECP384R1_MLKEM1024) == key_share_entry(SECP384R1) + key_share_entry(MLKEM1024)
    assert key_share_entry(X25519_KYBER768) == key_share_entry(X25519) + key_share_entry(MLKEM768)


def _mlkem_coefficients(key: bytes) -> list[int]:
    packed = key[:-32]
    coefficients = []
    for i in range(0, len(packed), 3):
        triple = int.from_bytes(packed[i : i + 3], "little")
        coefficients += [triple & 0xFFF, triple >> 12]
    return coefficients


@pytest.mark.parametrize(("k", "group"), [(2, MLKEM512), (3, MLKEM768), (4, MLKEM1024)])
def test_mlkem_keys_pass_the_fips203_modulus_check(k: int, group: int) -> None:
    for key in (key_share_entry(group), mlkem_structural_encapsulation_key(k)):
        assert len(key) == 384 * k + 32
        coefficients = _mlkem_coefficients(key)
        assert len(coefficients) == 256 * k
        assert max(coefficients) < 3329


def test_structural_mlkem_keys_are_accepted_by_openssl() -> None:
    mlkem.MLKEM768PublicKey.from_public_bytes(mlkem_structural_encapsulation_key(3))
    mlkem.MLKEM1024PublicKey.from_public_bytes(mlkem_structural_encapsulation_key(4))


def _rfc7919_prime(bits: int, x: int) -> int:
    """p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1 (RFC 7919 appendix A), e summed as a series."""
    guard = 64
    one = 1 << (bits - 130 + guard)
    e_scaled, term, k = 0, one, 0
    while term:
        e_scaled += term
        k += 1
        term //= k
    return (1 << bits) - (1 << (bits - 64)) + (((e_scaled >> guard) + x) << 64) - 1


@pytest.mark.parametrize(
    ("bits", "x"), [(2048, 560316), (3072, 2625351), (4096, 5736041), (6144, 15705020), (8192, 10965728)]
)
def test_ffdhe_primes_match_rfc7919_formula(bits: int, x: int) -> None:
    assert ffdhe_prime(FFDHE[bits]) == _rfc7919_prime(bits, x)


def test_unknown_key_share_group() -> None:
    assert not supports_key_share(0xFAFA)
    with pytest.raises(ValueError, match="0xfafa"):
        key_share_entry(0xFAFA)


def test_signature_algorithms_defaults() -> None:
    names = {signature_scheme_by_code(code).name for code in DEFAULT_SIGNATURE_ALGORITHMS}  # type: ignore[union-attr]
    assert {
        "rsa_pkcs1_sha1",
        "rsa_pss_rsae_sha256",
        "ed25519",
        "ecdsa_secp256r1_sha256",
        "dsa_sha256",
    } <= names
    assert not any(name.startswith("mldsa") or "md5" in name for name in names)
    assert signature_scheme_by_code(0x0807) is not None
    assert signature_scheme_by_code(0xFFFF) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": TLSVersion.SSL2, "cipher_suites": (1,)}, "build_sslv2_client_hello"),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": ()}, "at least one"),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (0x10000,)}, "two bytes"),
        (
            {"version": TLSVersion.TLS1_3, "cipher_suites": (1,), "key_share_groups": (X25519,)},
            "not in groups",
        ),
        (
            {
                "version": TLSVersion.TLS1_2,
                "cipher_suites": (1,),
                "groups": (X25519,),
                "key_share_groups": (X25519,),
            },
            "TLS 1.3",
        ),
        (
            {
                "version": TLSVersion.TLS1_3,
                "cipher_suites": (1,),
                "groups": (0x0001,),
                "key_share_groups": (0x0001,),
            },
            "no key share",
        ),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "random": b"short"}, "32 bytes"),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "session_id": bytes(33)}, "at most 32"),
        (
            {"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "min_version": TLSVersion.TLS1_3},
            "min_version",
        ),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "alpn_protocols": ("",)}, "ALPN"),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "compression_methods": ()}, "compression"),
        ({"version": TLSVersion.TLS1_2, "cipher_suites": (1,), "server_name": "a..b"}, "host name"),
    ],
)
def test_invalid_specs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientHelloSpec(**kwargs)  # type: ignore[arg-type]


def test_sslv2_client_hello_bytes() -> None:
    challenge = bytes(range(16))
    hello = build_sslv2_client_hello([0x010080, 0x0700C0, 0x000000], challenge=challenge)
    expected_body = (
        b"\x01"  # CLIENT-HELLO
        + b"\x00\x02"  # version
        + b"\x00\x09"  # cipher specs length
        + b"\x00\x00"  # session id length
        + b"\x00\x10"  # challenge length
        + bytes.fromhex("010080 0700c0 000000")
        + challenge
    )
    assert hello == bytes([0x80, len(expected_body)]) + expected_body
    assert len(build_sslv2_client_hello([0x010080])) == 2 + 9 + 3 + 16


def test_sslv2_client_hello_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_sslv2_client_hello([])
    with pytest.raises(ValueError, match="three-byte"):
        build_sslv2_client_hello([0x1000000])
    with pytest.raises(ValueError, match="16 to 32"):
        build_sslv2_client_hello([0x010080], challenge=b"x")


def test_encode_record_fragments_and_reads_back() -> None:
    payload = bytes(i % 251 for i in range(2 * MAX_FRAGMENT_LENGTH + 100))
    data = encode_record(22, 0x0303, payload)
    reader = RecordReader()
    reader.feed(data)
    records = []
    while (record := reader.next_record()) is not None:
        records.append(record)
    assert [len(record.payload) for record in records] == [MAX_FRAGMENT_LENGTH, MAX_FRAGMENT_LENGTH, 100]
    assert b"".join(record.payload for record in records) == payload
    assert encode_record(23, 0x0303, b"") == b"\x17\x03\x03\x00\x00"


def test_parse_client_hello_rejects_malformed() -> None:
    body = client_hello_body(ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,)))
    with pytest.raises(ValueError, match="ClientHello"):
        parse_client_hello(body[:-1])
    with pytest.raises(ValueError, match="not client_hello"):
        parse_client_hello(b"\x02" + body[1:])


# ------------------------------------------------------------------------------ cross-check with tlslite-ng


def _tlslite_parse(body: bytes) -> Any:
    from tlslite.messages import ClientHello
    from tlslite.utils.codec import Parser

    return ClientHello().parse(Parser(bytearray(body[1:])))


@pytest.mark.parametrize("version", [TLSVersion.TLS1_2, TLSVersion.TLS1_3])
def test_tlslite_parses_our_client_hello(version: TLSVersion) -> None:
    pytest.importorskip("tlslite")
    from tlslite.constants import ExtensionType as TlsliteExt
    from tlslite.constants import GroupName

    tls13 = version is TLSVersion.TLS1_3
    spec = ClientHelloSpec(
        version=version,
        cipher_suites=(TLS_AES_128_GCM, ECDHE_RSA_AES128_GCM, RSA_AES128_GCM) if tls13 else (ECDHE_RSA_AES128_GCM,),
        server_name="tlsprobe.example",
        groups=(X25519, SECP256R1, FFDHE[2048]),
        key_share_groups=(X25519, SECP256R1) if tls13 else (),
        alpn_protocols=("http/1.1",),
        status_request=True,
    )
    body = client_hello_body(spec)
    hello = _tlslite_parse(body)
    ours = parse_client_hello(body)
    assert hello.client_version == (3, 3)
    assert tuple(hello.cipher_suites) == spec.cipher_suites
    assert [ext.extType for ext in hello.extensions] == _types(ours.extensions)
    assert bytes(hello.server_name) == b"tlsprobe.example"
    groups = hello.getExtension(TlsliteExt.supported_groups)
    assert tuple(groups.groups) == spec.groups
    sigalgs = hello.getExtension(TlsliteExt.signature_algorithms)
    assert [hash_id << 8 | sig_id for hash_id, sig_id in sigalgs.sigalgs] == list(DEFAULT_SIGNATURE_ALGORITHMS)
    alpn = hello.getExtension(TlsliteExt.alpn)
    assert [bytes(name) for name in alpn.protocol_names] == [b"http/1.1"]
    if tls13:
        versions = hello.getExtension(TlsliteExt.supported_versions)
        assert versions.versions == [(3, 4), (3, 3), (3, 2), (3, 1)]
        shares = hello.getExtension(TlsliteExt.key_share)
        assert [share.group for share in shares.client_shares] == [GroupName.x25519, GroupName.secp256r1]
        assert [bytes(share.key_exchange) for share in shares.client_shares] == [
            key_share_entry(X25519),
            key_share_entry(SECP256R1),
        ]


def test_tlslite_parses_our_sslv2_client_hello() -> None:
    pytest.importorskip("tlslite")
    from tlslite.messages import ClientHello
    from tlslite.utils.codec import Parser

    challenge = bytes(range(100, 116))
    record = build_sslv2_client_hello([0x010080, 0x020080], challenge=challenge)
    assert record[2] == 1  # CLIENT-HELLO
    hello = ClientHello(ssl2=True).parse(Parser(bytearray(record[3:])))
    assert hello.client_version == (0, 2)
    assert list(hello.cipher_suites) == [0x010080, 0x020080]
    assert bytes(hello.random) == bytes(16) + challenge
