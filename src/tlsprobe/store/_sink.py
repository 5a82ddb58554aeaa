"""Writing a scan's result stream into a store from async code, without blocking the event loop.

Each result is written as it arrives, in a worker thread, into a transaction the sink keeps open; the transaction
is committed every ``batch_size`` results or ``max_delay_s`` after its first one, whichever comes first, and when
the sink closes, whether the block ended, failed or was cancelled: what arrived is kept. Nothing is buffered in
memory (the open transaction holds the batch, in the database), and each write still says whether the target was
new. The worker threads are anyio's, under a limiter of the sink's own that lets one call run at a time: a
connection is never used by two threads at once, and the sink never takes the threads the scanner counts on.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final, TypeVar

import anyio
import anyio.to_thread

from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import ServerScanResult
from tlsprobe.store._api import ResultStore, ScanWriter
from tlsprobe.store._errors import StoreError

T = TypeVar("T")

BATCH_SIZE: Final = 200
"""Results per commit, at most."""
MAX_DELAY_S: Final = 1.0
"""How long a result may wait for its commit, at most (unless the database is slow)."""


class StoreSink:
    """Where a scan's results go: ``await sink.write(result)``. Made by ``store_sink``."""

    def __init__(self, writer: ScanWriter, limiter: anyio.CapacityLimiter, *, batch_size: int, max_delay_s: float):
        self._writer = writer
        self._limiter = limiter
        self._batch_size = batch_size
        self._max_delay_s = max_delay_s
        self._lock = anyio.Lock()
        self._pending = anyio.Event()  # set while a batch waits for its commit
        self._commit_due = math.inf
        self.stored = 0
        """Results stored so far (committed or in the open batch)."""
        self.repeated = 0
        """Results whose target the scan already held (not stored again)."""

    @property
    def scan_id(self) -> str:
        """The scan written to."""
        return self._writer.scan_id

    async def write(self, result: ServerScanResult) -> bool:
        """Store ``result``; False when the scan already holds a result for its target (left as it was).

        :raises StoreError: the database failed; the results of the batch not yet committed are lost.
        """
        return await self.write_jsonable(to_jsonable(result))

    async def write_jsonable(self, server: Mapping[str, Any]) -> bool:
        """``write`` for a result already in its JSON form (the command converts each result once)."""
        async with self._lock:
            stored = await self._in_thread(lambda: self._writer.write(server))
            if stored:
                self.stored += 1
                if self._writer.pending >= self._batch_size:
                    await self._commit()
                elif self._writer.pending == 1:
                    self._commit_due = anyio.current_time() + self._max_delay_s
                    self._pending.set()
            else:
                self.repeated += 1
        return stored

    async def _in_thread(self, call: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    async def _commit(self) -> None:
        await self._in_thread(self._writer.commit)
        self._commit_due = math.inf
        self._pending = anyio.Event()

    async def commit_when_due(self) -> None:
        """Commit each batch ``max_delay_s`` after its first result, until cancelled."""
        while True:
            await self._pending.wait()
            await anyio.sleep_until(self._commit_due)
            async with self._lock:
                if self._writer.pending and anyio.current_time() >= self._commit_due:
                    await self._commit()

    async def close(self) -> None:
        """Commit what is left and give the connection back."""
        async with self._lock:
            await self._in_thread(self._writer.close)


@contextlib.asynccontextmanager
async def store_sink(
    store: ResultStore, scan_id: str, *, batch_size: int = BATCH_SIZE, max_delay_s: float = MAX_DELAY_S
) -> AsyncIterator[StoreSink]:
    """A sink writing into ``scan_id`` of ``store`` (begun already) for the duration of the block::

        async with scanner.scan(targets) as results, store_sink(store, scan_id) as sink:
            async for result in results:
                await sink.write(result)

    Leaving the block commits what was written, also when it fails or is cancelled.
    """
    if batch_size < 1 or max_delay_s <= 0:
        raise ValueError("a batch holds at least one result and waits a positive time")
    limiter = anyio.CapacityLimiter(1)
    writer = await anyio.to_thread.run_sync(store.open_writer, scan_id, limiter=limiter)
    sink = StoreSink(writer, limiter, batch_size=batch_size, max_delay_s=max_delay_s)
    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(sink.commit_when_due)
            try:
                yield sink
            except Exception as error:  # the caller's own exception: re-raised as is, not in a group
                body_error = error
            finally:
                group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await sink.close()
            except StoreError:
                if body_error is None:
                    raise
    if body_error is not None:
        raise body_error
