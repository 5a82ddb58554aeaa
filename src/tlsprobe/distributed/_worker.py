"""What runs in each worker process: one ``Scanner``, scanning the buckets it is handed, results streamed out.

Free of Ray, so that it can be tested and used on its own; ``_ray.py`` makes it an actor. One worker is one process
with one event loop and one ``Scanner``: its limits (servers at once, open connections, worker threads for nassl
through the scanner's own ``CapacityLimiter``, never the loop's default executor) are the worker's, and the
per-address budgets are shared by every bucket the worker runs at once, which is why a bucket never runs on two
workers at a time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import attrs

from tlsprobe._engine._scanner import Scanner, ScannerStatistics
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks._base import Check
from tlsprobe.distributed._planning import ScanUnit


@attrs.frozen(kw_only=True)
class WorkerSnapshot:
    """Where one worker process stands."""

    pid: int
    """Its process id: a worker restarted after a crash is a new process with counters from zero."""
    statistics: ScannerStatistics
    """Its scanner's statistics."""


@attrs.frozen(kw_only=True)
class WorkerProcess:
    """Where one worker runs."""

    worker: int
    """The worker's number in the scan (0-based)."""
    pid: int
    """Its process id on its node."""
    node_id: str
    """The Ray node it runs on."""


class BucketWorker:
    """Scans buckets with one ``Scanner``, made on the first call, on the worker's own event loop."""

    def __init__(self, config: ScanConfig, checks: Sequence[Check[Any]]) -> None:
        self._config = config
        self._checks = tuple(checks)
        self._scanner: Scanner | None = None

    def _scanner_now(self) -> Scanner:
        # Made inside a call, so that its anyio primitives belong to the loop that runs the scans.
        if self._scanner is None:
            self._scanner = Scanner(self._config)
        return self._scanner

    async def snapshot(self) -> WorkerSnapshot:
        """The worker's process and its scanner's statistics."""
        return WorkerSnapshot(pid=os.getpid(), statistics=self._scanner_now().statistics())

    async def scan_unit(self, unit: ScanUnit) -> AsyncIterator[ServerScanResult]:
        """Scan a bucket's targets at the addresses the driver pinned; yield each result as it finishes, named
        as the target was listed (one result per listed target, even when two share a pinned target)."""
        listings: dict[ServerTarget, list[ServerTarget]] = {}
        for planned in unit.targets:
            listings.setdefault(planned.scan_target, []).append(planned.target)
        async with self._scanner_now().scan(list(listings), self._checks) as results:
            async for result in results:
                for target in listings.pop(result.target, ()):
                    yield result if target == result.target else attrs.evolve(result, target=target)
