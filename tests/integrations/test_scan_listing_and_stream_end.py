"""``GET /scans`` lists a service's scans a page at a time; an NDJSON stream ends with a line saying how it ended.

A real uvicorn serves the router; the servers are a TLS server and one that never answers, on loopback.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integrations.helpers import (
    LOOPBACK_ONLY,
    SilentServer,
    finished_scan,
    start_scan,
    uvicorn_serving,
    wait_until,
)
from tlsprobe import ScanConfig, Scanner, Timeouts
from tlsprobe.integrations.fastapi import ScanServiceLimits, create_scan_router
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver

CHECKS = ["tls1_2_cipher_suites"]
SLOW = ScanConfig(timeouts=Timeouts(connect_s=5.0, read_s=60.0))  # only cancellation ends a scan of a silent server


def service_app(scanner: Scanner, **options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(create_scan_router(scanner, policy=LOOPBACK_ONLY, **options), prefix="/tls")
    return app


def ndjson(client: httpx.Client, scan_id: str) -> list[dict[str, Any]]:
    with client.stream("GET", f"/tls/scans/{scan_id}/stream", params={"format": "ndjson"}) as stream:
        return [json.loads(line) for line in stream.iter_lines()]


def test_a_complete_ndjson_stream_ends_with_an_end_line(tls_server: LocalTLSServer) -> None:
    with uvicorn_serving(service_app(Scanner())) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start_scan(client, [f"127.0.0.1:{tls_server.port}", f"localhost:{tls_server.port}"], CHECKS)
        *servers, end = ndjson(client, scan["id"])
    assert [server["target"]["port"] for server in servers] == [tls_server.port] * 2
    assert all("event" not in server for server in servers)  # a server object never has the key an end line has
    assert end == {"event": "end", "id": scan["id"], "status": "completed", "reason": None, "servers": 2}


def test_a_stream_of_a_deleted_scan_ends_with_cancelled(
    tls_server: LocalTLSServer, silent_server: SilentServer
) -> None:
    scanner = Scanner(SLOW)
    with uvicorn_serving(service_app(scanner)) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start_scan(client, [f"127.0.0.1:{tls_server.port}", f"127.0.0.1:{silent_server.port}"], CHECKS)
        with client.stream("GET", f"/tls/scans/{scan['id']}/stream") as stream:
            lines = stream.iter_lines()
            first = json.loads(next(lines))
            wait_until(lambda: silent_server.open_connections > 0, "the scan to wait on the silent server")
            with httpx.Client(base_url=url, timeout=10) as other:
                assert other.delete(f"/tls/scans/{scan['id']}").status_code == 204
            rest = [json.loads(line) for line in lines]
    assert first["target"]["port"] == tls_server.port
    assert rest == [
        {"event": "end", "id": scan["id"], "status": "cancelled", "reason": "deleted by a client", "servers": 1}
    ]
    wait_until(lambda: scanner.statistics().connections_open == 0, "the scanner to close its sockets")


def test_the_sse_end_event_counts_the_servers_too(tls_server: LocalTLSServer) -> None:
    with uvicorn_serving(service_app(Scanner())) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start_scan(client, [f"127.0.0.1:{tls_server.port}"], CHECKS)
        with client.stream("GET", f"/tls/scans/{scan['id']}/stream", params={"format": "sse"}) as stream:
            data = [line.removeprefix("data: ") for line in stream.iter_lines() if line.startswith("data: ")]
    assert json.loads(data[-1]) == {"id": scan["id"], "status": "completed", "reason": None, "servers": 1}


def test_scans_are_listed_newest_first_a_page_at_a_time(
    tls_server: LocalTLSServer, silent_server: SilentServer
) -> None:
    scanner = Scanner(SLOW)
    with uvicorn_serving(service_app(scanner)) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/tls/scans").json() == {"scans": [], "total": 0, "offset": 0, "limit": 20}
        done = [finished_scan(client, start_scan(client, [f"127.0.0.1:{tls_server.port}"], CHECKS)["id"]) for _ in "ab"]
        running = start_scan(client, [f"127.0.0.1:{silent_server.port}", f"localhost:{tls_server.port}"], CHECKS)

        first = client.get("/tls/scans", params={"limit": 2}).json()
        assert first["total"] == 3 and first["offset"] == 0 and first["limit"] == 2
        assert [scan["id"] for scan in first["scans"]] == [running["id"], done[1]["id"]]
        newest = first["scans"][0]
        assert newest["status"] == "running"
        assert newest["target_count"] == 2
        assert newest["servers_done"] <= 1  # the TLS server may be done; the silent one is not
        assert newest["created_at"] == running["created_at"]
        assert set(newest) == {
            "id",
            "status",
            "reason",
            "created_at",
            "finished_at",
            "policy",
            "target_count",
            "servers_done",
        }

        second = client.get("/tls/scans", params={"limit": 2, "offset": 2}).json()
        assert [scan["id"] for scan in second["scans"]] == [done[0]["id"]]
        assert second["scans"][0] == {
            key: done[0][key] for key in ("id", "status", "reason", "created_at", "finished_at", "policy")
        } | {"target_count": 1, "servers_done": 1}

        completed = client.get("/tls/scans", params={"status": "completed"}).json()
        assert [scan["id"] for scan in completed["scans"]] == [done[1]["id"], done[0]["id"]]
        assert completed["total"] == 2

        assert client.delete(f"/tls/scans/{running['id']}").status_code == 204
        assert client.get("/tls/scans").json()["total"] == 2
        for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"status": "sleeping"}):
            assert client.get("/tls/scans", params=bad).status_code == 422, bad
    wait_until(lambda: scanner.statistics().connections_open == 0, "the scanner to close its sockets")


def test_a_service_can_leave_the_listing_out(tls_server: LocalTLSServer) -> None:
    """Where knowing a scan's id must be what grants access to it, nobody may list the ids."""
    app = service_app(Scanner(), list_scans=False, limits=ScanServiceLimits(max_concurrent_scans=1))
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        scan = start_scan(client, [f"127.0.0.1:{tls_server.port}"], CHECKS)
        assert client.get("/tls/scans").status_code == 405  # the path exists (POST), listing it does not
        assert client.get(f"/tls/scans/{scan['id']}").status_code == 200
        assert "get" not in client.get("/openapi.json").json()["paths"]["/tls/scans"]
