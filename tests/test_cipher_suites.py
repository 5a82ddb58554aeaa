"""Cipher-suite enumeration against real servers on loopback.

For each server, the suites accepted per version must equal what the server is configured to accept (read
from the server's own OpenSSL configuration, filtered to what its certificate and key exchange can serve) and
what the one-suite-per-connection mode finds.
"""

from __future__ import annotations

import ssl

import pytest
from tlslite.constants import CipherSuite as TlsliteSuites

from tests.scanning import accepted_entry, accepted_names, cipher_result, scan_both_modes
from tests.servers.processes import start_nassl_server, start_openssl_s_server, start_tlslite_server
from tests.servers.tlslite_server import ServerConfig
from tlsprobe import ConnectivityCompleted, TLSVersion
from tlsprobe.checks.cipher_suites import FAN_OUT_AFTER
from tlsprobe.testing import LocalTLSServer, TestPKI
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire.catalogue import cipher_suite_by_code, named_group_by_name, suites_for_version

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_TLS12_AND_BELOW = (TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2)
_PROTOCOL_FLOOR = {
    "SSLv3": TLSVersion.SSL3,
    "TLSv1": TLSVersion.TLS1_0,
    "TLSv1.0": TLSVersion.TLS1_0,
    "TLSv1.2": TLSVersion.TLS1_2,
    "TLSv1.3": TLSVersion.TLS1_3,
}


def configured_suites(
    ciphers: str | None, versions: tuple[TLSVersion, ...], certificate: str
) -> dict[TLSVersion, set[str]]:
    """What a Python ``ssl`` server with this cipher string can accept at each version.

    OpenSSL's list, minus what the server cannot serve: suites for another certificate type, PSK and SRP
    (no callbacks), and DHE (Python's ssl sets no DH parameters).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if ciphers:
        context.set_ciphers(ciphers)
    allowed_auth = {"auth-null", f"auth-{certificate}"}
    expected: dict[TLSVersion, set[str]] = {version: set() for version in versions}
    for entry in context.get_ciphers():
        suite = cipher_suite_by_code(entry["id"] & 0xFFFF)
        assert suite is not None, entry["name"]
        floor = _PROTOCOL_FLOOR[entry["protocol"]]
        if floor is TLSVersion.TLS1_3:
            if TLSVersion.TLS1_3 in expected:
                expected[TLSVersion.TLS1_3].add(suite.name)
            continue
        if entry["kea"] not in ("kx-ecdhe", "kx-rsa") or entry["auth"] not in allowed_auth:
            continue
        for version in versions:
            if version is not TLSVersion.TLS1_3 and version >= floor:
                expected[version].add(suite.name)
    return expected


async def test_modern_rsa_server_matches_its_configuration_and_exhaustive_mode(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{server.port}")
    expected = configured_suites(None, (TLSVersion.TLS1_2, TLSVersion.TLS1_3), "rsa")
    for version in TLSVersion:
        want = expected.get(version, set())
        assert accepted_names(bundle, version) == want, version
        assert accepted_names(exhaustive, version) == want, version
        assert cipher_result(bundle, version).is_supported is bool(want)
    assert isinstance(bundle.connectivity, ConnectivityCompleted)
    assert bundle.connectivity.profile.highest_version is TLSVersion.TLS1_3
    tls12 = cipher_result(bundle, TLSVersion.TLS1_2)
    assert tls12.server_order_enforced is True
    x25519 = named_group_by_name("x25519")
    for entry in tls12.accepted_cipher_suites:
        assert entry.ephemeral_key is not None
        assert entry.ephemeral_key.kind is EphemeralKeyKind.ECDH
        assert x25519 is not None and entry.ephemeral_key.group == x25519.code
        assert entry.ephemeral_key.size == 253


async def test_server_order_and_client_order_are_told_apart(test_pki: TestPKI) -> None:
    with (
        LocalTLSServer(
            certfile=test_pki.ecdsa_chain,
            keyfile=test_pki.ecdsa_key,
            minimum_version=ssl.TLSVersion.TLSv1_2,
            server_preference=False,
        ) as client_order,
        LocalTLSServer(
            certfile=test_pki.ecdsa_chain, keyfile=test_pki.ecdsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
        ) as server_order,
    ):
        follows_client, _ = await scan_both_modes(f"127.0.0.1:{client_order.port}")
        enforces, _ = await scan_both_modes(f"127.0.0.1:{server_order.port}")
    assert cipher_result(follows_client, TLSVersion.TLS1_2).server_order_enforced is False
    assert cipher_result(enforces, TLSVersion.TLS1_2).server_order_enforced is True
    # The server's own order: OpenSSL's default list puts AES-256-GCM first for ECDSA.
    first = cipher_result(enforces, TLSVersion.TLS1_2).accepted_cipher_suites[0].cipher_suite
    assert first.name == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
    expected = configured_suites(None, (TLSVersion.TLS1_2,), "ecdsa")[TLSVersion.TLS1_2]
    assert accepted_names(follows_client, TLSVersion.TLS1_2) == expected
    # A server that follows the client's order has its suites listed in the order offered, the catalogue's.
    catalogue = [suite.code for suite in suites_for_version(TLSVersion.TLS1_2)]
    found = [
        entry.cipher_suite.code for entry in cipher_result(follows_client, TLSVersion.TLS1_2).accepted_cipher_suites
    ]
    assert len(found) > 2 and found == sorted(found, key=catalogue.index)
    # The picks of the server with its own order showed it (one was not the first accepted suite of its offer):
    # it needed no reversed offer, the other server one, at both versions. Its suites are fewer than
    # FAN_OUT_AFTER, so no part was split off: one chain, one refusal per bundle.
    assert len(found) < FAN_OUT_AFTER
    for version in (TLSVersion.TLS1_2, TLSVersion.TLS1_3):
        name = f"{version.value}_cipher_suites"
        assert follows_client.outcome(name).cost.connections == enforces.outcome(name).cost.connections + 1, version


async def test_legacy_server_with_every_system_suite(legacy_python_server: LocalTLSServer) -> None:
    bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{legacy_python_server.port}")
    expected = configured_suites("ALL:@SECLEVEL=0", _TLS12_AND_BELOW, "rsa")
    assert len(expected[TLSVersion.TLS1_2]) > 20  # the list spans several bundles' worth of order merging
    for version in TLSVersion:
        want = expected.get(version, set())
        assert accepted_names(bundle, version) == want, version
        assert accepted_names(exhaustive, version) == want, version
    tls12 = cipher_result(bundle, TLSVersion.TLS1_2)
    anonymous = [entry for entry in tls12.accepted_cipher_suites if entry.cipher_suite.is_anonymous]
    assert anonymous, "ALL includes anonymous ECDH suites"
    rsa_kx = [entry for entry in tls12.accepted_cipher_suites if entry.cipher_suite.name.startswith("TLS_RSA_")]
    assert rsa_kx and all(entry.ephemeral_key is None for entry in rsa_kx)


async def test_openssl_s_server_tls10_tls11_cbc_only(test_pki: TestPKI) -> None:
    configured = ["ECDHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA", "AES256-SHA", "AES128-SHA"]
    server = start_openssl_s_server(
        [
            "-cipher",
            ":".join(configured) + ":@SECLEVEL=0",
            "-min_protocol",
            "TLSv1",
            "-max_protocol",
            "TLSv1.1",
        ],
        test_pki.rsa_chain,
        test_pki.rsa_key,
    )
    with server:
        bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{server.port}")
    want = {
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    }
    for version in TLSVersion:
        expected = want if version in (TLSVersion.TLS1_0, TLSVersion.TLS1_1) else set()
        assert accepted_names(bundle, version) == expected, (version, server.output())
        assert accepted_names(exhaustive, version) == expected, version
    assert isinstance(bundle.connectivity, ConnectivityCompleted)
    assert bundle.connectivity.profile.highest_version is TLSVersion.TLS1_1
    dhe = accepted_entry(bundle, TLSVersion.TLS1_0, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA")
    assert dhe.ephemeral_key is not None and dhe.ephemeral_key.kind is EphemeralKeyKind.DH
    assert dhe.ephemeral_key.size >= 1024
    # Versions above the highest one the server accepted cost no connection.
    assert bundle.outcome("tls1_3_cipher_suites").cost.connections == 0  # type: ignore[union-attr]


async def test_legacy_openssl_102_server_ssl2_to_tls12(test_pki: TestPKI) -> None:
    # OpenSSL 1.0.2 from nassl's wheel as a real server: SSL 2.0 and 3.0, RC4 and 3DES, DHE with 2048-bit groups.
    configured = "RC4-MD5:DES-CBC3-MD5:RC4-SHA:DES-CBC3-SHA:AES128-SHA:ECDHE-RSA-AES256-SHA:EDH-RSA-DES-CBC3-SHA"
    server = start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers=configured)
    with server:
        bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{server.port}")
    ssl2 = {"SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"}
    tls = {
        "TLS_RSA_WITH_RC4_128_MD5",
        "TLS_RSA_WITH_RC4_128_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    }
    expected = dict.fromkeys((TLSVersion.SSL3, *_TLS12_AND_BELOW), tls)
    expected[TLSVersion.SSL2] = ssl2
    for version in TLSVersion:
        want = expected.get(version, set())
        assert accepted_names(bundle, version) == want, (version, server.output())
        assert accepted_names(exhaustive, version) == want, version
    assert isinstance(bundle.connectivity, ConnectivityCompleted)
    assert bundle.connectivity.profile.highest_version is TLSVersion.TLS1_2
    dhe = accepted_entry(bundle, TLSVersion.SSL3, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA")
    assert dhe.ephemeral_key is not None and dhe.ephemeral_key.size == 2048
    # One SSL 2.0 hello lists every cipher kind: a single connection.
    assert bundle.outcome("ssl2_cipher_suites").cost.connections == 1  # type: ignore[union-attr]


async def test_sslv2_only_server(test_pki: TestPKI) -> None:
    server = start_nassl_server(
        cert=test_pki.rsa_cert, key=test_pki.rsa_key, version="sslv2", ciphers="RC4-MD5:DES-CBC3-MD5:EXP-RC4-MD5"
    )
    with server:
        bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{server.port}")
    assert isinstance(bundle.connectivity, ConnectivityCompleted), server.output()
    assert bundle.connectivity.profile.highest_version is TLSVersion.SSL2
    want = {"SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", "SSL_CK_RC4_128_EXPORT40_WITH_MD5"}
    assert accepted_names(bundle, TLSVersion.SSL2) == want
    assert accepted_names(exhaustive, TLSVersion.SSL2) == want
    for version in (TLSVersion.SSL3, *_TLS12_AND_BELOW, TLSVersion.TLS1_3):
        assert not cipher_result(bundle, version).is_supported


async def test_tlslite_server_ssl3_to_tls12(test_pki: TestPKI) -> None:
    server = start_tlslite_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, min_version="ssl3", max_version="tls1.2",
        ciphers=["aes128", "3des", "rc4"],
    )  # fmt: skip
    config = ServerConfig(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, min_version="ssl3", max_version="tls1.2",
        ciphers=["aes128", "3des", "rc4"],
    )  # fmt: skip
    with server:
        bundle, exhaustive = await scan_both_modes(f"127.0.0.1:{server.port}")
    wire_versions = {TLSVersion.SSL3: (3, 0), TLSVersion.TLS1_0: (3, 1), TLSVersion.TLS1_1: (3, 2),
                     TLSVersion.TLS1_2: (3, 3)}  # fmt: skip
    for version in TLSVersion:
        want: set[str] = set()
        if version in wire_versions:
            settings, wire_version = config.settings, wire_versions[version]
            codes = (
                TlsliteSuites.getCertSuites(settings, wire_version)
                + TlsliteSuites.getDheCertSuites(settings, wire_version)
                + TlsliteSuites.getEcdheCertSuites(settings, wire_version)
            )
            want = {TlsliteSuites.ietfNames[code] for code in codes}
        assert accepted_names(bundle, version) == want, (version, server.output())
        assert accepted_names(exhaustive, version) == want, version
    assert "TLS_RSA_WITH_RC4_128_SHA" in accepted_names(bundle, TLSVersion.SSL3)
    assert "TLS_RSA_WITH_3DES_EDE_CBC_SHA" in accepted_names(bundle, TLSVersion.TLS1_2)
