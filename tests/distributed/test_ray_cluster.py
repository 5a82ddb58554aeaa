"""Scans on a real local Ray cluster: a head node and a second node, each a raylet process of one CPU, so two
workers in two node processes. Local servers on several loopback addresses; every assertion is a count.

One cluster for the module (starting one takes seconds): the driver of the in-process tests is this process, and
the command-line tests connect to the same cluster by its address.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import attrs
import pytest

from tests.cli._process import CliProcess
from tests.distributed._processes import GatedProxy, is_running, owner_of
from tlsprobe import ConnectivityCompleted, ConnectivityFailed, ScanConfig, ServerScanResult, ServerTarget, Timeouts
from tlsprobe._model._summary import target_key
from tlsprobe.distributed import DistributedScanner, bucket_count, bucket_of
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

_DIRECT_ADDRESSES = tuple(f"127.0.0.{n}" for n in range(2, 8))
_NAMES_PER_PORT = 3
_WAIT_S = 60.0  # for a condition a test waits on (a connection, a process ending): generous, never the assertion
# A gated server holds a worker's connections until the test opens it: its timeouts must outlast that wait.
_PATIENT = ScanConfig(timeouts=Timeouts(connect_s=_WAIT_S, read_s=_WAIT_S))


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local cluster of two nodes of one CPU each, this process connected to it as the driver; its address."""
    import ray
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit AF_UNIX's limit
    # Every Ray file in it, the cluster's address file too (Cluster writes that to Ray's default directory).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_TMPDIR", temp_dir)
        os.makedirs(os.path.join(temp_dir, "ray"))  # where Ray looks for that file under RAY_TMPDIR
        cluster = Cluster()
        try:
            cluster.add_node(num_cpus=1, include_dashboard=False, temp_dir=temp_dir)  # the head
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
            yield str(cluster.address)
        finally:
            ray.shutdown()
            cluster.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)


@attrs.define
class Farm:
    """Servers on several loopback addresses: some reached directly, some through proxies that count."""

    direct: list[LocalTLSServer]
    """One server on each of ``_DIRECT_ADDRESSES``."""
    home: LocalTLSServer
    """A server on 127.0.0.1 behind the proxies."""
    port_proxies: list[CountingProxy]
    """Each one port of 127.0.0.1, reached under several names: at most 5 open at once, each."""
    ip_proxy: CountingProxy
    """Three ports of 127.0.0.1 counted together: at most 10 open at once (the per-IP cap)."""

    def direct_targets(self) -> list[str]:
        return [f"{server.host}:{server.port}" for server in self.direct]

    def shared_targets(self) -> list[str]:
        """Many targets of 127.0.0.1: names pinned to it and its literal, on each proxy port."""
        ports = [proxy.port for proxy in self.port_proxies] + list(self.ip_proxy.ports)
        names = [f"name{index}.test:{{port}}{{{{127.0.0.1}}}}" for index in range(_NAMES_PER_PORT - 1)]
        return [spelling.format(port=port) for port in ports for spelling in (*names, "127.0.0.1:{port}")]

    def connections_seen(self) -> int:
        proxied = sum(proxy.total_connections for proxy in (*self.port_proxies, self.ip_proxy))
        return proxied + sum(server.accepted_connections for server in self.direct)


@pytest.fixture
def farm(test_pki: TestPKI) -> Iterator[Farm]:
    def server(host: str) -> LocalTLSServer:
        return LocalTLSServer(
            certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, host=host, minimum_version=ssl.TLSVersion.TLSv1_2
        ).start()

    direct = [server(address) for address in _DIRECT_ADDRESSES]
    home = server("127.0.0.1")
    port_proxies = [CountingProxy(*home.address).start() for _ in range(2)]
    ip_proxy = CountingProxy(*home.address, listen_ports=3).start()
    try:
        yield Farm(direct=direct, home=home, port_proxies=port_proxies, ip_proxy=ip_proxy)
    finally:
        for proxy in (*port_proxies, ip_proxy):
            proxy.stop()
        for each in (*direct, home):
            each.stop()


def _keys(results: list[ServerScanResult]) -> list[str]:
    return sorted(str(result.target) for result in results)


def _listed(targets: list[str]) -> list[str]:
    return sorted(str(ServerTarget.parse(target)) for target in targets)


def _separate_bucket(gated: str, others: list[str]) -> None:
    """The test's premise, checked: the gated address's bucket is not every other target's, so results arrive
    while the gate holds its bucket."""
    buckets = bucket_count(2)
    assert {bucket_of(str(ServerTarget.parse(t).host), buckets) for t in others} - {bucket_of(gated, buckets)}


async def _wait_until_ended(pids: list[int]) -> None:
    with anyio.fail_after(_WAIT_S):
        while any(is_running(pid) for pid in pids):  # noqa: ASYNC110 - other processes: no event to wait on
            await anyio.sleep(0.1)


async def test_every_target_once_and_at_most_five_connections_per_server_across_the_cluster(
    ray_cluster: str, farm: Farm
) -> None:
    targets = farm.direct_targets() + farm.shared_targets() + ["no-such-host.invalid:443"]
    scanner = DistributedScanner(ScanConfig())
    async with scanner.scan(targets) as results:
        received = [result async for result in results]
    assert _keys(received) == _listed(targets)  # each exactly once
    failed = [result for result in received if isinstance(result.connectivity, ConnectivityFailed)]
    assert [str(result.target) for result in failed] == ["no-such-host.invalid:443"]
    # Politeness counted at the servers: 12 targets of 127.0.0.1 in one bucket, so on one worker's budgets.
    assert all(proxy.max_concurrent_connections <= 5 for proxy in farm.port_proxies)
    assert farm.ip_proxy.max_concurrent_connections <= 10
    # Two workers, one on each node; the statistics add up what every worker did, exactly.
    assert len({process.node_id for process in scanner.worker_processes()}) == 2
    statistics = scanner.statistics()
    assert statistics.servers_completed == statistics.servers_started == len(targets)
    assert statistics.connections_opened == farm.connections_seen() == sum(result.connections for result in received)
    assert statistics.connections_open == 0
    assert scanner.repeated_results == 0 and scanner.reruns == 0


async def test_a_worker_killed_mid_scan_loses_no_target_and_repeats_none(ray_cluster: str, farm: Farm) -> None:
    with GatedProxy(*farm.home.address) as gate:
        gated = [f"gated{index}.test:{gate.port}{{127.0.0.1}}" for index in range(2)]
        targets = farm.direct_targets() + gated
        _separate_bucket("127.0.0.1", farm.direct_targets())
        scanner = DistributedScanner(_PATIENT)
        first_result = anyio.Event()
        killed: list[int] = []

        async def kill_the_worker_held_at_the_gate() -> None:
            await first_result.wait()
            assert await anyio.to_thread.run_sync(gate.arrived.wait, _WAIT_S)
            pid = owner_of(gate.peers[0])
            assert pid in {process.pid for process in scanner.worker_processes()}
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            gate.open()

        received: list[ServerScanResult] = []
        async with anyio.create_task_group() as group:
            group.start_soon(kill_the_worker_held_at_the_gate)
            async with scanner.scan(targets) as results:
                async for result in results:
                    received.append(result)
                    first_result.set()
    assert killed
    assert _keys(received) == _listed(targets)  # every target, once
    assert [
        (str(result.target), result.connectivity)
        for result in received
        if not isinstance(result.connectivity, ConnectivityCompleted)
    ] == []
    assert scanner.reruns >= 1
    await _wait_until_ended(killed)


async def test_leaving_a_scan_early_stops_every_worker(ray_cluster: str, farm: Farm) -> None:
    with GatedProxy(*farm.home.address) as gate:
        targets = [*farm.direct_targets(), f"held.test:{gate.port}{{127.0.0.1}}"]
        scanner = DistributedScanner(_PATIENT)
        received = 0
        with anyio.CancelScope() as scope:  # what Ctrl-C does to the command's scan
            async with scanner.scan(targets) as results:
                async for _ in results:
                    received += 1
                    assert await anyio.to_thread.run_sync(gate.arrived.wait, _WAIT_S)  # a bucket still running
                    scope.cancel()
        assert scope.cancelled_caught and received == 1
        pids = [process.pid for process in scanner.worker_processes()]
        assert len(pids) == 2
        await _wait_until_ended(pids)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_the_command_scans_on_the_cluster_and_writes_each_target_once(ray_cluster: str, farm: Farm) -> None:
    targets = farm.direct_targets() + farm.shared_targets()[:3]
    with CliProcess(["--ray", ray_cluster, "--jsonl", "--quiet", *targets]) as command:
        finished = await anyio.to_thread.run_sync(command.finish)
    assert finished.code in (0, 1), finished.stderr  # 1: the test CA's certificates are findings
    servers = _lines(finished.stdout)
    assert sorted(target_key(server["target"]) for server in servers) == _listed(targets)
    assert all(server["connectivity"]["status"] == "completed" for server in servers)


async def test_ctrl_c_stops_the_command_and_every_worker(ray_cluster: str, farm: Farm, tmp_path: Path) -> None:
    # JSON Lines into a file: a pipe nobody reads while the test waits would hold the scan back.
    output = tmp_path / "scan.jsonl"
    with GatedProxy(*farm.home.address) as gate:
        targets = [*farm.direct_targets(), f"held.test:{gate.port}{{127.0.0.1}}"]
        with CliProcess(["--ray", ray_cluster, "--jsonl", "--json-out", str(output), "--quiet", *targets]) as command:
            assert await anyio.to_thread.run_sync(gate.arrived.wait, _WAIT_S)  # a bucket is held mid-scan
            held_by = owner_of(gate.peers[0])
            assert held_by is not None
            with anyio.fail_after(_WAIT_S):
                # A first result is out: the command's file, written by another process, has no event to wait on.
                while not output.exists() or "\n" not in output.read_text():  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            command.interrupt()
            finished = await anyio.to_thread.run_sync(command.finish)
        assert finished.code == 130, finished.stderr
        assert "interrupted" in finished.stderr
        assert 1 <= len(_lines(output.read_text())) < len(targets)
        await _wait_until_ended([held_by])


async def test_a_cluster_that_is_not_there_is_one_line_and_exit_2(farm: Farm) -> None:
    with CliProcess(["--ray", "127.0.0.1:1", "--jsonl", *farm.direct_targets()[:1]]) as command:
        finished = await anyio.to_thread.run_sync(command.finish)
    assert finished.code == 2
    assert finished.stderr.startswith("tlsprobe: cannot use the Ray cluster at 127.0.0.1:1")
    assert "Traceback" not in finished.stderr
