"""Checks whose interpretation reads one answer (compression, extended master secret, secure renegotiation,
fallback SCSV) and the cipher-suite enumeration, run unchanged against scripted servers: what they conclude
from each kind of answer, and what they cost. The same checks on real servers are in test_protocol_features.py
and test_cipher_suites.py."""

from __future__ import annotations

import pytest

from tlsprobe import TLSVersion
from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe.checks import (
    CipherSuitesCheck,
    CompressionCheck,
    CompressionResult,
    EnumerationMode,
    ExtendedMasterSecretCheck,
    ExtendedMasterSecretResult,
    FallbackSCSVCheck,
    FallbackSCSVResult,
    SecureRenegotiationCheck,
    SecureRenegotiationResult,
)
from tlsprobe.testing import ScriptedServer, tls_server
from tlsprobe.wire import CipherSuite, ClientHelloSpec, cipher_suite_by_name
from tlsprobe.wire._answers import HelloOutcome
from tlsprobe.wire._suites import suites_for_version
from tlsprobe.wire.catalogue import TLS_FALLBACK_SCSV

pytestmark = pytest.mark.anyio

DEFLATE = 1
TLS12 = frozenset({TLSVersion.TLS1_2})


def suite(name: str) -> CipherSuite:
    found = cipher_suite_by_name(name)
    assert found is not None
    return found


# ------------------------------------------------------------------------------------ the shared baseline


@pytest.mark.parametrize(("methods", "compresses"), [((DEFLATE, 0), True), ((0,), False)])
async def test_compression_is_what_the_server_picks_of_deflate_and_none(
    methods: tuple[int, ...], compresses: bool
) -> None:
    server = ScriptedServer(hello=tls_server(TLS12, compression_methods=methods))
    context = server.context()
    result = await CompressionCheck().run(context)
    assert result == CompressionResult(
        supports_compression=compresses, compression_method=methods[0], tested_version=TLSVersion.TLS1_2
    )
    (hello,) = context.connections
    assert hello.spec is not None and DEFLATE in hello.spec.compression_methods


@pytest.mark.parametrize("supported", [True, False])
async def test_the_extended_master_secret_is_supported_when_echoed(supported: bool) -> None:
    server = ScriptedServer(hello=tls_server(TLS12, extended_master_secret=supported))
    result = await ExtendedMasterSecretCheck().run(server.context())
    assert result == ExtendedMasterSecretResult(
        supports_extended_master_secret=supported, tested_version=TLSVersion.TLS1_2
    )


async def test_the_extended_master_secret_does_not_apply_to_ssl3() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.SSL3}), highest_version=TLSVersion.SSL3)
    with pytest.raises(CheckNotApplicable, match=r"SSL 3\.0 only"):
        await ExtendedMasterSecretCheck().run(server.context())


@pytest.mark.parametrize("version", [TLSVersion.TLS1_2, TLSVersion.SSL3])
@pytest.mark.parametrize("supported", [True, False])
async def test_secure_renegotiation_is_supported_when_renegotiation_info_comes_back(
    version: TLSVersion, supported: bool
) -> None:
    # Under SSL 3.0 the hello carries no extensions: the SCSV asks for renegotiation_info instead.
    server = ScriptedServer(hello=tls_server({version}, secure_renegotiation=supported), highest_version=version)
    result = await SecureRenegotiationCheck().run(server.context())
    assert result == SecureRenegotiationResult(supports_secure_renegotiation=supported, tested_version=version)


async def test_the_checks_reading_the_baseline_share_its_one_hello() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2, TLSVersion.TLS1_3}), highest_version=TLSVersion.TLS1_3)
    contexts = [server.context() for _ in range(3)]
    await CompressionCheck().run(contexts[0])
    await ExtendedMasterSecretCheck().run(contexts[1])
    await SecureRenegotiationCheck().run(contexts[2])
    assert [len(context.connections) for context in contexts] == [1, 0, 0]  # the first to ask pays
    (hello,) = server.connections
    assert hello.spec is not None and hello.spec.version is TLSVersion.TLS1_2  # below TLS 1.3, always


# ------------------------------------------------------------------------------------------- fallback SCSV


async def test_a_server_refusing_the_fallback_supports_the_scsv() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2, TLSVersion.TLS1_3}), highest_version=TLSVersion.TLS1_3)
    context = server.context()
    result = await FallbackSCSVCheck().run(context)
    assert result == FallbackSCSVResult(supports_fallback_scsv=True, tested_version=TLSVersion.TLS1_2)
    (hello,) = context.connections
    assert hello.spec is not None and TLS_FALLBACK_SCSV in hello.spec.cipher_suites


async def test_a_server_accepting_the_fallback_does_not_support_the_scsv() -> None:
    versions = {TLSVersion.TLS1_1, TLSVersion.TLS1_2}
    server = ScriptedServer(hello=tls_server(versions, fallback_scsv=False))
    result = await FallbackSCSVCheck().run(server.context())
    assert result == FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion.TLS1_1)


async def test_a_version_refused_outright_is_skipped_for_the_next_one_down() -> None:
    plain = tls_server({TLSVersion.TLS1_0, TLSVersion.TLS1_2}, fallback_scsv=False)

    def hello(spec: ClientHelloSpec) -> HelloOutcome:  # a server with TLS 1.1 switched off, refusing it outright
        return tls_server({TLSVersion.TLS1_3})(spec) if spec.version is TLSVersion.TLS1_1 else plain(spec)

    server = ScriptedServer(hello=hello)
    context = server.context()
    result = await FallbackSCSVCheck().run(context)
    assert result == FallbackSCSVResult(supports_fallback_scsv=False, tested_version=TLSVersion.TLS1_0)
    assert [connection.spec and connection.spec.version for connection in context.connections] == [
        TLSVersion.TLS1_1,
        TLSVersion.TLS1_0,
    ]


async def test_a_server_with_nothing_to_fall_back_to_says_so() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_3}), highest_version=TLSVersion.TLS1_3)
    context = server.context()
    result = await FallbackSCSVCheck().run(context)
    assert result == FallbackSCSVResult(supports_fallback_scsv=None, tested_version=None)
    assert len(context.connections) == 4  # TLS 1.2 down to SSL 3.0, each refused


async def test_fallback_does_not_apply_to_an_ssl3_server() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.SSL3}), highest_version=TLSVersion.SSL3)
    context = server.context()
    with pytest.raises(CheckNotApplicable):
        await FallbackSCSVCheck().run(context)
    assert context.connections == ()


# --------------------------------------------------------------------------------- cipher-suite enumeration

ACCEPTED = (
    suite("TLS_RSA_WITH_AES_128_CBC_SHA"),
    suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
)


@pytest.mark.parametrize("server_order", [True, False])
async def test_both_modes_find_the_same_suites_and_bundles_cost_far_fewer_connections(server_order: bool) -> None:
    server = ScriptedServer(
        hello=tls_server(TLS12, cipher_suites=[entry.code for entry in ACCEPTED], server_order=server_order)
    )
    results, costs = {}, {}
    for mode in EnumerationMode:
        context = server.context()
        results[mode] = await CipherSuitesCheck(version=TLSVersion.TLS1_2, mode=mode).run(context)
        costs[mode] = len(context.connections)
    bundled, exhaustive = results[EnumerationMode.BUNDLE], results[EnumerationMode.EXHAUSTIVE]
    found = [entry.cipher_suite for entry in bundled.accepted_cipher_suites]
    if server_order:
        assert found == list(ACCEPTED)  # the server's preference
    else:
        catalogue = [entry.code for entry in suites_for_version(TLSVersion.TLS1_2)]
        assert found == sorted(ACCEPTED, key=lambda entry: catalogue.index(entry.code))  # the offer's order
    assert bundled.server_order_enforced is server_order
    assert {entry.cipher_suite for entry in exhaustive.accepted_cipher_suites} == set(ACCEPTED)
    assert bundled.rejected_cipher_suites == exhaustive.rejected_cipher_suites
    assert costs[EnumerationMode.EXHAUSTIVE] == len(suites_for_version(TLSVersion.TLS1_2))  # one hello per suite
    assert costs[EnumerationMode.BUNDLE] < 3 * (len(ACCEPTED) + 1)


async def test_a_version_the_server_does_not_reach_costs_no_connection() -> None:
    server = ScriptedServer(hello=tls_server(TLS12))
    context = server.context()
    result = await CipherSuitesCheck(version=TLSVersion.TLS1_3).run(context)
    assert not result.is_supported and result.accepted_cipher_suites == ()
    assert context.connections == ()
