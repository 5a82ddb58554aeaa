"""Compression, secure renegotiation, extended master secret and fallback SCSV, each on a real server that has
the property and on one that does not."""

from __future__ import annotations

import ssl
from typing import Any

import attrs
import pytest

from tests.scanning import cipher_checks
from tests.servers.processes import start_gnutls_serv, start_nassl_server, start_tlslite_server
from tlsprobe import CheckCompleted, CheckSkipped, ServerScanResult, TLSVersion, scan_server
from tlsprobe.checks import (
    Check,
    ClientRenegotiationCheck,
    ClientRenegotiationResult,
    CompressionCheck,
    CompressionResult,
    ExtendedMasterSecretCheck,
    ExtendedMasterSecretResult,
    FallbackSCSVCheck,
    FallbackSCSVResult,
    SecureRenegotiationCheck,
    SecureRenegotiationResult,
)
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_CHECKS: list[Check[Any]] = [
    CompressionCheck(),
    SecureRenegotiationCheck(),
    ExtendedMasterSecretCheck(),
    FallbackSCSVCheck(),
]


def _result(result: ServerScanResult, name: str) -> Any:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome.result


async def test_modern_server_with_tls13_is_still_tested_below_it(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    assert _result(result, "tls_compression") == CompressionResult(
        supports_compression=False, compression_method=0, tested_version=TLSVersion.TLS1_2
    )
    assert _result(result, "secure_renegotiation") == SecureRenegotiationResult(
        supports_secure_renegotiation=True, tested_version=TLSVersion.TLS1_2
    )
    assert _result(result, "extended_master_secret") == ExtendedMasterSecretResult(
        supports_extended_master_secret=True, tested_version=TLSVersion.TLS1_2
    )
    assert _result(result, "fallback_scsv") == FallbackSCSVResult(
        supports_fallback_scsv=True, tested_version=TLSVersion.TLS1_2
    )
    # The three ServerHello readings share one hello; the fallback test takes one more.
    baseline_cost = sum(
        result.outcome(name).cost.connections  # type: ignore[union-attr]
        for name in ("tls_compression", "secure_renegotiation", "extended_master_secret")
    )
    assert baseline_cost == 1
    assert result.outcome("fallback_scsv").cost.connections == 1  # type: ignore[union-attr]


async def test_openssl_102_compresses_and_has_no_extended_master_secret(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as server:
        result = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    compression = _result(result, "tls_compression")
    assert (compression.supports_compression, compression.compression_method) == (True, 1)
    assert _result(result, "extended_master_secret").supports_extended_master_secret is False
    assert _result(result, "secure_renegotiation").supports_secure_renegotiation is True
    # OpenSSL 1.0.2e honours TLS_FALLBACK_SCSV: a TLS 1.1 hello from a TLS 1.2 client is refused.
    assert _result(result, "fallback_scsv") == FallbackSCSVResult(
        supports_fallback_scsv=True, tested_version=TLSVersion.TLS1_1
    )


async def test_openssl_102_without_compression(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL", compression=False) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [CompressionCheck()])
    assert _result(result, "tls_compression").supports_compression is False


async def test_server_that_ignores_fallback_scsv(test_pki: TestPKI) -> None:
    with start_tlslite_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, min_version="tls1.0", max_version="tls1.3",
        extra_args=["--no-fallback-scsv"],
    ) as flawed, start_tlslite_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, min_version="tls1.0", max_version="tls1.3"
    ) as sound:  # fmt: skip
        flawed_result = await scan_server(f"127.0.0.1:{flawed.port}", [FallbackSCSVCheck()])
        sound_result = await scan_server(f"127.0.0.1:{sound.port}", [FallbackSCSVCheck()])
    assert _result(flawed_result, "fallback_scsv") == FallbackSCSVResult(
        supports_fallback_scsv=False, tested_version=TLSVersion.TLS1_2
    )
    assert _result(sound_result, "fallback_scsv") == FallbackSCSVResult(
        supports_fallback_scsv=True, tested_version=TLSVersion.TLS1_2
    )


async def test_server_without_secure_renegotiation_or_extended_master_secret(test_pki: TestPKI) -> None:
    priority = "NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION:%NO_SESSION_HASH"
    with start_gnutls_serv(priority, test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    assert _result(result, "secure_renegotiation").supports_secure_renegotiation is False
    assert _result(result, "extended_master_secret").supports_extended_master_secret is False
    assert _result(result, "tls_compression").supports_compression is False


async def test_tls13_only_server(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_3
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    for name in ("tls_compression", "secure_renegotiation", "extended_master_secret"):
        outcome = result.outcome(name)
        assert isinstance(outcome, CheckSkipped), outcome
        assert "accepts no protocol version from SSL 3.0 to TLS 1.2" in outcome.reason
    # Nothing to fall back to: a downgrade is impossible, which is not the same as protection.
    assert _result(result, "fallback_scsv") == FallbackSCSVResult(supports_fallback_scsv=None, tested_version=None)


async def test_versions_the_scans_broad_hellos_found_off_cost_the_fallback_test_nothing(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_3
    ) as tls13_only:
        alone = await scan_server(f"127.0.0.1:{tls13_only.port}", [FallbackSCSVCheck()])
        with_suites = await scan_server(f"127.0.0.1:{tls13_only.port}", [FallbackSCSVCheck(), *cipher_checks()])
    nothing_to_fall_back_to = FallbackSCSVResult(supports_fallback_scsv=None, tested_version=None)
    assert _result(alone, "fallback_scsv") == _result(with_suites, "fallback_scsv") == nothing_to_fall_back_to
    # Alone, it tries TLS 1.2 down to SSL 3.0 itself. Beside the cipher-suite checks, whose broad hellos the scan
    # sends before any check, it reads their protocol_version alerts instead; OpenSSL 3 refuses SSL 3.0 with
    # handshake_failure, which a server with no suite in common would send too, so that version is still asked.
    assert alone.outcome("fallback_scsv").cost.connections == 4  # type: ignore[union-attr]
    assert with_suites.outcome("fallback_scsv").cost.connections == 1  # type: ignore[union-attr]


async def test_client_initiated_renegotiation_accepted_and_refused(test_pki: TestPKI) -> None:
    check = ClientRenegotiationCheck(attempts=4, enough_after_s=3600.0)  # never stopped early, however slow
    # OpenSSL 1.0.2 accepts renegotiations a client starts; OpenSSL 3 (Python's ssl) refuses them by default.
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as accepting:
        accepted = await scan_server(f"127.0.0.1:{accepting.port}", [check])
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as refusing:
        refused = await scan_server(f"127.0.0.1:{refusing.port}", [check])
    accepted_result = _result(accepted, "client_renegotiation")
    assert len(accepted_result.renegotiation_durations_s) == 4  # each attempt timed, refused or not
    assert attrs.evolve(accepted_result, renegotiation_durations_s=()) == ClientRenegotiationResult(
        accepts_client_renegotiation=True,
        successful_renegotiations=4,
        attempted_renegotiations=4,
        tested_version=TLSVersion.TLS1_2,
        renegotiations_tried=4,
    )
    refused_result = _result(refused, "client_renegotiation")
    assert len(refused_result.renegotiation_durations_s) == 1
    assert attrs.evolve(refused_result, renegotiation_durations_s=()) == ClientRenegotiationResult(
        accepts_client_renegotiation=False,
        successful_renegotiations=0,
        attempted_renegotiations=4,
        tested_version=TLSVersion.TLS1_2,
        renegotiations_tried=1,
    )


async def test_client_renegotiation_stops_once_certain(test_pki: TestPKI) -> None:
    """With no time allowed beyond the first accepted renegotiation, the check stops there and says the rest
    was not tested; the server accepts every one, so nothing else could have ended it."""
    check = ClientRenegotiationCheck(attempts=4, enough_after_s=0.0)
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as accepting:
        result = _result(await scan_server(f"127.0.0.1:{accepting.port}", [check]), "client_renegotiation")
    assert result.accepts_client_renegotiation and result.stopped_early
    assert result.successful_renegotiations == result.renegotiations_tried == 1
    assert len(result.renegotiation_durations_s) == 1
