"""``tlsprobe --ray local``: the command starts a cluster of its own and stops it; and without Ray, one line."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._process import run_cli
from tlsprobe import ServerTarget
from tlsprobe._model._summary import target_key
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(test_pki: TestPKI) -> Iterator[list[LocalTLSServer]]:
    servers = [
        LocalTLSServer(
            certfile=test_pki.ecdsa_chain, keyfile=test_pki.ecdsa_key, host=host, minimum_version=ssl.TLSVersion.TLSv1_2
        ).start()
        for host in ("127.0.0.2", "127.0.0.3")
    ]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_local_cluster_of_its_own_scans_every_target_once(two_servers: list[LocalTLSServer]) -> None:
    targets = [f"{server.host}:{server.port}" for server in two_servers]
    # Ray's session files in a directory of the test's own, short (Ray's socket paths must fit AF_UNIX's limit).
    ray_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    try:
        env = {"RAY_TMPDIR": ray_dir}
        finished = run_cli("--ray", "local:1", "--jsonl", "--quiet", *targets, env=env, timeout=180)
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert finished.code in (0, 1), finished.stderr  # 1: the test CA's certificates are findings
    servers = [json.loads(line) for line in finished.stdout.splitlines()]
    assert sorted(target_key(server["target"]) for server in servers) == sorted(
        str(ServerTarget.parse(target)) for target in targets
    )
    assert all(server["connectivity"]["status"] == "completed" for server in servers)


def test_a_bad_local_cluster_size_is_one_line(two_servers: list[LocalTLSServer]) -> None:
    finished = run_cli("--ray", "local:none", f"127.0.0.2:{two_servers[0].port}")
    assert finished.code == 2
    assert (
        finished.stderr == "tlsprobe: --ray local:none: expected local or local:N with N a number of CPUs, at least 1\n"
    )


def test_without_ray_installed_the_command_says_how_to_get_it(
    tmp_path: Path, two_servers: list[LocalTLSServer]
) -> None:
    (tmp_path / "ray.py").write_text('raise ModuleNotFoundError("No module named \'ray\'", name="ray")\n')
    finished = run_cli(f"127.0.0.2:{two_servers[0].port}", "--ray", env={"PYTHONPATH": str(tmp_path)})
    assert finished.code == 2
    assert finished.stderr == "tlsprobe: distributed scans need Ray: pip install 'tlsprobe[ray]'\n"


def test_neither_the_command_nor_the_package_imports_ray_until_a_scan_needs_it() -> None:
    code = (
        "import sys, tlsprobe.distributed, tlsprobe._cli, tlsprobe._cli._scan, tlsprobe._cli._options\n"
        "sys.exit(any(name == 'ray' or name.startswith('ray.') for name in sys.modules))\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0
