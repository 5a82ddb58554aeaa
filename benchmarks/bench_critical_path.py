"""Per-server critical paths behind 40 ms of round trip: the two profiles issue 27 found slowest.

- ``wide-legacy``: ``openssl s_server -www -serverpref -cipher ALL:@SECLEVEL=0``, TLS 1.0 to 1.2 (about 56 suites
  under TLS 1.2 with DHE, in OpenSSL's own order);
- ``renegotiation``: ``openssl s_server -www -client_renegotiation -groups secp384r1 -serverpref``, TLS 1.2 and
  1.3 (s_server stalls about a second per renegotiation a client starts).

Each server sits behind the latency proxy (``_latency_proxy.py``) and is scanned alone with the default checks,
in this process (the proxy's thread shares it: figures are for A/B ratios, not absolutes), alternating the
cipher-suite enumeration's modes: ``bundle`` (parts at once, orders merged) and ``sequential`` (the method
before). Printed per run: the server's scan time, its connections and the most open at once (the proxy's view),
and the slowest checks in round trips.

    python benchmarks/bench_critical_path.py --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' server helpers, from a checkout

from tests.servers.processes import start_openssl_s_server

from _latency_proxy import LatencyProxies
from tlsprobe import ScanConfig, Scanner
from tlsprobe._model._config import Limits
from tlsprobe.checks import CipherSuitesCheck, EnumerationMode
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.testing import generate_test_pki

PROFILES: dict[str, list[str]] = {
    "wide-legacy": ["-serverpref", "-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1", "-max_protocol", "TLSv1.2"],
    "renegotiation": ["-client_renegotiation", "-groups", "secp384r1", "-serverpref"],
}


def _checks(mode: EnumerationMode) -> list[Any]:
    return [
        attrs.evolve(check, mode=mode) if isinstance(check, CipherSuitesCheck) else check for check in DEFAULT_CHECKS
    ]


async def _scan(port: int, mode: EnumerationMode) -> Any:
    config = ScanConfig(limits=Limits(max_connections_per_ip=1000))
    return await Scanner(config).scan_server(f"127.0.0.1:{port}", _checks(mode))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--profiles", nargs="*", default=list(PROFILES))
    options = parser.parse_args(argv)
    rtt = options.rtt_ms / 1000
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        pki = generate_test_pki(Path(directory))
        servers = [stack.enter_context(start_openssl_s_server(PROFILES[name], pki.rsa_chain, pki.rsa_key))
                   for name in options.profiles]  # fmt: skip
        proxies = stack.enter_context(LatencyProxies([server.port for server in servers], rtt_s=rtt))
        print(f"RTT {options.rtt_ms:g} ms; per run: scan time, in RTT, connections, most open; slowest checks (RTT)")
        for name, port, index in zip(options.profiles, proxies.ports, range(len(servers)), strict=True):
            times: dict[str, list[float]] = {
                mode.value: [] for mode in (EnumerationMode.BUNDLE, EnumerationMode.SEQUENTIAL)
            }
            for run in range(options.runs):
                for mode in (EnumerationMode.BUNDLE, EnumerationMode.SEQUENTIAL):
                    proxies.wait_idle(10)
                    proxies.reset_counters()
                    result = anyio.run(_scan, port, mode)
                    proxies.wait_idle(10)
                    counter = proxies.counters()[index]
                    times[mode.value].append(result.duration_s)
                    slowest = sorted(result.checks, key=lambda outcome: -outcome.cost.duration_s)[:4]
                    paths = ", ".join(f"{outcome.name} {outcome.cost.duration_s / rtt:.0f}" for outcome in slowest)
                    print(f"{name} {mode.value:10} run {run + 1}: {result.duration_s:.2f} s = "
                          f"{result.duration_s / rtt:.0f} RTT, {counter.accepted} connections, "
                          f"max open {counter.max_concurrent}; {paths}")  # fmt: skip
            bundle, sequential = (statistics.median(times[mode]) for mode in ("bundle", "sequential"))
            print(
                f"{name}: median bundle {bundle:.2f} s, sequential {sequential:.2f} s, ratio {bundle / sequential:.2f}"
            )


if __name__ == "__main__":
    main()
