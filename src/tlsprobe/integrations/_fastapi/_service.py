"""What one scan router serves: its settings, a request's validation, and while its lifespan runs, the scans.

The scans run in a task group opened by the router's lifespan, which FastAPI merges into the app's when the router
is included (``app.include_router``); shutting the app down cancels them and waits for their connections to close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, final

import anyio
import anyio.abc
import attrs
from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError

from tlsprobe._engine._scanner import Scanner
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._assessment import Policy
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe.checks._base import Check
from tlsprobe.integrations._fastapi._judging import PolicyChoice, PolicyProblem
from tlsprobe.integrations._fastapi._models import ScanRequest
from tlsprobe.integrations._fastapi._policy import TargetPolicy, TargetProblem, vet_target
from tlsprobe.integrations._fastapi._recorder import ServiceMetrics, ServiceRecorder
from tlsprobe.integrations._fastapi._scans import ScanRegistry

if TYPE_CHECKING:
    from tlsprobe.store import ResultStore


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ConfigurationError(f"{attribute.name} must be positive, got {value!r}")


@final
@attrs.frozen(kw_only=True)
class ScanServiceLimits:
    """How much a scan service takes on. Connections and threads are the ``Scanner``'s limits, shared by all scans."""

    max_concurrent_scans: int = attrs.field(default=4, validator=_positive)
    """Scans running at once; one more is refused with ``429 Too Many Requests``."""
    max_stored_scans: int = attrs.field(default=64, validator=_positive)
    """Scans kept in memory, results included; when full, the scan that finished first is forgotten."""
    max_targets_per_scan: int = attrs.field(default=16, validator=_positive)
    """Targets one request may name."""
    retry_after_s: int = attrs.field(default=10, validator=_positive)
    """The ``Retry-After`` a ``429`` carries."""
    keepalive_s: float = attrs.field(default=15.0, validator=_positive)
    """Seconds of silence after which an SSE stream sends a comment line, so proxies keep it open."""

    def __attrs_post_init__(self) -> None:
        if self.max_stored_scans < self.max_concurrent_scans:
            raise ConfigurationError("max_stored_scans must be at least max_concurrent_scans")


def problem(loc: tuple[str | int, ...], kind: str, message: str, value: object) -> dict[str, Any]:
    """One error in the shape of FastAPI's own 422 details, so clients parse every refusal the same way."""
    return {"type": kind, "loc": list(loc), "msg": message, "input": value}


@final
@attrs.frozen
class Running:
    """What exists while the router's lifespan runs."""

    scanner: Scanner
    registry: ScanRegistry
    group: anyio.abc.TaskGroup
    recorder: ServiceRecorder


@final
@attrs.frozen(kw_only=True)
class ScanRequestPlan:
    """A valid request: what to scan, with which checks, judged against which policy."""

    targets: list[ServerTarget]
    checks: list[Check[Any]]
    policy: Policy | None
    """The policy the request named, or the service's; None: no verdict."""


@final
class ScanService:
    """What one router serves: its settings, and while its lifespan runs, the scanner and the scans."""

    def __init__(
        self,
        scanner: Scanner | ScanConfig | None,
        *,
        policy: TargetPolicy,
        limits: ScanServiceLimits,
        checks: Sequence[Check[Any]],
        policies: PolicyChoice,
        store: str | ResultStore | None = None,
    ) -> None:
        self._scanner = scanner
        self._store = store
        self.metrics = ServiceMetrics()
        self.policy = policy
        self.limits = limits
        self.checks = {check.name: check for check in checks}
        if len(self.checks) != len(checks):
            raise ConfigurationError("the checks offered by a scan router must have unique names")
        self.policies = policies
        self._running: Running | None = None

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Run the scans of this router while the app runs; cancel them, connections closed, when it stops."""
        if self._running is not None:
            raise RuntimeError("this scan router's lifespan is running already: include the router in one app only")
        scanner = self._scanner if isinstance(self._scanner, Scanner) else Scanner(self._scanner)
        registry = ScanRegistry(max_active=self.limits.max_concurrent_scans, max_stored=self.limits.max_stored_scans)
        body_error: Exception | None = None
        async with self._opened_store() as store, anyio.create_task_group() as group:
            self._running = Running(scanner, registry, group, ServiceRecorder(store, self.metrics))
            try:
                yield
            except Exception as error:  # the app's own error, re-raised as is rather than inside an exception group
                body_error = error
            finally:
                self._running = None
                registry.cancel_all("the scan service is shutting down")
                group.cancel_scope.cancel()  # deleted scans still closing their connections too
        if body_error is not None:
            raise body_error

    @asynccontextmanager
    async def _opened_store(self) -> AsyncIterator[ResultStore | None]:
        """The store the scans are written to: one given open as it is; a location opened now, closed at the end
        (a store that cannot be opened stops the app's start-up with its one line, as a bad setting should)."""
        if self._store is None or not isinstance(self._store, str):
            yield self._store
            return
        from tlsprobe.store import open_store

        store = await anyio.to_thread.run_sync(open_store, self._store)
        try:
            yield store
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.close)

    def running(self) -> Running:
        if self._running is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the scan service is not running: its router's lifespan has not started (mount the router with "
                "app.include_router so that FastAPI runs it)",
            )
        return self._running

    def parse_request(self, body: ScanRequest) -> ScanRequestPlan:
        """The request's targets, checks and policy. :raises RequestValidationError: naming every bad entry."""
        cap = self.limits.max_targets_per_scan
        if len(body.targets) > cap:
            message = f"at most {cap} targets per scan, got {len(body.targets)}"
            raise RequestValidationError([problem(("body", "targets"), "too_many_targets", message, len(body.targets))])
        errors: list[dict[str, Any]] = []
        targets: list[ServerTarget] = []
        for index, text in enumerate(body.targets):
            try:
                target = ServerTarget.parse(text)
            except ConfigurationError as error:
                errors.append(problem(("body", "targets", index), "invalid_target", str(error), text))
                continue
            if target in targets:
                message = f"{target} is listed twice"
                errors.append(problem(("body", "targets", index), "duplicate_target", message, text))
                continue
            targets.append(target)
        names = body.checks if body.checks is not None else list(self.checks)
        checks: list[Check[Any]] = []
        for index, name in enumerate(names):
            check = self.checks.get(name)
            if check is None:
                message = f"unknown check {name!r}; known checks: {', '.join(self.checks)}"
                errors.append(problem(("body", "checks", index), "unknown_check", message, name))
            elif check in checks:
                errors.append(problem(("body", "checks", index), "duplicate_check", f"{name} is listed twice", name))
            else:
                checks.append(check)
        if not checks and not errors:
            errors.append(problem(("body", "checks"), "no_checks", "at least one check is needed", names))
        policy: Policy | None = None
        try:
            policy = self.policies.for_request(body.mozilla, body.policy)
        except PolicyProblem as error:
            loc = ("body",) if error.field is None else ("body", error.field)
            value = {"mozilla": body.mozilla, "policy": body.policy}
            errors.append(problem(loc, "unknown_policy", str(error), value if error.field is None else body.policy))
        if errors:
            raise RequestValidationError(errors)
        return ScanRequestPlan(targets=targets, checks=checks, policy=policy)

    async def vet(self, targets: list[ServerTarget], timeout_s: float) -> list[ServerTarget]:
        """Every target pinned to its checked address. :raises HTTPException: 403 or 422 naming each problem."""
        outcomes: list[ServerTarget | TargetProblem | None] = [None] * len(targets)

        async def vet_one(index: int) -> None:
            outcomes[index] = await vet_target(self.policy, targets[index], timeout_s=timeout_s)

        async with anyio.create_task_group() as group:
            for index in range(len(targets)):
                group.start_soon(vet_one, index)
        problems = [(index, outcome) for index, outcome in enumerate(outcomes) if isinstance(outcome, TargetProblem)]
        if not problems:
            return [outcome for outcome in outcomes if isinstance(outcome, ServerTarget)]
        details = [
            problem(
                ("body", "targets", index),
                "target_refused" if refusal.refused else "target_unresolvable",
                refusal.reason,
                str(targets[index]),
            )
            for index, refusal in problems
        ]
        if any(refusal.refused for _index, refusal in problems):
            raise HTTPException(status.HTTP_403_FORBIDDEN, details)
        raise RequestValidationError(details)
