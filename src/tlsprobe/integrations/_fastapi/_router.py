"""The ``APIRouter`` factory: the routes of a scan service, and what each documents in OpenAPI.

Routes (relative to where the router is mounted):

- ``POST /scans``: validate the body, vet every target (``TargetPolicy``), start the scan in the background and
  answer ``202`` with the scan's state and a ``Location``. ``422`` for a malformed body, target, check or policy
  name, ``403`` for a target the policy refuses, ``429`` with ``Retry-After`` when ``max_concurrent_scans`` are
  running.
- ``GET /scans``: the scans, newest first, a page at a time (``limit``, ``offset``, ``status``); left out with
  ``list_scans=False``.
- ``GET /scans/{id}``: the scan's state and the results so far (``404`` for an unknown or forgotten id).
- ``GET /scans/{id}/stream?format=ndjson|sse``: the results already produced, then each one as it arrives, then
  how the scan ended. A client that disconnects before the end cancels the scan (unless another stream is attached).
- ``DELETE /scans/{id}``: cancel the scan if it is running and forget it (``204``).
- ``GET /checks``: the names of the checks a request may ask for.
- ``GET /policies``: the policies a request may name, and the service's own.

Every route that needs the scans answers ``503`` while the router's lifespan is not running.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations at run time, and those defined
# inside create_scan_router name a local alias that a string annotation could not be resolved against.
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final, get_args

import attrs
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from tlsprobe._engine._scanner import Scanner
from tlsprobe._model._assessment import Policy
from tlsprobe._model._config import ScanConfig
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.integrations._fastapi._judging import PolicyChoice, trusting
from tlsprobe.integrations._fastapi._models import (
    ErrorMessage,
    MozillaProfile,
    PoliciesOnOffer,
    ProblemList,
    ScanPage,
    ScanRequest,
    ScanView,
    scan_summary,
    scan_view,
    scan_view_model,
)
from tlsprobe.integrations._fastapi._policy import TargetPolicy
from tlsprobe.integrations._fastapi._scans import Scan, ScanCapacityReached, ScanStatus
from tlsprobe.integrations._fastapi._schema import result_types
from tlsprobe.integrations._fastapi._service import Running, ScanService, ScanServiceLimits
from tlsprobe.integrations._fastapi._streaming import ScanStreamResponse, StreamFormat
from tlsprobe.store import ResultStore

_PROMETHEUS_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"

_NOT_RUNNING: Final[dict[int | str, dict[str, Any]]] = {
    503: {"model": ErrorMessage, "description": "The router's lifespan is not running (the app is not serving it)."}
}
_UNKNOWN_SCAN: Final[dict[int | str, dict[str, Any]]] = {
    404: {"model": ErrorMessage, "description": "No such scan: an unknown id, or a scan deleted or forgotten."},
    **_NOT_RUNNING,
}
_STREAM_DESCRIPTION: Final = (
    "NDJSON: one server result per line (the CLI's `--jsonl` objects), then one last line "
    '`{"event": "end", "id": ..., "status": "completed"|"cancelled"|"failed", "reason": ..., "servers": N}`. '
    "SSE: `result` events (their `id` is the result's index, for `Last-Event-ID`), then one `end` event whose "
    'data is `{"id": ..., "status": ..., "reason": ..., "servers": N}`. A stream without its end was cut short. '
    "Disconnecting before the end cancels the scan, unless another stream of it is open."
)


def create_scan_router(
    scanner: Scanner | ScanConfig | None = None,
    *,
    policy: TargetPolicy | None = None,
    limits: ScanServiceLimits | None = None,
    checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    ca_file: str | Path | None = None,
    compliance_policy: Policy | None = None,
    named_policies: Mapping[str, Policy] | None = None,
    list_scans: bool = True,
    store: str | ResultStore | None = None,
    metrics: bool = True,
    tags: Sequence[str] = ("tlsprobe",),
) -> APIRouter:
    """An ``APIRouter`` that runs TLS scans as a service; mount it with ``app.include_router(router, prefix=...)``.

    ``scanner``: the ``Scanner`` every scan shares (its limits then hold across all scans), or a ``ScanConfig``
    (or None for the defaults) from which the router's lifespan makes one each time the app starts. ``policy``
    decides which targets are accepted; the default accepts public addresses only. ``limits`` caps the scans.
    ``checks`` is the menu a request chooses from by name, and what it gets when it names none.

    How the service judges: ``ca_file`` holds CAs its certificate check trusts besides the Mozilla and system
    stores (a private CA's servers are then trusted, not graded F); ``compliance_policy`` is the policy each scan
    is judged against unless its request picks a Mozilla profile (``"mozilla": "intermediate"``) or one of
    ``named_policies`` by name (``"policy": "internal"``). ``list_scans=False`` leaves ``GET /scans`` out, so that
    knowing a scan's id stays the only way to reach it. All are checked now: a mistake is a ``ConfigurationError``.

    What the service keeps: ``store`` (an open ``tlsprobe.store.ResultStore``, or its location, opened by the
    lifespan) receives every result as it arrives, as ``tlsprobe monitor`` writes its own, so ``tlsprobe history``
    and ``diff`` read both; ``metrics`` serves ``GET /metrics``, the latest result of each target scanned and the
    service's counters in the Prometheus text format (the same families as ``monitor --metrics-out``).

    Add authentication or rate limiting the FastAPI way: ``app.include_router(router, dependencies=[...])``.
    """
    offered = trusting(checks, ca_file)
    policies = PolicyChoice.checked(compliance_policy, named_policies or {})
    configured = scanner.config if isinstance(scanner, Scanner) else scanner
    if policies.default is None and configured is not None:  # the scanner's policy, as it would judge by itself
        policies = attrs.evolve(policies, default=configured.policy)
    service = ScanService(
        scanner,
        policy=policy or TargetPolicy(),
        limits=limits or ScanServiceLimits(),
        checks=offered,
        policies=policies,
        store=store,
    )
    view_model = scan_view_model(result_types(offered))
    router = APIRouter(lifespan=service.lifespan, tags=list(tags))
    RunningService = Annotated[Running, Depends(service.running)]  # noqa: N806 - a type alias, named like one

    def find(running: Running, scan_id: str) -> Scan:
        scan = running.registry.get(scan_id)
        if scan is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no scan {scan_id!r}: unknown, deleted, or forgotten")
        return scan

    @router.post(
        "/scans",
        status_code=status.HTTP_202_ACCEPTED,
        name="start_scan",
        summary="Start a scan in the background",
        response_model=view_model,
        responses={
            403: {"model": ProblemList, "description": "A target is refused by the service's target policy."},
            422: {"description": "A malformed body, target, check or policy name; each problem is listed."},
            429: {
                "model": ErrorMessage,
                "description": "Too many scans are running; retry after the Retry-After header's seconds.",
            },
            **_NOT_RUNNING,
        },
    )
    async def start_scan(body: ScanRequest, request: Request, response: Response, running: RunningService) -> ScanView:
        plan = service.parse_request(body)
        if running.registry.running >= service.limits.max_concurrent_scans:  # before any DNS work
            raise _too_many(service.limits)
        pinned = await service.vet(plan.targets, running.scanner.config.timeouts.connect_s)
        scan = Scan(targets=pinned, checks=plan.checks, policy=plan.policy)
        try:
            running.registry.start(scan, running.scanner, running.group, running.recorder)
        except ScanCapacityReached:  # another request took the last slot while this one resolved names
            raise _too_many(service.limits) from None
        response.headers["Location"] = str(request.url_for("get_scan", scan_id=scan.id))
        return scan_view(view_model, scan)

    if list_scans:

        @router.get(
            "/scans", name="list_scans", summary="The scans, newest first, a page at a time", responses=_NOT_RUNNING
        )
        async def list_all_scans(
            running: RunningService,
            limit: Annotated[int, Query(ge=1, le=100, description="Scans per page.")] = 20,
            offset: Annotated[int, Query(ge=0, description="Scans to skip, newest first.")] = 0,
            scan_status: Annotated[ScanStatus | None, Query(alias="status", description="Only these.")] = None,
        ) -> ScanPage:
            scans, total = running.registry.page(offset=offset, limit=limit, status=scan_status)
            return ScanPage(scans=[scan_summary(scan) for scan in scans], total=total, offset=offset, limit=limit)

    if metrics:

        @router.get(
            "/metrics",
            name="metrics",
            summary="Prometheus metrics: each target's latest result, and the service's counters",
            response_class=PlainTextResponse,
            responses={
                200: {"content": {_PROMETHEUS_TEXT: {}}, "description": "The Prometheus text format, version 0.0.4."},
                **_NOT_RUNNING,
            },
        )
        async def get_metrics(running: RunningService) -> PlainTextResponse:
            text = service.metrics.exposition(running=running.registry.running)
            return PlainTextResponse(text, media_type=_PROMETHEUS_TEXT)

    @router.get(
        "/scans/{scan_id}",
        name="get_scan",
        summary="A scan's state and results so far",
        response_model=view_model,
        responses=_UNKNOWN_SCAN,
    )
    async def get_scan(scan_id: str, running: RunningService) -> ScanView:
        return scan_view(view_model, find(running, scan_id))

    @router.get(
        "/scans/{scan_id}/stream",
        name="stream_scan",
        summary="Stream a scan's results as they arrive, then how it ended (NDJSON or Server-Sent Events)",
        response_class=ScanStreamResponse,  # no media type of its own: the 200 is not documented as JSON
        status_code=status.HTTP_200_OK,  # what FastAPI cannot read off this response class
        responses={
            200: {"description": _STREAM_DESCRIPTION, "content": {"application/x-ndjson": {}, "text/event-stream": {}}},
            **_UNKNOWN_SCAN,
        },
    )
    async def stream_scan(
        scan_id: str,
        running: RunningService,
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
        responses=_UNKNOWN_SCAN,
    )
    async def delete_scan(scan_id: str, running: RunningService) -> Response:
        scan = find(running, scan_id)
        running.registry.remove(scan_id)
        scan.cancel("deleted by a client")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/checks", name="list_checks", summary="The checks a scan may ask for, by name")
    async def list_checks() -> list[str]:
        return list(service.checks)

    @router.get("/policies", name="list_policies", summary="The policies a scan may be judged against")
    async def list_policies() -> PoliciesOnOffer:
        default = service.policies.default
        return PoliciesOnOffer(
            default=None if default is None else default.name,
            mozilla=list(get_args(MozillaProfile)),
            named={name: named.name for name, named in service.policies.named.items()},
        )

    return router


def _too_many(limits: ScanServiceLimits) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"{limits.max_concurrent_scans} scans are running already; retry later",
        headers={"Retry-After": str(limits.retry_after_s)},
    )
