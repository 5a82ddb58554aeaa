"""Answers already in hand stand for the first hello of other checks: fewer connections, the same results."""

from __future__ import annotations

import pytest

from tests.servers.processes import start_openssl_s_server
from tlsprobe import CheckCompleted, TLSVersion, scan_server
from tlsprobe.checks import (
    CipherSuitesCheck,
    CipherSuitesResult,
    CompressionCheck,
    EnumerationMode,
    SupportedGroupsCheck,
    SupportedGroupsResult,
)
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]


def _connections(result: object) -> dict[str, int]:
    checks = result.checks  # type: ignore[attr-defined]
    assert all(isinstance(outcome, CheckCompleted) for outcome in checks), checks
    return {outcome.name: outcome.cost.connections for outcome in checks}


async def test_the_tls12_cipher_suite_enumeration_opens_with_the_shared_baseline_hello(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        target = f"127.0.0.1:{server.port}"
        alone = _connections(await scan_server(target, [CipherSuitesCheck(version=TLSVersion.TLS1_2)]))
        shared = _connections(
            await scan_server(target, [CipherSuitesCheck(version=TLSVersion.TLS1_2), CompressionCheck()])
        )
    # Compression reads the baseline hello, which is also the enumeration's first hello: one connection for both,
    # charged to whichever check asked first.
    assert sum(shared.values()) == alone["tls1_2_cipher_suites"]


async def test_the_tls13_cipher_suite_enumeration_opens_with_the_first_contact(test_pki: TestPKI) -> None:
    arguments = ["-ciphersuites", "TLS_AES_128_GCM_SHA256"]
    with start_openssl_s_server(arguments, test_pki.rsa_chain, test_pki.rsa_key) as server:
        target = f"127.0.0.1:{server.port}"
        result = await scan_server(target, [CipherSuitesCheck(version=TLSVersion.TLS1_3)])
        exhaustive = await scan_server(
            target, [CipherSuitesCheck(version=TLSVersion.TLS1_3, mode=EnumerationMode.EXHAUSTIVE)]
        )
    suites = result.checks[0].result  # type: ignore[union-attr]
    assert isinstance(suites, CipherSuitesResult)
    assert [entry.cipher_suite.name for entry in suites.accepted_cipher_suites] == ["TLS_AES_128_GCM_SHA256"]
    assert suites.accepted_cipher_suites == exhaustive.checks[0].result.accepted_cipher_suites  # type: ignore[union-attr]
    # The first contact offered every TLS 1.3 suite and got this one: only the hello offering the rest is sent.
    assert _connections(result) == {"tls1_3_cipher_suites": 1}


async def test_the_ecdhe_group_enumeration_starts_from_the_baseline_pick(test_pki: TestPKI) -> None:
    # One ECDHE suite and one curve, TLS 1.2 only: the baseline hello gets X25519.
    arguments = ["-no_tls1_3", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-groups", "X25519"]
    with start_openssl_s_server(arguments, test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SupportedGroupsCheck()])
    groups = result.checks[0].result  # type: ignore[union-attr]
    assert isinstance(groups, SupportedGroupsResult)
    assert groups.ecdhe_below_tls1_3 is not None and groups.tls1_3 is None
    assert [group.name for group in groups.ecdhe_below_tls1_3.accepted_groups] == ["x25519"]
    # The baseline hello (its pick is the enumeration's first), the hello offering the other curves, refused, and
    # the DHE hello, refused: no hello offers every curve a second time.
    assert _connections(result) == {"supported_groups": 3}
