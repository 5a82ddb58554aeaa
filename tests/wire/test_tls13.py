"""Tests of TLS 1.3 server-flight decryption: RFC 8448 vectors, re-framed and broken flights, key shares, fuzzing,
and real servers (Python's ssl and openssl s_server) over raw sockets."""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import re
import socket
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.servers.processes import start_openssl_s_server
from tests.wire.test_server import extension, handshake, record, server_hello, vec
from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.testing import LocalTLSServer, TestPKI
from tlsprobe.wire import (
    HRR_RANDOM,
    Alert,
    ClientHelloSpec,
    ExtensionType,
    Record,
    RecordReader,
    ServerFlightReader,
    ServerHello,
    TLSVersion,
    build_client_hello,
    client_hello_body,
    ffdhe_prime,
    key_share_entry,
)
from tlsprobe.wire._keyshare import (
    KeySharePrivateKey,
    exchange_key_share,
    generate_key_share_private_key,
    key_share_public_bytes,
    shared_secret,
    supports_decryption,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)  # FFDH, deprecated by cryptography 50
    from cryptography.hazmat.primitives.asymmetric.dh import DHParameterNumbers, DHPrivateNumbers, DHPublicNumbers
from tlsprobe.wire._tls13 import (
    CertificateVerify,
    EncryptedExtensions,
    Finished,
    Tls13Certificate,
    Tls13CertificateRequest,
    Tls13Event,
    Tls13FlightDecryptor,
    Tls13FlightError,
    Tls13HandshakeKeys,
    Tls13UnsupportedError,
    hkdf_expand_label,
    parse_certificate,
    parse_certificate_request,
    parse_certificate_verify,
    parse_encrypted_extensions,
    verify_certificate_verify,
)

X25519, X448, SECP256R1, SECP384R1, SECP521R1 = 0x001D, 0x001E, 0x0017, 0x0018, 0x0019
FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144, FFDHE8192 = 0x0100, 0x0101, 0x0102, 0x0103, 0x0104
MLKEM768, X25519_MLKEM768 = 0x0201, 0x11EC
DH_GROUPS = (X25519, X448, SECP256R1, SECP384R1, SECP521R1, FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144, FFDHE8192)
AES128_GCM, AES256_GCM, CHACHA20, AES128_CCM, AES128_CCM8 = 0x1301, 0x1302, 0x1303, 0x1304, 0x1305
SUITE_NAMES = {
    AES128_GCM: "TLS_AES_128_GCM_SHA256",
    AES256_GCM: "TLS_AES_256_GCM_SHA384",
    CHACHA20: "TLS_CHACHA20_POLY1305_SHA256",
    AES128_CCM: "TLS_AES_128_CCM_SHA256",
    AES128_CCM8: "TLS_AES_128_CCM_8_SHA256",
}
LIVE_GROUPS = (X25519, SECP256R1, SECP384R1, X448, FFDHE2048)
RSA_PSS_RSAE = ("rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512")

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------- RFC 8448 §3, "Simple 1-RTT Handshake"


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


RFC_CLIENT_HELLO = h("""
    01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec
    e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00
    14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38
    1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00 03 02 03 04
    00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00
    2d 00 02 01 01 00 1c 00 02 40 01""")
RFC_CLIENT_PRIVATE_KEY = h(
    "49 af 42 ba 7f 79 94 85 2d 71 3e f2 78 4b cb ca a7 91 1d e2 6a dc 56 42 cb 63 45 40 e7 ea 50 05"
)
RFC_SERVER_HELLO = h("""
    02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69
    28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83
    3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04""")
# EncryptedExtensions, Certificate, CertificateVerify and Finished in one record.
RFC_SERVER_FLIGHT = h("""
    17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f 45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4
    0a a4 0a a2 b8 ea 73 f8 48 a7 ca 07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd 05 d2
    a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c
    79 02 07 16 cf b9 b1 18 3e f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c 7d 0e 50 92
    89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8 bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4
    53 ba a4 fc d6 10 92 8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70 a2 55 9c 09 ea d6
    86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8 94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9
    60 bd 59 6e ea 52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f 44 15 cf 95 38 d5 1a 20
    0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89 f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4
    f2 92 a3 6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1 00 d7 d9 61 ff b1 38 64 7e 92
    ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e 1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56
    84 c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c f9 3b 16 49 9a 66 db 7c ca 71 e4 59
    94 26 f7 d4 61 e6 6f 99 88 2b d8 9f c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be 5a
    37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6 fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67
    f8 af e6 7f 76 91 3f a3 88 cb 56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10 dc 35 ae
    69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38 eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97
    8c 31 7f c9 fa 66 a7 3f 60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78 40 16 e4 b3 be
    7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3 79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53
    fe 51 75 be 89 8e 75 0e dc 53 37 0d 2b""")
RFC_ENCRYPTED_EXTENSIONS = h("""
    08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c 00 02 40 01 00
    00 00 00""")
RFC_FINISHED_VERIFY_DATA = h(
    "9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f 07 18"
)


def rfc_private_keys() -> dict[int, KeySharePrivateKey]:
    return {X25519: x25519.X25519PrivateKey.from_private_bytes(RFC_CLIENT_PRIVATE_KEY)}


def rfc_decryptor(*, max_bytes: int = 512 * 1024) -> Tls13FlightDecryptor:
    return Tls13FlightDecryptor(RFC_CLIENT_HELLO, private_keys=rfc_private_keys(), max_bytes=max_bytes)


def rfc_keys() -> Tls13HandshakeKeys:
    decryptor = rfc_decryptor()
    decryptor.feed_server_hello(RFC_SERVER_HELLO)
    assert decryptor.keys is not None
    return decryptor.keys


def rfc_flight_messages() -> bytes:
    """The four handshake messages of the RFC's encrypted record, decrypted with the RFC's keys."""
    keys = rfc_keys()
    inner = AESGCM(keys.key).decrypt(keys.iv, RFC_SERVER_FLIGHT[5:], RFC_SERVER_FLIGHT[:5])
    assert inner[-1] == 22
    return inner[:-1]


def split_messages(data: bytes) -> list[bytes]:
    messages = []
    while data:
        end = 4 + int.from_bytes(data[1:4], "big")
        messages.append(data[:end])
        data = data[end:]
    return messages


class Sealer:
    """Encrypts records as the RFC's server would, numbering them from 0."""

    def __init__(self, keys: Tls13HandshakeKeys) -> None:
        self.keys = keys
        self.sequence = 0

    def seal(self, content: bytes, content_type: int = 22, *, padding: int = 0) -> bytes:
        inner = content + bytes((content_type,)) + bytes(padding)
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        nonce = (int.from_bytes(self.keys.iv, "big") ^ self.sequence).to_bytes(12, "big")
        self.sequence += 1
        return header + AESGCM(self.keys.key).encrypt(nonce, inner, header)


def kinds(events: Sequence[Tls13Event]) -> list[str]:
    return [type(event).__name__ for event in events]


def test_rfc8448_key_schedule() -> None:
    secret = exchange_key_share(X25519, rfc_private_keys()[X25519], RFC_SERVER_HELLO[-38:-6])
    assert secret.hex() == "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"
    keys = rfc_keys()
    assert (keys.cipher_suite, keys.hash_name) == (AES128_GCM, "sha256")
    assert keys.handshake_secret.hex() == "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"
    assert keys.server_handshake_traffic_secret.hex() == (
        "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
    )
    assert keys.key.hex() == "3fce516009c21727d0f2e4e86ee403bc"
    assert keys.iv.hex() == "5d313eb2671276ee13000b30"
    assert keys.finished_key.hex() == "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8"
    assert "3fce" not in repr(keys)  # secrets stay out of logs


def test_rfc8448_flight() -> None:
    decryptor = rfc_decryptor()
    events = decryptor.feed(record(22, RFC_SERVER_HELLO) + RFC_SERVER_FLIGHT)
    assert kinds(events) == ["ServerHello", "EncryptedExtensions", "Tls13Certificate", "CertificateVerify", "Finished"]
    hello, extensions, certificate, verify, finished = events
    assert isinstance(hello, ServerHello) and hello.key_share_group == X25519
    assert extensions == parse_encrypted_extensions(RFC_ENCRYPTED_EXTENSIONS[4:])
    assert isinstance(extensions, EncryptedExtensions)
    assert extensions.server_name_acknowledged and not extensions.early_data and extensions.alpn_protocol is None
    assert extensions.supported_groups == (X25519, SECP256R1, SECP384R1, SECP521R1, *range(0x0100, 0x0105))
    assert extensions.extension(ExtensionType.record_size_limit) == b"\x40\x01"
    assert isinstance(certificate, Tls13Certificate)
    assert certificate.certificate_request_context == b""
    (entry,) = certificate.entries
    assert (entry.extensions, entry.ocsp_response, entry.signed_certificate_timestamps) == ((), None, ())
    assert x509.load_der_x509_certificate(entry.cert_data).subject.rfc4514_string() == "CN=rsa"
    assert isinstance(verify, CertificateVerify)
    assert (verify.signature_scheme_name, len(verify.signature), verify.signature_valid) == (
        "rsa_pss_rsae_sha256",
        128,
        True,
    )
    assert finished == Finished(verify_data=RFC_FINISHED_VERIFY_DATA)
    assert decryptor.done and decryptor.records_decrypted == 1
    assert decryptor.feed(b"\x17\x03\x03\x00\x01\x00") == []  # after the flight, bytes are ignored


def test_rfc8448_flight_in_every_chunking() -> None:
    data = record(22, RFC_SERVER_HELLO) + RFC_SERVER_FLIGHT
    expected = rfc_decryptor().feed(data)
    for size in (1, 2, 5, 7, 99, 100, 101, 700):
        decryptor = rfc_decryptor()
        events: list[Tls13Event] = []
        for start in range(0, len(data), size):
            events += decryptor.feed(data[start : start + size])
        assert events == expected, size


def test_server_hello_and_records_fed_separately() -> None:
    decryptor = rfc_decryptor()
    hello = decryptor.feed_server_hello(RFC_SERVER_HELLO)
    assert hello.cipher_suite == AES128_GCM and decryptor.server_hello is hello
    ccs = Record(content_type=20, version=0x0303, payload=b"\x01")
    flight = Record(content_type=23, version=0x0303, payload=RFC_SERVER_FLIGHT[5:])
    assert decryptor.feed_record(ccs) == []
    assert kinds(decryptor.feed_record(flight))[-1] == "Finished"


def test_client_hello_given_as_records() -> None:
    as_records = record(22, RFC_CLIENT_HELLO, version=0x0301)
    decryptor = Tls13FlightDecryptor(as_records, private_keys=rfc_private_keys())
    assert kinds(decryptor.feed(record(22, RFC_SERVER_HELLO) + RFC_SERVER_FLIGHT))[-1] == "Finished"


def reframed(chunks: Sequence[tuple[bytes, int]], *, ccs: bool = True) -> bytes:
    """ServerHello, a ChangeCipherSpec, then each (content, padding) chunk of handshake data in its own record."""
    sealer = Sealer(rfc_keys())
    data = record(22, RFC_SERVER_HELLO) + (record(20, b"\x01") if ccs else b"")
    return data + b"".join(sealer.seal(content, padding=padding) for content, padding in chunks)


def test_messages_spanning_records_sharing_records_and_padded() -> None:
    messages = rfc_flight_messages()
    expected = rfc_decryptor().feed(record(22, RFC_SERVER_HELLO) + RFC_SERVER_FLIGHT)
    one_per_record = [(message, 0) for message in split_messages(messages)]
    cut_everywhere = [(messages[i : i + 50], 0) for i in range(0, len(messages), 50)]
    padded = [(messages[:3], 200), (messages[3:300], 1), (messages[300:], 1000)]
    for chunks in (one_per_record, cut_everywhere, padded):
        assert rfc_decryptor().feed(reframed(chunks)) == expected


def test_encrypted_alert() -> None:
    sealer = Sealer(rfc_keys())
    extensions = split_messages(rfc_flight_messages())[0]
    decryptor = rfc_decryptor()
    data = record(22, RFC_SERVER_HELLO) + sealer.seal(extensions) + sealer.seal(b"\x02\x28", content_type=21)
    events = decryptor.feed(data)
    assert kinds(events) == ["ServerHello", "EncryptedExtensions", "Alert"]
    assert events[-1] == Alert(level=2, description=40)
    assert events[-1].description_name == "handshake_failure"
    assert decryptor.done


def test_cleartext_alert() -> None:
    decryptor = rfc_decryptor()
    assert decryptor.feed(record(21, b"\x02\x46")) == [Alert(level=2, description=70)]
    assert decryptor.done


def tampered_finished() -> bytes:
    messages = split_messages(rfc_flight_messages())
    messages[-1] = messages[-1][:-1] + bytes((messages[-1][-1] ^ 1,))
    return reframed([(b"".join(messages), 0)])


def with_sealed(*contents: tuple[bytes, int]) -> bytes:
    sealer = Sealer(rfc_keys())
    return record(22, RFC_SERVER_HELLO) + b"".join(sealer.seal(content, kind) for content, kind in contents)


def rfc_messages() -> list[bytes]:
    return split_messages(rfc_flight_messages())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(record(22, RFC_SERVER_HELLO) + RFC_SERVER_FLIGHT[:-1] + b"\x00", "does not decrypt", id="bad-tag"),
        pytest.param(tampered_finished, "Finished does not verify", id="bad-finished"),
        pytest.param(lambda: with_sealed((rfc_messages()[1], 22)), "where encrypted_extensions was", id="order"),
        pytest.param(lambda: with_sealed((rfc_messages()[0] + rfc_messages()[3], 22)), "certificate", id="skip"),
        pytest.param(lambda: with_sealed((b"GET /", 23)), "content type 23 before", id="app-data"),
        pytest.param(lambda: with_sealed((b"", 22)), "empty", id="empty-handshake"),
        pytest.param(lambda: with_sealed((b"\x02\x28\x02", 21)), "alert of 3 bytes", id="long-alert"),
        pytest.param(lambda: with_sealed((b"x", 99)), "content type 99", id="unknown-type"),
        pytest.param(
            lambda: with_sealed((b"".join(rfc_messages()) + b"\x08", 22)), "follows the server's Finished", id="tail"
        ),
        pytest.param(record(22, RFC_SERVER_HELLO + b"\x08\x00"), "follows the ServerHello", id="sh-tail"),
        pytest.param(record(22, RFC_SERVER_HELLO) + record(22, b"\x08\x00\x00\x00"), "cleartext record", id="clear"),
        pytest.param(record(22, RFC_SERVER_HELLO) + record(20, b"\x02"), "ChangeCipherSpec", id="bad-ccs"),
        pytest.param(record(20, b"\x01"), "before its ServerHello", id="early-ccs"),
        pytest.param(record(22, b"\x0b\x00\x00\x00"), "where a ServerHello was expected", id="not-sh"),
        pytest.param(record(21, b"\x02"), "alert of 1 bytes", id="short-alert"),
        pytest.param(b"HTTP/1.1 400 Bad Request\r\n", "plain HTTP", id="http"),
        pytest.param(record(22, RFC_SERVER_HELLO) + record(23, bytes(17000)), "16640 allowed", id="big-record"),
        pytest.param(record(22, RFC_SERVER_HELLO) + record(23, bytes(20000)), "TLS allows", id="huge-record"),
    ],
)
def test_malformed_flights(data: bytes | Callable[[], bytes], message: str) -> None:
    raw = data() if callable(data) else data
    decryptor = rfc_decryptor()
    with pytest.raises(Tls13FlightError, match=message) as caught:
        decryptor.feed(raw)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, MalformedServerResponseError)
    with pytest.raises(Tls13FlightError, match=message):  # errors are sticky
        decryptor.feed(b"")


def test_all_padding_record() -> None:
    keys = rfc_keys()
    header = b"\x17\x03\x03\x00\x14"
    sealed = header + AESGCM(keys.key).encrypt(keys.iv, bytes(4), header)
    with pytest.raises(Tls13FlightError, match="no content type"):
        rfc_decryptor().feed(record(22, RFC_SERVER_HELLO) + sealed)


def test_max_bytes() -> None:
    decryptor = rfc_decryptor(max_bytes=500)
    decryptor.feed(record(22, RFC_SERVER_HELLO))
    with pytest.raises(Tls13FlightError, match="more than 500 bytes"):
        decryptor.feed(RFC_SERVER_FLIGHT)


def rfc_server_hello(
    *, random: bytes = bytes(range(32)), suite: int = AES128_GCM, extensions: Sequence[bytes] | None = None
) -> bytes:
    if extensions is None:
        extensions = [
            extension(ExtensionType.supported_versions, b"\x03\x04"),
            extension(ExtensionType.key_share, X25519.to_bytes(2, "big") + vec(2, RFC_SERVER_HELLO[-38:-6])),
        ]
    return server_hello(random=random, session_id=b"", suite=suite, extensions=extensions)


def test_server_hellos_that_cannot_be_decrypted() -> None:
    supported_versions = extension(ExtensionType.supported_versions, b"\x03\x04")
    key_share = extension(ExtensionType.key_share, X25519.to_bytes(2, "big") + vec(2, RFC_SERVER_HELLO[-38:-6]))
    unsupported = {
        "HelloRetryRequest": rfc_server_hello(
            random=HRR_RANDOM, extensions=[supported_versions, extension(ExtensionType.key_share, b"\x00\x17")]
        ),
        "negotiated TLS 1.2": rfc_server_hello(extensions=[]),
        "pre-shared key": rfc_server_hello(
            extensions=[supported_versions, key_share, extension(ExtensionType.pre_shared_key, b"\x00\x00")]
        ),
    }
    for message, hello in unsupported.items():
        decryptor = rfc_decryptor()
        with pytest.raises(Tls13UnsupportedError, match=message):
            decryptor.feed_server_hello(hello)
        with pytest.raises(Tls13UnsupportedError, match=message):  # sticky
            decryptor.feed(b"")


def test_suite_offered_but_not_implemented() -> None:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_3, cipher_suites=(0x13FF, AES128_GCM), groups=(X25519,), key_share_groups=(X25519,)
    )
    server_key = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    hello = rfc_server_hello(
        suite=0x13FF,
        extensions=[
            extension(ExtensionType.supported_versions, b"\x03\x04"),
            extension(ExtensionType.key_share, X25519.to_bytes(2, "big") + vec(2, server_key)),
        ],
    )
    with pytest.raises(Tls13UnsupportedError, match=r"0x13ff is not a TLS 1\.3 suite"):
        Tls13FlightDecryptor(client_hello_body(spec)).feed_server_hello(hello)


@pytest.mark.parametrize(
    ("extensions", "suite", "message"),
    [
        ([extension(ExtensionType.supported_versions, b"\x03\x04")], AES128_GCM, "without a key_share"),
        (None, AES128_CCM, "0x1304, which was not offered"),
        (
            [
                extension(ExtensionType.supported_versions, b"\x03\x04"),
                extension(ExtensionType.key_share, SECP256R1.to_bytes(2, "big") + vec(2, b"\x04" * 65)),
            ],
            AES128_GCM,
            "group 0x0017, for which the client sent no key share",
        ),
        (
            [
                extension(ExtensionType.supported_versions, b"\x03\x04"),
                extension(ExtensionType.key_share, X25519.to_bytes(2, "big") + vec(2, bytes(32))),
            ],
            AES128_GCM,
            "low-order point",
        ),
        ([extension(ExtensionType.supported_versions, b"\x03\x09")], AES128_GCM, "unknown protocol version"),
    ],
)
def test_malformed_server_hellos(extensions: Sequence[bytes] | None, suite: int, message: str) -> None:
    with pytest.raises(Tls13FlightError, match=message):
        rfc_decryptor().feed(record(22, rfc_server_hello(suite=suite, extensions=extensions)))


def tls13_spec(group: int, **kwargs: object) -> ClientHelloSpec:
    return ClientHelloSpec(
        version=TLSVersion.TLS1_3,
        cipher_suites=tuple(SUITE_NAMES),
        groups=(group,),
        key_share_groups=(group,),
        server_name="localhost",
        **kwargs,  # type: ignore[arg-type]
    )


def test_mlkem_group_is_unsupported() -> None:
    hello = client_hello_body(tls13_spec(X25519_MLKEM768))
    server = rfc_server_hello(
        extensions=[
            extension(ExtensionType.supported_versions, b"\x03\x04"),
            extension(ExtensionType.key_share, X25519_MLKEM768.to_bytes(2, "big") + vec(2, b"\x01" * 1120)),
        ]
    )
    with pytest.raises(Tls13UnsupportedError, match="ML-KEM"):
        Tls13FlightDecryptor(hello).feed(record(22, server))


def test_client_hello_problems() -> None:
    with pytest.raises(ValueError, match="not made with this process's key_share_entry"):
        Tls13FlightDecryptor(RFC_CLIENT_HELLO).feed(record(22, RFC_SERVER_HELLO))
    other_key = x25519.X25519PrivateKey.generate()
    with pytest.raises(ValueError, match="not made with the private key given"):
        Tls13FlightDecryptor(RFC_CLIENT_HELLO, private_keys={X25519: other_key}).feed_server_hello(RFC_SERVER_HELLO)
    no_key_share = ClientHelloSpec(version=TLSVersion.TLS1_3, cipher_suites=(AES128_GCM,), groups=(X25519,))
    with pytest.raises(ValueError, match="no key_share entry"):
        Tls13FlightDecryptor(client_hello_body(no_key_share))
    with pytest.raises(ValueError, match="not framed as TLS records"):
        Tls13FlightDecryptor(b"\x16\x09\x01\x00\x01\x01")
    with pytest.raises(ValueError, match="truncated record"):
        Tls13FlightDecryptor(record(22, RFC_CLIENT_HELLO)[:-1])
    with pytest.raises(ValueError, match="malformed body of ClientHello"):
        Tls13FlightDecryptor(b"\x01\x00\x00\x05hello")


def test_feed_server_hello_checks_its_framing() -> None:
    decryptor = rfc_decryptor()
    with pytest.raises(Tls13FlightError, match="where a ServerHello was expected"):
        decryptor.feed_server_hello(b"\x08" + RFC_SERVER_HELLO[1:])
    decryptor = rfc_decryptor()
    decryptor.feed_server_hello(RFC_SERVER_HELLO)
    with pytest.raises(ValueError, match="already fed"):
        decryptor.feed_server_hello(RFC_SERVER_HELLO)


# ---------------------------------------------------------------------------------------------- parsers


def entry(cert: bytes, *extensions: bytes) -> bytes:
    return vec(3, cert) + vec(2, b"".join(extensions))


def test_certificate_entry_extensions() -> None:
    ocsp_body = b"\x01" + vec(3, b"OCSP-DER")
    scts = vec(2, vec(2, b"sct-one") + vec(2, b"sct-two"))
    body = vec(1, b"") + vec(
        3,
        entry(b"leaf", extension(ExtensionType.status_request, ocsp_body), extension(18, scts))
        + entry(b"intermediate"),
    )
    certificate = parse_certificate(body)
    leaf, intermediate = certificate.entries
    assert (leaf.ocsp_response, leaf.signed_certificate_timestamps) == (b"OCSP-DER", (b"sct-one", b"sct-two"))
    assert (intermediate.ocsp_response, intermediate.signed_certificate_timestamps) == (None, ())
    assert certificate.certificates == (b"leaf", b"intermediate")


def test_certificate_request() -> None:
    body = vec(1, b"") + vec(
        2,
        extension(ExtensionType.signature_algorithms, vec(2, b"\x08\x04\x04\x03"))
        + extension(ExtensionType.signature_algorithms_cert, vec(2, b"\x04\x01"))
        + extension(ExtensionType.certificate_authorities, vec(2, vec(2, b"0\x00CA-one") + vec(2, b"0\x00CA-two"))),
    )
    request = parse_certificate_request(body)
    assert request == Tls13CertificateRequest(
        certificate_request_context=b"",
        extensions=request.extensions,
        signature_algorithms=(0x0804, 0x0403),
        signature_algorithms_cert=(0x0401,),
        certificate_authorities=(b"0\x00CA-one", b"0\x00CA-two"),
    )


def test_encrypted_extensions_fields() -> None:
    alpn = extension(ExtensionType.application_layer_protocol_negotiation, vec(2, vec(1, b"h2")))
    body = vec(2, alpn + extension(ExtensionType.early_data, b"") + extension(ExtensionType.server_name, b""))
    parsed = parse_encrypted_extensions(body)
    assert (parsed.alpn_protocol, parsed.early_data, parsed.server_name_acknowledged) == ("h2", True, True)


@pytest.mark.parametrize(
    ("parser", "body", "message"),
    [
        (parse_encrypted_extensions, vec(2, extension(0, b"") + extension(0, b"")), "appears twice"),
        (parse_encrypted_extensions, vec(2, extension(16, vec(2, vec(1, b"a") + vec(1, b"b")))), "exactly one"),
        (parse_encrypted_extensions, vec(2, extension(42, b"\x00")), "unexpected bytes"),
        (parse_encrypted_extensions, b"\x00\x05", "needs 5 bytes"),
        (parse_certificate, vec(1, b"") + vec(3, entry(b"c", extension(5, b"\x02" + vec(3, b"x")))), "not ocsp"),
        (parse_certificate, vec(1, b"") + vec(3, entry(b"c", extension(18, b"\x00\x00"))), "shorter than"),
        (parse_certificate, vec(1, b"") + vec(3, vec(3, b"")), "cert_data is 0 bytes"),
        (parse_certificate_request, vec(1, b"") + vec(2, extension(13, vec(2, b"\x08"))), "shorter than"),
        (parse_certificate_verify, b"\x08\x04" + vec(2, b"sig") + b"!", "unexpected bytes"),
    ],
)
def test_malformed_messages(parser: object, body: bytes, message: str) -> None:
    assert callable(parser)
    with pytest.raises(Tls13FlightError, match=message):
        parser(body)


def test_certificate_verify_signatures() -> None:
    transcript_hash = b"\x42" * 32
    content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + transcript_hash
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "p256")])
    now = datetime.datetime.now(datetime.UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    signature = key.sign(content, ec.ECDSA(hashes.SHA256()))
    assert verify_certificate_verify(leaf, 0x0403, signature, transcript_hash) is True
    assert verify_certificate_verify(leaf, 0x0403, signature, b"\x43" * 32) is False
    assert verify_certificate_verify(leaf, 0x0503, signature, transcript_hash) is False  # P-384 scheme, P-256 key
    assert verify_certificate_verify(leaf, 0x0804, signature, transcript_hash) is False  # RSA scheme
    assert verify_certificate_verify(leaf, 0x0807, signature, transcript_hash) is False  # Ed25519 scheme
    assert verify_certificate_verify(leaf, 0x0403, b"garbage", transcript_hash) is False
    assert verify_certificate_verify(leaf, 0xFAFA, signature, transcript_hash) is None
    assert verify_certificate_verify(b"not DER", 0x0403, signature, transcript_hash) is None
    assert verify_certificate_verify(leaf[:100], 0x0403, signature, transcript_hash) is None


def test_certificate_verify_of_a_leaf_with_serial_zero() -> None:
    """Only the key is read: a quirky certificate (cryptography warns on serial 0) still verifies, silently."""
    messages = rfc_messages()
    leaf = bytearray(parse_certificate(messages[1][4:]).entries[0].cert_data)
    assert leaf[13:16] == b"\x02\x01\x02"  # serialNumber INTEGER 2
    leaf[15] = 0
    scheme, signature = parse_certificate_verify(messages[2][4:])
    transcript_hash = hashlib.sha256(RFC_CLIENT_HELLO + RFC_SERVER_HELLO + messages[0] + messages[1]).digest()
    assert verify_certificate_verify(bytes(leaf), scheme, signature, transcript_hash) is True  # warnings are errors


# ----------------------------------------------------------------------------------------------- key shares


def peer_share(group: int) -> tuple[bytes, bytes]:
    """A server-side key for ``group``: its key_exchange bytes and the secret it computes with our share."""
    ours = key_share_entry(group)
    if group == X25519:
        key = x25519.X25519PrivateKey.generate()
        return key.public_key().public_bytes_raw(), key.exchange(x25519.X25519PublicKey.from_public_bytes(ours))
    if group == X448:
        key448 = x448.X448PrivateKey.generate()
        return key448.public_key().public_bytes_raw(), key448.exchange(x448.X448PublicKey.from_public_bytes(ours))
    if group in (SECP256R1, SECP384R1, SECP521R1):
        curve = {SECP256R1: ec.SECP256R1(), SECP384R1: ec.SECP384R1(), SECP521R1: ec.SECP521R1()}[group]
        ec_key = ec.generate_private_key(curve)
        public = ec_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return public, ec_key.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(curve, ours))
    prime = ffdhe_prime(group)
    assert prime is not None
    numbers = DHParameterNumbers(prime, 2)
    dh_key = numbers.parameters().generate_private_key()
    size = (prime.bit_length() + 7) // 8
    public = dh_key.public_key().public_numbers().y.to_bytes(size, "big")
    secret = dh_key.exchange(DHPublicNumbers(int.from_bytes(ours, "big"), numbers).public_key())
    return public, secret.rjust(size, b"\x00")


@pytest.mark.parametrize("group", DH_GROUPS)
def test_shared_secret_matches_the_peer(group: int) -> None:
    assert supports_decryption(group)
    public, expected = peer_share(group)
    secret = shared_secret(group, public)
    assert secret == expected
    prime = ffdhe_prime(group)
    fixed = {X25519: 32, X448: 56, SECP256R1: 32, SECP384R1: 48, SECP521R1: 66}
    assert len(secret) == (fixed[group] if prime is None else (prime.bit_length() + 7) // 8)


def test_ffdhe_secret_is_left_padded() -> None:
    # A crafted private exponent of 1 turns the peer value 2 into the secret 2: one significant byte of 256.
    prime = ffdhe_prime(FFDHE2048)
    assert prime is not None
    numbers = DHParameterNumbers(prime, 2)
    key = DHPrivateNumbers(1, DHPublicNumbers(2, numbers)).private_key()
    assert exchange_key_share(FFDHE2048, key, (2).to_bytes(256, "big")) == (2).to_bytes(256, "big")


def test_key_share_public_bytes_match_key_share_entry() -> None:
    for group in DH_GROUPS:
        key = generate_key_share_private_key(group)
        assert len(key_share_public_bytes(group, key)) == len(key_share_entry(group))


@pytest.mark.parametrize(
    ("group", "share", "message"),
    [
        (X25519, bytes(31), "32 bytes, not 31"),
        (X25519, bytes(32), "low-order point"),
        (X25519, (1).to_bytes(32, "little"), "low-order point"),
        (X448, bytes(56), "low-order point"),
        (X448, bytes(57), "56 bytes, not 57"),
        (SECP256R1, b"\x04" + bytes(64), "not on secp256r1"),
        (SECP256R1, b"\x04" + b"\x01" * 64, "not on secp256r1"),
        (SECP256R1, b"\x02" + b"\x01" * 32, "not an uncompressed"),
        (SECP384R1, b"\x04" + b"\x01" * 64, "not an uncompressed secp384r1 point of 97 bytes"),
        (SECP521R1, b"\x04" + b"\xff" * 132, "not on secp521r1"),
        (FFDHE2048, (1).to_bytes(256, "big"), "between 1 and p-1"),
        (FFDHE2048, bytes(256), "between 1 and p-1"),
        (FFDHE2048, b"\xff" * 256, "between 1 and p-1"),
        (FFDHE3072, (2).to_bytes(256, "big"), "384 bytes, not 256"),
    ],
)
def test_invalid_server_shares(group: int, share: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shared_secret(group, share)


def test_groups_without_shared_secret() -> None:
    for group in (0x0200, MLKEM768, 0x0202, X25519_MLKEM768, 0x11EB, 0x11ED, 0x6399):
        assert not supports_decryption(group)
        with pytest.raises(ValueError, match="ML-KEM"):
            shared_secret(group, b"\x00" * 1088)
    assert not supports_decryption(0xFAFA)
    with pytest.raises(ValueError, match="not an \\(EC\\)DHE or FFDHE group"):
        shared_secret(0xFAFA, b"\x00")
    with pytest.raises(ValueError, match="is not a private key of group 0x0017"):
        exchange_key_share(SECP256R1, ec.generate_private_key(ec.SECP384R1()), b"\x04" * 65)
    with pytest.raises(ValueError, match="is not a private key of group 0x001d"):
        exchange_key_share(X25519, x448.X448PrivateKey.generate(), bytes(32))


def test_hkdf_expand_label_against_cryptography() -> None:
    secret = b"\x01" * 48
    label = b"tls13 key"
    info = (100).to_bytes(2, "big") + bytes((len(label),)) + label + b"\x00"
    expected = HKDFExpand(hashes.SHA384(), 100, info).derive(secret)
    assert hkdf_expand_label("sha384", secret, b"key", b"", 100) == expected


# ------------------------------------------------------------------------------------------------- fuzzing


def survives(decryptor: Tls13FlightDecryptor, data: bytes, cuts: Sequence[int]) -> None:
    """Feeding ``data`` works or raises ValueError (Tls13FlightError or Tls13UnsupportedError) and nothing else."""
    start = 0
    try:
        for end in [*sorted(cuts), len(data)]:
            decryptor.feed(data[start:end])
            start = max(start, end)
    except (Tls13FlightError, Tls13UnsupportedError):
        pass


chunkings = st.lists(st.integers(min_value=0, max_value=3000), max_size=6)


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(data=st.binary(max_size=3000), cuts=chunkings)
def test_fuzz_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    survives(rfc_decryptor(max_bytes=2048), data, cuts)


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(data=st.binary(max_size=600), cuts=chunkings)
def test_fuzz_arbitrary_server_hello_body(data: bytes, cuts: list[int]) -> None:
    survives(rfc_decryptor(), record(22, handshake(2, data)), cuts)


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(data=st.binary(max_size=2000), content_type=st.sampled_from([20, 21, 22, 23, 24]), cuts=chunkings)
def test_fuzz_records_after_server_hello(data: bytes, content_type: int, cuts: list[int]) -> None:
    survives(rfc_decryptor(), record(22, RFC_SERVER_HELLO) + record(content_type, data), cuts)


handshake_messages = st.lists(
    st.tuples(st.sampled_from([8, 11, 13, 15, 20, 2, 4, 99]), st.binary(max_size=300)), min_size=1, max_size=6
)


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(
    messages=handshake_messages,
    real_prefix=st.integers(min_value=0, max_value=4),
    cuts=st.lists(st.integers(min_value=1, max_value=900), max_size=5),
    content_type=st.sampled_from([21, 22, 22, 22, 23]),
    padding=st.integers(min_value=0, max_value=20),
)
def test_fuzz_decrypted_handshake_messages(
    messages: list[tuple[int, bytes]], real_prefix: int, cuts: list[int], content_type: int, padding: int
) -> None:
    """Structured garbage that decrypts: real RFC messages first, then random ones, in random records."""
    plaintext = b"".join(rfc_messages()[:real_prefix]) + b"".join(handshake(kind, body) for kind, body in messages)
    sealer = Sealer(rfc_keys())
    data = record(22, RFC_SERVER_HELLO)
    start = 0
    for end in [*sorted(cuts), len(plaintext)]:
        if end > start:
            data += sealer.seal(plaintext[start:end], content_type, padding=padding)
            start = end
    survives(rfc_decryptor(), data, [])


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(
    changes=st.lists(st.tuples(st.integers(min_value=0, max_value=656), st.integers(0, 255)), min_size=1, max_size=4)
)
def test_fuzz_mutated_rfc_flight(changes: list[tuple[int, int]]) -> None:
    """The RFC's messages with a few bytes changed, encrypted again: parsers see nearly valid structures."""
    plaintext = bytearray(rfc_flight_messages())
    for offset, value in changes:
        plaintext[offset] = value
    decryptor = rfc_decryptor()
    try:
        events = decryptor.feed(record(22, RFC_SERVER_HELLO) + Sealer(rfc_keys()).seal(bytes(plaintext)))
    except Tls13FlightError:
        return
    # Any change to the transcript makes the Finished fail: a flight that still ends with one was not changed.
    if events and isinstance(events[-1], Finished):
        assert bytes(plaintext) == rfc_flight_messages()
        assert decryptor.done


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(body=st.binary(max_size=400))
def test_fuzz_message_parsers(body: bytes) -> None:
    for parser in (parse_encrypted_extensions, parse_certificate, parse_certificate_request, parse_certificate_verify):
        with contextlib.suppress(Tls13FlightError):
            parser(body)  # type: ignore[operator]


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(group=st.sampled_from([*DH_GROUPS, MLKEM768, X25519_MLKEM768, 0xFAFA]), share=st.binary(max_size=1100))
def test_fuzz_shared_secret(group: int, share: bytes) -> None:
    with contextlib.suppress(ValueError):
        shared_secret(group, share)


@pytest.mark.slow  # hundreds of examples: up to a second
@FUZZ
@given(scheme=st.integers(min_value=0, max_value=0xFFFF), signature=st.binary(max_size=600))
def test_fuzz_certificate_verify_signature(scheme: int, signature: bytes) -> None:
    leaf = parse_certificate(rfc_messages()[1][4:]).entries[0].cert_data
    assert verify_certificate_verify(leaf, scheme, signature, bytes(32)) in (True, False, None)


# ----------------------------------------------------------------------------------------------- real servers


def pem_chain_der(path: Path) -> tuple[bytes, ...]:
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", path.read_bytes(), re.S)
    return tuple(x509.load_pem_x509_certificate(block).public_bytes(serialization.Encoding.DER) for block in blocks)


def handshake_with(address: tuple[str, int], spec: ClientHelloSpec) -> list[Tls13Event]:
    """Send the hello, decrypt the flight up to the server's Finished, and hang up."""
    hello = build_client_hello(spec)
    decryptor = Tls13FlightDecryptor(hello)
    events: list[Tls13Event] = []
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(hello)
        while not decryptor.done and (data := connection.recv(65536)):
            events += decryptor.feed(data)
    assert decryptor.done, events
    return events


def flight(events: Sequence[Tls13Event]) -> tuple[EncryptedExtensions, Tls13Certificate, CertificateVerify]:
    """The messages every full flight has, checked to end with a verified Finished."""
    assert isinstance(events[0], ServerHello)
    assert isinstance(events[-1], Finished)
    (extensions,) = [event for event in events if isinstance(event, EncryptedExtensions)]
    (certificate,) = [event for event in events if isinstance(event, Tls13Certificate)]
    (verify,) = [event for event in events if isinstance(event, CertificateVerify)]
    return extensions, certificate, verify


@pytest.fixture(scope="module")
def python_servers(test_pki: TestPKI) -> Iterator[dict[str, tuple[tuple[str, int], Path]]]:
    """Python ssl servers with the RSA and the ECDSA chain, ALPN h2 and http/1.1, asking for a client cert."""
    servers = {}
    for name, chain, key in (
        ("rsa", test_pki.rsa_chain, test_pki.rsa_key),
        ("ecdsa", test_pki.ecdsa_chain, test_pki.ecdsa_key),
    ):
        server = LocalTLSServer(
            certfile=chain, keyfile=key, client_auth="optional", ca_file=test_pki.ca_cert, http_response=False
        )
        server.context.set_alpn_protocols(["h2", "http/1.1"])
        server.context.sni_callback = lambda *_: None  # with a callback, OpenSSL acknowledges the SNI
        servers[name] = (server, chain)
    for server, _chain in servers.values():
        server.start()
    try:
        yield {name: (server.address, chain) for name, (server, chain) in servers.items()}
    finally:
        for server, _chain in servers.values():
            server.stop()


@pytest.mark.realserver
@pytest.mark.parametrize("group", LIVE_GROUPS)
@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_python_ssl_server(python_servers: dict[str, tuple[tuple[str, int], Path]], key_type: str, group: int) -> None:
    address, chain = python_servers[key_type]
    events = handshake_with(address, tls13_spec(group, alpn_protocols=("http/1.1", "h2")))
    extensions, certificate, verify = flight(events)
    hello = events[0]
    assert isinstance(hello, ServerHello) and hello.key_share_group == group
    assert extensions.alpn_protocol == "h2"  # OpenSSL picks in the server's order
    assert extensions.server_name_acknowledged
    assert certificate.certificates == pem_chain_der(chain)
    (request,) = [event for event in events if isinstance(event, Tls13CertificateRequest)]
    assert 0x0804 in request.signature_algorithms
    if key_type == "rsa":
        assert verify.signature_scheme_name in RSA_PSS_RSAE
    else:
        assert verify.signature_scheme_name == "ecdsa_secp256r1_sha256"
    assert verify.signature_valid is True


@pytest.mark.realserver
def test_client_hello_of_two_records(python_servers: dict[str, tuple[tuple[str, int], Path]]) -> None:
    """A hello over the 2^14-byte fragment limit is sent as two records; the transcript needs the whole message."""
    address, chain = python_servers["ecdsa"]
    spec = tls13_spec(X25519, extra_extensions=((0xFAFA, bytes(20000)),))
    assert len(build_client_hello(spec)) > 2 * 5 + 16384
    _extensions, certificate, verify = flight(handshake_with(address, spec))
    assert certificate.certificates == pem_chain_der(chain) and verify.signature_valid is True


@pytest.mark.realserver
def test_python_ssl_server_fed_record_by_record(python_servers: dict[str, tuple[tuple[str, int], Path]]) -> None:
    """The other way in: a RecordReader splits the stream, ServerFlightReader reads the ServerHello alongside."""
    address, chain = python_servers["rsa"]
    hello = build_client_hello(tls13_spec(X25519))
    decryptor = Tls13FlightDecryptor(hello)
    cleartext_reader, records = ServerFlightReader(), RecordReader()
    events: list[Tls13Event] = []
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(hello)
        while not decryptor.done and (data := connection.recv(65536)):
            cleartext = cleartext_reader.feed(data)
            records.feed(data)
            while not decryptor.done and (next_record := records.next_record()) is not None:
                if decryptor.server_hello is None:
                    assert decryptor.feed_server_hello(next_record.payload) == cleartext[0]
                else:
                    events += decryptor.feed_record(next_record)
    _extensions, certificate, _verify = flight([cleartext[0], *events])
    assert certificate.certificates == pem_chain_der(chain)
    assert decryptor.records_decrypted >= 1


@pytest.fixture(scope="module")
def stapling_files(test_pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, Path, bytes]:
    """A DER OCSP response for the RSA leaf, signed by the test CA, and a serverinfo file with an SCT list for
    TLS 1.3 Certificate entries (context SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_CERTIFICATE)."""
    leaf = x509.load_pem_x509_certificate(test_pki.rsa_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(test_pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(test_pki.ca_key.read_bytes(), None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    now = datetime.datetime.now(datetime.UTC)
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=ca,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + datetime.timedelta(days=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca)
        .sign(ca_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    directory = tmp_path_factory.mktemp("stapling")
    ocsp_path = directory / "ocsp.der"
    ocsp_path.write_bytes(response)
    # A v1 SCT (RFC 6962 §3.2) with a zero log id and timestamp, no extensions, and a placeholder signature.
    sct = b"\x00" + bytes(32) + bytes(8) + vec(2, b"") + b"\x04\x03" + vec(2, b"not-a-real-signature")
    serverinfo = (0x1080).to_bytes(4, "big") + extension(
        ExtensionType.signed_certificate_timestamp, vec(2, vec(2, sct))
    )
    serverinfo_path = directory / "serverinfo.pem"
    serverinfo_path.write_text(
        "-----BEGIN SERVERINFOV2 FOR sct-----\n"
        + base64.encodebytes(serverinfo).decode()
        + "-----END SERVERINFOV2 FOR sct-----\n"
    )
    return ocsp_path, response, serverinfo_path, sct


@pytest.mark.realserver
@pytest.mark.parametrize("suite", list(SUITE_NAMES))
def test_openssl_s_server(test_pki: TestPKI, stapling_files: tuple[Path, bytes, Path, bytes], suite: int) -> None:
    ocsp_path, ocsp_response, serverinfo_path, sct = stapling_files
    arguments = [
        "-tls1_3",
        "-ciphersuites",
        SUITE_NAMES[suite],
        "-alpn",
        "h2,http/1.1",
        "-cert_chain",
        str(test_pki.ca_cert),
        "-status_file",
        str(ocsp_path),
        "-serverinfo",
        str(serverinfo_path),
    ]
    with start_openssl_s_server(arguments, test_pki.rsa_cert, test_pki.rsa_key) as server:
        for group in LIVE_GROUPS:
            spec = tls13_spec(
                group, alpn_protocols=("http/1.1", "h2"), status_request=True, signed_certificate_timestamp=True
            )
            events = handshake_with(server.address, spec)
            extensions, certificate, verify = flight(events)
            hello = events[0]
            assert isinstance(hello, ServerHello)
            assert (hello.cipher_suite, hello.key_share_group) == (suite, group)
            assert extensions.alpn_protocol == "h2"
            assert certificate.certificates == pem_chain_der(test_pki.rsa_chain)
            leaf, issuer = certificate.entries
            assert leaf.ocsp_response == ocsp_response
            assert ocsp.load_der_ocsp_response(leaf.ocsp_response).certificate_status is ocsp.OCSPCertStatus.GOOD
            assert leaf.signed_certificate_timestamps == (sct,)
            assert (issuer.ocsp_response, issuer.signed_certificate_timestamps) == (None, ())
            assert verify.signature_scheme_name in RSA_PSS_RSAE
            assert verify.signature_valid is True


@pytest.mark.realserver
def test_openssl_s_server_certificate_request(test_pki: TestPKI) -> None:
    arguments = ["-tls1_3", "-verify", "1", "-CAfile", str(test_pki.ca_cert)]
    with start_openssl_s_server(arguments, test_pki.ecdsa_cert, test_pki.ecdsa_key) as server:
        events = handshake_with(server.address, tls13_spec(X25519))
    _extensions, certificate, verify = flight(events)
    (request,) = [event for event in events if isinstance(event, Tls13CertificateRequest)]
    assert events.index(request) < events.index(certificate)
    assert request.certificate_request_context == b""
    assert {0x0403, 0x0804} <= set(request.signature_algorithms)
    ca_name = x509.load_pem_x509_certificate(test_pki.ca_cert.read_bytes()).subject.public_bytes()
    assert request.certificate_authorities == (ca_name,)
    assert verify.signature_scheme_name == "ecdsa_secp256r1_sha256" and verify.signature_valid is True
