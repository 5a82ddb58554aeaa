"""The engine against real servers: per-server limits, bad servers, streaming, cancellation."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress

import anyio
import pytest

from tests.servers.misbehaving import MisbehavingServer
from tlsprobe import (
    CheckCompleted,
    ConfigurationError,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    Limits,
    ScanConfig,
    Scanner,
    ServerScanResult,
    ServerTarget,
    Timeouts,
)
from tlsprobe.checks import CipherSuitesCheck, EnumerationMode
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI
from tlsprobe.wire._versions import TLSVersion

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_FAST = ScanConfig(timeouts=Timeouts(connect_s=2, read_s=1), limits=Limits(max_retries=1))


@pytest.fixture
def modern_server(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        yield server


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _scan_all(scanner: Scanner, targets: list[ServerTarget], checks: list) -> dict[int, ServerScanResult]:  # type: ignore[type-arg]
    results: dict[int, ServerScanResult] = {}
    async with scanner.scan(targets, checks) as stream:
        async for result in stream:
            results[result.target.port] = result
    return results


@pytest.mark.parametrize("limit", [5, 2])
async def test_per_server_connection_limit_holds_across_concurrent_servers(test_pki: TestPKI, limit: int) -> None:
    # Exhaustive TLS 1.2 enumeration wants hundreds of connections at once: the limit is what holds it back.
    checks = [
        CipherSuitesCheck(version=TLSVersion.TLS1_2, mode=EnumerationMode.EXHAUSTIVE),
        CipherSuitesCheck(version=TLSVersion.TLS1_3),
        CipherSuitesCheck(version=TLSVersion.TLS1_1),
    ]
    with ExitStack() as stack:
        proxies = []
        for _ in range(3):
            server = stack.enter_context(
                LocalTLSServer(
                    certfile=test_pki.rsa_chain,
                    keyfile=test_pki.rsa_key,
                    minimum_version=ssl.TLSVersion.TLSv1_2,
                )
            )
            proxies.append(stack.enter_context(CountingProxy("127.0.0.1", server.port)))
        scanner = Scanner(ScanConfig(limits=Limits(max_connections_per_server=limit)))
        targets = [ServerTarget(host="127.0.0.1", port=proxy.port) for proxy in proxies]
        results = await _scan_all(scanner, targets, checks)
    for proxy in proxies:
        result = results[proxy.port]
        assert all(isinstance(outcome, CheckCompleted) for outcome in result.checks)
        assert proxy.max_concurrent_connections <= limit  # never exceeded (reaching it depends on timing)
        assert proxy.total_connections == result.connections  # the cost reported is the cost paid
    assert scanner.statistics().servers_completed == 3
    assert scanner.statistics().connections_open == 0


async def test_each_bad_server_gets_a_clear_error_and_the_good_one_completes(
    modern_server: LocalTLSServer,
) -> None:
    behaviours = ("stall", "garbage", "http", "hangup", "reset")
    with ExitStack() as stack:
        bad = {name: stack.enter_context(MisbehavingServer(name)) for name in behaviours}  # type: ignore[arg-type]
        closed = _closed_port()
        ports = [modern_server.port, closed, *(server.port for server in bad.values())]
        targets = [ServerTarget(host="127.0.0.1", port=port) for port in ports]
        results = await _scan_all(Scanner(_FAST), targets, [CipherSuitesCheck(version=TLSVersion.TLS1_2)])
    assert sorted(results) == sorted(ports)
    good = results[modern_server.port]
    assert isinstance(good.connectivity, ConnectivityCompleted)
    assert isinstance(good.checks[0], CheckCompleted) and good.checks[0].result.is_supported

    def failure(port: int) -> tuple[ErrorKind, str]:
        connectivity = results[port].connectivity
        assert isinstance(connectivity, ConnectivityFailed), connectivity
        assert results[port].checks == ()
        return connectivity.error.kind, connectivity.error.message

    assert failure(closed)[0] is ErrorKind.CONNECTION_REJECTED
    assert "refused" in failure(closed)[1].lower()
    assert failure(bad["stall"].port)[0] is ErrorKind.TIMEOUT
    assert failure(bad["garbage"].port)[0] is ErrorKind.MALFORMED_RESPONSE
    kind, message = failure(bad["http"].port)
    assert kind is ErrorKind.MALFORMED_RESPONSE and "HTTP" in message
    # A hang-up to a probe alone with the server is its refusal, whichever way it hangs up; a reset may come as
    # soon as the connection is accepted, or after the hello.
    for behaviour in ("hangup", "reset"):
        kind, message = failure(bad[behaviour].port)
        assert kind is ErrorKind.HANDSHAKE_FAILED, message
        assert "closed the connection without answering" in message or "reset the connection" in message, message


async def test_results_stream_as_each_server_finishes(modern_server: LocalTLSServer) -> None:
    with MisbehavingServer("stall") as stalling:
        config = ScanConfig(timeouts=Timeouts(read_s=3), limits=Limits(max_retries=0))
        targets = [
            ServerTarget(host="127.0.0.1", port=stalling.port),
            ServerTarget(host="127.0.0.1", port=modern_server.port),
        ]
        order = []
        async with Scanner(config).scan(targets) as results:
            async for result in results:
                order.append(result.target.port)
    assert order == [modern_server.port, stalling.port]


def _open_sockets() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
    return count


async def test_cancelling_a_scan_ends_it_within_one_timeout_and_leaks_no_socket(
    modern_server: LocalTLSServer,
) -> None:
    before = _open_sockets()
    with MisbehavingServer("stall") as stalling:
        config = ScanConfig(timeouts=Timeouts(read_s=30), limits=Limits(max_retries=0))
        targets = [ServerTarget(host="127.0.0.1", port=port) for port in (stalling.port, modern_server.port)]
        started = time.monotonic()
        received = []
        with anyio.move_on_after(1):
            async with Scanner(config).scan(targets) as results:
                async for result in results:
                    received.append(result)
        elapsed = time.monotonic() - started
    assert elapsed < 30  # nowhere near the stalled read's timeout: cancellation interrupted it
    assert [result.target.port for result in received] == [modern_server.port]
    assert _open_sockets() <= before


async def test_invalid_target_in_a_lazy_stream_is_raised_after_the_valid_results(
    modern_server: LocalTLSServer,
) -> None:
    def targets() -> Iterator[str]:
        yield f"127.0.0.1:{modern_server.port}"
        yield "not a target"
        yield f"localhost:{modern_server.port}"

    received = []
    with pytest.raises(ConfigurationError, match="not a target"):
        async with Scanner(_FAST).scan(targets(), [CipherSuitesCheck(version=TLSVersion.TLS1_3)]) as results:
            async for result in results:
                received.append(result)
    assert [str(result.target) for result in received] == [f"127.0.0.1:{modern_server.port}"]


async def test_checks_with_the_same_name_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="tls1_2_cipher_suites"):
        await Scanner().scan_server(
            "127.0.0.1:1",
            [
                CipherSuitesCheck(version=TLSVersion.TLS1_2),
                CipherSuitesCheck(version=TLSVersion.TLS1_2, bundle_size=10),
            ],
        )


def test_unknown_host_is_a_dns_error_without_touching_the_network() -> None:
    # A private network namespace has no route anywhere, so the resolver fails on this machine.
    script = (
        "import anyio, tlsprobe\n"
        "r = anyio.run(tlsprobe.scan_server, 'no-such-host.invalid:443')\n"
        "print(r.connectivity.error.kind.value, '|', r.connectivity.error.message)\n"
    )
    try:
        completed = subprocess.run(
            ["unshare", "--net", sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        pytest.skip("unshare is not available")
    if completed.returncode != 0 and "unshare" in completed.stderr:
        pytest.skip(f"cannot create a network namespace: {completed.stderr.strip()}")
    assert completed.returncode == 0, completed.stderr
    kind, message = completed.stdout.strip().split(" | ")
    assert kind == "dns"
    assert "no-such-host.invalid" in message


async def test_a_cancelled_scan_gives_back_its_server_slots(modern_server: LocalTLSServer) -> None:
    scanner = Scanner(ScanConfig(timeouts=Timeouts(read_s=30), limits=Limits(max_concurrent_servers=1, max_retries=0)))
    with MisbehavingServer("stall") as stalling:
        stalled = [ServerTarget(host="127.0.0.1", port=stalling.port)] * 3
        with anyio.move_on_after(0.5):
            async with scanner.scan(stalled, []) as results:
                async for _ in results:
                    pass
    # The same scanner, whose only server slot the cancelled scan held, still scans.
    result = await scanner.scan_server(f"127.0.0.1:{modern_server.port}", [])
    assert isinstance(result.connectivity, ConnectivityCompleted)
    async with scanner.scan([f"127.0.0.1:{modern_server.port}"], []) as results:
        assert [isinstance(item.connectivity, ConnectivityCompleted) async for item in results] == [True]


def test_a_failure_inside_a_task_group_is_described_by_its_own_error() -> None:
    # Checks probe several things at once in task groups; their failures arrive wrapped in exception groups.
    from tlsprobe._engine._errors import error_from_exception
    from tlsprobe._exceptions import ConnectionClosedError

    wrapped = ExceptionGroup("probes", [ExceptionGroup("ways", [ConnectionClosedError("server reset")]), KeyError()])
    described = error_from_exception(wrapped)
    assert (described.kind, described.message, described.traceback) == (
        ErrorKind.CONNECTION_CLOSED,
        "server reset",
        None,
    )
