"""Scans of many servers: scan-wide caps, lazy targets, the descriptor budget, statistics and the progress bar."""

from __future__ import annotations

import gc
import os
import pty
import resource
import select
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from tlsprobe import (
    CheckCompleted,
    ConnectivityFailed,
    Limits,
    ScanConfig,
    Scanner,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
)
from tlsprobe._cli._limits import SCAN_GC_THRESHOLD, fewer_garbage_collections
from tlsprobe._cli._progress import render_progress
from tlsprobe._engine._scanner import ScannerStatistics
from tlsprobe._net import connection_budget
from tlsprobe._net._budget import RESERVED_DESCRIPTORS
from tlsprobe.checks import CipherSuitesCheck, EnumerationMode, HTTPHeadersCheck, SessionResumptionCheck
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = pytest.mark.anyio


def _servers_behind(proxy: CountingProxy, count: int) -> list[ServerTarget]:
    """``count`` distinct servers, as far as the scanner knows, all reached through ``proxy``."""
    return [ServerTarget(host=f"server{index}.test", port=proxy.port, ip="127.0.0.1") for index in range(count)]


async def _scan(scanner: Scanner, targets: object, checks: list[object]) -> list[ServerScanResult]:
    async with scanner.scan(targets, checks) as results:  # type: ignore[arg-type]
        return [result async for result in results]


@pytest.mark.realserver
async def test_the_scan_wide_connection_cap_holds_across_servers(web_server: LocalTLSServer) -> None:
    # Six servers of five permits each would open 30 connections at once; the scan-wide cap allows 4.
    checks: list[object] = [CipherSuitesCheck(version=TLSVersion.TLS1_2, mode=EnumerationMode.EXHAUSTIVE)]
    scanner = Scanner(ScanConfig(limits=Limits(max_open_connections=4, max_concurrent_servers=6)))
    with CountingProxy(*web_server.address) as proxy:
        results = await _scan(scanner, _servers_behind(proxy, 6), checks)
    assert all(isinstance(result.checks[0], CheckCompleted) for result in results)
    assert proxy.max_concurrent_connections <= 4  # never exceeded (reaching it depends on timing)
    assert proxy.total_connections == sum(result.connections for result in results)
    statistics = scanner.statistics()
    assert (statistics.servers_started, statistics.servers_completed, statistics.checks_completed) == (6, 6, 6)
    assert statistics.connections_opened == proxy.total_connections
    assert statistics.connections_open == 0


def _worker_threads() -> int:
    return sum(thread.name.startswith("AnyIO worker thread") for thread in threading.enumerate())


@pytest.mark.realserver
async def test_blocking_handshakes_of_many_servers_share_the_thread_cap(web_server: LocalTLSServer) -> None:
    # Session resumption and HTTP headers run nassl handshakes in worker threads: eight servers, two threads.
    scanner = Scanner(ScanConfig(limits=Limits(max_threads=2, max_concurrent_servers=8)))
    busiest = 0
    idle_before = _worker_threads()

    async def watch() -> None:
        nonlocal busiest
        while True:
            busiest = max(busiest, _worker_threads() - idle_before)
            await anyio.sleep(0.002)

    with CountingProxy(*web_server.address) as proxy:
        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            results = await _scan(scanner, _servers_behind(proxy, 8), [SessionResumptionCheck(), HTTPHeadersCheck()])
            group.cancel_scope.cancel()
    assert all(isinstance(outcome, CheckCompleted) for result in results for outcome in result.checks)
    # Two for handshakes, and at most one more: the scanner judges each finished result in a thread of its own.
    assert 1 <= busiest <= 2 + 1


@pytest.mark.realserver
async def test_targets_are_read_no_faster_than_servers_finish(web_server: LocalTLSServer) -> None:
    pulled = 0
    pulled_when_first_result_came: int | None = None

    async def targets() -> AsyncIterator[ServerTarget]:
        nonlocal pulled
        for target in _servers_behind(proxy, 40):
            pulled += 1
            yield target

    scanner = Scanner(ScanConfig(limits=Limits(max_concurrent_servers=3)))
    with CountingProxy(*web_server.address) as proxy:
        count = 0
        async with scanner.scan(targets(), [CipherSuitesCheck(version=TLSVersion.TLS1_3)]) as results:
            async for _ in results:
                if pulled_when_first_result_came is None:
                    pulled_when_first_result_came = pulled
                count += 1
    assert count == pulled == 40
    # Three being scanned, at most three finished results waiting in the stream, and the one being started.
    assert pulled_when_first_result_came is not None and pulled_when_first_result_came <= 3 + 3 + 1


def test_the_connection_budget_keeps_within_the_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft > RESERVED_DESCRIPTORS + 72, "the test needs a usual open-files limit"
    resource.setrlimit(resource.RLIMIT_NOFILE, (RESERVED_DESCRIPTORS + 72, hard))
    try:
        assert connection_budget(256) == 72
        assert connection_budget(10) == 10
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert connection_budget(256) == min(256, soft - RESERVED_DESCRIPTORS)


def test_progress_text_says_what_is_done_and_what_is_happening() -> None:
    statistics = ScannerStatistics(
        servers_started=40, servers_completed=25, checks_completed=500, connections_open=12, connections_opened=2000,
        retries=3,
    )  # fmt: skip
    assert render_progress(statistics, 100, 75.4) == (
        "[######..................] 25/100 servers · 15 scanning · 2000 connections (12 open) · 3 retries · 1:15"
    )
    assert render_progress(statistics, None, 5).startswith("25 servers done · 15 scanning")


def _run_on_a_terminal(arguments: list[str]) -> tuple[int, str]:
    """Run the CLI with its stdout and stderr (where the progress bar goes) on one pseudo-terminal, as in a shell;
    its exit code and everything it wrote there."""
    controller, terminal = pty.openpty()
    with subprocess.Popen([sys.executable, "-m", "tlsprobe", *arguments], stdout=terminal, stderr=terminal) as process:
        os.close(terminal)
        written = bytearray()
        while select.select([controller], [], [], 120)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal is gone: the process has exited
                break
            if not chunk:
                break
            written += chunk
        os.close(controller)
        return process.wait(timeout=30), written.decode("utf-8", "replace")


@pytest.mark.realserver
def test_the_cli_shows_a_progress_bar_on_a_terminal_and_erases_it(web_server: LocalTLSServer, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# two servers\n127.0.0.1:{web_server.port}\n\nlocalhost:{web_server.port}{{127.0.0.1}}\n")
    arguments = ["--targets-in", str(targets), "--tls1_3_cipher_suites", "--certificate"]
    code, screen = _run_on_a_terminal(arguments)
    assert code in (0, 1), screen
    assert "/2 servers" in screen  # the total counted from the file, comments and blank lines left out
    assert "\x1b[2K" in screen
    assert screen.count("TLS 1.3") >= 2  # both reports printed, between redraws of the bar
    code, screen = _run_on_a_terminal([*arguments, "--no-progress"])
    assert code in (0, 1), screen
    assert "servers ·" not in screen and "\x1b[2K" not in screen


@pytest.mark.realserver
def test_no_progress_bar_when_stdout_is_not_a_terminal(web_server: LocalTLSServer) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tlsprobe", f"127.0.0.1:{web_server.port}", f"localhost:{web_server.port}{{127.0.0.1}}",
         "--tls1_3_cipher_suites", "--jsonl"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = completed.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("{") for line in lines), completed.stdout
    assert "\x1b" not in completed.stdout


@pytest.mark.realserver
async def test_a_closed_port_among_many_costs_one_result_and_spoils_nothing(web_server: LocalTLSServer) -> None:
    with CountingProxy(*web_server.address) as proxy:
        closed = proxy.port
    # The proxy is gone: its port is closed now. One more proxy for the servers that are up.
    with CountingProxy(*web_server.address) as proxy:
        targets = [ServerTarget(host="127.0.0.1", port=closed), *_servers_behind(proxy, 3)]
        results = await _scan(Scanner(), targets, [CipherSuitesCheck(version=TLSVersion.TLS1_3)])
    by_host = {result.target.host: result for result in results}
    assert isinstance(by_host["127.0.0.1"].connectivity, ConnectivityFailed)
    assert all(isinstance(by_host[f"server{index}.test"].checks[0], CheckCompleted) for index in range(3))


@pytest.mark.slow  # scans many targets: about a second
async def test_unreachable_targets_leave_no_cyclic_garbage() -> None:
    # The CLI collects garbage rarely during a scan, so a reference cycle per target (say, a task started for it
    # and cancelled) would pile up over thousands of unreachable targets.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
        closed = int(sock.getsockname()[1])
        targets = [ServerTarget(host="127.0.0.1", port=closed) for _ in range(40)]
        gc.collect()
        gc.disable()
        try:
            results = await _scan(Scanner(), targets, list(DEFAULT_CHECKS))
            garbage = gc.collect()
        finally:
            gc.enable()
    assert all(isinstance(result.connectivity, ConnectivityFailed) for result in results) and len(results) == 40
    assert garbage < len(targets)  # fewer than one object per target (a task cancelled per target: over 50 each)


def test_the_cli_collects_garbage_less_often_during_a_scan_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    with fewer_garbage_collections():
        assert gc.get_threshold()[0] == max(before[0], SCAN_GC_THRESHOLD)
        assert gc.get_freeze_count() > 0  # what existed before the scan is left alone
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
