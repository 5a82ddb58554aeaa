"""The example app under a real uvicorn on loopback, driven over HTTP with httpx, scanning real local servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from examples.fastapi_app import create_app, policy_from_environment

from tests.integrations.helpers import LOOPBACK_ONLY, SilentServer, uvicorn_serving, wait_until
from tlsprobe import ScanConfig, Scanner, Timeouts
from tlsprobe.integrations.fastapi import ScanServiceLimits
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = pytest.mark.realserver

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["tls1_2_cipher_suites"]
SLOW = ScanConfig(timeouts=Timeouts(connect_s=5.0, read_s=60.0))  # silent servers' connections outlive every test


def start(client: httpx.Client, targets: list[str]) -> dict[str, Any]:
    response = client.post("/tls/scans", json={"targets": targets, "checks": CHECKS})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def test_results_stream_as_ndjson_then_sse(tls_server: LocalTLSServer) -> None:
    app = create_app(scanner=Scanner(), policy=LOOPBACK_ONLY)
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start(client, [f"127.0.0.1:{tls_server.port}", f"localhost:{tls_server.port}"])
        with client.stream("GET", f"/tls/scans/{scan['id']}/stream", params={"format": "ndjson"}) as stream:
            assert stream.headers["content-type"] == "application/x-ndjson"
            *lines, end = [json.loads(line) for line in stream.iter_lines()]
        assert sorted(line["target"]["host"] for line in lines) == ["127.0.0.1", "localhost"]
        assert (end["event"], end["status"], end["servers"]) == ("end", "completed", 2)
        assert all(line["checks"][0]["status"] == "completed" for line in lines)

        with client.stream("GET", f"/tls/scans/{scan['id']}/stream", params={"format": "sse"}) as stream:
            events = [line for line in stream.iter_lines() if line.startswith("event:")]
        assert events == ["event: result", "event: result", "event: end"]

        state = client.get(f"/tls/scans/{scan['id']}").json()
        assert state["status"] == "completed"
        assert state["results"] == lines
        assert client.get("/statistics").json()["connections_open"] == 0


def test_disconnecting_mid_stream_cancels_the_scan_and_closes_its_connections(
    tls_server: LocalTLSServer, silent_server: SilentServer
) -> None:
    scanner = Scanner(SLOW)
    app = create_app(scanner=scanner, policy=LOOPBACK_ONLY)
    with (
        CountingProxy("127.0.0.1", silent_server.port) as proxy,
        uvicorn_serving(app) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        scan = start(client, [f"127.0.0.1:{tls_server.port}", f"127.0.0.1:{proxy.port}"])
        with client.stream("GET", f"/tls/scans/{scan['id']}/stream") as stream:
            lines = stream.iter_lines()  # kept: a dropped iterator closes the response, and so the connection
            first = json.loads(next(lines))
            assert first["target"]["port"] == tls_server.port
            wait_until(lambda: proxy.current_connections > 0, "the scan to hold a connection to the silent server")
            assert client.get(f"/tls/scans/{scan['id']}").json()["status"] == "running"
        # Leaving the block closed the streaming connection in the middle of the scan.

        wait_until(lambda: client.get(f"/tls/scans/{scan['id']}").json()["status"] != "running", "the scan to end")
        state = client.get(f"/tls/scans/{scan['id']}").json()
        assert state["status"] == "cancelled"
        assert state["reason"] == "the streaming client disconnected"
        assert state["servers_done"] == 1
        assert scanner.statistics().connections_open == 0
        # The server's side agrees: every connection of the scan is closed, none left to a worker thread.
        wait_until(lambda: proxy.current_connections == 0, "the proxy to see every connection closed")
        wait_until(lambda: silent_server.open_connections == 0, "the silent server to see them closed")
        assert proxy.total_connections >= 1


def test_a_quiet_sse_stream_sends_keepalive_comments(silent_server: SilentServer) -> None:
    scanner = Scanner(SLOW)
    app = create_app(scanner=scanner, policy=LOOPBACK_ONLY, limits=ScanServiceLimits(keepalive_s=0.05))
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start(client, [f"127.0.0.1:{silent_server.port}"])
        with client.stream("GET", f"/tls/scans/{scan['id']}/stream", params={"format": "sse"}) as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": keepalive"
        wait_until(lambda: client.get(f"/tls/scans/{scan['id']}").json()["status"] == "cancelled", "the scan to end")


def test_the_concurrency_cap_refuses_with_429(silent_server: SilentServer, tls_server: LocalTLSServer) -> None:
    scanner = Scanner(SLOW)
    app = create_app(scanner=scanner, policy=LOOPBACK_ONLY, limits=ScanServiceLimits(max_concurrent_scans=2))
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        running = [start(client, [f"127.0.0.1:{silent_server.port}"]) for _ in range(2)]
        refused = client.post("/tls/scans", json={"targets": [f"127.0.0.1:{tls_server.port}"], "checks": CHECKS})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"
        for scan in running:
            assert client.delete(f"/tls/scans/{scan['id']}").status_code == 204
        wait_until(lambda: scanner.statistics().connections_open == 0, "the deleted scans to close their sockets")
    wait_until(lambda: silent_server.open_connections == 0, "the silent server to see them closed")


def test_invalid_bodies_and_forbidden_targets_over_http(tls_server: LocalTLSServer) -> None:
    app = create_app(scanner=Scanner(), environ={})  # the default policy: public addresses only
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        not_json = client.post("/tls/scans", content=b"{not json", headers={"content-type": "application/json"})
        assert not_json.status_code == 422
        assert not_json.json()["detail"][0]["type"] == "json_invalid"

        bad = client.post("/tls/scans", json={"targets": ["example.com:http"], "checks": ["nope"]})
        assert bad.status_code == 422
        assert [detail["type"] for detail in bad.json()["detail"]] == ["invalid_target", "unknown_check"]

        forbidden = client.post(
            "/tls/scans", json={"targets": [f"127.0.0.1:{tls_server.port}", "localhost:443"], "checks": CHECKS}
        )
        assert forbidden.status_code == 403
        assert [detail["msg"] for detail in forbidden.json()["detail"]] == [
            "127.0.0.1 is a loopback address, which this service does not scan",
            "localhost resolves to 127.0.0.1: 127.0.0.1 is a loopback address, which this service does not scan",
        ]
        assert client.get("/statistics").json()["connections_opened"] == 0


def test_the_policy_comes_from_the_environment() -> None:
    policy = policy_from_environment(
        {"TLSPROBE_ALLOWED_NETWORKS": "127.0.0.0/8, 10.0.0.0/8", "TLSPROBE_ALLOWED_PORTS": "443,8443"}
    )
    assert [str(network) for network in policy.allowed_networks] == ["127.0.0.0/8", "10.0.0.0/8"]
    assert policy.allowed_ports == {443, 8443}
    assert policy_from_environment({}) == policy_from_environment({"TLSPROBE_ALLOWED_HOSTS": " , "})


def test_the_example_runs_as_documented_with_uvicorn_factory(tls_server: LocalTLSServer) -> None:
    """``uvicorn --factory examples.fastapi_app:create_app`` in its own process, configured by the environment."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    environment = {**os.environ, "TLSPROBE_ALLOWED_NETWORKS": "127.0.0.0/8"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "examples.fastapi_app:create_app"]
    command += ["--fd", str(listener.fileno()), "--log-level", "warning", "--http", "h11", "--ws", "none"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, pass_fds=[listener.fileno()])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            def answers() -> bool:
                assert process.poll() is None, "uvicorn exited"
                try:
                    return client.get("/tls/checks").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(answers, "the app to answer")
            scan = start(client, [f"127.0.0.1:{tls_server.port}"])
            with client.stream("GET", f"/tls/scans/{scan['id']}/stream") as stream:
                [line, end] = [json.loads(line) for line in stream.iter_lines()]
            assert end["status"] == "completed"
            assert line["checks"][0]["status"] == "completed"
            assert client.post("/tls/scans", json={"targets": ["[::1]:443"]}).status_code == 403
    finally:
        process.terminate()
        process.wait(10)
        listener.close()
