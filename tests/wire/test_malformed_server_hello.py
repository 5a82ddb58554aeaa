"""Malformed ServerHellos are named as such, with evidence, and never read as an acceptance (pure, no socket).

The answers of ``tests/servers/malformed_hello.py`` (built by ``malformed_answer``, the very bytes that server
sends) go through the flight reader and ``interpret_tls_flight`` against the ClientHello they answer; the RFC rules
behind each are tested one by one on hand-built ServerHellos.
"""

from __future__ import annotations

import re

import attrs
import pytest

from tests.servers.malformed_hello import CASES, CUT_AT, Case, malformed_answer
from tests.wire.test_server import (
    SERVER_RANDOM,
    extension,
    handshake,
    hello_retry_request,
    record,
    server_hello,
    tls12_flight,
    vec,
)
from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe._probing._hello_specs import tls_hello
from tlsprobe.wire import HRR_RANDOM, ClientHelloSpec, ExtensionType, ServerFlightReader, TLSVersion, build_client_hello
from tlsprobe.wire._answers import HelloAccepted, interpret_tls_flight
from tlsprobe.wire._records import Decoder, RecordReader

X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018
ECDHE_RSA_AES128_GCM, TLS_AES_128_GCM = 0xC02F, 0x1301
# Where the compression method of ``server_hello()`` sits in its body: after the version, the random, the
# session id (32 bytes and its length) and the suite.
_COMPRESSION_AT = 2 + 32 + 1 + 32 + 2

FIRST_CONTACT = tls_hello(
    TLSVersion.TLS1_3, [TLS_AES_128_GCM, ECDHE_RSA_AES128_GCM], None, min_version=TLSVersion.TLS1_0
)
TLS12_ONLY = tls_hello(TLSVersion.TLS1_2, [ECDHE_RSA_AES128_GCM, 0x009C], None)


def _hello_message(spec: ClientHelloSpec) -> bytes:
    reader = RecordReader()
    reader.feed(build_client_hello(spec))
    hello = reader.next_record()
    assert hello is not None
    return hello.payload


def _answer(data: bytes, spec: ClientHelloSpec) -> object:
    reader = ServerFlightReader()
    return interpret_tls_flight(reader.feed(data), spec)


# What each case's answer is malformed by, answering the first contact (TLS 1.0 to 1.3 offered) and a TLS 1.2 hello.
_EXPECTED: dict[Case, tuple[str, str]] = {
    "duplicate_extension": (
        r"extension renegotiation_info \(0xff01\) appears twice \(byte 45 of the ServerHello: ff 01 00 01 00\)",
        r"renegotiation_info \(0xff01\) appears twice",
    ),
    "tls13_without_key_share": (r"TLS 1.3 ServerHello without a key_share", r"without a key_share"),
    "extension_overrun": (
        r"extension_data needs 40 bytes but only 1 are left \(byte 42 of the ServerHello: 00 28 00\)",
        r"extension_data needs 40 bytes",
    ),
    "version_not_offered": (
        r"server chose 0xc02f \(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\), a suite of TLS 1.2 and older, with TLS 1.3",
        r"server chose TLS 1.3, which was not offered \(the ClientHello went up to TLS 1.2\) "
        r"\(byte 40 of the ServerHello: 00 2b 00 02 03 04\)",
    ),
    "suite_not_offered": (
        r"server chose cipher suite 0x\w{4} \(TLS_\w+\), which was not offered \(byte 35 of the ServerHello: ",
        r"which was not offered \(byte 35 of the ServerHello",
    ),
    "compression_not_offered": (
        r"server chose compression method 1, which was not offered \(byte 37 of the ServerHello: 01\)",
        r"compression method 1, which was not offered",
    ),
    "key_share_not_offered": (
        r"server's key share is for group 0x0018, for which the ClientHello sent none \(byte \d+ of the ServerHello: "
        r"00 33 00 65 00 18",
        r"cipher suite 0x1301 \(TLS_AES_128_GCM_SHA256\), which was not offered",
    ),
    "empty_hello_retry_request": (
        r"HelloRetryRequest: it asks for neither a key share nor a cookie",
        r"neither a key share nor a cookie",
    ),
}


@pytest.mark.parametrize("case", [case for case in CASES if case != "cut_then_reset"])
@pytest.mark.parametrize("spec", [FIRST_CONTACT, TLS12_ONLY], ids=["first-contact", "tls1_2-hello"])
def test_each_malformed_answer_is_named_with_its_evidence(case: Case, spec: ClientHelloSpec) -> None:
    expected = _EXPECTED[case][0 if spec is FIRST_CONTACT else 1]
    with pytest.raises(MalformedServerResponseError, match=expected):
        _answer(malformed_answer(case, _hello_message(spec)), spec)


def test_an_answer_cut_short_is_described_with_what_came() -> None:
    answer = malformed_answer("cut_then_reset", _hello_message(TLS12_ONLY))
    reader = ServerFlightReader()
    assert reader.feed(answer[:CUT_AT]) == []
    assert not reader.done
    announced = int.from_bytes(answer[3:5], "big")
    assert reader.cut_short() == (
        f"after {CUT_AT} bytes, in the middle of a handshake record announcing {announced} bytes "
        f"({CUT_AT - 5} received; the start of a server_hello): {answer[:16].hex(' ')} ..."
    )
    # The whole answer, had it come, was a valid one: only the cut makes it malformed.
    whole = _answer(answer, TLS12_ONLY)
    assert isinstance(whole, HelloAccepted) and whole.version is TLSVersion.TLS1_2


def test_an_answer_cut_in_a_record_header_or_between_records() -> None:
    header = ServerFlightReader()
    header.feed(b"\x16\x03\x03")
    assert header.cut_short() == "after 3 bytes, in the middle of a record header: 16 03 03"
    spread = ServerFlightReader()
    message = server_hello()
    spread.feed(record(22, message[:10]))
    assert spread.cut_short().startswith(
        f"after 15 bytes, in the middle of a server_hello of {len(message) - 4} bytes spread over records "
        "(10 bytes of it received): 02 00"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # RFC 8446 §4.2.1: supported_versions in a ServerHello selects TLS 1.3 (or later), nothing older.
        (
            record(22, server_hello(extensions=[extension(ExtensionType.supported_versions, b"\x03\x03")])),
            r"supported_versions selects TLS 1.2, .* \(byte 72 of the ServerHello: 00 2b 00 02 03 03\)",
        ),
        # TLS 1.3 is negotiated with supported_versions only, and its legacy_version is 0x0303.
        (
            record(22, server_hello(version=0x0304)),
            r"legacy_version says TLS 1.3, .* \(byte 0 of the ServerHello: 03 04\)",
        ),
        (
            record(
                22,
                server_hello(
                    version=0x0301,
                    suite=TLS_AES_128_GCM,
                    extensions=[
                        extension(ExtensionType.supported_versions, b"\x03\x04"),
                        extension(ExtensionType.key_share, X25519.to_bytes(2, "big") + vec(2, b"\x07" * 32)),
                    ],
                ),
            ),
            r"legacy_version 0x0301 in a TLS 1.3 ServerHello, where it must be 0x0303",
        ),
        # Two extensions of one type, whatever the version, even types tlsprobe does not know.
        (
            record(22, server_hello(extensions=[extension(0x1234, b""), extension(0x1234, b"\x01")])),
            r"extension 0x1234 appears twice \(byte 76 of the ServerHello: 12 34 00 01 01\)",
        ),
        # A HelloRetryRequest is TLS 1.3 only.
        (record(22, server_hello(random=HRR_RANDOM)), r"malformed HelloRetryRequest: it negotiates TLS 1.2"),
    ],
    ids=["selects-tls1_2", "tls1_3-in-legacy-version", "tls1_3-legacy-0x0301", "duplicate-unknown", "hrr-tls1_2"],
)
def test_server_hello_rules(data: bytes, message: str) -> None:
    with pytest.raises(MalformedServerResponseError, match=message):
        ServerFlightReader().feed(data)


def test_tls13_compression_must_be_null() -> None:
    body = bytearray(_tls13_hello_body(X25519))
    body[_COMPRESSION_AT] = 1
    with pytest.raises(MalformedServerResponseError, match=r"compression method 1 in a TLS 1.3 ServerHello.*: 01\)"):
        ServerFlightReader().feed(record(22, handshake(2, bytes(body))))


def test_a_pre_shared_key_stands_for_the_key_share() -> None:
    extensions = [
        extension(ExtensionType.supported_versions, b"\x03\x04"),
        extension(ExtensionType.pre_shared_key, b"\x00\x00"),
    ]
    (hello,) = ServerFlightReader().feed(record(22, server_hello(suite=TLS_AES_128_GCM, extensions=extensions)))
    assert hello.key_share_group is None  # type: ignore[union-attr]


def test_well_formed_answers_still_stand() -> None:
    tls12 = _answer(tls12_flight(), FIRST_CONTACT)
    assert isinstance(tls12, HelloAccepted) and tls12.version is TLSVersion.TLS1_2
    tls13 = _answer(record(22, handshake(2, _tls13_hello_body(X25519))), FIRST_CONTACT)
    assert isinstance(tls13, HelloAccepted) and tls13.version is TLSVersion.TLS1_3
    # A server without TLS 1.3 ignores supported_versions and answers from legacy_version: no flaw in that.
    tls13_only = attrs.evolve(FIRST_CONTACT, min_version=TLSVersion.TLS1_3)
    legacy = _answer(tls12_flight(), tls13_only)
    assert isinstance(legacy, HelloAccepted) and legacy.version is TLSVersion.TLS1_2
    retry = _answer(hello_retry_request(group=SECP384R1), FIRST_CONTACT)
    assert isinstance(retry, HelloAccepted) and retry.hello_retry_request is not None


def test_a_hello_retry_request_for_a_share_already_sent() -> None:
    with pytest.raises(MalformedServerResponseError, match=r"a key share the ClientHello sent already \(0x001d\)"):
        _answer(hello_retry_request(group=X25519), FIRST_CONTACT)
    unoffered = attrs.evolve(FIRST_CONTACT, groups=(X25519, SECP256R1), key_share_groups=(X25519,))
    with pytest.raises(
        MalformedServerResponseError, match=r"asked for a group the ClientHello did not offer \(0x0018\)"
    ):
        _answer(hello_retry_request(group=SECP384R1), unoffered)


def test_a_tls13_suite_below_tls13() -> None:
    spec = tls_hello(TLSVersion.TLS1_2, [TLS_AES_128_GCM, ECDHE_RSA_AES128_GCM], None)
    data = record(22, server_hello(suite=TLS_AES_128_GCM)) + record(22, handshake(14, b""))
    with pytest.raises(
        MalformedServerResponseError, match=r"a TLS 1.3 suite, with TLS 1.2 \(byte 67 of the ServerHello"
    ):
        _answer(data, spec)


def test_decoder_errors_say_where_in_the_outermost_structure() -> None:
    outer = Decoder(b"\xaa\xbb" + vec(2, b"\x00\x01" + b"\x05" * 20), "Thing")
    outer.read(2, "prefix")
    inner = outer.sub(2, "items")
    inner.uint(2, "first")
    with pytest.raises(MalformedServerResponseError) as raised:
        inner.vector(1, "item", minimum=6)
    assert str(raised.value) == (
        "malformed items of Thing: item is 5 bytes long, shorter than the minimum of 6 "
        "(byte 6 of the Thing: 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 ...)"
    )
    whole = Decoder(bytes(26), "Thing")
    whole.read(26, "everything")
    with pytest.raises(MalformedServerResponseError, match=re.escape("(byte 26 of the Thing: nothing left)")):
        whole.uint(1, "one more")


def _tls13_hello_body(group: int) -> bytes:
    extensions = [
        extension(ExtensionType.supported_versions, b"\x03\x04"),
        extension(ExtensionType.key_share, group.to_bytes(2, "big") + vec(2, b"\x07" * 32)),
    ]
    return server_hello(random=SERVER_RANDOM, suite=TLS_AES_128_GCM, extensions=extensions)[4:]
