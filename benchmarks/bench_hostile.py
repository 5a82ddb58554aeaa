"""The engine's guarantees, measured on loopback: connections at one address, and how soon scans of hostile servers
end. Prints one line per case; the figures go in benchmarks/RESULTS.md.

    python benchmarks/bench_hostile.py

The tests assert the same properties without timing (tests/test_address_budgets.py,
tests/test_hostile_servers_end.py); this script says how long things take, which a test must not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers.hostile import DripAfterFinServer, DripHandshakeServer, SilentServer

from tlsprobe import DEFAULT_CHECKS, ScanConfig, Scanner, Timeouts
from tlsprobe.integrations.fastapi import TargetPolicy, create_scan_router
from tlsprobe.testing import CountingProxy, LocalTLSServer, generate_test_pki

READ_S = 2.0
_LOOPBACK = TargetPolicy(allowed_networks=["127.0.0.0/8"])


def spellings(port: int) -> list[str]:
    return [
        f"127.0.0.1:{port}",
        f"127.1:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"localhost:{port}",
        f"a.test:{port}{{127.0.0.1}}",
        f"b.test:{port}{{::ffff:7f00:1}}",
        f"127.0.0.1:{port}{{127.0.0.1}}",
        f"c.test:{port}{{127.0.0.1}}",
    ]


async def scan_all(scanner: Scanner, targets: list[str]) -> None:
    async with scanner.scan(targets) as results:
        async for _ in results:
            pass


async def limits(server: LocalTLSServer) -> None:
    cases = {
        "one ip:port listed 10 times": lambda port: [f"127.0.0.1:{port}"] * 10,
        "8 spellings": spellings,
    }
    for label, make in cases.items():
        with CountingProxy(*server.address) as proxy:
            await scan_all(Scanner(), make(proxy.port))
        print(f"{label}: max open {proxy.max_concurrent_connections}, connections {proxy.total_connections}")
    with CountingProxy(*server.address) as proxy:
        scanner = Scanner()
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(scan_all, scanner, [f"127.0.0.1:{proxy.port}"])
    print(f"3 concurrent scan() of one target: max open {proxy.max_concurrent_connections}")
    with CountingProxy(*server.address, listen_ports=10) as proxy:
        await scan_all(Scanner(), [f"127.0.0.1:{port}" for port in proxy.ports])
    print(f"10 ports of one IP: max open at the IP {proxy.max_concurrent_connections}")
    with CountingProxy(*server.address) as proxy:
        app = FastAPI()
        app.include_router(create_scan_router(Scanner(), policy=_LOOPBACK), prefix="/tls")
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ids = []
            for _ in range(4):
                response = await c.post("/tls/scans", json={"targets": spellings(proxy.port)})
                ids.append(response.json()["id"])
            for scan_id in ids:
                await c.get(f"/tls/scans/{scan_id}/stream")
    print(f"FastAPI, 4 concurrent POSTs x 8 spellings: max open {proxy.max_concurrent_connections}")


async def timed_scan(label: str, port: int, config: ScanConfig) -> None:
    started = time.monotonic()
    result = await Scanner(config).scan_server(f"127.0.0.1:{port}", DEFAULT_CHECKS)
    print(f"{label}: {time.monotonic() - started:.2f} s, {result.connections} connections")


def cli(port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tlsprobe", f"127.0.0.1:{port}", "--read-timeout", str(READ_S), "--quiet"]
    return subprocess.Popen([*command, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed_cli(label: str, port: int) -> None:
    started = time.monotonic()
    cli(port).wait(600)
    print(f"{label} (CLI): {time.monotonic() - started:.2f} s")


def interrupted_cli(label: str, port: int) -> None:
    process = cli(port, "--read-timeout", "60")
    time.sleep(3.0)  # well into the scan
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(600)
    print(f"{label}: Ctrl-C to exit {time.monotonic() - sent:.2f} s (status {code})")


async def hostile() -> None:
    config = ScanConfig(timeouts=Timeouts(read_s=READ_S))
    with DripAfterFinServer(1.5, answer_hello=True) as server:
        await timed_scan("drip after FIN, 1 byte / 1.5 s, read 2 s", server.port, config)
        timed_cli("drip after FIN", server.port)
        interrupted_cli("drip after FIN, read 60 s", server.port)
    with DripHandshakeServer(1.5) as server:
        await timed_scan("drip in the handshake, 1 byte / 1.5 s, read 2 s", server.port, config)
        timed_cli("drip in the handshake", server.port)
    with DripHandshakeServer(0.2) as server:
        started = time.monotonic()
        with anyio.move_on_after(3):
            await Scanner(ScanConfig(timeouts=Timeouts(read_s=30))).scan_server(f"127.0.0.1:{server.port}")
        print(f"move_on_after(3), drip 0.2 s, read 30 s: returned after {time.monotonic() - started:.2f} s")
    with SilentServer() as server:
        await timed_scan("silent server, read 2 s", server.port, config)
        print(f"silent server: {server.accepted_connections} connections accepted")


async def beside(server: LocalTLSServer) -> None:
    config = ScanConfig(timeouts=Timeouts(read_s=READ_S))
    scanner = Scanner(config)
    app = FastAPI()
    app.include_router(create_scan_router(scanner, policy=_LOOPBACK), prefix="/tls")
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for label, hostile_targets in (("alone", None), ("beside 8 spellings of a handshake drip", True)):
            with DripHandshakeServer(1.5) as tarpit:
                if hostile_targets:
                    await c.post("/tls/scans", json={"targets": spellings(tarpit.port)})
                started = time.monotonic()
                response = await c.post("/tls/scans", json={"targets": [f"127.0.0.1:{server.port}"]})
                await c.get(f"/tls/scans/{response.json()['id']}/stream")
                print(f"FastAPI healthy scan {label}: {time.monotonic() - started:.2f} s")


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        pki = generate_test_pki(Path(directory))
        with LocalTLSServer(certfile=pki.rsa_chain, keyfile=pki.rsa_key) as server:
            await limits(server)
            await hostile()
            await beside(server)


if __name__ == "__main__":
    anyio.run(main)
