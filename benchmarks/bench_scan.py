"""Connections per server and wall time of a default scan of N local servers, optionally beside SSLyze.

Every server is a real TLS 1.2 + 1.3 server (Python's ssl, RSA certificate) on 127.0.0.1 behind a counting
proxy, so the figures are what the servers saw: connections accepted and the most open at once.

    python benchmarks/bench_scan.py --servers 10
    python benchmarks/bench_scan.py --servers 10 --sslyze /path/to/venv/bin/sslyze
    python benchmarks/bench_scan.py --servers 1 --dual-certificates --hostname localhost --only certificate \
        --sslyze /path/to/venv/bin/sslyze

SSLyze runs as a separate process from its own virtualenv (tlsprobe never imports it), three times: with the
six cipher-suite commands, with the commands matching tlsprobe's other checks (compression, fallback SCSV,
renegotiation, resumption, early data, Heartbleed, CCS injection, ROBOT, elliptic curves, HTTP headers), and
with --certinfo. ``--dual-certificates`` gives every server an ECDSA certificate besides its RSA one;
``--hostname`` scans the servers by that name (pinned to 127.0.0.1, so SNI is sent) instead of by address;
``--only`` runs only the named tlsprobe checks.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from _tools import SSLYZE_CIPHER_COMMANDS, SSLYZE_FEATURE_COMMANDS  # benchmarks/ is the script's own directory
from tlsprobe import DEFAULT_CHECKS, CheckCompleted, CheckFailed, Scanner, ServerScanResult, ServerTarget
from tlsprobe.checks import Check
from tlsprobe.testing import CountingProxy, LocalTLSServer, generate_test_pki

_SSLYZE_COMMAND_SETS = (
    ("SSLyze (6 cipher-suite commands)", SSLYZE_CIPHER_COMMANDS),
    ("SSLyze (10 feature and vulnerability commands)", SSLYZE_FEATURE_COMMANDS),
    ("SSLyze (--certinfo)", ("--certinfo",)),
)


def _row(tool: str, wall_s: float, proxies: Sequence[CountingProxy], note: str = "") -> str:
    per_server = [proxy.total_connections for proxy in proxies]
    peak = max(proxy.max_concurrent_connections for proxy in proxies)
    return (
        f"| {tool} | {len(proxies)} | {wall_s:.2f} | {statistics.median(per_server):.0f} "
        f"({min(per_server)}-{max(per_server)}) | {peak} | {note} |"
    )


def _reset(proxies: Sequence[CountingProxy]) -> None:
    for proxy in proxies:
        proxy.total_connections = 0
        proxy.max_concurrent_connections = 0


async def _tlsprobe_scan(
    targets: list[ServerTarget], checks: Sequence[Check[Any]]
) -> tuple[float, list[ServerScanResult]]:
    started = time.perf_counter()
    async with Scanner().scan(targets, checks) as stream:
        results = [result async for result in stream]
    return time.perf_counter() - started, results


def _per_check_connections(results: list[ServerScanResult]) -> dict[str, float]:
    costs: dict[str, list[int]] = {"connectivity": [result.connectivity.cost.connections for result in results]}
    for result in results:
        for outcome in result.checks:
            if isinstance(outcome, CheckCompleted):
                costs.setdefault(outcome.name, []).append(outcome.cost.connections)
    return {name: statistics.median(values) for name, values in costs.items()}


def _sslyze_scan(sslyze: str, commands: Sequence[str], targets: list[ServerTarget]) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "sslyze.json"
        started = time.perf_counter()
        completed = subprocess.run(
            [sslyze, *commands, "--json_out", str(out), *(str(target) for target in targets)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall_s = time.perf_counter() - started
        if not out.exists():
            return wall_s, f"failed: {completed.stderr.strip()[-200:]}"
        document = json.loads(out.read_text())
    errors = sum(
        1
        for server in document["server_scan_results"]
        for attempt in (server.get("scan_result") or {}).values()
        if attempt and attempt.get("status") == "ERROR"
    )
    return wall_s, f"{errors} errored commands"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--sslyze", help="path to an sslyze executable (in its own virtualenv)")
    parser.add_argument("--dual-certificates", action="store_true", help="an ECDSA certificate besides the RSA one")
    parser.add_argument("--hostname", help="scan by this name (pinned to 127.0.0.1) rather than by address")
    parser.add_argument("--only", nargs="+", metavar="CHECK", help="run only these tlsprobe checks")
    options = parser.parse_args()
    checks = [check for check in DEFAULT_CHECKS if not options.only or check.name in options.only]
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        pki = generate_test_pki(Path(directory))
        proxies = []
        for _ in range(options.servers):
            server = stack.enter_context(
                LocalTLSServer(
                    certfile=pki.rsa_chain,
                    keyfile=pki.rsa_key,
                    minimum_version=ssl.TLSVersion.TLSv1_2,
                    http_response=True,
                )
            )
            if options.dual_certificates:
                server.context.load_cert_chain(pki.ecdsa_chain, pki.ecdsa_key)
            proxies.append(stack.enter_context(CountingProxy("127.0.0.1", server.port)))
        if options.hostname:
            loopback = ipaddress.ip_address("127.0.0.1")
            targets = [ServerTarget(host=options.hostname, port=proxy.port, ip=loopback) for proxy in proxies]
        else:
            targets = [ServerTarget(host="127.0.0.1", port=proxy.port) for proxy in proxies]
        print("| tool | servers | wall s | connections per server, median (min-max) | max concurrent | notes |")
        print("|---|---|---|---|---|---|")
        wall_s, results = anyio.run(_tlsprobe_scan, targets, checks)
        clean = sum(not any(isinstance(o, CheckFailed) for o in result.checks) for result in results)
        label = f"tlsprobe ({' '.join(options.only)})" if options.only else "tlsprobe (default scan)"
        print(_row(label, wall_s, proxies, f"{clean}/{len(results)} servers with no failed check"))
        breakdown = _per_check_connections(results)
        if options.sslyze:
            for label, commands in _SSLYZE_COMMAND_SETS:
                _reset(proxies)
                sslyze_wall_s, note = _sslyze_scan(options.sslyze, commands, targets)
                print(_row(label, sslyze_wall_s, proxies, note))
        print()
        print("tlsprobe connections per step (median per server):")
        for name, connections in breakdown.items():
            print(f"  {name:<24} {connections:g}")
        cipher_total = sum(value for name, value in breakdown.items() if name.endswith("_cipher_suites"))
        print(f"  {'all cipher-suite checks':<24} {cipher_total:g}")
        others = sum(value for name, value in breakdown.items() if not name.endswith("_cipher_suites"))
        print(f"  {'all other checks':<24} {others - breakdown['connectivity']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
