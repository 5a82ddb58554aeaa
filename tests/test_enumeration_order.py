"""The parallel enumeration (parts at once, orders merged) against the sequential one on real servers: for every
kind of server order, both must find the same suites, in the same order, with the same verdict on who orders.

Servers: OpenSSL (Python ``ssl``) with its own order over every suite it has, and one following the client's;
``openssl s_server`` with an order that puts plain RSA key exchange first (the parts' prediction wrong, so the
merge must repair it) and one preferring ChaCha20 (``-prioritize_chacha``); GnuTLS priority strings, with its
own order and the client's; and a server whose TLS 1.3 order is not its TLS 1.2 order.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from tests.scanning import cipher_checks, cipher_result
from tests.servers.processes import start_gnutls_serv, start_openssl_s_server
from tlsprobe import ServerScanResult, TLSVersion, scan_server
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES
from tlsprobe.checks import EnumerationMode
from tlsprobe.checks.cipher_suites import FAN_OUT_AFTER, MAX_CHAINS, _rare_offers
from tlsprobe.testing import LocalTLSServer, TestPKI
from tlsprobe.wire.catalogue import suites_for_version

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]


def _orders(result: ServerScanResult) -> dict[TLSVersion, tuple[Any, ...]]:
    found = {}
    for version in TLSVersion:
        outcome = cipher_result(result, version)
        names = tuple(entry.cipher_suite.name for entry in outcome.accepted_cipher_suites)
        found[version] = (names, outcome.server_order_enforced, outcome.is_supported)
    return found


async def _assert_same_as_sequential(target: str, output: str = "") -> dict[TLSVersion, tuple[Any, ...]]:
    parallel = await scan_server(target, cipher_checks())
    sequential = await scan_server(target, cipher_checks(EnumerationMode.SEQUENTIAL))
    found = _orders(parallel)
    assert found == _orders(sequential), output
    return found


async def test_openssl_with_every_suite_in_its_own_order(legacy_python_server: LocalTLSServer) -> None:
    found = await _assert_same_as_sequential(f"127.0.0.1:{legacy_python_server.port}")
    names, enforced, _ = found[TLSVersion.TLS1_2]
    assert enforced is True and len(names) > FAN_OUT_AFTER + 8
    # Some of its suites lie beyond the first bundle (anonymous DH, ARIA...): the whole catalogue was split.
    first_bundle = {suite.name for suite in suites_for_version(TLSVersion.TLS1_2)[:MAX_HELLO_SUITES]}
    assert set(names) - first_bundle


async def test_a_wide_server_costs_its_suites_and_a_few_hellos_more(legacy_python_server: LocalTLSServer) -> None:
    result = await scan_server(f"127.0.0.1:{legacy_python_server.port}", cipher_checks())
    for version in (TLSVersion.TLS1_0, TLSVersion.TLS1_2):
        accepted = len(cipher_result(result, version).accepted_cipher_suites)
        # One hello per suite, then per version: the rare offers (each answer reused when it is a part's first
        # hello), one refusal per chain, and one boundary between chains (fewer where a pick already settled it).
        overhead = len(_rare_offers(version, MAX_HELLO_SUITES)) + 2 * MAX_CHAINS
        assert result.outcome(f"{version.value}_cipher_suites").cost.connections <= accepted + overhead, version


async def test_a_wide_server_within_the_first_bundle(test_pki: TestPKI) -> None:
    # Only common suites, more than FAN_OUT_AFTER of them: the first chain's picks lead, the rest split in parts.
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        ciphers="ECDHE:DHE:kRSA:!aNULL:!eNULL:!ARIA:!CAMELLIA:!PSK:!SRP:!CCM8:@SECLEVEL=0",
    ) as server:
        found = await _assert_same_as_sequential(f"127.0.0.1:{server.port}")
    names, enforced, _ = found[TLSVersion.TLS1_2]
    first_bundle = {suite.name for suite in suites_for_version(TLSVersion.TLS1_2)[:MAX_HELLO_SUITES]}
    assert enforced is True and len(names) > FAN_OUT_AFTER and set(names) <= first_bundle


async def test_openssl_following_the_client(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.ecdsa_chain,
        keyfile=test_pki.ecdsa_key,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        server_preference=False,
        ciphers="ALL:@SECLEVEL=0",
    ) as server:
        found = await _assert_same_as_sequential(f"127.0.0.1:{server.port}")
    assert found[TLSVersion.TLS1_2][1] is False


# The server's first FAN_OUT_AFTER suites, which the first chain finds before the rest is split into parts.
_HEAD = (
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:"
    "AES256-SHA256:AES128-SHA256:CAMELLIA256-SHA:"
)


@pytest.mark.parametrize(
    "cipher_list",
    [
        # After the head, plain RSA key exchange first, then CBC before GCM: the opposite of the parts' predicted
        # order.
        _HEAD + "AES128-SHA:AES256-GCM-SHA384:DHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:"
        "DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA256",
        # Interleaved: every part's suites alternate with another's.
        _HEAD + "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-GCM-SHA384:"
        "AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA",
    ],
)
async def test_openssl_s_server_orders_the_prediction_gets_wrong(test_pki: TestPKI, cipher_list: str) -> None:
    server = start_openssl_s_server(
        ["-serverpref", "-cipher", cipher_list + ":@SECLEVEL=0", "-min_protocol", "TLSv1.2", "-max_protocol",
         "TLSv1.2"],
        test_pki.rsa_chain,
        test_pki.rsa_key,
    )  # fmt: skip
    with server:
        found = await _assert_same_as_sequential(f"127.0.0.1:{server.port}", server.output())
    names, enforced, _ = found[TLSVersion.TLS1_2]
    assert enforced is True and len(names) == FAN_OUT_AFTER + 7


async def test_openssl_s_server_preferring_chacha20(test_pki: TestPKI) -> None:
    suites = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"
    server = start_openssl_s_server(
        ["-serverpref", "-prioritize_chacha", "-cipher", suites, "-ciphersuites",
         "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"],
        test_pki.rsa_chain,
        test_pki.rsa_key,
    )  # fmt: skip
    with server:
        await _assert_same_as_sequential(f"127.0.0.1:{server.port}", server.output())


@pytest.mark.parametrize(
    "priority",
    [
        "NORMAL:%SERVER_PRECEDENCE",
        "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-GCM:+AES-128-GCM:-KX-ALL:+RSA:+ECDHE-RSA:"
        "+DHE-RSA:%SERVER_PRECEDENCE",
        "NORMAL",
    ],
)
async def test_gnutls_priority_strings(test_pki: TestPKI, priority: str) -> None:
    server = start_gnutls_serv(priority, test_pki.rsa_chain, test_pki.rsa_key)
    with server:
        found = await _assert_same_as_sequential(f"127.0.0.1:{server.port}", server.output())
    assert found[TLSVersion.TLS1_2][1] is ("%SERVER_PRECEDENCE" in priority)


_TLS12_ORDER = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384"
_TLS13_ORDER = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"


async def test_a_tls13_order_other_than_the_tls12_order(test_pki: TestPKI) -> None:
    server = start_openssl_s_server(
        ["-serverpref", "-cipher", _TLS12_ORDER, "-ciphersuites", _TLS13_ORDER], test_pki.rsa_chain, test_pki.rsa_key
    )
    with server:
        found = await _assert_same_as_sequential(f"127.0.0.1:{server.port}", server.output())
    tls12, tls13 = found[TLSVersion.TLS1_2][0], found[TLSVersion.TLS1_3][0]
    assert tls12[0] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" and tls13[0] == "TLS_AES_256_GCM_SHA384"
