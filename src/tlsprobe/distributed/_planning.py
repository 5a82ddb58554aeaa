"""The driver's first step: read every target, resolve it once, and put it in the bucket of its address.

Names are resolved here, on the driver, and each target goes to its worker pinned to the address found, so that
every worker connects where the bucket says (a worker's resolver could answer otherwise, and the target would then
be scanned outside its bucket's politeness). The result still names the target as it was listed: the pin is only
how the worker reaches it. A name that does not resolve is its own result, failed as the ``Scanner`` fails it,
without a worker. ``ScanConfig.all_ips`` gives each address its own target, pinned, as the ``Scanner`` does; through
an HTTPS proxy names are left for the proxy to resolve and bucketed by name.

Every target is read before any is scanned: a bucket is only whole once the last target is known. A target listed
twice is planned once (one result per target: what a store or a JSON Lines file keeps).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import AsyncIterable, Iterable
from typing import Final

import anyio
import attrs

from tlsprobe._engine._errors import error_from_exception
from tlsprobe._engine._inputs import TargetInput, as_target, iterate_targets
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe._model._results import CheckError, ConnectivityFailed, ProbeCost, ServerScanResult
from tlsprobe._net._address_budgets import canonical_address
from tlsprobe._probing._connectivity import known_address, resolve, resolve_all
from tlsprobe.distributed._buckets import bucket_of
from tlsprobe.policy._assess import assess

CONCURRENT_LOOKUPS: Final = 64
"""Name lookups under way at once on the driver (the system resolver's threads)."""


@attrs.frozen(kw_only=True)
class PlannedTarget:
    """One target as the driver hands it to a worker."""

    target: ServerTarget
    """The target as its result names it (as listed; with ``all_ips``, pinned to one of its addresses)."""
    scan_target: ServerTarget
    """What the worker scans: the target pinned to the address the driver resolved."""


@attrs.frozen(kw_only=True)
class ScanUnit:
    """The unit of work: the targets of one bucket (or those of its targets not yet received, when re-run)."""

    bucket: int
    """The bucket's number."""
    targets: tuple[PlannedTarget, ...]
    """Its targets, in the order they were listed."""
    attempt: int = 1
    """1 for the first run; one more each time a worker died with targets of it unfinished."""


@attrs.frozen(kw_only=True)
class Plan:
    """Every target of a scan, in buckets."""

    units: tuple[ScanUnit, ...]
    """The buckets that have targets, largest first (the longest runs start first and end the scan sooner)."""
    unresolved: tuple[ServerScanResult, ...]
    """The results of the targets whose name did not resolve: already final."""

    @property
    def targets(self) -> int:
        """How many results the scan gives: one per planned target and one per unresolved one."""
        return sum(len(unit.targets) for unit in self.units) + len(self.unresolved)


async def plan_scan(
    targets: Iterable[TargetInput] | AsyncIterable[TargetInput],
    config: ScanConfig,
    buckets: int,
    *,
    lookups: int = CONCURRENT_LOOKUPS,
) -> Plan:
    """Read, resolve and bucket every target.

    :raises ConfigurationError: a target string does not parse (before any name is looked up).
    """
    listed = list(dict.fromkeys([as_target(item) async for item in iterate_targets(targets)]))
    placed: list[list[tuple[str, PlannedTarget]] | ServerScanResult | None] = [None] * len(listed)
    to_look_up: list[int] = []
    for index, target in enumerate(listed):
        address = known_address(target, config)
        if address is not None:
            placed[index] = [(address, PlannedTarget(target=target, scan_target=target))]
        else:
            to_look_up.append(index)
    to_look_up.reverse()  # popped from the end: looked up in the order listed

    async def look_up() -> None:
        # A few tasks take the names in turn: a task per name would hold memory for every name at once.
        while to_look_up:
            index = to_look_up.pop()
            placed[index] = await _place(listed[index], config)

    async with anyio.create_task_group() as group:
        for _ in range(min(lookups, len(to_look_up))):
            group.start_soon(look_up)
    by_bucket: dict[int, dict[ServerTarget, PlannedTarget]] = {}
    unresolved: list[ServerScanResult] = []
    for entry in placed:
        if isinstance(entry, ServerScanResult):
            unresolved.append(entry)
            continue
        assert entry is not None
        for key, planned in entry:
            # setdefault: an address found again (a listed pin beside the same address from --all-ips) stays once.
            by_bucket.setdefault(bucket_of(key, buckets), {}).setdefault(planned.target, planned)
    units = [ScanUnit(bucket=bucket, targets=tuple(planned.values())) for bucket, planned in by_bucket.items()]
    units.sort(key=lambda unit: (-len(unit.targets), unit.bucket))
    return Plan(units=tuple(units), unresolved=tuple(unresolved))


async def _place(target: ServerTarget, config: ScanConfig) -> list[tuple[str, PlannedTarget]] | ServerScanResult:
    """The (address, target) pairs of a name, looked up, or its failed result."""
    started_at = datetime.datetime.now(datetime.UTC)
    started = anyio.current_time()
    try:
        if config.all_ips:
            pinned = [attrs.evolve(target, ip=address) for address in await resolve_all(target, config)]
            return [(canonical_address(str(each.ip)), PlannedTarget(target=each, scan_target=each)) for each in pinned]
        address = await resolve(target, config)
    except Exception as error:  # what the Scanner would have made of it: the target's failed result
        failure = error_from_exception(error)
        return failed_result(target, failure, config, started_at=started_at, duration_s=anyio.current_time() - started)
    scan_target = attrs.evolve(target, ip=ipaddress.ip_address(address))
    return [(address, PlannedTarget(target=target, scan_target=scan_target))]


def failed_result(
    target: ServerTarget,
    error: CheckError,
    config: ScanConfig,
    *,
    started_at: datetime.datetime,
    duration_s: float,
) -> ServerScanResult:
    """A target that could not be scanned, as the ``Scanner`` describes one: connectivity failed, nothing probed,
    assessed against the scan's policy."""
    cost = ProbeCost(connections=0, retries=0, duration_s=duration_s)
    result = ServerScanResult(
        target=target,
        connectivity=ConnectivityFailed(error=error, cost=cost),
        checks=(),
        started_at=started_at,
        duration_s=duration_s,
    )
    return assess(result, config.policy)
