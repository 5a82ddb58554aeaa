"""The broad hellos below TLS 1.3 go out beside the first contact, once the server is known to be there."""

from __future__ import annotations

import socket

import pytest

from tlsprobe import (
    CheckCompleted,
    ConnectivityCompleted,
    ConnectivityFailed,
    Limits,
    Scanner,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
)
from tlsprobe.checks import CipherSuitesCheck, EnumerationMode
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

_VERSIONS = (TLSVersion.SSL3, TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2)
# Long enough that the first contact is still waiting for its answer when the early hellos connect.
_ROUND_TRIP_S = 0.05


async def test_the_enumerations_openings_go_out_during_connectivity_and_are_not_sent_again(
    web_server: LocalTLSServer,
) -> None:
    bundled = [CipherSuitesCheck(version=version) for version in _VERSIONS]
    one_by_one = [CipherSuitesCheck(version=version, mode=EnumerationMode.EXHAUSTIVE) for version in _VERSIONS]
    with CountingProxy(*web_server.address, answer_delay_s=_ROUND_TRIP_S) as proxy:
        target = ServerTarget(host="127.0.0.1", port=proxy.port)
        result = await Scanner().scan_server(target, bundled)
        busiest = proxy.max_concurrent_connections
    expected = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=web_server.port), one_by_one)
    assert isinstance(result.connectivity, ConnectivityCompleted)
    # The first contact, the half-close learning hello, and one opening per version (refused below TLS 1.2 here).
    assert result.connectivity.cost.connections == 2 + len(_VERSIONS)
    # The versions this server refuses cost their enumerations nothing more: the refused opening was all.
    by_name = {outcome.name: outcome for outcome in result.checks}
    assert [by_name[f"{version.value}_cipher_suites"].cost.connections for version in _VERSIONS[:3]] == [0, 0, 0]
    assert _accepted(result) == _accepted(expected)
    assert 1 < busiest <= Limits().max_connections_per_server


async def test_the_openings_go_half_closed_before_it_is_learned_and_stand_when_it_is(
    web_server: LocalTLSServer,
) -> None:
    refused_versions = _VERSIONS[:3]  # this server speaks TLS 1.2 and 1.3 only: each opening is all there is
    with CountingProxy(*web_server.address, answer_delay_s=_ROUND_TRIP_S) as proxy:
        target = ServerTarget(host="127.0.0.1", port=proxy.port)
        result = await Scanner().scan_server(target, [CipherSuitesCheck(version=v) for v in refused_versions])
        half_closed = proxy.half_closed_before_answer
    # The first contact, then the learning hello and the openings beside it, all but the first half-closed; this
    # server answers half-closed hellos alike, so no opening is sent again.
    assert result.connections == 2 + len(refused_versions)
    assert half_closed == 1 + len(refused_versions)


def _accepted(result: ServerScanResult) -> dict[str, set[str]]:
    return {
        outcome.name: {entry.cipher_suite.name for entry in outcome.result.accepted_cipher_suites}
        for outcome in result.checks
        if isinstance(outcome, CheckCompleted)
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_server_that_is_not_there_gets_no_early_hello() -> None:
    target = ServerTarget(host="127.0.0.1", port=_closed_port())
    config_checks = [CipherSuitesCheck(version=version) for version in _VERSIONS]
    without = await Scanner().scan_server(target, [])
    with_openings = await Scanner().scan_server(target, config_checks)
    assert isinstance(without.connectivity, ConnectivityFailed)
    assert isinstance(with_openings.connectivity, ConnectivityFailed)
    assert with_openings.connectivity.error == without.connectivity.error
    assert with_openings.connectivity.cost.connections == without.connectivity.cost.connections
