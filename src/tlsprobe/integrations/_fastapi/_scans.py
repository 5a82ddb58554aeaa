"""The scans a service holds: their state, how each runs and ends, and the bounded registry that keeps them.

A scan runs in the service's task group (the app's lifespan), not in the request that started it, and ends in one
of three ways: completed, cancelled (``cancel()``: a client hung up or deleted it, or the app is shutting down), or
failed (an unexpected error, logged). Its results are kept as the CLI's per-server JSON objects, in arrival order,
and readers wait for the next one through ``wait_for_change``. A scan may be judged against another policy than
its scanner's (``ScanConfig.policy``): each result's ``compliance`` is then that policy's verdict.

The registry holds at most ``max_stored`` scans: when it is full, the scan that finished first is forgotten to make
room. At most ``max_active`` run at once; one more is refused (``ScanCapacityReached``) rather than queued. It
lists them newest first, a page at a time (``page``).
"""

from __future__ import annotations

import datetime
import enum
import logging
import secrets
from collections.abc import Sequence
from typing import Any, final

import anyio
import anyio.abc
import attrs

from tlsprobe._engine._scanner import Scanner
from tlsprobe._model._assessment import Policy
from tlsprobe._model._config import ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks._base import Check
from tlsprobe.integrations._fastapi._recorder import ServiceRecorder
from tlsprobe.policy import evaluate_policy

logger = logging.getLogger("tlsprobe.integrations.fastapi")


class ScanStatus(enum.Enum):
    """Where a scan stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ScanCapacityReached(Exception):  # noqa: N818 - a condition the router answers with 429, not a fault
    """As many scans as allowed are running already."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@final
class Scan:
    """One scan and what it has produced so far. Mutated only by its own run and by ``cancel``."""

    def __init__(
        self, *, targets: Sequence[ServerTarget], checks: Sequence[Check[Any]], policy: Policy | None = None
    ) -> None:
        self.id = secrets.token_urlsafe(16)  # 128 random bits: unguessable, unless the service lists its scans
        self.targets = tuple(targets)
        self.checks = tuple(checks)
        self.policy = policy
        """The policy the results are judged against; None: no verdict."""
        self.created_at = _now()
        self.finished_at: datetime.datetime | None = None
        self.status = ScanStatus.RUNNING
        self.reason: str | None = None
        self.results: list[Any] = []
        self.streams_attached = 0
        # Created now, entered by the run: a cancel() that comes before the run starts still stops it.
        self._cancel_scope = anyio.CancelScope()
        self._changed = anyio.Event()

    @property
    def finished(self) -> bool:
        return self.status is not ScanStatus.RUNNING

    def cancel(self, reason: str) -> None:
        """Stop the scan; its open connections are closed before its status becomes ``cancelled``."""
        if not self.finished and not self._cancel_scope.cancel_called:
            self.reason = reason
            self._cancel_scope.cancel()

    async def wait_for_change(self) -> None:
        """Return once a result arrives or the scan ends (at once if it has ended)."""
        if not self.finished:
            await self._changed.wait()

    def _judged(self, result: ServerScanResult, judged_by: Policy | None) -> ServerScanResult:
        """``result`` with the verdict of this scan's policy, which the scanner (judging by ``judged_by``) lacks."""
        if self.policy == judged_by:
            return result
        compliance = None if self.policy is None else evaluate_policy(result, self.policy, findings=result.findings)
        return attrs.evolve(result, compliance=compliance)

    def _notify(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    def _finish(self, status: ScanStatus, reason: str | None = None) -> None:
        self.status = status
        if reason is not None:
            self.reason = reason
        self.finished_at = _now()
        self._notify()

    def _note(self, problem: str) -> None:
        """Say in the scan's ``reason`` what went wrong beside it (the store failed) without ending it."""
        self.reason = problem if self.reason is None else f"{self.reason}; {problem}"

    async def run(self, scanner: Scanner, recorder: ServiceRecorder) -> None:
        """Scan, keeping results as they arrive (in memory for readers, in the recorder's store and metrics);
        never raises except to let cancellation through."""
        completed = False
        try:
            with self._cancel_scope:
                async with (
                    recorder.recording(self.targets, self.id, self._note) as record,
                    scanner.scan(self.targets, self.checks) as results,
                ):
                    async for result in results:
                        server = to_jsonable(self._judged(result, scanner.config.policy))
                        self.results.append(server)
                        self._notify()
                        await record(server)
                completed = True
        except Exception as error:
            # One scan's unexpected error must end that scan only, not the lifespan task group and every other scan.
            logger.exception("scan %s failed", self.id)
            self._finish(ScanStatus.FAILED, f"{type(error).__name__}: {error}")
        finally:
            if not self.finished:  # scope cancelled by cancel(), or the service itself shutting down
                if completed:
                    self._finish(ScanStatus.COMPLETED)
                else:
                    self._finish(ScanStatus.CANCELLED, self.reason or "the scan service stopped")


@final
class ScanRegistry:
    """The scans of one service, in creation order, bounded in number (see the module docstring).

    A scan counts against ``max_active`` until its run has really ended (connections closed), even once deleted.
    """

    def __init__(self, *, max_active: int, max_stored: int) -> None:
        if max_stored < max_active:
            raise ValueError("max_stored must be at least max_active, or running scans could not all be stored")
        self.max_active = max_active
        self.max_stored = max_stored
        self.running = 0
        """Scans whose run has not ended yet."""
        self._scans: dict[str, Scan] = {}

    def __len__(self) -> int:
        return len(self._scans)

    def start(self, scan: Scan, scanner: Scanner, group: anyio.abc.TaskGroup, recorder: ServiceRecorder) -> None:
        """Store ``scan`` and run it in ``group``, forgetting the earliest finished scan when full.

        :raises ScanCapacityReached: when ``max_active`` scans are running already.
        """
        if self.running >= self.max_active:
            raise ScanCapacityReached(f"{self.max_active} scans are running already")
        if len(self._scans) >= self.max_stored:
            # Never empty: fewer than max_active <= max_stored of the stored scans are running.
            finished = [stored for stored in self._scans.values() if stored.finished_at is not None]
            oldest = min(finished, key=lambda stored: stored.finished_at or stored.created_at)
            del self._scans[oldest.id]
        self._scans[scan.id] = scan
        self.running += 1
        group.start_soon(self._run, scan, scanner, recorder, name=f"tlsprobe scan {scan.id}")

    async def _run(self, scan: Scan, scanner: Scanner, recorder: ServiceRecorder) -> None:
        try:
            await scan.run(scanner, recorder)
        finally:
            self.running -= 1
            recorder.metrics.scans_ended[scan.status.value] += 1

    def get(self, scan_id: str) -> Scan | None:
        return self._scans.get(scan_id)

    def page(self, *, offset: int, limit: int, status: ScanStatus | None = None) -> tuple[list[Scan], int]:
        """Up to ``limit`` scans, newest first, after skipping ``offset``; and how many there are in all."""
        chosen = [scan for scan in reversed(self._scans.values()) if status is None or scan.status is status]
        return chosen[offset : offset + limit], len(chosen)

    def remove(self, scan_id: str) -> Scan | None:
        return self._scans.pop(scan_id, None)

    def cancel_all(self, reason: str) -> None:
        for scan in self._scans.values():
            scan.cancel(reason)
