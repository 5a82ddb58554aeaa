"""The FastAPI router through httpx's ASGI transport: fast, no HTTP server, real TLS servers on loopback."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from tests.integrations.helpers import LOOPBACK_ONLY, SilentServer, wait_until_async
from tlsprobe import DEFAULT_CHECKS, SCHEMA_VERSION, ScanConfig, Scanner, Timeouts, __version__, json_schema
from tlsprobe.integrations.fastapi import ScanServiceLimits, TargetPolicy, create_scan_router
from tlsprobe.testing import LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

CHECKS = ["tls1_2_cipher_suites"]
# A read timeout far longer than any test: a silent server's connections close only if the scan is cancelled.
SLOW = ScanConfig(timeouts=Timeouts(connect_s=5.0, read_s=60.0))


@asynccontextmanager
async def service(
    scanner: Scanner | ScanConfig, *, policy: TargetPolicy = LOOPBACK_ONLY, limits: ScanServiceLimits | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the router under /tls, its lifespan running, and a client talking to it in process."""
    app = FastAPI()
    app.include_router(create_scan_router(scanner, policy=policy, limits=limits), prefix="/tls")
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def start(client: httpx.AsyncClient, targets: list[str], checks: list[str] = CHECKS) -> dict[str, Any]:
    response = await client.post("/tls/scans", json={"targets": targets, "checks": checks})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def as_cli_document(servers: list[Any]) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    return {
        "schema_version": SCHEMA_VERSION,
        "tlsprobe_version": __version__,
        "started_at": now,
        "completed_at": now,
        "servers": servers,
        "invalid_targets": [],
    }


async def test_a_scan_runs_in_the_background_and_streams_as_ndjson(tls_server: LocalTLSServer) -> None:
    async with service(Scanner()) as client:
        response = await client.post(
            "/tls/scans",
            json={"targets": [f"localhost:{tls_server.port}", f"127.0.0.1:{tls_server.port}"], "checks": CHECKS},
        )
        assert response.status_code == 202
        scan = response.json()
        assert response.headers["location"] == f"http://t/tls/scans/{scan['id']}"
        assert len(scan["id"]) >= 22  # 128 random bits
        assert scan["status"] in ("running", "completed")
        # The name was resolved once and pinned to the address that passed the policy.
        assert scan["targets"] == [f"localhost:{tls_server.port}{{127.0.0.1}}", f"127.0.0.1:{tls_server.port}"]

        stream = await client.get(f"/tls/scans/{scan['id']}/stream")
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "application/x-ndjson"
        *lines, end = stream.text.splitlines()
        assert len(lines) == 2
        assert json.loads(end)["event"] == "end"
        streamed = [json.loads(line) for line in lines]
        assert {server["target"]["host"] for server in streamed} == {"localhost", "127.0.0.1"}
        for server in streamed:
            assert server["connectivity"]["status"] == "completed"
            assert [check["name"] for check in server["checks"]] == CHECKS
            assert server["checks"][0]["status"] == "completed"

        state = (await client.get(f"/tls/scans/{scan['id']}")).json()
        assert state["status"] == "completed"
        assert state["servers_done"] == 2
        assert state["finished_at"] is not None
        assert state["results"] == streamed
    # Each line is a server object of the CLI's JSON document, and validates against its schema.
    schema = json_schema(check.result_type for check in DEFAULT_CHECKS)
    jsonschema.Draft202012Validator(schema).validate(as_cli_document(streamed))


async def test_server_sent_events_carry_ids_and_an_end_event(tls_server: LocalTLSServer) -> None:
    # Given a ScanConfig rather than a Scanner, the router's lifespan makes the scanner its scans share.
    async with service(ScanConfig()) as client:
        scan = await start(client, [f"127.0.0.1:{tls_server.port}", f"localhost:{tls_server.port}"])
        stream = await client.get(f"/tls/scans/{scan['id']}/stream", params={"format": "sse"})
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        events = [block.splitlines() for block in stream.text.strip().split("\n\n")]
        assert [event[:2] for event in events[:2]] == [["id: 0", "event: result"], ["id: 1", "event: result"]]
        assert json.loads(events[0][2].removeprefix("data: "))["checks"][0]["name"] == CHECKS[0]
        assert events[2][0] == "event: end"
        assert json.loads(events[2][1].removeprefix("data: ")) == {
            "id": scan["id"],
            "status": "completed",
            "reason": None,
            "servers": 2,
        }

        # A reconnecting EventSource sends the last id it saw and gets only what came after it.
        resumed = await client.get(
            f"/tls/scans/{scan['id']}/stream", params={"format": "sse"}, headers={"Last-Event-ID": "0"}
        )
        assert [line for line in resumed.text.splitlines() if line.startswith(("id:", "event:"))] == [
            "id: 1",
            "event: result",
            "event: end",
        ]


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({}, ["body", "targets"], "Field required"),
        ({"targets": []}, ["body", "targets"], "at least 1 item"),
        ({"targets": "example.com"}, ["body", "targets"], "valid list"),
        ({"targets": ["example.com"], "target": "typo"}, ["body", "target"], "Extra inputs are not permitted"),
        ({"targets": ["x" * 301]}, ["body", "targets", 0], "at most 300 characters"),
        ({"targets": ["bad host:443"]}, ["body", "targets", 0], "invalid target 'bad host:443'"),
        ({"targets": ["example.com:0"]}, ["body", "targets", 0], "port 0 is out of range"),
        ({"targets": ["example.com", "example.com:443"]}, ["body", "targets", 1], "example.com:443 is listed twice"),
        ({"targets": ["a.example", "b.example", "c.example"]}, ["body", "targets"], "at most 2 targets per scan"),
        ({"targets": ["example.com"], "checks": ["heartbleed", "nope"]}, ["body", "checks", 1], "unknown check 'nope'"),
        ({"targets": ["example.com"], "checks": []}, ["body", "checks"], "at least one check"),
    ],
)
async def test_invalid_bodies_get_a_422_naming_the_problem(body: dict[str, Any], loc: list[Any], message: str) -> None:
    async with service(Scanner(), limits=ScanServiceLimits(max_targets_per_scan=2)) as client:
        response = await client.post("/tls/scans", json=body)
    assert response.status_code == 422
    details = response.json()["detail"]
    assert any(detail["loc"] == loc and message in detail["msg"] for detail in details), details


async def test_every_problem_of_a_request_is_listed_at_once() -> None:
    async with service(Scanner()) as client:
        response = await client.post("/tls/scans", json={"targets": ["a b", "ok.example", "c:x"], "checks": ["nope"]})
    assert response.status_code == 422
    assert [detail["loc"] for detail in response.json()["detail"]] == [
        ["body", "targets", 0],
        ["body", "targets", 2],
        ["body", "checks", 0],
    ]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("127.0.0.1:443", "127.0.0.1 is a loopback address, which this service does not scan"),
        ("localhost", "localhost resolves to 127.0.0.1: 127.0.0.1 is a loopback address"),
        ("[::1]:443", "::1 is a loopback address"),
        ("[::ffff:127.0.0.1]:443", "(127.0.0.1) is a loopback address"),
        ("169.254.169.254:80", "169.254.169.254 is a link-local address"),  # cloud metadata services live here
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("[fec0::1]:443", "fec0::1 is a site-local address"),
        ("public.example:443{192.168.1.1}", "192.168.1.1 is a private address"),
    ],
)
async def test_the_default_policy_refuses_internal_targets_before_any_connection(
    target: str, reason: str, tls_server: LocalTLSServer
) -> None:
    accepted_before = tls_server.accepted_connections
    scanner = Scanner()
    async with service(scanner, policy=TargetPolicy()) as client:
        response = await client.post("/tls/scans", json={"targets": [target], "checks": CHECKS})
    assert response.status_code == 403
    [detail] = response.json()["detail"]
    assert detail["type"] == "target_refused"
    assert detail["loc"] == ["body", "targets", 0]
    assert reason in detail["msg"]
    assert scanner.statistics().connections_opened == 0
    assert tls_server.accepted_connections == accepted_before


async def test_a_scan_with_one_refused_target_starts_nothing(tls_server: LocalTLSServer) -> None:
    scanner = Scanner()
    policy = TargetPolicy(allowed_networks=["127.0.0.0/8"], denied_networks=["127.0.0.2/32"])
    async with service(scanner, policy=policy) as client:
        response = await client.post(
            "/tls/scans", json={"targets": [f"127.0.0.1:{tls_server.port}", "127.0.0.2:443"], "checks": CHECKS}
        )
    assert response.status_code == 403
    assert [detail["msg"] for detail in response.json()["detail"]] == [
        "127.0.0.2 is in a denied network (127.0.0.2/32)"
    ]
    assert scanner.statistics().servers_started == 0


async def test_a_name_that_does_not_resolve_is_a_422() -> None:
    async with service(Scanner(), policy=TargetPolicy()) as client:
        response = await client.post("/tls/scans", json={"targets": ["no-such-host.invalid"], "checks": CHECKS})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["type"] == "target_unresolvable"
    assert "no-such-host.invalid" in detail["msg"]


async def test_the_concurrency_cap_answers_429_and_delete_frees_the_slot(
    silent_server: SilentServer, tls_server: LocalTLSServer
) -> None:
    scanner = Scanner(SLOW)
    limits = ScanServiceLimits(max_concurrent_scans=1, retry_after_s=7)
    async with service(scanner, limits=limits) as client:
        first = await start(client, [f"127.0.0.1:{silent_server.port}"])
        await wait_until_async(lambda: silent_server.open_connections > 0, "the first scan to connect")

        refused = await client.post("/tls/scans", json={"targets": [f"127.0.0.1:{tls_server.port}"], "checks": CHECKS})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "7"
        assert "1 scans are running already" in refused.json()["detail"]

        assert (await client.delete(f"/tls/scans/{first['id']}")).status_code == 204
        assert (await client.get(f"/tls/scans/{first['id']}")).status_code == 404
        await wait_until_async(lambda: scanner.statistics().connections_open == 0, "the scanner to close its sockets")
        await wait_until_async(lambda: silent_server.open_connections == 0, "the server to see them closed")

        async def slot_is_free() -> bool:
            response = await client.post(
                "/tls/scans", json={"targets": [f"127.0.0.1:{tls_server.port}"], "checks": CHECKS}
            )
            assert response.status_code in (202, 429), response.text
            return response.status_code == 202

        await _eventually(slot_is_free, "a new scan to be accepted")


async def _eventually(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    with anyio.move_on_after(10):
        while not await condition():  # noqa: ASYNC110 - polls the service over HTTP, as a client would
            await anyio.sleep(0.02)
        return
    pytest.fail(f"still waiting for: {what}")


async def test_unknown_scans_are_404() -> None:
    async with service(Scanner()) as client:
        for method, path in [("GET", ""), ("GET", "/stream"), ("DELETE", "")]:
            response = await client.request(method, f"/tls/scans/not-a-scan{path}")
            assert response.status_code == 404, (method, path)
            assert "no scan 'not-a-scan'" in response.json()["detail"]


async def test_finished_scans_are_forgotten_first_when_the_store_is_full(tls_server: LocalTLSServer) -> None:
    limits = ScanServiceLimits(max_concurrent_scans=1, max_stored_scans=2)
    async with service(Scanner(), limits=limits) as client:
        ids = []
        for _ in range(3):
            scan = await start(client, [f"127.0.0.1:{tls_server.port}"])
            await client.get(f"/tls/scans/{scan['id']}/stream")  # returns once the scan has ended
            ids.append(scan["id"])
        statuses = [(await client.get(f"/tls/scans/{scan_id}")).status_code for scan_id in ids]
    assert statuses == [404, 200, 200]


async def test_without_its_lifespan_the_router_answers_503() -> None:
    app = FastAPI()
    app.include_router(create_scan_router(Scanner(), policy=LOOPBACK_ONLY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/scans", json={"targets": ["127.0.0.1"]})
    assert response.status_code == 503
    assert "lifespan" in response.json()["detail"]


async def test_the_checks_on_offer_are_listed_by_name() -> None:
    async with service(Scanner()) as client:
        names = (await client.get("/tls/checks")).json()
    assert names == [check.name for check in DEFAULT_CHECKS]


async def test_stopping_the_app_cancels_its_scans_and_closes_their_connections(silent_server: SilentServer) -> None:
    scanner = Scanner(SLOW)
    async with service(scanner) as client:
        await start(client, [f"127.0.0.1:{silent_server.port}"])
        await wait_until_async(lambda: silent_server.open_connections > 0, "the scan to connect")
    # The lifespan returned only after the scan's task had ended, its connections closed.
    assert scanner.statistics().connections_open == 0
    await wait_until_async(lambda: silent_server.open_connections == 0, "the server to see the connections closed")


async def test_a_client_disconnecting_from_the_stream_cancels_the_scan(
    tls_server: LocalTLSServer, silent_server: SilentServer
) -> None:
    """The ASGI conversation of a client that reads one result and hangs up, without an HTTP server."""
    scanner = Scanner(SLOW)
    app = FastAPI()
    app.include_router(create_scan_router(scanner, policy=LOOPBACK_ONLY))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            targets = [f"127.0.0.1:{tls_server.port}", f"127.0.0.1:{silent_server.port}"]
            scan = await start_plain(client, targets)

        hung_up = anyio.Event()
        chunks: list[bytes] = []
        requests_received = 0

        async def receive() -> dict[str, Any]:
            nonlocal requests_received
            requests_received += 1
            if requests_received == 1:
                return {"type": "http.request", "body": b"", "more_body": False}
            await hung_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message["body"]:
                chunks.append(message["body"])
                await wait_until_async(lambda: silent_server.open_connections > 0, "the silent server's connections")
                hung_up.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/scans/{scan['id']}/stream",
            "raw_path": f"/scans/{scan['id']}/stream".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"t")],
            "client": ("127.0.0.1", 50000),
            "server": ("t", 80),
        }
        with anyio.fail_after(10):
            await app(scope, receive, send)  # returns once the disconnect is seen
        assert json.loads(chunks[0])["target"]["port"] == tls_server.port

        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def scan_ended() -> bool:
                return (await client.get(f"/scans/{scan['id']}")).json()["status"] != "running"

            await _eventually(scan_ended, "the scan to end")
            state = (await client.get(f"/scans/{scan['id']}")).json()
        assert state["status"] == "cancelled"
        # Its status changes only once its run has ended, connections closed.
        assert scanner.statistics().connections_open == 0
        assert state["reason"] == "the streaming client disconnected"
        assert state["servers_done"] == 1
    await wait_until_async(lambda: silent_server.open_connections == 0, "the server to see the connections closed")


async def start_plain(client: httpx.AsyncClient, targets: list[str]) -> dict[str, Any]:
    response = await client.post("/scans", json={"targets": targets, "checks": CHECKS})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_router_serves_one_app_at_a_time() -> None:
    router = create_scan_router(ScanConfig(), policy=LOOPBACK_ONLY)
    first, second = FastAPI(), FastAPI()
    first.include_router(router)
    second.include_router(router)
    async with first.router.lifespan_context(first):
        with pytest.raises(RuntimeError, match="include the router in one app only"):
            async with second.router.lifespan_context(second):
                pass


async def test_the_routes_are_described_in_openapi() -> None:
    app = FastAPI()
    app.include_router(create_scan_router(ScanConfig(), policy=LOOPBACK_ONLY), prefix="/tls")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    assert sorted(paths) == [
        "/tls/checks",
        "/tls/metrics",
        "/tls/policies",
        "/tls/scans",
        "/tls/scans/{scan_id}",
        "/tls/scans/{scan_id}/stream",
    ]
    assert set(paths["/tls/scans"]["post"]["responses"]) == {"202", "403", "422", "429", "503"}
    stream = paths["/tls/scans/{scan_id}/stream"]["get"]
    assert set(stream["responses"]["200"]["content"]) >= {"application/x-ndjson", "text/event-stream"}
    assert {parameter["name"] for parameter in stream["parameters"]} == {"scan_id", "format", "last-event-id"}
    assert "text/plain; version=0.0.4; charset=utf-8" in paths["/tls/metrics"]["get"]["responses"]["200"]["content"]
