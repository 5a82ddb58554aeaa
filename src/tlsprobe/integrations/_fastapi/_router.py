"""The ``APIRouter`` factory: request and response models, validation, and the service behind the routes.

Routes (relative to where the router is mounted):

- ``POST /scans``: validate the body, vet every target (``TargetPolicy``), start the scan in the background and
  answer ``202`` with the scan's state and a ``Location``. ``422`` for a malformed body, target or check name,
  ``403`` for a target the policy refuses, ``429`` with ``Retry-After`` when ``max_concurrent_scans`` are running,
  ``503`` when the router's lifespan is not running.
- ``GET /scans/{id}``: the scan's state and the results so far (``404`` for an unknown or forgotten id).
- ``GET /scans/{id}/stream?format=ndjson|sse``: the results already produced, then each one as it arrives.
  A client that disconnects before the end cancels the scan (unless another stream is attached).
- ``DELETE /scans/{id}``: cancel the scan if it is running and forget it (``204``).
- ``GET /checks``: the names of the checks a request may ask for.

The scans run in a task group opened by the router's lifespan, which FastAPI merges into the app's when the router
is included (``app.include_router``); shutting the app down cancels them and waits for their connections to close.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations at run time, and those defined
# inside create_scan_router name a local alias that a string annotation could not be resolved against.
import datetime
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final, final

import anyio
import anyio.abc
import attrs
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tlsprobe._engine._scanner import Scanner
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.integrations._fastapi._policy import TargetPolicy, TargetProblem, vet_target
from tlsprobe.integrations._fastapi._scans import Scan, ScanCapacityReached, ScanRegistry, ScanStatus
from tlsprobe.integrations._fastapi._streaming import ScanStreamResponse, StreamFormat

_MAX_TARGET_LENGTH: Final = 300


def _positive(_: object, attribute: "attrs.Attribute[Any]", value: float) -> None:
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


TargetText = Annotated[str, StringConstraints(min_length=1, max_length=_MAX_TARGET_LENGTH)]
CheckName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ScanRequest(BaseModel):
    """A scan to start."""

    model_config = ConfigDict(extra="forbid")

    targets: list[TargetText] = Field(
        min_length=1,
        description="Servers to scan: host, host:port or [IPv6]:port, optionally pinned to an address (host:port{ip}).",
        examples=[["example.com", "example.org:8443"]],
    )
    checks: list[CheckName] | None = Field(
        default=None,
        description="Names of the checks to run (see GET /checks); all of them when omitted.",
        examples=[["tls1_2_cipher_suites", "tls1_3_cipher_suites"]],
    )


class ScanView(BaseModel):
    """A scan's state and the results it has produced so far."""

    id: str = Field(description="The scan's id: unguessable, it is what grants access to the scan.")
    status: ScanStatus = Field(description="running, completed, cancelled or failed.")
    reason: str | None = Field(description="Why the scan was cancelled or failed.")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    targets: list[str] = Field(description="The targets, each pinned to the address that was checked and scanned.")
    checks: list[str]
    servers_done: int = Field(description="Servers whose result is in `results`.")
    results: list[dict[str, Any]] = Field(description="One object per server, as the CLI's JSON, in arrival order.")


def _view(scan: Scan) -> ScanView:
    return ScanView(
        id=scan.id,
        status=scan.status,
        reason=scan.reason,
        created_at=scan.created_at,
        finished_at=scan.finished_at,
        targets=[str(target) for target in scan.targets],
        checks=[check.name for check in scan.checks],
        servers_done=len(scan.results),
        results=list(scan.results),
    )


def _error(loc: tuple[str | int, ...], kind: str, message: str, value: object) -> dict[str, Any]:
    """One error in the shape of FastAPI's own 422 details, so clients parse every refusal the same way."""
    return {"type": kind, "loc": list(loc), "msg": message, "input": value}


@final
@attrs.frozen
class _Running:
    scanner: Scanner
    registry: ScanRegistry
    group: anyio.abc.TaskGroup


@final
class _ScanService:
    """What one router serves: its settings, and while its lifespan runs, the scanner and the scans."""

    def __init__(
        self,
        scanner: Scanner | ScanConfig | None,
        *,
        policy: TargetPolicy,
        limits: ScanServiceLimits,
        checks: Sequence[Check[Any]],
    ) -> None:
        self._scanner = scanner
        self.policy = policy
        self.limits = limits
        self.checks = {check.name: check for check in checks}
        if len(self.checks) != len(checks):
            raise ConfigurationError("the checks offered by a scan router must have unique names")
        self._running: _Running | None = None

    @asynccontextmanager
    async def lifespan(self, _app: object) -> AsyncIterator[None]:
        """Run the scans of this router while the app runs; cancel them, connections closed, when it stops."""
        if self._running is not None:
            raise RuntimeError("this scan router's lifespan is running already: include the router in one app only")
        scanner = self._scanner if isinstance(self._scanner, Scanner) else Scanner(self._scanner)
        registry = ScanRegistry(max_active=self.limits.max_concurrent_scans, max_stored=self.limits.max_stored_scans)
        body_error: Exception | None = None
        async with anyio.create_task_group() as group:
            self._running = _Running(scanner, registry, group)
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

    def running(self) -> _Running:
        if self._running is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the scan service is not running: its router's lifespan has not started (mount the router with "
                "app.include_router so that FastAPI runs it)",
            )
        return self._running

    def parse_request(self, body: ScanRequest) -> tuple[list[ServerTarget], list[Check[Any]]]:
        """The request's targets and checks. :raises RequestValidationError: naming every bad entry."""
        cap = self.limits.max_targets_per_scan
        if len(body.targets) > cap:
            message = f"at most {cap} targets per scan, got {len(body.targets)}"
            raise RequestValidationError([_error(("body", "targets"), "too_many_targets", message, len(body.targets))])
        errors: list[dict[str, Any]] = []
        targets: list[ServerTarget] = []
        for index, text in enumerate(body.targets):
            try:
                target = ServerTarget.parse(text)
            except ConfigurationError as error:
                errors.append(_error(("body", "targets", index), "invalid_target", str(error), text))
                continue
            if target in targets:
                errors.append(_error(("body", "targets", index), "duplicate_target", f"{target} is listed twice", text))
                continue
            targets.append(target)
        names = body.checks if body.checks is not None else list(self.checks)
        checks: list[Check[Any]] = []
        for index, name in enumerate(names):
            check = self.checks.get(name)
            if check is None:
                message = f"unknown check {name!r}; known checks: {', '.join(self.checks)}"
                errors.append(_error(("body", "checks", index), "unknown_check", message, name))
            elif check in checks:
                errors.append(_error(("body", "checks", index), "duplicate_check", f"{name} is listed twice", name))
            else:
                checks.append(check)
        if not checks and not errors:
            errors.append(_error(("body", "checks"), "no_checks", "at least one check is needed", names))
        if errors:
            raise RequestValidationError(errors)
        return targets, checks

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
            _error(
                ("body", "targets", index),
                "target_refused" if problem.refused else "target_unresolvable",
                problem.reason,
                str(targets[index]),
            )
            for index, problem in problems
        ]
        if any(problem.refused for _index, problem in problems):
            raise HTTPException(status.HTTP_403_FORBIDDEN, details)
        raise RequestValidationError(details)


def create_scan_router(
    scanner: Scanner | ScanConfig | None = None,
    *,
    policy: TargetPolicy | None = None,
    limits: ScanServiceLimits | None = None,
    checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    tags: Sequence[str] = ("tlsprobe",),
) -> APIRouter:
    """An ``APIRouter`` that runs TLS scans as a service; mount it with ``app.include_router(router, prefix=...)``.

    ``scanner``: the ``Scanner`` every scan shares (its limits then hold across all scans), or a ``ScanConfig``
    (or None for the defaults) from which the router's lifespan makes one each time the app starts. ``policy``
    decides which targets are accepted; the default accepts public addresses only. ``limits`` caps the scans.
    ``checks`` is the menu a request chooses from by name, and what it gets when it names none.

    Add authentication or rate limiting the FastAPI way: ``app.include_router(router, dependencies=[...])``.
    """
    service = _ScanService(
        scanner, policy=policy or TargetPolicy(), limits=limits or ScanServiceLimits(), checks=checks
    )
    router = APIRouter(lifespan=service.lifespan, tags=list(tags))
    Running = Annotated[_Running, Depends(service.running)]  # noqa: N806 - a type alias, named like one

    def find(running: _Running, scan_id: str) -> Scan:
        scan = running.registry.get(scan_id)
        if scan is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no scan {scan_id!r}: unknown, deleted, or forgotten")
        return scan

    @router.post(
        "/scans",
        status_code=status.HTTP_202_ACCEPTED,
        name="start_scan",
        summary="Start a scan in the background",
        responses={
            403: {"description": "A target is refused by the service's target policy."},
            422: {"description": "A malformed body, target or check name; each problem is listed."},
            429: {"description": "Too many scans are running; retry after the Retry-After header's seconds."},
        },
    )
    async def start_scan(body: ScanRequest, request: Request, response: Response, running: Running) -> ScanView:
        targets, chosen = service.parse_request(body)
        if running.registry.running >= service.limits.max_concurrent_scans:  # before any DNS work
            raise _too_many(service.limits)
        pinned = await service.vet(targets, running.scanner.config.timeouts.connect_s)
        scan = Scan(targets=pinned, checks=chosen)
        try:
            running.registry.start(scan, running.scanner, running.group)
        except ScanCapacityReached:  # another request took the last slot while this one resolved names
            raise _too_many(service.limits) from None
        response.headers["Location"] = str(request.url_for("get_scan", scan_id=scan.id))
        return _view(scan)

    @router.get("/scans/{scan_id}", name="get_scan", summary="A scan's state and results so far")
    async def get_scan(scan_id: str, running: Running) -> ScanView:
        return _view(find(running, scan_id))

    @router.get(
        "/scans/{scan_id}/stream",
        name="stream_scan",
        summary="Stream a scan's results as they arrive (NDJSON or Server-Sent Events)",
        responses={
            200: {
                "description": "NDJSON: one server result per line. SSE: `result` events, then one `end` event. "
                "Disconnecting before the end cancels the scan.",
                "content": {"application/x-ndjson": {}, "text/event-stream": {}},
            }
        },
    )
    async def stream_scan(
        scan_id: str,
        running: Running,
        stream_format: Annotated[StreamFormat, Query(alias="format")] = StreamFormat.NDJSON,
        last_event_id: Annotated[int | None, Header(ge=0)] = None,
    ) -> ScanStreamResponse:
        scan = find(running, scan_id)
        first = 0 if last_event_id is None or stream_format is not StreamFormat.SSE else last_event_id + 1
        return ScanStreamResponse(scan, stream_format, first_index=first, keepalive_s=service.limits.keepalive_s)

    @router.delete(
        "/scans/{scan_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="delete_scan",
        summary="Cancel a scan if it is running, and forget it",
        response_class=Response,
    )
    async def delete_scan(scan_id: str, running: Running) -> Response:
        scan = find(running, scan_id)
        running.registry.remove(scan_id)
        scan.cancel("deleted by a client")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/checks", name="list_checks", summary="The checks a scan may ask for, by name")
    async def list_checks() -> list[str]:
        return list(service.checks)

    return router


def _too_many(limits: ScanServiceLimits) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"{limits.max_concurrent_scans} scans are running already; retry later",
        headers={"Retry-After": str(limits.retry_after_s)},
    )
