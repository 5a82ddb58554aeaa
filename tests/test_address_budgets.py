"""The per-server limit holds per server *address*, whatever the targets, spellings, scans or callers.

Every test counts at the server's side with ``CountingProxy`` (a connection counts until the server has closed
it) and asserts the limit is never exceeded; none asserts that it is reached.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tlsprobe import Limits, ScanConfig, Scanner, ServerScanResult
from tlsprobe._net._address_budgets import AddressBudgets, FairShares, canonical_address
from tlsprobe.checks import check_by_name
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

# Enough probes at once to press on the limit: enumerations (native hellos), a nassl handshake in a thread.
_CHECKS = tuple(
    check_by_name(name)
    for name in ("tls1_2_cipher_suites", "tls1_3_cipher_suites", "certificate", "client_renegotiation", "heartbleed")
)


def _spellings(port: int) -> list[str]:
    """Eight ways to name one IPv4 loopback server."""
    return [
        f"127.0.0.1:{port}",
        f"127.1:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"127.000.000.001:{port}{{127.0.0.1}}",
        f"loopback.test:{port}{{127.0.0.1}}",
        f"other.test:{port}{{::ffff:7f00:1}}",
        f"127.0.0.1:{port}{{127.0.0.1}}",
        f"third.test:{port}{{127.0.0.1}}",
    ]


async def _scan_all(scanner: Scanner, targets: list[str]) -> list[ServerScanResult]:
    async with scanner.scan(targets, _CHECKS) as results:
        return [result async for result in results]


def _completed(results: list[ServerScanResult]) -> None:
    for result in results:
        assert result.connectivity.status == "completed", result.connectivity


async def test_a_target_listed_ten_times_is_scanned_once_within_the_limit(web_server: LocalTLSServer) -> None:
    with CountingProxy(*web_server.address) as proxy:
        results = await _scan_all(Scanner(), [f"127.0.0.1:{proxy.port}"] * 10)
    assert len(results) == 10
    _completed(results)
    assert all(result is results[0] for result in results)  # one scan, its result once per listing
    assert proxy.total_connections == results[0].connections
    assert proxy.max_concurrent_connections <= 5


async def test_eight_spellings_of_one_address_share_its_limit(web_server: LocalTLSServer) -> None:
    with CountingProxy(*web_server.address) as proxy:
        results = await _scan_all(Scanner(), _spellings(proxy.port))
    assert len(results) == 8
    _completed(results)
    assert {result.connectivity.profile.ip_address for result in results} == {"127.0.0.1"}  # type: ignore[union-attr]
    assert proxy.max_concurrent_connections <= 5


@pytest.mark.parametrize("limit", [1, 3])
async def test_concurrent_scans_of_one_scanner_share_the_limit(web_server: LocalTLSServer, limit: int) -> None:
    scanner = Scanner(ScanConfig(limits=Limits(max_connections_per_server=limit)))
    with CountingProxy(*web_server.address) as proxy:
        async with anyio.create_task_group() as group:
            for spelling in _spellings(proxy.port)[:3]:
                group.start_soon(scanner.scan_server, spelling, _CHECKS)
    assert proxy.max_concurrent_connections <= limit


async def test_ports_of_one_ip_share_the_per_ip_limit(web_server: LocalTLSServer) -> None:
    scanner = Scanner(ScanConfig(limits=Limits(max_connections_per_server=5, max_connections_per_ip=7)))
    with CountingProxy(*web_server.address, listen_ports=10) as proxy:
        results = await _scan_all(scanner, [f"127.0.0.1:{port}" for port in proxy.ports])
    _completed(results)
    assert len(results) == 10
    assert proxy.max_concurrent_connections <= 7


async def test_budgets_do_not_outlive_their_scans(web_server: LocalTLSServer) -> None:
    scanner = Scanner()
    with CountingProxy(*web_server.address) as proxy:
        await _scan_all(scanner, _spellings(proxy.port))
    assert scanner._budgets.addresses_in_use == 0


# The pure parts, without a server.


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("[::ffff:7f00:1]", "127.0.0.1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("Example.ORG.", "example.org"),
    ],
)
def test_one_spelling_per_address(spelling: str, canonical: str) -> None:
    assert canonical_address(spelling) == canonical


async def test_a_lease_shares_permits_per_address_and_per_ip() -> None:
    budgets = AddressBudgets(per_server=5, per_ip=10)
    with (
        budgets.lease("127.0.0.1", 443) as first,
        budgets.lease("::ffff:127.0.0.1", 443) as second,
        budgets.lease("127.0.0.1", 8443) as other_port,
    ):
        assert first.permits is second.permits
        assert other_port.permits is not first.permits
        assert other_port.ip_permits is first.ip_permits
        assert budgets.addresses_in_use == 2
    assert budgets.addresses_in_use == 0


async def test_scans_in_progress_get_equal_shares_and_a_scan_alone_gets_everything() -> None:
    shares = FairShares(threads=32, connections=256)
    with shares.share() as alone:
        assert (alone.threads.total_tokens, alone.connections.total_tokens) == (32, 256)
        with shares.share() as second, shares.share() as third:
            totals: set[Any] = {(s.threads.total_tokens, s.connections.total_tokens) for s in (alone, second, third)}
            assert totals == {(10, 85)}
        assert (alone.threads.total_tokens, alone.connections.total_tokens) == (32, 256)
