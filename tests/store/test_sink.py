"""``store_sink`` on SQLite and on a real PostgreSQL: a scanner's stream goes into the store as it arrives, commits
come by batch size or by delay, and whatever ends the block (its end, an error, a cancellation) keeps what arrived."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator

import anyio
import anyio.to_thread
import pytest

from tests.servers.daemons import free_port
from tests.store.results import retarget, scripted_result, unreachable_result
from tlsprobe import ScanConfig, Scanner, ServerScanResult, Timeouts
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import summarize
from tlsprobe.store import ResultStore, StoreError, open_store, store_sink
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.anyio

T0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
HOUR_S = 3600.0


@pytest.fixture
def results() -> list[ServerScanResult]:
    """Twelve realistic results of distinct targets (made outside the event loop: the scripted checks run their own)."""
    base = scripted_result()
    return [retarget(base, f"host{index:03}.example") for index in range(12)]


@pytest.fixture
def unreachable() -> ServerScanResult:
    return unreachable_result()


def stored_count(store: ResultStore, scan_id: str) -> int:
    return sum(1 for _ in store.summaries(scan_id))


@pytest.fixture
def reader(store_location: str) -> Iterator[ResultStore]:
    """A second store on the same database: it sees only what was committed."""
    with open_store(store_location) as other:
        yield other


async def test_a_batch_is_committed_when_full_and_the_rest_on_exit(
    store: ResultStore, results: list[ServerScanResult], reader: ResultStore
) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    first, second, third = results[:3]
    async with store_sink(store, scan_id, batch_size=2, max_delay_s=HOUR_S) as sink:
        assert await sink.write(first)
        assert stored_count(reader, scan_id) == 0
        assert await sink.write(second)
        assert stored_count(reader, scan_id) == 2
        assert await sink.write(third)
        assert not await sink.write(first)
        assert stored_count(reader, scan_id) == 2
    assert stored_count(reader, scan_id) == 3
    assert (sink.stored, sink.repeated) == (3, 1)


async def test_a_batch_is_committed_after_its_delay_without_more_writes(
    store: ResultStore, results: list[ServerScanResult], reader: ResultStore
) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    async with store_sink(store, scan_id, batch_size=1000, max_delay_s=0.05) as sink:
        assert await sink.write(results[0])
        # The commit must come by itself; only another connection sees it, by polling (bounded generously).
        with anyio.fail_after(30):
            while await anyio.to_thread.run_sync(stored_count, reader, scan_id) == 0:  # noqa: ASYNC110
                await anyio.sleep(0.02)
        assert await sink.write(results[1])  # a new batch after the commit
    assert stored_count(reader, scan_id) == 2


async def test_a_cancelled_block_keeps_what_arrived(
    store: ResultStore, results: list[ServerScanResult], reader: ResultStore
) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    with anyio.CancelScope() as scope:
        async with store_sink(store, scan_id, batch_size=1000, max_delay_s=HOUR_S) as sink:
            for result in results[:3]:
                await sink.write(result)
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert stored_count(reader, scan_id) == 3


async def test_an_error_in_the_block_is_raised_as_is_and_keeps_what_arrived(
    store: ResultStore, results: list[ServerScanResult], reader: ResultStore
) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    with pytest.raises(RuntimeError, match=r"^the consumer broke$"):
        async with store_sink(store, scan_id, batch_size=1000, max_delay_s=HOUR_S) as sink:
            for result in results[:2]:
                await sink.write(result)
            raise RuntimeError("the consumer broke")
    assert stored_count(reader, scan_id) == 2


async def test_writing_to_an_unknown_scan_is_a_store_error(store: ResultStore, results: list[ServerScanResult]) -> None:
    with pytest.raises(StoreError, match=r"^no scan missing in .*: begin it first$"):
        async with store_sink(store, "missing") as sink:
            await sink.write(results[0])


async def test_concurrent_writers_share_one_sink(store: ResultStore, results: list[ServerScanResult]) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    batch = results
    answers: list[bool] = []
    async with store_sink(store, scan_id, batch_size=5, max_delay_s=HOUR_S) as sink:

        async def write(result: ServerScanResult) -> None:
            answers.append(await sink.write(result))

        async with anyio.create_task_group() as group:
            for result in batch + batch[:4]:
                group.start_soon(write, result)
    assert sorted(answers) == [False] * 4 + [True] * 12
    assert [summary.target for summary in store.summaries(scan_id)] == sorted(f"{r.target}" for r in batch)


async def test_the_sink_never_takes_the_default_worker_threads(
    store: ResultStore, results: list[ServerScanResult]
) -> None:
    # With every token of anyio's default limiter held, a sink on that limiter would wait for ever.
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    default = anyio.to_thread.current_default_thread_limiter()
    holders = [object() for _ in range(int(default.total_tokens))]
    for holder in holders:
        default.acquire_on_behalf_of_nowait(holder)
    try:
        with anyio.fail_after(60):
            async with store_sink(store, scan_id, batch_size=2, max_delay_s=HOUR_S) as sink:
                for result in results[:3]:
                    assert await sink.write(result)
    finally:
        for holder in holders:
            default.release_on_behalf_of(holder)
    assert stored_count(store, scan_id) == 3


@pytest.mark.realserver
async def test_a_real_scan_streams_into_the_store(store: ResultStore, test_pki: TestPKI) -> None:
    closed = free_port()
    with (
        LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as modern,
        LocalTLSServer(
            certfile=test_pki.ecdsa_chain,
            keyfile=test_pki.ecdsa_key,
            maximum_version=ssl.TLSVersion.TLSv1_2,
            http_response=False,
        ) as tls12,
    ):
        targets = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{tls12.port}", f"127.0.0.1:{closed}"]
        scan_id = store.begin_scan(list_key="local", started_at=datetime.datetime.now(datetime.UTC))
        received: list[ServerScanResult] = []
        config = ScanConfig(timeouts=Timeouts(connect_s=2.0, read_s=2.0))
        async with Scanner(config).scan([*targets, targets[0]]) as stream, store_sink(store, scan_id) as sink:
            async for result in stream:
                received.append(result)
                await sink.write(result)
    store.finish_scan(scan_id, completed_at=datetime.datetime.now(datetime.UTC))

    assert (sink.stored, sink.repeated) == (3, 1)
    first_of_each = {str(result.target): to_jsonable(result) for result in reversed(received)}
    expected = [first_of_each[key] for key in sorted(first_of_each)]
    assert list(store.servers(scan_id)) == expected
    assert list(store.summaries(scan_id)) == [summarize(server) for server in expected]
    reachable = {summary.target: summary.reachable for summary in store.summaries(scan_id)}
    assert reachable == {targets[0]: True, targets[1]: True, targets[2]: False}
    assert store.resolve("latest").server_count == 3
    (entry,) = store.history(targets[1])
    assert entry.versions[-1] == "tls1_2" and entry.certificate_fingerprints


async def test_unreachable_servers_are_stored_too(store: ResultStore, unreachable: ServerScanResult) -> None:
    scan_id = store.begin_scan(list_key="web", started_at=T0)
    async with store_sink(store, scan_id) as sink:
        assert await sink.write(unreachable)
    (summary,) = store.summaries(scan_id)
    assert (summary.reachable, summary.error) == (False, "connection_rejected: refused")
