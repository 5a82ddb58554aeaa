"""Mass-scan benchmark: tlsprobe, SSLyze, sslscan and testssl.sh on one farm of real TLS servers on loopback.

    python benchmarks/bench_mass.py                        # every scenario: 10, 100, fragile, rss
    python benchmarks/bench_mass.py --scenarios 10 fragile --markdown-out /tmp/bench.md

The farm is one nginx master serving N TLS servers of six configurations (`_farm.CONFIGS`), each behind a
latency proxy (40 ms round trip by default) that counts what the server saw. The tools run one after the other, each
as a subprocess, on the same servers; see benchmarks/README.md for what each scenario measures.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import _compare
import _farm
import _tools
import tlsprobe
from _latency_proxy import LATE_S, LatencyProxies, ProxyCounters
from tlsprobe.testing import generate_test_pki

SCENARIOS = ("10", "100", "fragile", "rss")
_SCENARIO_SERVERS = {"10": 10, "100": 100, "fragile": 10, "rss": 5}
_FRAGILE_LIMIT = 3
_RSS_SIZES = (100, 1_000)
_IDLE_TIMEOUT_S = 15.0
_MAX_PATHS_SHOWN = 12
_DEFAULT_SSLYZE = "/tmp/sslyze-venv/bin/sslyze"


@dataclasses.dataclass(frozen=True)
class Limit:
    """A tool's own limit on connections to one server, and what it means."""

    connections: int | None
    note: str


LIMITS = {
    "tlsprobe": Limit(_tools.TLSPROBE_PER_SERVER_LIMIT, "its default --max-connections-per-server"),
    "SSLyze": Limit(
        _tools.SSLYZE_PER_SERVER_LIMIT,
        "SSLyze's own default per-server limit; it counts the sockets SSLyze holds, and SSLyze does not wait for "
        "the server's close, so a server still holds connections SSLyze has already left",
    ),
    "sslscan": Limit(
        None, "no limit setting: one connection at a time per process, not waiting for the server's close"
    ),
    "testssl.sh": Limit(
        None, "no limit setting: one connection at a time per target, not waiting for the server's close"
    ),
}


@dataclasses.dataclass
class Bench:
    """What every scenario shares: the farm behind its proxies, the tools found, the report."""

    options: argparse.Namespace
    work: Path
    proxies: LatencyProxies
    servers: list[_farm.FarmServer]
    report: _tools.Report
    sslyze: str | None
    sslscan: str | None
    testssl: str | None
    tlsprobe_path: Path  # a byte-compiled copy of the tlsprobe this driver imported (_tools.byte_compiled_copy)
    tlsprobe_python: Path  # a virtualenv's Python, as SSLyze has (_tools.isolated_interpreter)

    def targets(self, count: int) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.proxies.ports[:count]]

    def peers_in(self, scenario: str) -> bool:
        peers: str = self.options.peers
        return peers in ("all", scenario)


@dataclasses.dataclass
class Measurement:
    """A tool run, what the servers it scanned saw, and the CPU time the proxies needed meanwhile."""

    run: _tools.ToolRun
    counters: list[ProxyCounters]
    proxy_cpu_s: float

    @property
    def limit(self) -> Limit:
        return LIMITS[self.run.tool]

    def proxy_accuracy(self) -> str:
        delivered = sum(counter.delivered for counter in self.counters)
        late = sum(counter.late for counter in self.counters)
        worst = max(counter.max_late_s for counter in self.counters)
        return (
            f"{late} of {delivered} chunks late by over {LATE_S * 1000:g} ms (worst {worst * 1000:.0f} ms); "
            f"proxy thread CPU {self.proxy_cpu_s:.1f} s"
        )


# --- running one tool -----------------------------------------------------------------------------------------


def measure(bench: Bench, servers: int, run: Callable[[], _tools.ToolRun]) -> Measurement:
    """Run one tool with clean counters; the counts are read once the servers have closed every connection."""
    if not bench.proxies.wait_idle(_IDLE_TIMEOUT_S):
        bench.report(f"> warning: connections from the previous tool still open after {_IDLE_TIMEOUT_S:.0f} s")
    bench.proxies.reset_counters()
    cpu_before = bench.proxies.thread_cpu_s()
    result = run()
    idle = bench.proxies.wait_idle(_IDLE_TIMEOUT_S)
    counters = [dataclasses.replace(counter) for counter in bench.proxies.counters()[:servers]]
    if not idle:
        result.notes.append(f"{result.tool}: connections still open {_IDLE_TIMEOUT_S:.0f} s after it exited")
    return Measurement(result, counters, bench.proxies.thread_cpu_s() - cpu_before)


def tool_runs(bench: Bench, scenario: str, servers: int, *, peers: bool, loops: bool = False) -> dict[str, Measurement]:
    """tlsprobe, SSLyze and (with ``peers``) sslscan and testssl.sh on the first ``servers``, one after the other;
    with ``loops``, tlsprobe once more on the standard event loop where uvloop is installed."""
    work = bench.work / scenario
    work.mkdir(parents=True, exist_ok=True)
    targets = bench.targets(servers)
    targets_file = _tools.write_targets(work / "targets.txt", targets)
    timeout = bench.options.tool_timeout
    runs: dict[str, Measurement] = {}

    def directory(name: str) -> Path:
        path = work / name
        path.mkdir(exist_ok=True)
        return path

    def tlsprobe_run(work: str, env: dict[str, str] | None = None) -> _tools.ToolRun:
        return _tools.run_tlsprobe(
            targets_file,
            directory(work),
            timeout_s=timeout,
            tlsprobe_path=bench.tlsprobe_path,
            python=bench.tlsprobe_python,
            env=env,
        )

    runs["tlsprobe"] = measure(bench, servers, lambda: tlsprobe_run("tlsprobe"))
    if loops and importlib.util.find_spec("uvloop") is not None:  # the A/B of the event loop the command picks
        runs["tlsprobe, asyncio loop"] = measure(
            bench, servers, lambda: tlsprobe_run("tlsprobe-asyncio", {"TLSPROBE_EVENT_LOOP": "asyncio"})
        )
    if bench.sslyze:
        sslyze = bench.sslyze
        runs["SSLyze"] = measure(
            bench,
            servers,
            lambda: _tools.run_sslyze(sslyze, targets_file, directory("sslyze"), timeout_s=timeout),
        )
    if bench.sslscan and peers:
        sslscan = bench.sslscan
        runs["sslscan"] = measure(
            bench,
            servers,
            lambda: _tools.run_sslscan(sslscan, targets, directory("sslscan"), timeout_s=timeout),
        )
    if bench.testssl and peers:
        testssl = bench.testssl
        runs["testssl.sh"] = measure(
            bench,
            servers,
            lambda: _tools.run_testssl(testssl, targets, directory("testssl"), timeout_s=timeout),
        )
    return runs


# --- tables ---------------------------------------------------------------------------------------------------


def table(report: _tools.Report, runs: dict[str, Measurement]) -> None:
    report(
        "| tool | servers | wall s | connections per server, median (min-max) | max concurrent to one server "
        "| refusals | failed or errored checks | peak RSS MiB | CPU ms per server |"
    )
    report("|---|---|---|---|---|---|---|---|---|")
    for name, measurement in runs.items():
        run, counters = measurement.run, measurement.counters
        accepted = [counter.accepted for counter in counters]
        timed_out = " (killed: timeout)" if run.measured.timed_out else ""
        report(
            f"| {name} | {len(counters)} | {run.measured.wall_s:.2f}{timed_out} "
            f"| {statistics.median(accepted):.0f} ({min(accepted)}-{max(accepted)}) "
            f"| {max(counter.max_concurrent for counter in counters)} | {sum(c.refused for c in counters)} "
            f"| {run.failures} | {run.measured.peak_rss_kib / 1024:.1f} "
            f"| {1000 * run.measured.cpu_s / max(len(counters), 1):.0f} |"
        )
    report()
    explained = set()
    for name, measurement in runs.items():
        run = measurement.run
        if run.tool not in explained:  # once per tool, however many rows it has
            explained.add(run.tool)
            extra = f"; peak RSS is the {run.rss_note}" if run.rss_note else ""
            report(f"- {run.tool}: failures counted as {run.failure_note}{extra}.")
        for note in run.notes:
            report(f"- {note}")
        failed_upstream = sum(counter.upstream_failures for counter in measurement.counters)
        if failed_upstream:
            report(f"- {name}: the proxy could not reach the server {failed_upstream} times.")
    for name, measurement in runs.items():
        report(f"- proxy accuracy during {name}: {measurement.proxy_accuracy()}.")
    report()


def limits(report: _tools.Report, runs: dict[str, Measurement]) -> None:
    report("Never above the limit (the most connections any one server had open at once, counted by the server):")
    report()
    for name, measurement in runs.items():
        peak = max(counter.max_concurrent for counter in measurement.counters)
        limit = measurement.limit
        if limit.connections is None:
            report(f"- {name}: {peak}; {limit.note}.")
            continue
        verdict = "never above the limit" if peak <= limit.connections else "**above the limit**"
        report(f"- {name}: {peak} with a limit of {limit.connections} ({limit.note}): {verdict}.")
    report()


# --- scenarios ------------------------------------------------------------------------------------------------


_WALL_TARGETS = {"10": "1/7", "100": "1/15"}  # issue 27's targets for tlsprobe's wall time against SSLyze's


def scenario_fleet(bench: Bench, scenario: str) -> dict[str, Measurement]:
    servers = _SCENARIO_SERVERS[scenario]
    bench.report(f"## Scenario {scenario}: {servers} servers, {bench.options.rtt_ms:g} ms round trip")
    bench.report()
    runs = tool_runs(bench, scenario, servers, peers=bench.peers_in(scenario), loops=True)
    table(bench.report, runs)
    if "tlsprobe" in runs and "SSLyze" in runs:
        ratio = runs["tlsprobe"].run.measured.wall_s / runs["SSLyze"].run.measured.wall_s
        bench.report(f"Wall time, tlsprobe / SSLyze: {ratio:.3f} (target: at most {_WALL_TARGETS[scenario]}).")
        bench.report()
    limits(bench.report, runs)
    skipped = [tool for tool in ("sslscan", "testssl.sh") if tool not in runs]
    if skipped:
        bench.report(f"Not run here: {', '.join(skipped)} (not installed, or left out by --peers).")
        bench.report()
    return runs


def scenario_fragile(bench: Bench, clean: dict[str, Measurement] | None) -> None:
    servers = _SCENARIO_SERVERS["fragile"]
    report = bench.report
    report(f"## Scenario fragile: the same {servers} servers, each refusing beyond {_FRAGILE_LIMIT} concurrent")
    report()
    if clean is None:
        report("Scenario 10 was not run: clean runs of tlsprobe and SSLyze first.")
        report()
        clean = tool_runs(bench, "fragile-clean", servers, peers=False)
        table(report, {f"{name} (clean, first run)": run for name, run in clean.items()})
    control = tool_runs(bench, "fragile-control", servers, peers=False)  # what differs with no fragility at all
    bench.proxies.set_refuse_beyond(_FRAGILE_LIMIT)
    try:
        fragile = tool_runs(bench, "fragile", servers, peers=False)
    finally:
        bench.proxies.set_refuse_beyond(None)
    rows = {f"{name} (clean, second run)": run for name, run in control.items() if name in ("tlsprobe", "SSLyze")}
    rows |= {f"{name} (fragile)": run for name, run in fragile.items()}
    table(report, rows)
    limits(report, rows)
    for name, measurement in fragile.items():
        peak = max(counter.max_concurrent for counter in measurement.counters)
        refusals = sum(counter.refused for counter in measurement.counters)
        report(f"- {name}: at most {peak} concurrent seen by any server; {refusals} connections refused.")
    report()
    if "tlsprobe" in clean:
        _tlsprobe_comparison(report, clean["tlsprobe"], control["tlsprobe"], fragile["tlsprobe"])
    if "SSLyze" in clean and "SSLyze" in fragile:
        _sslyze_comparison(report, clean["SSLyze"], control["SSLyze"], fragile["SSLyze"])


def _tlsprobe_comparison(report: _tools.Report, clean: Measurement, control: Measurement, fragile: Measurement) -> None:
    report("### tlsprobe: results on fragile servers against its clean run")
    report()
    report(f"Volatile fields removed before comparing: {', '.join('.'.join(p) for p in _compare.VOLATILE_PATHS)}.")
    report()
    baseline = _tools.read_jsonl(clean.run.output)
    for label, other in (("second clean run (control)", control), ("fragile run", fragile)):
        comparison = _compare.compare_tlsprobe(baseline, _tools.read_jsonl(other.run.output))
        report(
            f"- {label}: {comparison.equal_servers}/{comparison.servers} servers equal; findings: "
            f"{comparison.findings_clean} in the clean run, {comparison.findings_lost} lost, "
            f"{comparison.findings_gained} gained."
        )
        for server, paths in comparison.paths.items():
            shown = ", ".join(f"`{path}`" for path in paths[:_MAX_PATHS_SHOWN])
            more = f" and {len(paths) - _MAX_PATHS_SHOWN} more" if len(paths) > _MAX_PATHS_SHOWN else ""
            report(f"  - {server}: {shown}{more}")
    report()


def _sslyze_comparison(report: _tools.Report, clean: Measurement, control: Measurement, fragile: Measurement) -> None:
    report("### SSLyze: results on fragile servers against its clean run")
    report()
    report("Facts compared: accepted cipher suites of every version and supported curves.")
    report()
    baseline = _tools.read_sslyze(clean.run.output)
    for label, other in (("second clean run (control)", control), ("fragile run", fragile)):
        rows = _compare.compare_sslyze(baseline, _tools.read_sslyze(other.run.output))
        report(f"{label}:")
        report()
        report("| server | errored commands | facts in clean run | lost | gained | lost % |")
        report("|---|---|---|---|---|---|")
        for row in rows:
            report(
                f"| {row.server} | {_errored_cell(row.errored_commands)} | {row.clean_facts} | {len(row.lost)} "
                f"| {len(row.gained)} | {_percent(len(row.lost), row.clean_facts)} |"
            )
        total = sum(row.clean_facts for row in rows)
        lost = sum(len(row.lost) for row in rows)
        errored = sum(len(row.errored_commands) for row in rows)
        gained = sum(len(row.gained) for row in rows)
        report(f"| all | {errored} | {total} | {lost} | {gained} | {_percent(lost, total)} |")
        report()


def _errored_cell(commands: Sequence[str]) -> str:
    return f"{len(commands)}: {', '.join(commands)}" if commands else "0"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def scenario_rss(bench: Bench) -> None:
    report = bench.report
    live = bench.targets(_SCENARIO_SERVERS["rss"])
    report(f"## Scenario rss: tlsprobe's peak RSS, {' vs '.join(f'{size:,}' for size in _RSS_SIZES)} targets")
    report()
    report(f"{len(live)} real farm servers (through the proxies), the rest closed ports on 127.0.0.1 and on other")
    report("127/8 addresses (refused at once), so the run is quick and the memory is the scanner's own per target.")
    report()
    report("| targets | live servers | wall s | JSONL lines | one line per target | peak RSS MiB |")
    report("|---|---|---|---|---|---|")
    dead = closed_targets(max(_RSS_SIZES) - len(live))
    peaks = []
    for size in _RSS_SIZES:
        work = bench.work / f"rss-{size}"
        work.mkdir(parents=True, exist_ok=True)
        targets = live + dead[: size - len(live)]
        targets_file = _tools.write_targets(work / "targets.txt", targets)
        measurement = measure(
            bench,
            len(live),
            functools.partial(
                _tools.run_tlsprobe,
                targets_file,
                work,
                timeout_s=bench.options.tool_timeout,
                tlsprobe_path=bench.tlsprobe_path,
                python=bench.tlsprobe_python,
            ),
        )
        lines, problems = _tools.jsonl_integrity(measurement.run.output, targets)
        integrity = "yes" if not problems else f"**no**: {'; '.join(problems[:5])}"
        peaks.append(measurement.run.measured.peak_rss_kib)
        report(
            f"| {size:,} | {len(live)} | {measurement.run.measured.wall_s:.1f} | {lines:,} | {integrity} "
            f"| {measurement.run.measured.peak_rss_kib / 1024:.1f} |"
        )
    report()
    report(f"Peak RSS ratio {_RSS_SIZES[-1]:,} / {_RSS_SIZES[0]:,} targets: {peaks[-1] / peaks[0]:.2f}.")
    report()


def closed_targets(count: int) -> list[str]:
    """Targets nothing listens on: freed ports on 127.0.0.1, then one freed port on many other 127/8 addresses."""
    on_localhost = count // 2
    ports = _farm.free_ports(on_localhost + 1)
    port = ports.pop()
    targets = [f"127.0.0.1:{free}" for free in ports]
    targets += [f"127.77.{index // 250}.{index % 250 + 1}:{port}" for index in range(count - on_localhost)]
    listening = [target for target in targets if _accepts(target)]
    if listening:
        raise RuntimeError(f"something listens on {listening[:3]}")
    return targets


def _accepts(target: str) -> bool:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError:
        return False
    return True


# --- setup ----------------------------------------------------------------------------------------------------


def environment(bench: Bench, command: str) -> None:
    report = bench.report
    sslyze = _tools.sslyze_version(bench.sslyze) if bench.sslyze else "not found"
    sslscan = _version_of([bench.sslscan, "--version"], r"\d+\.\d+\.\d+") if bench.sslscan else "not found"
    testssl = _version_of([bench.testssl, "--version"], r"testssl\s+(\S+)") if bench.testssl else "not found"
    nginx = _version_of([_farm.NGINX, "-v"], r"nginx/(\S+)")
    servers = f"nginx {nginx}" if nginx else "Python ssl (no nginx)"
    report(f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    report(f"- command: `{command}`")
    report(f"- machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} {platform.release()}")
    report(f"- Python {platform.python_version()}; tlsprobe {tlsprobe.__version__} (nassl {_nassl_version()})")
    report(
        "- tlsprobe runs from a byte-compiled copy of the imported package, as an install leaves it, with the"
        " Python of a virtualenv of its own, as SSLyze has (`_tools.isolated_interpreter`)"
    )
    report(f"- SSLyze {sslyze}; sslscan {sslscan}; testssl.sh {testssl}")
    report(f"- servers: {servers}, {_openssl()}")
    report(f"- latency proxy: {bench.options.rtt_ms:g} ms round trip, in a thread of the driver")
    report(f"- peak RSS: {_tools.RSS_METHOD}")
    report()


def _nassl_version() -> str:
    try:
        return importlib.metadata.version("nassl")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _version_of(command: Sequence[str | None], pattern: str) -> str:
    try:
        completed = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    match = re.search(pattern, re.sub(r"\x1b\[[0-9;]*m", "", completed.stdout + completed.stderr))
    if match is None:
        return ""
    return match.group(1) if match.groups() else match.group(0)


def _openssl() -> str:
    return _version_of(["openssl", "version"], r"OpenSSL \S+") or "OpenSSL unknown"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _find_sslyze(option: str) -> str | None:
    if option == "none":
        return None
    return option if os.access(option, os.X_OK) else None


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--rtt-ms", type=float, default=40.0, help="round trip added by the proxy (default: 40)")
    parser.add_argument(
        "--sslyze", default=_DEFAULT_SSLYZE, help=f"sslyze executable, or 'none' (default: {_DEFAULT_SSLYZE})"
    )
    parser.add_argument(
        "--peers",
        choices=("none", "10", "all"),
        default="10",
        help="where sslscan and testssl.sh run, when installed: nowhere, scenario 10 only (default), or everywhere",
    )
    parser.add_argument("--tool-timeout", type=float, default=3600.0, help="seconds before a tool is killed")
    parser.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    parser.add_argument("--keep-outputs", type=Path, help="keep every tool's output in this directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    # SIGTERM unwinds like Ctrl-C, so nginx, the proxies and any running scanner are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    scenarios = [scenario for scenario in SCENARIOS if scenario in options.scenarios]
    report = _tools.Report()
    report("# Mass-scan benchmark")
    report()
    with contextlib.ExitStack() as stack:
        work = options.keep_outputs or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mass-")))
        work.mkdir(parents=True, exist_ok=True)
        pki = generate_test_pki(work / "pki")
        if not shutil.which(_farm.NGINX):
            report("> **warning**: nginx not found; the farm is Python `ssl` servers (LocalTLSServer).")
            report()
        servers = stack.enter_context(_farm.farm(max(_SCENARIO_SERVERS[s] for s in scenarios), pki, work / "nginx"))
        problems = _farm.verify_handshakes(servers, pki)
        if problems:
            print("the farm does not work:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        proxies = stack.enter_context(LatencyProxies([server.port for server in servers], rtt_s=options.rtt_ms / 1000))
        bench = Bench(
            options,
            work,
            proxies,
            servers,
            report,
            _find_sslyze(options.sslyze),
            shutil.which("sslscan"),
            shutil.which("testssl") or shutil.which("testssl.sh"),
            _tools.byte_compiled_copy(work / "tlsprobe-site"),
            _tools.isolated_interpreter(work / "tlsprobe-venv"),
        )
        environment(bench, " ".join(["python", *sys.argv]))
        configurations = ", ".join(dict.fromkeys(server.config.name for server in servers))
        kind = "nginx" if shutil.which(_farm.NGINX) else "Python ssl"
        report(f"Farm: {len(servers)} {kind} servers cycling through {configurations}; every handshake checked.")
        report()
        if bench.sslyze is None and options.sslyze != "none":
            report(
                f"> SSLyze not found at {options.sslyze}: `python -m venv /tmp/sslyze-venv && "
                "/tmp/sslyze-venv/bin/pip install sslyze==6.3.1`"
            )
            report()
        runs_10: dict[str, Measurement] | None = None
        for scenario in scenarios:
            started = time.perf_counter()
            if scenario in ("10", "100"):
                runs = scenario_fleet(bench, scenario)
                if scenario == "10":
                    runs_10 = runs
            elif scenario == "fragile":
                scenario_fragile(bench, runs_10)
            else:
                scenario_rss(bench)
            report(f"_Scenario {scenario} took {time.perf_counter() - started:.0f} s._")
            report()
        if options.markdown_out:
            report.save(options.markdown_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
