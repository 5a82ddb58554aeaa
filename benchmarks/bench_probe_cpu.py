"""CPU per connection: tlsprobe's whole scan against the bare cost of one probe's I/O, on one nginx farm.

- ``floor``: a minimal anyio client doing on the wire what one of tlsprobe's hellos does (TCP connect, one TLS 1.2
  ClientHello, the flight read to ServerHelloDone with tlsprobe's own parser, FIN, the server's FIN awaited,
  close), five at a time per server. No permits, retries, checks or results: what any Python client on this event
  loop pays per connection.
- ``tlsprobe``: ``Scanner.scan_server`` with the default checks on the same servers, all at once.

No latency proxy (nothing but the servers shares the machine's CPU with the client). Both run in this process,
alternating, on uvloop when it is installed (as the CLI does); printed per run: process and main-thread CPU per
connection (``getrusage``, ``thread_time``), and for tlsprobe per scan. tlsprobe's CPU per scan, less its
connections times the floor, is what its own engine costs: permits, checks, parsing beyond the first flight,
handshakes in worker threads, judging, results.

    python benchmarks/bench_probe_cpu.py --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import anyio
import anyio.abc

import _farm
from tlsprobe import ScanConfig, Scanner, ServerTarget
from tlsprobe._cli._limits import event_loop_options
from tlsprobe._model._config import Limits
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, tls_hello
from tlsprobe.testing import generate_test_pki
from tlsprobe.wire._hello import build_client_hello
from tlsprobe.wire._server import ServerFlightReader
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import suites_for_version

_HELLO = build_client_hello(
    tls_hello(
        TLSVersion.TLS1_2, [suite.code for suite in suites_for_version(TLSVersion.TLS1_2)][:MAX_HELLO_SUITES], None
    )
)
_PER_SERVER = 5  # tlsprobe's default connections per server
_FLOOR_ROUNDS = 15  # hellos per lane: 12 servers x 5 lanes x 15 = 900 probes a run


async def _bare_probe(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        await anyio.wait_writable(sock)
    stream = await anyio.abc.SocketStream.from_socket(sock)
    reader = ServerFlightReader()
    with anyio.fail_after(5):
        await stream.send(_HELLO)
        while not reader.done:
            try:
                reader.feed(await stream.receive(65536))
            except anyio.EndOfStream:
                break
    with anyio.CancelScope(shield=True), contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
        with anyio.move_on_after(2):
            await stream.send_eof()
            while await stream.receive(65536):
                pass
    await stream.aclose()


async def _floor(ports: Sequence[int]) -> int:
    async def lane(port: int) -> None:
        for _ in range(_FLOOR_ROUNDS):
            await _bare_probe(port)

    async with anyio.create_task_group() as group:
        for port in ports:
            for _ in range(_PER_SERVER):
                group.start_soon(lane, port)
    return len(ports) * _PER_SERVER * _FLOOR_ROUNDS


async def _tlsprobe(ports: Sequence[int]) -> int:
    scanner = Scanner(ScanConfig(limits=Limits(max_connections_per_ip=1_000_000)))  # the farm shares one IP
    connections = 0

    async def scan(port: int) -> None:
        nonlocal connections
        result = await scanner.scan_server(ServerTarget(host="127.0.0.1", port=port))
        connections += result.connectivity.cost.connections + sum(outcome.cost.connections for outcome in result.checks)

    async with anyio.create_task_group() as group:
        for port in ports:
            group.start_soon(scan, port)
    return connections


def _measure(run: Callable[[Sequence[int]], Awaitable[int]], ports: Sequence[int]) -> tuple[int, float, float]:
    """Connections made, process CPU and main-thread CPU (seconds)."""
    before, thread_before = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
    connections = anyio.run(run, ports, backend_options=event_loop_options())
    after, thread_after = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
    process = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return connections, process, thread_after - thread_before


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--servers", type=int, default=12, help="nginx servers, cycling through the six configurations")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        work = Path(directory)
        pki = generate_test_pki(work / "pki")
        ports = [server.port for server in stack.enter_context(_farm.farm(options.servers, pki, work / "nginx"))]
        _measure(_tlsprobe, ports[:2])  # imports, caches and the servers' session caches warm
        print(f"{len(ports)} nginx servers, no latency; event loop options {event_loop_options()}")
        floors: list[float] = []
        engine: list[float] = []
        for run in range(1, options.runs + 1):
            probes, process, main_thread = _measure(_floor, ports)
            floors.append(process / probes)
            print(f"run {run} floor:    {probes} probes, {process / probes * 1e6:4.0f} us per connection "
                  f"(main thread {main_thread / probes * 1e6:.0f})")  # fmt: skip
            connections, process, main_thread = _measure(_tlsprobe, ports)
            per_scan = connections / len(ports)
            engine.append(process / len(ports))
            print(f"run {run} tlsprobe: {connections} connections ({per_scan:.0f} a scan), "
                  f"{process / connections * 1e6:4.0f} us per connection (main thread "
                  f"{main_thread / connections * 1e6:.0f}), {process / len(ports) * 1e3:.1f} ms per scan")  # fmt: skip
        floor, per_scan_s = statistics.median(floors), statistics.median(engine)
        print(f"median: floor {floor * 1e6:.0f} us per connection; tlsprobe {per_scan_s * 1e3:.1f} ms per scan, of "
              f"which its connections' floor is {floor * per_scan * 1e3:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
