"""What the service keeps of its scans beyond memory: every result written to the results store (when the router
has one), and the metrics ``GET /metrics`` exposes.

The store is the CLI's (``tlsprobe.store``): scans from the service and from ``tlsprobe monitor`` share it, each
service scan under the list key ``service:<digest of its targets>``, so ``tlsprobe history`` and ``diff`` read
them. A store that fails while a scan runs must not end the scan: its failure is logged and said in the scan's
``reason``, and the results still reach their readers.

The metrics are the latest result of each target the service scanned (at most ``max_targets``, the oldest
forgotten first), in the same families as ``tlsprobe monitor --metrics-out``, with the service's own counters.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.to_thread

from tlsprobe._model._config import ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import ServerSummary, summarize, target_key

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from tlsprobe.store import ResultStore

logger = logging.getLogger("tlsprobe.integrations.fastapi")

MAX_TARGETS: Final = 10_000
"""Targets whose latest result the metrics keep, at most."""

Record = Callable[[Mapping[str, Any]], Awaitable[None]]
"""Keep one result (its JSON form)."""


def service_list_key(targets: Sequence[ServerTarget]) -> str:
    """The store's list key of a service scan: the same targets make the same list, whoever asks."""
    keys = sorted({target_key(to_jsonable(target)) for target in targets})
    return "service:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


class ServiceMetrics:
    """The latest summary of each target, and counters of scans and results."""

    def __init__(self, max_targets: int = MAX_TARGETS) -> None:
        self._latest: collections.OrderedDict[str, ServerSummary] = collections.OrderedDict()
        self._max_targets = max_targets
        self.scans_started = 0
        self.scans_ended: collections.Counter[str] = collections.Counter()
        self.results = 0
        self.store_failures = 0

    def observe(self, server: Mapping[str, Any]) -> None:
        summary = summarize(server)
        self._latest.pop(summary.target, None)
        self._latest[summary.target] = summary
        while len(self._latest) > self._max_targets:
            self._latest.popitem(last=False)
        self.results += 1

    def exposition(self, *, running: int) -> bytes:
        """The Prometheus text format of the targets' latest results and the service's counters."""
        from prometheus_client import CollectorRegistry, generate_latest

        from tlsprobe.monitoring import metrics_registry

        summaries = list(self._latest.values())
        latest = max((summary.started_at for summary in summaries), default=datetime.datetime.now(datetime.UTC))
        registry = metrics_registry(summaries, scan_started_at=latest)
        service = CollectorRegistry()
        service.register(self._collector(running))
        return generate_latest(registry) + generate_latest(service)

    def _collector(self, running: int) -> Collector:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
        from prometheus_client.registry import Collector

        metrics = self

        class Service(Collector):
            def collect(self) -> Any:
                yield GaugeMetricFamily("tlsprobe_service_scans_running", "Scans running now.", value=running)
                started = CounterMetricFamily("tlsprobe_service_scans_started", "Scans started since the start.")
                started.add_metric([], metrics.scans_started)
                yield started
                ended = CounterMetricFamily(
                    "tlsprobe_service_scans_ended", "Scans ended since the start, by status.", labels=["status"]
                )
                for status, count in sorted(metrics.scans_ended.items()):
                    ended.add_metric([status], count)
                yield ended
                results = CounterMetricFamily("tlsprobe_service_results", "Server results since the start.")
                results.add_metric([], metrics.results)
                yield results
                failures = CounterMetricFamily(
                    "tlsprobe_service_store_failures", "Scans whose results the store could not all keep."
                )
                failures.add_metric([], metrics.store_failures)
                yield failures

        return Service()


class ServiceRecorder:
    """The store (optional) and the metrics of one service."""

    def __init__(self, store: ResultStore | None, metrics: ServiceMetrics) -> None:
        self.store = store
        self.metrics = metrics

    @contextlib.asynccontextmanager
    async def recording(
        self, targets: Sequence[ServerTarget], scan_label: str, note_failure: Callable[[str], None]
    ) -> AsyncIterator[Record]:
        """A ``record`` function for one scan's results; the scan is begun in the store first and marked
        completed, or interrupted, at the end."""
        self.metrics.scans_started += 1
        if self.store is None:

            async def observe_only(server: Mapping[str, Any]) -> None:
                self.metrics.observe(server)

            yield observe_only
            return
        async with self._stored(self.store, targets, scan_label, note_failure) as record:
            yield record

    @contextlib.asynccontextmanager
    async def _stored(
        self,
        store: ResultStore,
        targets: Sequence[ServerTarget],
        scan_label: str,
        note_failure: Callable[[str], None],
    ) -> AsyncIterator[Record]:
        from tlsprobe.store import StoreError, store_sink

        working = True

        def failed(error: StoreError) -> None:
            nonlocal working
            if working:
                logger.error("the results store failed for scan %s: %s", scan_label, error)
                note_failure(f"the results store failed: {error}")
                self.metrics.store_failures += 1
            working = False

        scan_id: str | None = None
        try:
            scan_id = await anyio.to_thread.run_sync(
                lambda: store.begin_scan(
                    list_key=service_list_key(targets),
                    label=scan_label,
                    started_at=datetime.datetime.now(datetime.UTC),
                    target_count=len(targets),
                )
            )
        except StoreError as error:
            failed(error)
        completed = False
        try:
            if scan_id is None:

                async def observe_only(server: Mapping[str, Any]) -> None:
                    self.metrics.observe(server)

                yield observe_only
                completed = True
                return
            async with store_sink(store, scan_id) as sink:

                async def record(server: Mapping[str, Any]) -> None:
                    self.metrics.observe(server)
                    if working:
                        try:
                            await sink.write_jsonable(server)
                        except StoreError as error:
                            failed(error)

                yield record
            completed = True
        except StoreError as error:  # the sink's last commit
            failed(error)
            completed = True
        finally:
            if scan_id is not None:
                with anyio.CancelScope(shield=True):
                    try:
                        await anyio.to_thread.run_sync(
                            lambda: store.finish_scan(
                                scan_id,
                                completed_at=datetime.datetime.now(datetime.UTC),
                                status="completed" if completed else "interrupted",
                            )
                        )
                    except StoreError as error:
                        failed(error)
