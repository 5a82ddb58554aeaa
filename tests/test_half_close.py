"""Half-closed hellos: sent only to a server that answered one exactly as it answers a normal hello."""

from __future__ import annotations

import anyio
import pytest

from tests.scanning import observations
from tlsprobe import Limits, Scanner, ServerTarget, Timeouts
from tlsprobe._net import ConnectionPermits, ProbeMeter, ScanCounters, ServerConnector
from tlsprobe._probing._connectivity import probe_server
from tlsprobe._probing._prober import NativeProber
from tlsprobe.checks._base import early_hellos
from tlsprobe.checks._registry import check_by_name
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

# Native hellos (suites, groups, ALPN) and a nassl handshake (session resumption), which is never half-closed.
_CHECKS = [
    check_by_name(name)
    for name in ("tls1_2_cipher_suites", "tls1_3_cipher_suites", "supported_groups", "alpn", "session_resumption")
]
# Lets the FIN sent right behind a hello reach the proxy before the server's answer, as on any real network.
_ROUND_TRIP_S = 0.02


async def _learned(port: int) -> bool:
    timeouts = Timeouts()
    connector = ServerConnector(
        ip_address="127.0.0.1",
        port=port,
        timeouts=timeouts,
        permits=ConnectionPermits(5),
        global_connections=anyio.Semaphore(5),
        thread_limiter=anyio.CapacityLimiter(2),
        counters=ScanCounters(),
        max_retries=Limits().max_retries,
    )
    prober = NativeProber(connector, timeouts)
    meter = ProbeMeter()
    await probe_server(ServerTarget(host="127.0.0.1", port=port), "127.0.0.1", connector, prober, meter)
    await prober.learn_half_close(meter)
    return prober.half_closes


async def test_a_server_that_answers_half_closed_hellos_gets_them(web_server: LocalTLSServer) -> None:
    with CountingProxy(*web_server.address, answer_delay_s=_ROUND_TRIP_S) as proxy:
        assert await _learned(proxy.port)
        learning_only = proxy.half_closed_before_answer
        result = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=proxy.port), _CHECKS)
    assert learning_only == 1
    # Most of the scan's connections were hellos whose FIN went right behind them.
    assert proxy.half_closed_before_answer > (result.connections + 1) // 2
    assert proxy.max_concurrent_connections <= Limits().max_connections_per_server
    observations(result)


async def test_a_front_end_that_drops_half_closed_connections_gets_none_and_the_same_results(
    web_server: LocalTLSServer,
) -> None:
    with (
        CountingProxy(*web_server.address, answer_delay_s=_ROUND_TRIP_S) as sturdy,
        CountingProxy(*web_server.address, drop_on_client_eof=True, answer_delay_s=_ROUND_TRIP_S) as dropping,
    ):
        assert not await _learned(dropping.port)
        assert dropping.half_closed_before_answer == 1
        expected = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=sturdy.port), _CHECKS)
        result = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=dropping.port), _CHECKS)
    # The scan's own learning hello (a hang-up among other connections is retried alone, as for any probe: only
    # then does it say the server drops half-closed hellos), and each early hello, sent half-closed before the
    # learning decided, then once more fully closed; nothing more.
    early = len({hello.key for check in _CHECKS for hello in early_hellos(check, "127.0.0.1")})
    learning = dropping.half_closed_before_answer - 1 - early
    assert early == 1 and learning in (1, 2)
    assert observations(result) == observations(expected)
    assert result.connections == expected.connections + (learning - 1) + early  # no other probe paid twice


async def test_a_server_that_refuses_connections_beyond_three_still_gets_half_closed_hellos(
    web_server: LocalTLSServer,
) -> None:
    # The learning hello goes ahead of every check's, and is retried when refused: a fragile server keeps the
    # cheaper hellos for the rest of the scan.
    with CountingProxy(*web_server.address, refuse_beyond=3, answer_delay_s=_ROUND_TRIP_S) as proxy:
        result = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=proxy.port))
    assert proxy.refused_connections > 0
    assert proxy.half_closed_before_answer > (result.connections + 1) // 2
    observations(result)
