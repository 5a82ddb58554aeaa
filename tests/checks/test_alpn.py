"""ALPN on real servers: openssl s_server with ALPN lists in two orders, and servers without ALPN."""

from __future__ import annotations

import pytest

from tests.servers.processes import start_nassl_server, start_openssl_s_server
from tlsprobe import CheckCompleted, ServerScanResult, TLSVersion, scan_server
from tlsprobe.checks import ALPNCheck, ALPNResult
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]


def _alpn(result: ServerScanResult) -> ALPNResult:
    outcome = result.outcome("alpn")
    assert isinstance(outcome, CheckCompleted), outcome
    assert isinstance(outcome.result, ALPNResult)
    return outcome.result


@pytest.mark.parametrize("configured", [("h2", "http/1.1"), ("http/1.1", "h2", "acme-tls/1")])
async def test_protocols_found_in_the_servers_order(test_pki: TestPKI, configured: tuple[str, ...]) -> None:
    with start_openssl_s_server(["-alpn", ",".join(configured)], test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [ALPNCheck()])
    alpn = _alpn(result)
    assert alpn.accepted_protocols == configured
    assert alpn.server_order_enforced is True  # OpenSSL's callback walks the server's list first
    assert alpn.tested_version is TLSVersion.TLS1_2
    assert "h3" in alpn.rejected_protocols and not set(configured) & set(alpn.rejected_protocols)
    # Baseline hello, one hello per protocol and the refusal. No reversed offer: a pick that was not the first
    # configured protocol of its offer already showed the server's order (h2 over http/1.1, listed first in the
    # registry; h2 over acme-tls/1 in an offer reversed).
    assert result.outcome("alpn").cost.connections == 1 + len(configured) + 1  # type: ignore[union-attr]


async def test_server_without_alpn_accepts_none(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [ALPNCheck()])
    alpn = _alpn(result)
    assert alpn.accepted_protocols == () and alpn.server_order_enforced is None
    assert result.outcome("alpn").cost.connections == 2  # type: ignore[union-attr]


async def test_ssl3_only_server_is_skipped(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, version="sslv3") as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [ALPNCheck()])
    outcome = result.outcome("alpn")
    assert outcome is not None and outcome.status == "skipped"
    assert "SSL 3.0" in outcome.reason  # type: ignore[union-attr]
