"""One scanner behind the service: its per-address limit holds across every request, as it does across scans."""

from __future__ import annotations

import json

import anyio
import pytest

from tests.integrations.test_router import service, start
from tests.test_address_budgets import _spellings
from tlsprobe import Scanner
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

_CHECKS = ["tls1_2_cipher_suites", "tls1_3_cipher_suites", "certificate", "client_renegotiation"]


async def test_four_requests_of_eight_spellings_stay_within_the_limit(web_server: LocalTLSServer) -> None:
    streamed: list[str] = []
    with CountingProxy(*web_server.address) as proxy:
        async with service(Scanner()) as client:
            scans = [await start(client, _spellings(proxy.port), _CHECKS) for _ in range(4)]

            async def read_stream(scan_id: str) -> None:
                response = await client.get(f"/tls/scans/{scan_id}/stream")
                *servers, end = response.text.splitlines()
                assert json.loads(end)["servers"] == 8
                streamed.extend(servers)

            async with anyio.create_task_group() as group:
                for scan in scans:
                    group.start_soon(read_stream, scan["id"])
    assert len(streamed) == 4 * 8
    assert all(json.loads(line)["connectivity"]["status"] == "completed" for line in streamed)
    assert proxy.max_concurrent_connections <= 5
