"""Signature schemes under TLS 1.2 (read from the ServerKeyExchange) and TLS 1.3 (from the decrypted
CertificateVerify), on RSA and ECDSA servers, OpenSSL 3 and OpenSSL 1.0.2."""

from __future__ import annotations

import pytest

from tests.servers.processes import start_nassl_server, start_openssl_s_server
from tlsprobe import CheckCompleted, ServerScanResult, TLSVersion, scan_server
from tlsprobe.checks import ALPNCheck, ALPNResult, SignatureAlgorithmsCheck, SignatureAlgorithmsResult
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]


def _completed(result: ServerScanResult, name: str) -> object:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome.result


async def _schemes(target: str) -> tuple[SignatureAlgorithmsResult, int]:
    result = await scan_server(target, [SignatureAlgorithmsCheck()])
    schemes = _completed(result, "signature_algorithms")
    assert isinstance(schemes, SignatureAlgorithmsResult)
    return schemes, result.outcome("signature_algorithms").cost.connections  # type: ignore[union-attr]


def _names(schemes: object) -> list[str]:
    return [scheme.name for scheme in schemes.accepted]  # type: ignore[attr-defined]


async def test_rsa_server_signs_with_pss_under_tls13_and_pss_or_pkcs1_under_tls12(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        schemes, connections = await _schemes(f"127.0.0.1:{server.port}")
    assert schemes.tls1_3 is not None and schemes.tls1_2 is not None
    assert _names(schemes.tls1_3) == ["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"]
    tls12 = _names(schemes.tls1_2)
    assert tls12[:3] == ["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"]
    assert {"rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512"} <= set(tls12)
    assert not any(name.startswith("ecdsa") for name in tls12)
    assert schemes.tls1_2.chosen_outside_offer is None and schemes.tls1_3.chosen_outside_offer is None
    # One hello per scheme used plus the refusal, at each version; under TLS 1.2 the baseline hello (which offers
    # the same schemes, and got an ECDHE suite from this server) is the first of them, under TLS 1.3 the first
    # contact's decrypted flight (its hello offers them too).
    assert connections == len(tls12) + 1 + 3


async def test_ecdsa_p256_server_under_tls13_has_exactly_one_scheme(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.ecdsa_chain, keyfile=test_pki.ecdsa_key) as server:
        schemes, _ = await _schemes(f"127.0.0.1:{server.port}")
    assert schemes.tls1_3 is not None and schemes.tls1_2 is not None
    assert _names(schemes.tls1_3) == ["ecdsa_secp256r1_sha256"]  # TLS 1.3 binds the curve to the hash
    assert "ecdsa_secp256r1_sha256" in _names(schemes.tls1_2)
    assert not any(name.startswith("rsa") for name in _names(schemes.tls1_2))


async def test_openssl_102_falls_back_to_sha1_outside_the_offer(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as server:
        schemes, _ = await _schemes(f"127.0.0.1:{server.port}")
    assert schemes.tls1_3 is None
    assert schemes.tls1_2 is not None
    assert "rsa_pkcs1_sha1" in _names(schemes.tls1_2)
    # Once no RSA scheme is left in the offer, RFC 5246's default (SHA-1) is used anyway.
    assert schemes.tls1_2.chosen_outside_offer is not None
    assert schemes.tls1_2.chosen_outside_offer.name == "rsa_pkcs1_sha1"


async def test_alpn_of_a_tls13_only_server_is_read_from_its_encrypted_extensions(test_pki: TestPKI) -> None:
    with start_openssl_s_server(["-tls1_3", "-alpn", "http/1.1,h2"], test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [ALPNCheck()])
    alpn = _completed(result, "alpn")
    assert isinstance(alpn, ALPNResult)
    assert alpn.tested_version is TLSVersion.TLS1_3
    assert alpn.accepted_protocols == ("http/1.1", "h2") and alpn.server_order_enforced is True
