"""A scan service that keeps its results in the results store (SQLite and a real PostgreSQL) and exposes
``GET /metrics``; a real uvicorn serves the router, a real TLS server and a closed port are scanned."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.integrations.helpers import LOOPBACK_ONLY, finished_scan, start_scan, uvicorn_serving
from tests.store.conftest import new_location
from tlsprobe import Scanner, ServerTarget
from tlsprobe.integrations._fastapi._recorder import service_list_key
from tlsprobe.integrations.fastapi import create_scan_router
from tlsprobe.store import StoreError, open_store
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver

CHECKS = ["tls1_2_cipher_suites", "tls1_3_cipher_suites"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_location(request, request.param, tmp_path)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _samples(text: str) -> dict[tuple[str, str | None], float]:
    return {
        (sample.name, sample.labels.get("target")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "severity" not in sample.labels
    }


def _app(**options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(create_scan_router(Scanner(), policy=LOOPBACK_ONLY, **options), prefix="/tls")
    return app


def test_results_reach_the_store_and_the_metrics(tls_server: LocalTLSServer, store_location: str) -> None:
    closed = _closed_port()
    targets = [f"127.0.0.1:{tls_server.port}", f"127.0.0.1:{closed}"]
    with uvicorn_serving(_app(store=store_location)) as url, httpx.Client(base_url=url, timeout=30) as client:
        scan = finished_scan(client, start_scan(client, targets, CHECKS)["id"])
        metrics = client.get("/tls/metrics")
    assert scan["status"] == "completed"
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(metrics.text)
    assert samples[("tlsprobe_reachable", targets[0])] == 1
    assert samples[("tlsprobe_reachable", targets[1])] == 0
    assert samples[("tlsprobe_service_scans_started_total", None)] == 1
    assert samples[("tlsprobe_service_results_total", None)] == 2

    key = service_list_key([ServerTarget.parse(target) for target in targets])
    with open_store(store_location) as store:
        (record,) = store.scans(list_key=key)
        assert record.status == "completed"
        assert record.label == scan["id"]
        stored = {server["target"]["port"]: server for server in store.servers(record.scan_id)}
    assert set(stored) == {tls_server.port, closed}
    assert stored[closed]["connectivity"]["status"] == "failed"
    returned = {server["target"]["port"]: server for server in scan["results"]}
    assert stored[tls_server.port] == returned[tls_server.port]  # the exact JSON the API returned


def test_a_service_without_store_still_counts_in_its_metrics(tls_server: LocalTLSServer) -> None:
    with uvicorn_serving(_app()) as url, httpx.Client(base_url=url, timeout=30) as client:
        finished_scan(client, start_scan(client, [f"127.0.0.1:{tls_server.port}"], CHECKS)["id"])
        samples = _samples(client.get("/tls/metrics").text)
    assert samples[("tlsprobe_reachable", f"127.0.0.1:{tls_server.port}")] == 1
    assert samples[("tlsprobe_service_scans_ended_total", None)] == 1


def test_metrics_can_be_left_out() -> None:
    with uvicorn_serving(_app(metrics=False)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/tls/metrics").status_code == 404


@pytest.mark.anyio
async def test_a_store_that_cannot_be_opened_stops_the_start_up(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database\n" * 100)
    app = _app(store=str(not_a_database))
    with pytest.raises(StoreError, match=r"notes\.txt"):
        async with app.router.lifespan_context(app):
            pass
