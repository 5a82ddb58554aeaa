"""The driver: one target list, many machines, the same politeness, nothing lost.

``DistributedScanner`` has the interface of ``Scanner`` (``scan`` gives the same ``ScanResults`` stream, and
``statistics``), so that whatever consumes a scan (the command's report, JSON, store) consumes a distributed one
unchanged. A scan:

1. connects to Ray (``_ray.connect``);
2. plans: reads, resolves and buckets every target by its address (``_planning``);
3. starts one worker per CPU of the cluster and hands each bucket to a free one, at most ``units_per_worker``
   buckets per worker at a time, largest first; each bucket streams its results back as they finish;
4. gives each target's result out once: a worker that dies has its bucket's unreceived targets run again
   elsewhere (at least once), and a result that arrives twice is dropped (exactly once out); after
   ``max_attempts`` runs a target's result says its workers died;
5. kills every worker, however the scan ends (finished, left early, cancelled by Ctrl-C).

Memory on the driver grows with the number of targets (the plan, and the set of targets given out), not with
their results: results stream through a buffer of ``Limits.max_concurrent_servers``.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, final

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectSendStream

from tlsprobe._engine._inputs import TargetInput, require_unique_names
from tlsprobe._engine._scanner import ScannerStatistics, ScanResults
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe._model._results import CheckError, ErrorKind, ServerScanResult
from tlsprobe._net._identity import load_client_identity
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.distributed._buckets import BUCKETS_PER_WORKER, bucket_count
from tlsprobe.distributed._errors import ClusterError
from tlsprobe.distributed._planning import Plan, ScanUnit, failed_result, plan_scan
from tlsprobe.distributed._worker import WorkerProcess, WorkerSnapshot

UNITS_PER_WORKER: Final = 2
"""Buckets a worker runs at once: the next one starts while the last targets of the other finish."""
MAX_ATTEMPTS: Final = 3
"""Runs of a target, at most, when its workers keep dying."""
WORKER_START_S: Final = 120.0
"""How long the workers may take to start (a cluster with fewer free CPUs than workers never starts them all)."""
_POLL_S: Final = 0.5
_FINAL_POLL_S: Final = 10.0


@final
class DistributedScanner:
    """Scans servers on a Ray cluster; used as ``Scanner`` is, and its results are the same::

        scanner = DistributedScanner(ScanConfig(), address="auto")
        async with scanner.scan(["example.com", "example.org:8443"]) as results:
            async for result in results:
                ...

    ``address``: see ``connect`` (``auto``, ``host:port``, ``ray://host:port``, ``local``, ``local:N``); a process
    already connected to Ray (``ray.init``) uses that cluster. ``workers``: one per CPU of the cluster by default.
    The limits of ``config`` apply per worker; the per-address ones hold across the cluster, as every target of
    an address is scanned by one worker at a time. Requires ``pip install 'tlsprobe[ray]'``.
    """

    def __init__(
        self,
        config: ScanConfig | None = None,
        *,
        address: str | None = None,
        workers: int | None = None,
        buckets_per_worker: int = BUCKETS_PER_WORKER,
        units_per_worker: int = UNITS_PER_WORKER,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        """:raises ConfigurationError: the client certificate or key of ``config`` cannot be used, or a count is
        below 1."""
        self._config = config or ScanConfig()
        if self._config.client_credentials is not None:  # what the workers would refuse, refused here first
            load_client_identity(self._config.client_credentials)
        for name, value in (
            ("workers", workers or 1),
            ("buckets_per_worker", buckets_per_worker),
            ("units_per_worker", units_per_worker),
            ("max_attempts", max_attempts),
        ):
            if value < 1:
                raise ConfigurationError(f"{name} must be at least 1, not {value}")
        self._address = address
        self._workers = workers
        self._buckets_per_worker = buckets_per_worker
        self._units_per_worker = units_per_worker
        self._max_attempts = max_attempts
        self._statistics = _ClusterStatistics()
        self._processes: list[WorkerProcess] = []
        self.repeated_results = 0
        """Results dropped because their target's result was already given out (a bucket run again)."""
        self.reruns = 0
        """Buckets whose unfinished targets were run again after their worker died."""

    @property
    def config(self) -> ScanConfig:
        """The configuration every worker scans with."""
        return self._config

    def statistics(self) -> ScannerStatistics:
        """Where the scans stand, summed over every worker of the cluster (see ``_ClusterStatistics``)."""
        return self._statistics.total()

    def worker_processes(self) -> tuple[WorkerProcess, ...]:
        """The processes of the current (or last) scan's workers, as they started."""
        return tuple(self._processes)

    @asynccontextmanager
    async def scan(
        self,
        targets: Iterable[TargetInput] | AsyncIterable[TargetInput],
        checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    ) -> AsyncIterator[ScanResults]:
        """Scan ``targets`` on the cluster with ``checks``; results stream out as each server finishes, one per
        distinct target. Every target is read and resolved before the first is scanned. Leaving the block early,
        or cancelling it, stops every worker.

        :raises ConfigurationError: two checks with the same name, or a target string that does not parse.
        :raises ClusterError: Ray is missing, the cluster cannot be reached, or no worker starts.
        """
        require_unique_names(checks)
        ray_api = _import_ray()
        session = ray_api.connect(self._address)
        workers: list[Any] = []
        run = _Run(self, ray_api)
        self._statistics.begin()
        consumer_error: Exception | None = None
        try:
            count = self._workers or ray_api.cluster_cpus()
            plan = await plan_scan(targets, self._config, bucket_count(count, self._buckets_per_worker))
            workers = ray_api.start_workers(count, self._config, checks)
            workers = await run.started(workers)
            send, receive = anyio.create_memory_object_stream[ServerScanResult](
                max_buffer_size=self._config.limits.max_concurrent_servers
            )
            results = ScanResults(receive)
            with send:  # closed by ``execute`` once every result is out; here too, should it never start
                async with anyio.create_task_group() as group:
                    group.start_soon(run.execute, plan, workers, send)
                    try:
                        with receive:
                            yield results
                    except Exception as error:  # the caller's own exception: re-raised as is, not in a group
                        consumer_error = error
                    finally:
                        group.cancel_scope.cancel()
        finally:  # no await here: nothing can cancel it halfway
            run.stop(workers)
            session.close()
        if consumer_error is not None:
            raise consumer_error


@final
class _Run:
    """One scan's dispatch: buckets to free workers, results out once, dead workers' targets again."""

    def __init__(self, scanner: DistributedScanner, ray_api: Any) -> None:
        self._scanner = scanner
        self._ray = ray_api
        self._given_out: set[ServerTarget] = set()
        self._streams: set[Any] = set()

    async def started(self, workers: list[Any]) -> list[Any]:
        """The workers that started (each asked where it runs); the others are killed.

        :raises ClusterError: none started in ``WORKER_START_S``."""
        processes: dict[int, WorkerProcess] = {}

        async def describe(index: int, worker: Any) -> None:
            with contextlib.suppress(*self._ray.WORKER_DIED):
                processes[index] = await worker.describe.remote(index)

        with anyio.move_on_after(WORKER_START_S):
            async with anyio.create_task_group() as group:
                for index, worker in enumerate(workers):
                    group.start_soon(describe, index, worker)
        self._ray.stop_workers([worker for index, worker in enumerate(workers) if index not in processes])
        if not processes:
            raise ClusterError(f"no Ray worker started in {WORKER_START_S:g} s (are the cluster's CPUs taken?)")
        self._scanner._processes = [processes[index] for index in sorted(processes)]
        return [workers[index] for index in sorted(processes)]

    async def execute(self, plan: Plan, workers: list[Any], send: MemoryObjectSendStream[ServerScanResult]) -> None:
        """Run the plan; the stream ends when every target's result is out."""
        with send:
            for result in plan.unresolved:
                await self._give_out(send, result)
            async with anyio.create_task_group() as group:
                group.start_soon(self._poll_forever, workers)
                await self._dispatch(plan.units, workers, send)
                group.cancel_scope.cancel()
            with anyio.move_on_after(_FINAL_POLL_S):
                await self._poll(workers)  # the final figures, before the workers are killed
            self._scanner._statistics.running = False

    async def _dispatch(
        self, units: Sequence[ScanUnit], workers: list[Any], send: MemoryObjectSendStream[ServerScanResult]
    ) -> None:
        if not units:
            return
        scanner = self._scanner
        work_send, work_receive = anyio.create_memory_object_stream[ScanUnit](max_buffer_size=math.inf)
        # A free place on a worker; round robin over the workers first, so that every worker gets work at once.
        seats_send, seats_receive = anyio.create_memory_object_stream[int](max_buffer_size=math.inf)
        for _, index in itertools.product(range(scanner._units_per_worker), range(len(workers))):
            seats_send.send_nowait(index)
        for unit in units:
            work_send.send_nowait(unit)
        outstanding = len(units)

        async def run_unit(index: int, unit: ScanUnit) -> None:
            nonlocal outstanding
            again: ScanUnit | None = None
            try:
                again = await self._run_unit(workers[index], unit, send)
            finally:
                if again is None:
                    seats_send.send_nowait(index)
                else:  # its worker died: Ray restarts it, and calls made meanwhile would fail at once
                    restarts.start_soon(seat_back_when_alive, index)
            if again is not None:
                scanner.reruns += 1
                work_send.send_nowait(again)
                return
            outstanding -= 1
            if outstanding == 0:
                work_send.close()

        async def seat_back_when_alive(index: int) -> None:
            # A rerun sent to a worker still restarting would fail at once and count as one more death: on a
            # loaded machine, a target then ran out of attempts after a single kill. Its other work goes to the
            # other workers meanwhile; a worker that never comes back gets its seat again after WORKER_START_S,
            # so that a dead cluster ends the scan (its targets said lost) instead of hanging it.
            with anyio.move_on_after(WORKER_START_S):
                while True:
                    try:
                        described = await workers[index].describe.remote(scanner._processes[index].worker)
                    except self._ray.WORKER_DIED:
                        await anyio.sleep(_POLL_S)
                    else:
                        scanner._processes[index] = described
                        break
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                seats_send.send_nowait(index)

        with work_send, work_receive, seats_send, seats_receive:
            async with anyio.create_task_group() as group, anyio.create_task_group() as restarts:
                async for unit in work_receive:
                    index = await seats_receive.receive()
                    group.start_soon(run_unit, index, unit)
                restarts.cancel_scope.cancel()  # every target is out: no seat is needed any more

    async def _run_unit(
        self, worker: Any, unit: ScanUnit, send: MemoryObjectSendStream[ServerScanResult]
    ) -> ScanUnit | None:
        """Stream one bucket's results out; the bucket's unfinished targets when its worker died, to run again."""
        scanner = self._scanner
        stream = self._ray.stream_unit(worker, unit, scanner._config.limits.max_concurrent_servers)
        self._streams.add(stream)
        death: Exception | None = None
        try:
            async for reference in stream:
                await self._give_out(send, await reference)
        except self._ray.WORKER_DIED as error:
            death = error
        except self._ray.RayTaskError as error:
            raise self._ray.task_failure(error) from None
        finally:
            self._streams.discard(stream)
        unfinished = tuple(planned for planned in unit.targets if planned.target not in self._given_out)
        if not unfinished:
            return None
        if unit.attempt < scanner._max_attempts:
            return attrs.evolve(unit, targets=unfinished, attempt=unit.attempt + 1)
        reason = f"{type(death).__name__}" if death is not None else "the worker ended its bucket without them"
        lost = CheckError(
            kind=ErrorKind.INTERNAL,
            message=f"not scanned: the Ray workers scanning it died {unit.attempt} times ({reason})",
            exception=f"{ClusterError.__module__}.{ClusterError.__qualname__}",
        )
        for planned in unfinished:
            now = datetime.datetime.now(datetime.UTC)
            await self._give_out(
                send, failed_result(planned.target, lost, scanner._config, started_at=now, duration_s=0.0)
            )
        return None

    async def _give_out(self, send: MemoryObjectSendStream[ServerScanResult], result: ServerScanResult) -> None:
        """Send ``result`` on, unless its target's result is already out (exactly once out)."""
        if result.target in self._given_out:
            self._scanner.repeated_results += 1
            return
        self._given_out.add(result.target)
        self._scanner._statistics.given_out += 1
        # A consumer that left early closed the stream; the scan is being cancelled then.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await send.send(result)

    async def _poll_forever(self, workers: list[Any]) -> None:
        while True:
            await anyio.sleep(_POLL_S)
            await self._poll(workers)

    async def _poll(self, workers: list[Any]) -> None:
        """Every worker's statistics, each asked at once; a worker dead or restarting is left as it last was."""
        statistics = self._scanner._statistics

        async def ask(index: int, worker: Any) -> None:
            with anyio.move_on_after(_POLL_S * 4), contextlib.suppress(*self._ray.WORKER_DIED):
                snapshot: WorkerSnapshot = await worker.snapshot.remote()
                statistics.record(index, snapshot)

        async with anyio.create_task_group() as group:
            for index, worker in enumerate(workers):
                group.start_soon(ask, index, worker)

    def stop(self, workers: list[Any]) -> None:
        """Cancel what is still running and kill every worker."""
        for stream in list(self._streams):
            self._ray.cancel(stream)
        self._ray.stop_workers(workers)
        self._scanner._statistics.running = False


@attrs.define
class _ClusterStatistics:
    """The workers' statistics, summed. A worker restarted after a crash is a new process whose counters start from
    zero: what its earlier processes did still counts (connections opened, checks, retries), and what is open or in
    progress is the newest process's. Servers completed are the results given out (each target once)."""

    given_out: int = 0
    running: bool = True
    snapshots: dict[tuple[int, int], ScannerStatistics] = attrs.Factory(dict)
    """The last statistics of every worker process of the scan under way, by (worker, process id)."""
    newest: dict[int, int] = attrs.Factory(dict)
    """The newest process of each worker."""
    earlier: tuple[int, int, int] = (0, 0, 0)
    """Checks completed, connections opened and retries of the scanner's earlier scans (their workers are gone)."""

    def begin(self) -> None:
        """A scan starts, with new workers; what earlier scans did still counts, as a ``Scanner``'s does."""
        total = self.total()
        self.earlier = (total.checks_completed, total.connections_opened, total.retries)
        self.snapshots.clear()
        self.newest.clear()
        self.running = True

    def record(self, worker: int, snapshot: WorkerSnapshot) -> None:
        self.snapshots[(worker, snapshot.pid)] = snapshot.statistics
        self.newest[worker] = snapshot.pid

    def total(self) -> ScannerStatistics:
        every = self.snapshots.values()
        current = [self.snapshots[key] for key in self.newest.items()] if self.running else []
        in_progress = sum(max(0, each.servers_started - each.servers_completed) for each in current)
        checks, opened, retries = self.earlier
        return ScannerStatistics(
            servers_started=self.given_out + in_progress,
            servers_completed=self.given_out,
            checks_completed=checks + sum(each.checks_completed for each in every),
            connections_open=sum(each.connections_open for each in current),
            connections_opened=opened + sum(each.connections_opened for each in every),
            retries=retries + sum(each.retries for each in every),
        )


def _import_ray() -> Any:
    try:
        import tlsprobe.distributed._ray as ray_api
    except ImportError as error:
        if error.name is not None and error.name.split(".")[0] == "ray":
            raise ClusterError("distributed scans need Ray: pip install 'tlsprobe[ray]'") from None
        raise
    return ray_api
