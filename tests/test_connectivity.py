"""The connectivity phase against real servers: highest version, client-certificate needs, IPv6."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from tests.servers.processes import start_nassl_server, start_openssl_s_server
from tlsprobe import (
    ClientAuthRequirement,
    ConnectivityCompleted,
    Limits,
    ScanConfig,
    ServerScanResult,
    Timeouts,
    TLSVersion,
    scan_server,
)
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

# Long enough that a scan which waited for a read to time out could not finish before it.
_PATIENT = ScanConfig(timeouts=Timeouts(read_s=20), limits=Limits(max_retries=0))


def _profile(result: ServerScanResult) -> ConnectivityCompleted:
    assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
    return result.connectivity


@pytest.mark.parametrize(
    ("client_auth", "maximum", "expected"),
    [
        ("none", ssl.TLSVersion.TLSv1_3, ClientAuthRequirement.NOT_REQUESTED),
        ("optional", ssl.TLSVersion.TLSv1_3, ClientAuthRequirement.OPTIONAL),
        ("required", ssl.TLSVersion.TLSv1_3, ClientAuthRequirement.REQUIRED),
        ("none", ssl.TLSVersion.TLSv1_2, ClientAuthRequirement.NOT_REQUESTED),
        ("optional", ssl.TLSVersion.TLSv1_2, ClientAuthRequirement.OPTIONAL),
        ("required", ssl.TLSVersion.TLSv1_2, ClientAuthRequirement.REQUIRED),
    ],
)
async def test_client_certificate_requirement_without_waiting_for_a_timeout(
    test_pki: TestPKI, client_auth: str, maximum: ssl.TLSVersion, expected: ClientAuthRequirement
) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        maximum_version=maximum,
        client_auth=client_auth,  # type: ignore[arg-type]
        ca_file=test_pki.ca_cert if client_auth != "none" else None,
        http_response=False,
    ) as server:
        started = time.monotonic()
        result = await scan_server(f"127.0.0.1:{server.port}", [], config=_PATIENT)
        elapsed = time.monotonic() - started
    connectivity = _profile(result)
    assert connectivity.profile.client_auth is expected, connectivity.profile.client_auth_note
    assert elapsed < _PATIENT.timeouts.read_s  # told apart without waiting out the read timeout
    tls13 = maximum is ssl.TLSVersion.TLSv1_3
    assert connectivity.profile.highest_version is (TLSVersion.TLS1_3 if tls13 else TLSVersion.TLS1_2)
    # The first hello, then the same hello half-closed (may later hellos be?). A certificate request is in the
    # clear under TLS <= 1.2 and in the first hello's decrypted flight under TLS 1.3: one handshake more only
    # when one was seen, to tell a required certificate from an optional one.
    requested = expected is not ClientAuthRequirement.NOT_REQUESTED
    assert connectivity.cost.connections == 2 + int(requested)


@pytest.mark.parametrize(("verify", "expected"), [("-verify", ClientAuthRequirement.OPTIONAL), (None, None)])
async def test_a_tls13_flight_it_cannot_decrypt_is_looked_into_by_a_handshake(
    test_pki: TestPKI, verify: str | None, expected: ClientAuthRequirement | None
) -> None:
    # secp384r1 only: the server answers the first hello (key shares for x25519 and secp256r1) with a
    # HelloRetryRequest, so its flight cannot be read there and a nassl handshake looks for the request.
    args = ["-tls1_3", "-groups", "secp384r1", *([verify, "1", "-CAfile", str(test_pki.ca_cert)] if verify else [])]
    with start_openssl_s_server(args, test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [], config=_PATIENT)
    connectivity = _profile(result)
    assert connectivity.profile.client_auth is (expected or ClientAuthRequirement.NOT_REQUESTED)
    # The first hello, the handshake that looks, the half-closed hello, and one more handshake for a request.
    assert connectivity.cost.connections == 3 + int(expected is not None)


async def test_client_certificate_required_by_openssl_111_under_tls13(test_pki: TestPKI) -> None:
    server = start_nassl_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, legacy=False, verify="required", ca=test_pki.ca_cert
    )
    with server:
        result = await scan_server(f"127.0.0.1:{server.port}", [], config=_PATIENT)
    profile = _profile(result).profile
    assert profile.highest_version is TLSVersion.TLS1_3
    assert profile.client_auth is ClientAuthRequirement.REQUIRED


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback on this machine")
async def test_ipv6_literal_target(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, host="::1") as server:
        result = await scan_server(f"[::1]:{server.port}", [])
    profile = _profile(result).profile
    assert profile.ip_address == "::1"
    assert profile.server_name is None
    assert profile.highest_version is TLSVersion.TLS1_3


async def test_pinned_ip_is_used_and_the_name_is_sent_as_sni(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"scanner-test.example:{server.port}{{127.0.0.1}}", [])
    profile = _profile(result).profile
    assert (profile.ip_address, profile.server_name) == ("127.0.0.1", "scanner-test.example")
