"""tlsprobe inside someone else's event loop: asyncio or trio, under their timeouts and cancellation.

Each cancellation test waits until the scan really holds a connection to a server that never answers, cancels
it the way user code would, and then checks both sides: the scanner has no socket open, and the server has seen
every connection closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import tlsprobe
from tests.integrations.helpers import SilentServer, wait_until, wait_until_async
from tlsprobe import CheckCompleted, ScanConfig, Scanner, ServerScanResult, Timeouts
from tlsprobe.checks import Check, CipherSuitesCheck
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver

CHECKS: list[Check[Any]] = [CipherSuitesCheck(version=tlsprobe.TLSVersion.TLS1_2)]
SLOW = ScanConfig(timeouts=Timeouts(connect_s=5.0, read_s=60.0))  # only cancellation ends a scan of a silent server


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Both backends anyio runs on: tlsprobe never assumes asyncio, so trio programs can embed it too."""
    backend: str = request.param
    return backend


def completed(result: ServerScanResult) -> bool:
    return all(isinstance(outcome, CheckCompleted) for outcome in result.checks) and bool(result.checks)


@pytest.mark.anyio
async def test_scan_server_runs_in_the_callers_loop(tls_server: LocalTLSServer) -> None:
    result = await tlsprobe.scan_server(f"127.0.0.1:{tls_server.port}", CHECKS)
    assert completed(result)


@pytest.mark.anyio
async def test_the_streaming_scan_runs_in_the_callers_loop(tls_server: LocalTLSServer) -> None:
    targets = [f"127.0.0.1:{tls_server.port}", f"localhost:{tls_server.port}"]
    async with Scanner().scan(targets, CHECKS) as results:
        hosts = sorted([result.target.host async for result in results if completed(result)])
    assert hosts == ["127.0.0.1", "localhost"]


@pytest.mark.anyio
async def test_move_on_after_ends_a_scan_and_closes_its_connections(silent_server: SilentServer) -> None:
    scanner = Scanner(SLOW)
    with anyio.move_on_after(60) as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(scanner.scan_server, f"127.0.0.1:{silent_server.port}", CHECKS)
            await wait_until_async(lambda: silent_server.open_connections > 0, "the scan to connect")
            scope.deadline = anyio.current_time()  # the user's time limit runs out now, mid-scan
    assert scope.cancelled_caught
    assert scanner.statistics().connections_open == 0
    await wait_until_async(lambda: silent_server.open_connections == 0, "the server to see the connections closed")


@pytest.mark.anyio
async def test_cancelling_the_task_group_ends_a_streaming_scan(
    tls_server: LocalTLSServer, silent_server: SilentServer
) -> None:
    scanner = Scanner(SLOW)
    received: list[ServerScanResult] = []

    async def consume() -> None:
        targets = [f"127.0.0.1:{tls_server.port}", f"127.0.0.1:{silent_server.port}"]
        async with scanner.scan(targets, CHECKS) as results:
            async for result in results:
                received.append(result)

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await wait_until_async(lambda: bool(received) and silent_server.open_connections > 0, "one result, one wait")
        group.cancel_scope.cancel()
    assert [result.target.port for result in received] == [tls_server.port]
    assert scanner.statistics().connections_open == 0
    await wait_until_async(lambda: silent_server.open_connections == 0, "the server to see the connections closed")


def test_plain_asyncio_timeouts_and_task_cancellation(silent_server: SilentServer, tls_server: LocalTLSServer) -> None:
    """asyncio.wait_for and Task.cancel, no anyio in the user's code."""
    scanner = Scanner(SLOW)

    async def main() -> ServerScanResult:
        task = asyncio.create_task(scanner.scan_server(f"127.0.0.1:{silent_server.port}", CHECKS))
        while silent_server.open_connections == 0:  # noqa: ASYNC110 - a server thread's counter: nothing to await
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert scanner.statistics().connections_open == 0
        # The user's own timeout: whatever it cancels is closed just the same.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(scanner.scan_server(f"localhost:{silent_server.port}", CHECKS), timeout=0.5)
        assert scanner.statistics().connections_open == 0
        return await tlsprobe.scan_server(f"127.0.0.1:{tls_server.port}", CHECKS)

    assert completed(asyncio.run(main()))
    wait_until(lambda: silent_server.open_connections == 0, "the server to see the connections closed")


def test_scan_server_sync_is_for_scripts(tls_server: LocalTLSServer) -> None:
    result = tlsprobe.scan_server_sync(f"127.0.0.1:{tls_server.port}", CHECKS)
    assert completed(result)


@pytest.mark.anyio
async def test_scan_server_sync_refuses_to_block_a_running_loop(anyio_backend: str) -> None:
    with pytest.raises(RuntimeError, match=rf"inside a running {anyio_backend} event loop.*await tlsprobe.scan_server"):
        tlsprobe.scan_server_sync("127.0.0.1:1", CHECKS)
