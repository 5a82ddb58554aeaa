"""Scans of a server that answers with malformed ServerHellos (``tests/servers/malformed_hello.py``): the answer is
named malformed, with evidence, and the version it claims is never counted as supported.

Answering every hello so, the server is not scanned at all (a client meeting that answer cannot go on either);
answering so only the hellos without supported_versions (below TLS 1.3), the connectivity phase reaches it through
a real TLS 1.2 answer and the TLS 1.2 cipher-suite enumeration meets the malformed ones: that check fails, its
version is not listed as accepted.
"""

from __future__ import annotations

import re

import pytest

from tests.servers.malformed_hello import CASES, Case, MalformedHelloServer
from tlsprobe import (
    CheckCompleted,
    CheckFailed,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    TLSVersion,
    scan_server,
)
from tlsprobe._model._json import to_jsonable
from tlsprobe.checks import CipherSuitesCheck

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

# The evidence each message must hold: the offending bytes with their position, or what came before the cut.
_EVIDENCE: dict[Case, str] = {
    "duplicate_extension": r"renegotiation_info \(0xff01\) appears twice "
    r"\(byte 45 of the ServerHello: ff 01 00 01 00\)",
    "tls13_without_key_share": r"TLS 1.3 ServerHello without a key_share .*\(extensions: supported_versions",
    "cut_then_reset": r"server reset the connection after 40 bytes, in the middle of a handshake record announcing "
    r"\d+ bytes \(35 received; the start of a server_hello\): 16 03 03 ",
    "extension_overrun": r"extension_data needs 40 bytes but only 1 are left \(byte 42 of the ServerHello: 00 28 00\)",
    "version_not_offered": r"a suite of TLS 1.2 and older, with TLS 1.3 \(byte 67 of the ServerHello: ",
    "suite_not_offered": r"which was not offered \(byte 35 of the ServerHello: ",
    "compression_not_offered": r"compression method 1, which was not offered \(byte 37 of the ServerHello: 01\)",
    "key_share_not_offered": r"key share is for group 0x0018, for which the ClientHello sent none \(byte 78 of the",
    "empty_hello_retry_request": r"HelloRetryRequest: it asks for neither a key share nor a cookie",
}


# Below TLS 1.3 the hello offered no TLS 1.3: the same answer is then first of all a version not offered.
_EVIDENCE_BELOW_TLS13: dict[Case, str] = {
    "version_not_offered": r"server chose TLS 1.3, which was not offered \(the ClientHello went up to TLS 1.2\) "
    r"\(byte 40 of the ServerHello: 00 2b 00 02 03 04\)",
}


@pytest.mark.parametrize("case", CASES)
async def test_a_malformed_answer_to_every_hello_is_no_server_to_scan(case: Case) -> None:
    with MalformedHelloServer(case) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [])
        sent = server.malformed_answers
    assert isinstance(result.connectivity, ConnectivityFailed), result.connectivity
    error = result.connectivity.error
    assert error.kind is ErrorKind.MALFORMED_RESPONSE, error
    assert error.exception == "tlsprobe._exceptions.MalformedServerResponseError"
    assert sent >= 1
    assert re.search(_EVIDENCE[case], error.message), error.message
    assert "without answering" not in error.message  # it did answer: neither a refusal nor silence
    assert to_jsonable(result)["connectivity"]["error"]["kind"] == "malformed_response"


@pytest.mark.parametrize(
    "case", ["duplicate_extension", "cut_then_reset", "version_not_offered", "compression_not_offered"]
)
async def test_a_check_meeting_a_malformed_answer_fails_and_counts_no_support(case: Case) -> None:
    checks = [CipherSuitesCheck(version=TLSVersion.TLS1_2), CipherSuitesCheck(version=TLSVersion.TLS1_3)]
    with MalformedHelloServer(case, only_without_supported_versions=True) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", checks)
        sent = server.malformed_answers
    assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
    assert result.connectivity.profile.highest_version is TLSVersion.TLS1_2  # Python ssl's real answer
    assert sent >= 1
    tls12 = result.outcome("tls1_2_cipher_suites")
    assert isinstance(tls12, CheckFailed), tls12  # never a list of suites read from malformed answers
    assert tls12.error.kind is ErrorKind.MALFORMED_RESPONSE
    assert re.search(_EVIDENCE_BELOW_TLS13.get(case, _EVIDENCE[case]), tls12.error.message), tls12.error.message
    tls13 = result.outcome("tls1_3_cipher_suites")
    assert isinstance(tls13, CheckCompleted) and not tls13.result.is_supported  # type: ignore[attr-defined]
