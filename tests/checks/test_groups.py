"""Supported groups against real servers configured with known group lists."""

from __future__ import annotations

import ssl

import pytest

from tests.servers.processes import start_gnutls_serv, start_nassl_server, start_openssl_s_server, start_tlslite_server
from tlsprobe import CheckCompleted, TLSVersion, scan_server
from tlsprobe.checks import SupportedGroupsCheck, SupportedGroupsResult
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]


async def _groups(target: str) -> SupportedGroupsResult:
    result = await scan_server(target, [SupportedGroupsCheck()])
    outcome = result.checks[0]
    assert isinstance(outcome, CheckCompleted), outcome
    assert isinstance(outcome.result, SupportedGroupsResult)
    return outcome.result


@pytest.mark.parametrize("server_preference", [True, False])
async def test_configured_groups_are_found_in_the_servers_order(test_pki: TestPKI, server_preference: bool) -> None:
    # OpenSSL's names: the server accepts exactly these, in this order of preference when -serverpref is set.
    arguments = ["-groups", "secp384r1:X25519:ffdhe2048"] + (["-serverpref"] if server_preference else [])
    with start_openssl_s_server(arguments, test_pki.rsa_chain, test_pki.rsa_key) as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.tls1_3 is not None
    assert groups.ecdhe_below_tls1_3 is not None
    tls13 = [group.name for group in groups.tls1_3.accepted_groups]
    below = [group.name for group in groups.ecdhe_below_tls1_3.accepted_groups]
    assert set(tls13) == {"secp384r1", "x25519", "ffdhe2048"}
    assert set(below) == {"secp384r1", "x25519"}  # finite-field groups are not ECDHE curves
    assert groups.ecdhe_below_tls1_3.version is TLSVersion.TLS1_2
    assert "X25519MLKEM768" in groups.tls1_3.rejected_groups
    if server_preference:
        assert tls13 == ["secp384r1", "x25519", "ffdhe2048"]
        assert below == ["secp384r1", "x25519"]
        assert groups.tls1_3.server_order_enforced is True
        assert groups.ecdhe_below_tls1_3.server_order_enforced is True


async def test_tls13_only_server_has_no_groups_below_tls13(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_3
    ) as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.ecdhe_below_tls1_3 is None
    assert groups.tls1_3 is not None
    assert groups.tls1_3.accepted_groups[0].name == "x25519"  # OpenSSL 3's first default group


async def test_tls12_only_server_has_no_tls13_groups(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, maximum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [SupportedGroupsCheck()])
    outcome = result.checks[0]
    assert isinstance(outcome, CheckCompleted)
    assert outcome.result.tls1_3 is None
    assert [group.name for group in outcome.result.ecdhe_below_tls1_3.accepted_groups][:2] == ["x25519", "secp256r1"]


async def test_ecdsa_only_server_keeps_its_certificate_curve_offered(test_pki: TestPKI) -> None:
    # Below TLS 1.3 the offered curves bind the ECDSA certificate's curve too (P-256 here): without pinning it,
    # every curve after it would be missed.
    with LocalTLSServer(
        certfile=test_pki.ecdsa_chain,
        keyfile=test_pki.ecdsa_key,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        server_preference=False,
    ) as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.ecdhe_below_tls1_3 is not None
    found = {group.name for group in groups.ecdhe_below_tls1_3.accepted_groups}
    assert found == {"x25519", "secp256r1", "x448", "secp521r1", "secp384r1"}  # OpenSSL 3's default groups
    assert groups.ecdhe_below_tls1_3.server_order_enforced is False


async def test_finite_field_groups_below_tls13_follow_rfc7919_negotiation(test_pki: TestPKI) -> None:
    # GnuTLS negotiates RFC 7919 groups under TLS 1.2; it offers exactly the two configured ones.
    priority = "NORMAL:+DHE-RSA:-VERS-TLS1.3:-GROUP-ALL:+GROUP-FFDHE4096:+GROUP-FFDHE3072:+GROUP-SECP256R1"
    with start_gnutls_serv(
        priority, test_pki.rsa_chain, test_pki.rsa_key, extra_args=["--disable-client-cert"]
    ) as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.ffdhe_below_tls1_3 is not None
    assert {group.name for group in groups.ffdhe_below_tls1_3.accepted_groups} == {"ffdhe3072", "ffdhe4096"}
    assert groups.ffdhe_below_tls1_3.server_order_enforced is not None
    assert [group.name for group in groups.ecdhe_below_tls1_3.accepted_groups] == ["secp256r1"]  # type: ignore[union-attr]


async def test_fixed_dh_parameters_are_no_named_group(test_pki: TestPKI) -> None:
    # OpenSSL 1.0.2 has no RFC 7919: its DHE uses the server's own prime, whatever the client offers.
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="DHE:ECDHE") as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.ffdhe_below_tls1_3 is not None
    assert groups.ffdhe_below_tls1_3.accepted_groups == ()
    assert len(groups.ffdhe_below_tls1_3.rejected_groups) == 5


async def test_post_quantum_hybrids_are_found_by_hello_retry_request(test_pki: TestPKI) -> None:
    pytest.importorskip("kyber_py", reason="tlslite-ng needs kyber-py for ML-KEM")
    # tlslite-ng with ML-KEM (kyber-py): two hybrids and a classical group. The hello sends no key share, so
    # the server names the group it wants in a HelloRetryRequest: no ML-KEM computation is needed to find it.
    with start_tlslite_server(
        cert=test_pki.rsa_chain,
        key=test_pki.rsa_key,
        min_version="tls1.3",
        max_version="tls1.3",
        extra_args=["--groups", "x25519mlkem768,secp256r1mlkem768,x25519"],
    ) as server:
        groups = await _groups(f"127.0.0.1:{server.port}")
    assert groups.tls1_3 is not None
    assert {group.name for group in groups.tls1_3.accepted_groups} == {
        "X25519MLKEM768",
        "SecP256r1MLKEM768",
        "x25519",
    }
    assert "SecP384r1MLKEM1024" in groups.tls1_3.rejected_groups
    assert groups.ecdhe_below_tls1_3 is None
