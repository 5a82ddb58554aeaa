"""Scale-out benchmark: one tlsprobe process against a local Ray cluster, on a farm of 1,000+ real TLS servers.

    python benchmarks/bench_ray.py                       # 1,000 targets: one process, then the cluster
    python benchmarks/bench_ray.py --targets 200 --markdown-out /tmp/ray.md

The farm is one nginx master serving every target as a distinct server: ``--ips`` loopback addresses
(127.0.1.1, 127.0.1.2...) with as many ports each as it takes, the farm's configurations cycled (``_farm.CONFIGS``).
The servers stand for distinct hosts, so the per-IP cap, which protects one real host listening on many ports,
is raised as bench_mass.py raises it. Both runs are the command as a user runs it (``--targets-in``, JSON Lines to a
file), the second with ``--ray ADDRESS`` against a cluster of two nodes of one CPU each that this script starts
(``ray.cluster_utils.Cluster``: a head and a second raylet, separate processes) and stops.

Measured: wall time, targets/s, CPU seconds per target of the scanning side (the command, and for the cluster every
process of the cluster: GCS, raylets, workers, reaped or not; nginx is left out), peak summed RSS of those
processes, and the JSONL's integrity (every target exactly once). Also the driver's planning alone (rendezvous
hashing and memory per target) on 100,000 literal targets, which connects nowhere.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio

import _farm
import _tools
import tlsprobe
from tlsprobe import ScanConfig
from tlsprobe.distributed import bucket_count, bucket_of, plan_scan
from tlsprobe.testing import TestPKI, generate_test_pki

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_SAMPLE_S = 0.1
_START_TIMEOUT_S = 30.0
_PLANNED_TARGETS = 100_000
_TRACED_TARGETS = 20_000


# --- the farm: nginx on many loopback addresses -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int


def endpoints(count: int, ips: int) -> list[Endpoint]:
    """``count`` listening addresses over ``ips`` loopback addresses; ports distinct across all of them."""
    ports = _farm.free_ports(count)  # bound together on 127.0.0.1: distinct, and as free on 127.0.1.x
    return [Endpoint(f"127.0.1.{index % ips + 1}", port) for index, port in enumerate(ports)]


@contextlib.contextmanager
def nginx_on(addresses: Sequence[Endpoint], pki: TestPKI, directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    dhparam = directory / "ffdhe2048.pem"
    _farm._ffdhe2048_dhparam(dhparam)
    servers = [
        _farm.FarmServer(each.port, _farm.CONFIGS[index % len(_farm.CONFIGS)]) for index, each in enumerate(addresses)
    ]
    conf = _farm.nginx_conf(directory, servers, pki, dhparam)
    for each in addresses:  # _farm writes 127.0.0.1; every port is unique, so each listen line is found once
        conf = conf.replace(f"listen 127.0.0.1:{each.port} ssl;", f"listen {each.ip}:{each.port} ssl;")
    path = directory / "nginx.conf"
    path.write_text(conf)
    process = subprocess.Popen(
        [_farm.NGINX, "-c", str(path), "-p", str(directory), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        for each in addresses:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"nginx exited with status {process.returncode}")
                try:
                    socket.create_connection((each.ip, each.port), timeout=1.0).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nginx does not listen on {each.ip}:{each.port}") from None
                    time.sleep(0.05)
        yield
    finally:
        _farm._stop(process)


# --- measuring a process tree ----------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _descendants(root: int, excluded: set[int]) -> list[int]:
    tree, found, stack = _children(), [], [root]
    while stack:
        for child in tree.get(stack.pop(), []):
            if child not in excluded:
                found.append(child)
                stack.append(child)
    return found


def _stat(pid: int) -> tuple[str, float, int] | None:
    """(start time as an id, CPU seconds of the process itself, RSS bytes), or None when it is gone."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[19], (int(fields[11]) + int(fields[12])) / _TICKS, int(fields[21]) * _PAGE
    return None


class TreeMeter:
    """CPU and peak summed RSS of this script's descendants but the farm (nginx) and the command (measured by its
    own rusage), sampled: a cluster's workers end when the scan ends and are not all reaped by a parent that would
    count them, so each process's last sample counts (up to one sampling period of a worker's last CPU is missed)."""

    def __init__(self, excluded: set[int]) -> None:
        self.excluded = set(excluded)
        self.rss_only: set[int] = set()
        self._stop = threading.Event()
        self._first: dict[tuple[int, str], float] = {}
        self._last: dict[tuple[int, str], float] = {}
        self.peak_rss = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, *, baseline: bool = False) -> None:
        rss = 0
        for pid in _descendants(os.getpid(), self.excluded):
            stat = _stat(pid)
            if stat is None:
                continue
            started, cpu, resident = stat
            rss += resident
            if pid in self.rss_only:
                continue
            key = (pid, started)
            self._first.setdefault(key, cpu if baseline else 0.0)
            self._last[key] = cpu
        self.peak_rss = max(self.peak_rss, rss)

    def cpu_s(self) -> float:
        return sum(self._last[key] - self._first[key] for key in self._last)

    def _run(self) -> None:
        while not self._stop.wait(_SAMPLE_S):
            self.sample()

    def __enter__(self) -> TreeMeter:
        self.sample(baseline=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _farm_pids(nginx_marker: str) -> set[int]:
    """nginx's master and workers (their command lines name the farm's config), to leave out of the measures."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if nginx_marker in (entry / "cmdline").read_bytes().decode(errors="replace") or (
                    (entry / "comm").read_text().strip() == "nginx"
                ):
                    found.add(int(entry.name))
    return found


# --- runs ------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    label: str
    targets: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    lines: int
    problems: list[str]
    exit_code: int

    def row(self) -> str:
        integrity = "yes" if not self.problems else f"**no**: {'; '.join(self.problems[:3])}"
        return (
            f"| {self.label} | {self.targets:,} | {self.wall_s:.1f} | {self.targets / self.wall_s:.1f} "
            f"| {self.cpu_s:.1f} | {self.cpu_s / self.targets * 1000:.0f} | {self.peak_rss_mib:.0f} | {integrity} |"
        )


def run_command(label: str, targets_file: Path, work: Path, excluded: set[int], extra: Sequence[str]) -> Run:
    work.mkdir(parents=True, exist_ok=True)
    output = work / "scan.jsonl"
    command = _tools.tlsprobe_command(targets_file, output, extra=extra)
    expected = targets_file.read_text().split()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with TreeMeter(excluded) as meter:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=_tools.tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        meter.rss_only.add(process.pid)
        _, stderr = process.communicate()
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    command_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cpu = command_cpu + meter.cpu_s()
    if process.returncode not in (0, 1):
        print(stderr[-2000:], file=sys.stderr)
    lines, problems = _tools.jsonl_integrity(output, expected)
    return Run(label, len(expected), wall, cpu, meter.peak_rss / 2**20, lines, problems, process.returncode)


@contextlib.contextmanager
def ray_cluster(nodes: int) -> Iterator[tuple[str, float]]:
    """A local cluster of ``nodes`` nodes of one CPU each; its address and how long it took to start."""
    import ray
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    os.environ["RAY_TMPDIR"] = temp_dir  # Cluster writes its address file to Ray's default directory: here instead
    os.makedirs(os.path.join(temp_dir, "ray"))  # where Ray looks for that file under RAY_TMPDIR
    started = time.perf_counter()
    cluster = Cluster()
    try:
        cluster.add_node(num_cpus=1, include_dashboard=False, temp_dir=temp_dir)  # the head
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield str(cluster.address), time.perf_counter() - started
    finally:
        cluster.shutdown()
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def planning(report: _tools.Report, buckets: int) -> None:
    """The driver's plan alone: 100,000 literal targets (no lookup, no connection) into ``buckets`` buckets."""
    targets = [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}:443" for n in range(_PLANNED_TARGETS)]
    started = time.perf_counter()
    for target in targets[:20_000]:
        bucket_of(target.rpartition(":")[0], buckets)
    hashing_us = (time.perf_counter() - started) / 20_000 * 1e6
    started = time.perf_counter()
    plan = anyio.run(plan_scan, targets, ScanConfig(), buckets)
    plan_s = time.perf_counter() - started
    traced = targets[:_TRACED_TARGETS]
    tracemalloc.start()  # a second, smaller pass for memory: tracing slows Python down several times
    anyio.run(plan_scan, traced, ScanConfig(), buckets)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_target = peak / _TRACED_TARGETS
    report(
        f"Planning alone (`plan_scan`, {_PLANNED_TARGETS:,} IP literals, {buckets:,} buckets, "
        f"{len(plan.units):,} used): {plan_s:.1f} s ({_PLANNED_TARGETS / plan_s:,.0f} targets/s, including "
        f"{hashing_us:.0f} µs of rendezvous hashing per target); traced peak {peak / 2**20:.0f} MiB, "
        f"{per_target:.0f} bytes per target (the input strings, the targets and the plan; traced on "
        f"{_TRACED_TARGETS:,})."
    )
    report()


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1_000, help="servers in the farm (default: %(default)s)")
    parser.add_argument("--ips", type=int, default=50, help="loopback addresses they share (default: %(default)s)")
    parser.add_argument("--nodes", type=int, default=2, help="cluster nodes of one CPU each (default: %(default)s)")
    parser.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    options = parser.parse_args(arguments)
    logging.getLogger("ray").setLevel(logging.WARNING)
    report = _tools.Report()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as scratch:
        work = Path(scratch)
        pki = generate_test_pki(work / "pki")
        addresses = endpoints(options.targets, options.ips)
        targets_file = _tools.write_targets(work / "targets.txt", [f"{each.ip}:{each.port}" for each in addresses])
        with nginx_on(addresses, pki, work / "nginx"):
            excluded = _farm_pids(str(work / "nginx"))
            report(
                f"## Scale-out on Ray (`bench_ray.py`, {datetime.date.today().isoformat()}, tlsprobe "
                f"{tlsprobe.__version__})"
            )
            report()
            report(
                f"{options.targets:,} nginx servers ({len(_farm.CONFIGS)} configurations) on {options.ips} loopback "
                "addresses, every "
                "default check; the command with `--jsonl --json-out`, then the same with `--ray` on a local cluster "
                f"of {options.nodes} nodes x 1 CPU. CPU and RSS: the scanning side only (nginx left out)."
            )
            report()
            report(
                "| run | targets | wall s | targets/s | CPU s | CPU ms per target | peak RSS MiB | each target once |"
            )
            report("|---|---|---|---|---|---|---|---|")
            single = run_command("one process", targets_file, work / "single", excluded, [])
            report(single.row())
            with ray_cluster(options.nodes) as (address, start_s):
                excluded |= _farm_pids(str(work / "nginx"))
                distributed = run_command(
                    f"Ray, {options.nodes} workers", targets_file, work / "ray", excluded, ["--ray", address]
                )
            report(distributed.row())
            report()
            report(
                f"Cluster start ({options.nodes} nodes): {start_s:.1f} s, not in the figures above. Exit codes: "
                f"{single.exit_code} and {distributed.exit_code} (1: the test CA's certificates are findings)."
            )
            report()
        planning(report, bucket_count(64))
    if options.markdown_out:
        report.save(options.markdown_out)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
