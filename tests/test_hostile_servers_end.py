"""Every scan ends, and gives back its threads and sockets, against servers that misbehave on purpose.

No assertion here is about time. Each test is built so that, without the guarantee it checks, it would never end:
the timeouts that would otherwise end it are far longer than the suite's per-test timeout (pytest-timeout), so a
regression fails the test instead of slowing it down.
"""

from __future__ import annotations

import json
import socket

import anyio
import pytest

from tests.integrations.test_router import service, start
from tests.servers.hostile import DripAfterFinServer, DripHandshakeServer, SilentServer
from tlsprobe import ConnectivityFailed, Limits, ScanConfig, Scanner, ServerTarget, Timeouts
from tlsprobe._exceptions import ServerStalledError
from tlsprobe._net import ConnectionPermits, ProbeMeter, ScanCounters, ServerConnector
from tlsprobe.checks import check_by_name
from tlsprobe.testing import LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

_NEVER_S = 3600.0
"""A timeout no test outlives: reaching it would mean the guarantee under test did not hold."""


def _connector(port: int, timeouts: Timeouts, threads: anyio.CapacityLimiter) -> ServerConnector:
    return ServerConnector(
        ip_address="127.0.0.1",
        port=port,
        timeouts=timeouts,
        permits=ConnectionPermits(5),
        global_connections=anyio.Semaphore(5),
        thread_limiter=threads,
        counters=ScanCounters(),
        max_retries=0,
    )


def _read_for_ever(sock: socket.socket) -> bytes:
    """What a handshake does with a server that drips: each read succeeds, and more is always to come."""
    sock.sendall(b"\x16\x03\x01\x00\x00")
    while data := sock.recv(1):
        del data
    return b""


async def test_a_thread_reading_a_drip_is_released_at_the_exchange_deadline() -> None:
    threads = anyio.CapacityLimiter(2)
    timeouts = Timeouts(connect_s=5, read_s=_NEVER_S, exchange_s=0.5)
    with DripHandshakeServer(0.05) as server:
        connector = _connector(server.port, timeouts, threads)
        with pytest.raises(ServerStalledError, match=r"did not end within 0\.5 s"):
            await connector.run_blocking(ProbeMeter(), _read_for_ever)
        # The server is a tarpit now: not contacted again.
        with pytest.raises(ServerStalledError, match="not contacted again"):
            await connector.run_blocking(ProbeMeter(), _read_for_ever)
        assert server.accepted_connections == 1
    assert threads.borrowed_tokens == 0
    assert connector.counters.connections_open == 0


async def test_the_async_close_of_a_drip_after_our_fin_is_bounded_too() -> None:
    timeouts = Timeouts(connect_s=5, read_s=_NEVER_S, exchange_s=_NEVER_S)
    with DripAfterFinServer(0.05) as server:
        connector = _connector(server.port, timeouts, anyio.CapacityLimiter(1))
        async with connector.connect(ProbeMeter()) as stream:
            await stream.send(b"\x16\x03\x01\x00\x00")
        assert server.fins_received == 1
    assert connector.closes_by_reset
    assert connector.counters.connections_open == 0


async def test_cancelling_a_scan_releases_a_thread_blocked_on_a_silent_server() -> None:
    threads = anyio.CapacityLimiter(2)
    timeouts = Timeouts(connect_s=5, read_s=_NEVER_S, exchange_s=_NEVER_S)
    with SilentServer() as server:
        connector = _connector(server.port, timeouts, threads)
        with anyio.move_on_after(0.2) as scope:
            await connector.run_blocking(ProbeMeter(), _read_for_ever)
        assert scope.cancelled_caught
    assert threads.borrowed_tokens == 0
    assert connector.counters.connections_open == 0


async def test_a_server_dripping_after_our_fin_does_not_hold_the_close() -> None:
    # read_s is the per-read timeout of the drain after our FIN: a byte comes well within it, for ever.
    threads = anyio.CapacityLimiter(2)
    timeouts = Timeouts(connect_s=5, read_s=_NEVER_S, exchange_s=_NEVER_S)
    with DripAfterFinServer(0.05) as server:
        connector = _connector(server.port, timeouts, threads)
        assert await connector.run_blocking(ProbeMeter(), lambda _sock: b"done") == b"done"
        assert server.fins_received == 1
        # The wait for the server's FIN ran out: later connections to it are reset instead of waited for.
        assert connector.closes_by_reset
        async with connector.connect(ProbeMeter()) as stream:
            await stream.send(b"\x16\x03\x01\x00\x00")
        assert server.wait_until(lambda hostile: hostile.accepted_connections == 2)
    assert threads.borrowed_tokens == 0
    assert connector.counters.connections_open == 0


_FULL = tuple(
    check_by_name(name)
    for name in ("tls1_2_cipher_suites", "certificate", "client_renegotiation", "session_resumption", "heartbleed")
)


async def test_a_full_scan_of_a_handshake_drip_ends_as_a_timeout() -> None:
    # Each byte comes well within the read timeout; without the deadlines the scan would drip on for hours.
    config = ScanConfig(timeouts=Timeouts(connect_s=5, read_s=1.0, exchange_s=2.0))
    scanner = Scanner(config)
    with DripHandshakeServer(0.05) as server:
        result = await scanner.scan_server(ServerTarget(host="127.0.0.1", port=server.port), _FULL)
    assert isinstance(result.connectivity, ConnectivityFailed)
    assert result.connectivity.error.kind.value == "timeout"
    assert "dripping" in result.connectivity.error.message
    assert result.connections <= 4
    assert scanner.statistics().connections_open == 0
    assert scanner._thread_limiter.borrowed_tokens == 0


async def test_a_healthy_scan_completes_beside_a_hostile_one_in_the_service(web_server: LocalTLSServer) -> None:
    scanner = Scanner(ScanConfig(timeouts=Timeouts(connect_s=5, read_s=1.0, exchange_s=2.0), limits=Limits()))
    checks = ["tls1_2_cipher_suites", "certificate", "client_renegotiation"]
    with DripHandshakeServer(0.05) as hostile, DripAfterFinServer(0.05, answer_hello=True) as dripping:
        async with service(scanner) as client:
            hostile_scan = await start(
                client,
                [f"127.0.0.1:{hostile.port}", f"127.1:{hostile.port}", f"127.0.0.1:{dripping.port}"],
                checks,
            )
            healthy = await start(client, [f"127.0.0.1:{web_server.port}"], checks)
            healthy_lines = (await client.get(f"/tls/scans/{healthy['id']}/stream")).text.splitlines()
            hostile_lines = (await client.get(f"/tls/scans/{hostile_scan['id']}/stream")).text.splitlines()
    [healthy_result, healthy_end] = [json.loads(line) for line in healthy_lines]
    assert healthy_result["connectivity"]["status"] == "completed"
    assert all(check["status"] == "completed" for check in healthy_result["checks"])
    assert healthy_end["event"] == "end" and healthy_end["status"] == "completed"
    *hostile_results, hostile_end = [json.loads(line) for line in hostile_lines]
    assert len(hostile_results) == 3
    assert hostile_end == {
        "event": "end",
        "id": hostile_scan["id"],
        "status": "completed",
        "reason": None,
        "servers": 3,
    }
    assert scanner.statistics().connections_open == 0
    assert scanner._thread_limiter.borrowed_tokens == 0
