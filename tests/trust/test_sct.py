"""Signed certificate timestamps: the RFC 6962 list format built by hand, its DER wrapping, the certificate
extension as cryptography parses it, and garbage."""

from __future__ import annotations

import datetime
import json
import struct

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsprobe._model._json import to_jsonable
from tlsprobe.trust._sct import (
    SCT_LIST_CERTIFICATE_EXTENSION_OID,
    SCTCounts,
    SCTSource,
    SignedCertificateTimestamp,
    embedded_scts,
    parse_sct_extension,
    parse_sct_list,
    sct_counts,
    unwrap_octet_string,
)

LOG_A = bytes(range(32))
LOG_B = b"\xee" * 32
# 2024-03-01T12:00:00.123Z in milliseconds since the epoch.
WHEN_MS = 1_709_294_400_123
WHEN = datetime.datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=datetime.UTC)


def vec16(body: bytes) -> bytes:
    """A TLS ``opaque<0..2^16-1>``."""
    return struct.pack(">H", len(body)) + body


def serialized_sct(
    log_id: bytes = LOG_A,
    *,
    timestamp_ms: int = WHEN_MS,
    hash_code: int = 4,
    signature_code: int = 3,
    signature: bytes = b"\x30\x06\x02\x01\x01\x02\x01\x02",
    extensions: bytes = b"",
    version: int = 0,
) -> bytes:
    """One SCT as RFC 6962 §3.2 serialises it (without its own length prefix)."""
    return (
        bytes([version])
        + log_id
        + struct.pack(">Q", timestamp_ms)
        + vec16(extensions)
        + bytes([hash_code, signature_code])
        + vec16(signature)
    )


def sct_list(*scts: bytes) -> bytes:
    """A SignedCertificateTimestampList: a vector of length-prefixed SCTs."""
    return vec16(b"".join(vec16(sct) for sct in scts))


def der_octet_string(content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return b"\x04" + bytes([length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(encoded)]) + encoded + content


def self_signed(*extensions: x509.ExtensionType) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sct test")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256())


def test_two_scts_parse_with_every_field() -> None:
    data = sct_list(
        serialized_sct(),
        serialized_sct(LOG_B, hash_code=4, signature_code=1, signature=b"rsa-sig", extensions=b"\x01\x02"),
    )
    assert parse_sct_list(data) == (
        SignedCertificateTimestamp(
            source=SCTSource.TLS_EXTENSION,
            version=0,
            log_id=LOG_A,
            log_id_base64="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            timestamp=WHEN,
            hash_algorithm="sha256",
            signature_algorithm="ecdsa",
            signature=b"\x30\x06\x02\x01\x01\x02\x01\x02",
            extensions=b"",
        ),
        SignedCertificateTimestamp(
            source=SCTSource.TLS_EXTENSION,
            version=0,
            log_id=LOG_B,
            log_id_base64="7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u7u4=",
            timestamp=WHEN,
            hash_algorithm="sha256",
            signature_algorithm="rsa",
            signature=b"rsa-sig",
            extensions=b"\x01\x02",
        ),
    )


def test_source_is_recorded_and_codes_outside_the_registry_are_named_unknown() -> None:
    (sct,) = parse_sct_list(sct_list(serialized_sct(hash_code=9, signature_code=42)), source=SCTSource.OCSP_RESPONSE)
    assert (sct.source, sct.hash_algorithm, sct.signature_algorithm) == (
        SCTSource.OCSP_RESPONSE,
        "unknown(9)",
        "unknown(42)",
    )
    assert sct.log_name is None


def test_an_empty_list_has_no_scts() -> None:
    assert parse_sct_list(b"\x00\x00") == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "SCT list: truncated length (needs 2 bytes at offset 0, has 0)"),
        (b"\x00", "SCT list: truncated length (needs 2 bytes at offset 0, has 1)"),
        (b"\x00\x10\x00", "SCT list: declares 16 bytes at offset 0, only 1 follow"),
        (sct_list(serialized_sct()) + b"\x00", "SCT list: 1 bytes after the list"),
        (vec16(b"\x00\x00"), "SCT 1: empty"),
        (vec16(b"\x00\x05abc"), "SCT 1: declares 5 bytes at offset 0, only 3 follow"),
        (sct_list(serialized_sct(version=1)), "SCT 1: version 1 is not v1 (0), the only one RFC 6962 defines"),
        (sct_list(b"\x00" + LOG_A), "SCT 1: 33 bytes, too short for a log ID and a timestamp"),
        (sct_list(serialized_sct()[:-3]), "SCT 1 signature: declares 8 bytes at offset 45, only 5 follow"),
        (sct_list(serialized_sct() + b"!"), "SCT 1: 1 bytes after the signature"),
        (sct_list(serialized_sct()[:43]), "SCT 1: truncated before the signature algorithms"),
        (sct_list(serialized_sct(), serialized_sct(timestamp_ms=2**64 - 1)), "SCT 2: timestamp"),
    ],
)
def test_garbage_raises_value_error_saying_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_sct_list(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_parse_or_raise_value_error(data: bytes) -> None:
    try:
        scts = parse_sct_list(data)
    except ValueError:
        return
    assert all(isinstance(sct, SignedCertificateTimestamp) for sct in scts)


def test_the_der_octet_string_wrapping_is_removed_in_short_and_long_form() -> None:
    short = sct_list(serialized_sct())
    long = sct_list(*(serialized_sct(bytes([index]) * 32) for index in range(5)))
    assert len(short) < 0x80 < len(long)
    assert unwrap_octet_string(der_octet_string(short)) == short
    assert unwrap_octet_string(der_octet_string(long)) == long
    scts = parse_sct_extension(der_octet_string(long), source=SCTSource.OCSP_RESPONSE)
    assert [sct.log_id[0] for sct in scts] == [0, 1, 2, 3, 4]
    assert {sct.source for sct in scts} == {SCTSource.OCSP_RESPONSE}


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (b"", "SCT extension: not a DER OCTET STRING"),
        (b"\x30\x00", "SCT extension: not a DER OCTET STRING"),
        (b"\x04\x80", "SCT extension: bad DER length"),
        (b"\x04\x82\x01", "SCT extension: bad DER length"),
        (b"\x04\x03ab", "SCT extension: the OCTET STRING declares 3 bytes, 2 present"),
        (b"\x04\x01ab", "SCT extension: the OCTET STRING declares 1 bytes, 2 present"),
    ],
)
def test_bad_wrapping_raises_value_error(der: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        unwrap_octet_string(der)


def test_embedded_scts_come_from_the_certificate_extension_cryptography_parses() -> None:
    data = sct_list(serialized_sct(), serialized_sct(LOG_B))
    cert = self_signed(x509.UnrecognizedExtension(SCT_LIST_CERTIFICATE_EXTENSION_OID, der_octet_string(data)))
    # The DER is the real thing: cryptography recognises the extension and decodes the same two SCTs.
    extension = cert.extensions.get_extension_for_oid(SCT_LIST_CERTIFICATE_EXTENSION_OID).value
    assert isinstance(extension, x509.PrecertificateSignedCertificateTimestamps)
    assert [sct.log_id for sct in extension] == [LOG_A, LOG_B]
    scts = embedded_scts(cert)
    assert [(sct.source, sct.log_id, sct.timestamp) for sct in scts] == [
        (SCTSource.EMBEDDED, LOG_A, WHEN),
        (SCTSource.EMBEDDED, LOG_B, WHEN),
    ]


def test_a_certificate_without_the_extension_has_no_embedded_scts() -> None:
    assert embedded_scts(self_signed(x509.BasicConstraints(ca=False, path_length=None))) == ()


def test_counts_per_source() -> None:
    embedded = parse_sct_list(sct_list(serialized_sct(), serialized_sct(LOG_B)), source=SCTSource.EMBEDDED)
    tls = parse_sct_list(sct_list(serialized_sct()))
    counts = sct_counts([*embedded, *tls])
    assert counts == SCTCounts(embedded=2, tls_extension=1, ocsp_response=0)
    assert counts.total == 3
    assert sct_counts([]) == SCTCounts(embedded=0, tls_extension=0, ocsp_response=0)


def test_results_convert_to_json() -> None:
    (sct,) = parse_sct_list(sct_list(serialized_sct(signature=b"\xab\xcd")))
    document = to_jsonable({"sct": sct, "counts": sct_counts([sct])})
    assert document == {
        "sct": {
            "source": "tls_extension",
            "version": 0,
            "log_id": LOG_A.hex(),
            "log_id_base64": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "timestamp": "2024-03-01T12:00:00.123000+00:00",
            "hash_algorithm": "sha256",
            "signature_algorithm": "ecdsa",
            "signature": "abcd",
            "extensions": "",
            "log_name": None,
        },
        "counts": {"embedded": 0, "tls_extension": 1, "ocsp_response": 0},
    }
    json.dumps(document)
