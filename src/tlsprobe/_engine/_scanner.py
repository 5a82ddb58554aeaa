"""The orchestrator: a task group per server, limits, and a stream of results.

Concurrency, all of it here:
- servers: at most ``Limits.max_concurrent_servers`` are scanned at once; targets are consumed lazily;
- per server: connectivity first, then one task per check, all sharing the server's ``ConnectionPermits``;
- connections: every socket takes a server permit and a scan-wide one (``Limits.max_open_connections``);
- threads: nassl handshakes run in worker threads under one scan-wide ``CapacityLimiter``.
Results flow through a memory object stream whose producer task group is owned by ``Scanner.scan``'s context
manager, never around a ``yield`` of an async generator.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, final

import anyio
import anyio.abc
import anyio.to_thread
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from tlsprobe._engine._errors import error_from_exception, not_applicable
from tlsprobe._engine._inputs import TargetInput, as_target, iterate_targets, require_unique_names
from tlsprobe._exceptions import CheckNotApplicable, ConfigurationError
from tlsprobe._model._config import ScanConfig, ServerTarget, effective_starttls
from tlsprobe._model._results import (
    CheckCompleted,
    CheckFailed,
    CheckOutcome,
    CheckSkipped,
    ClientAuthRequirement,
    ConnectivityCompleted,
    ConnectivityFailed,
    ProbeCost,
    ServerScanResult,
)
from tlsprobe._net import (
    ConnectionSetup,
    ProbeMeter,
    ScanCounters,
    ServerConnector,
    connection_budget,
)
from tlsprobe._net._address_budgets import AddressBudgets, FairShares, ScanShare, ServerBudget
from tlsprobe._net._identity import HandshakeContext, load_client_identity
from tlsprobe._probing._connectivity import probe_server, resolve, resolve_all
from tlsprobe._probing._context import EarlyHello, ServerContext, SharedObservations
from tlsprobe._probing._prober import NativeProber
from tlsprobe.checks._base import Check, early_hellos, long_held_probe, probes_in_sequence
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.policy._assess import assess
from tlsprobe.wire import ClientHelloSpec
from tlsprobe.wire._answers import HelloOutcome


@final
@attrs.frozen(kw_only=True)
class ScannerStatistics:
    """A snapshot of a scanner's progress."""

    servers_started: int
    """Servers whose scan has begun."""
    servers_completed: int
    """Servers whose result has been produced."""
    checks_completed: int
    """Check outcomes produced (completed, failed or skipped)."""
    connections_open: int
    """Connections open right now."""
    connections_opened: int
    """Connections opened since the scanner was created."""
    retries: int
    """Probes repeated after a reset, refusal or timeout."""


@final
class ScanResults:
    """The results of a scan, in the order servers finish: ``async for result in results``."""

    def __init__(self, receive: MemoryObjectReceiveStream[ServerScanResult]) -> None:
        self._receive = receive
        self._input_error: ConfigurationError | None = None

    def __aiter__(self) -> ScanResults:
        return self

    async def __anext__(self) -> ServerScanResult:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            if self._input_error is not None:
                # Raised after every result of the valid targets before it, so nothing is lost.
                raise self._input_error from None
            raise StopAsyncIteration from None


@final
class Scanner:
    """Scans servers. One scanner may run several scans at once; its limits apply to all of them together.

    ::

        async with Scanner().scan(["example.com", "example.org:8443"]) as results:
            async for result in results:
                ...
    """

    def __init__(self, config: ScanConfig | None = None) -> None:
        """:raises ConfigurationError: the client certificate or key of ``config`` cannot be used."""
        self._config = config or ScanConfig()
        credentials = self._config.client_credentials
        self._client_identity = load_client_identity(credentials) if credentials is not None else None
        limits = self._config.limits
        self._server_slots = anyio.Semaphore(limits.max_concurrent_servers)
        open_connections = connection_budget(limits.max_open_connections)
        self._global_connections = anyio.Semaphore(open_connections)
        self._thread_limiter = anyio.CapacityLimiter(limits.max_threads)
        # Judging a result is pure but may test a server's DH prime for primality (up to seconds for a large prime
        # no table knows): in a thread of its own, so the event loop and every other server's deadlines go on.
        self._judging_limiter = anyio.CapacityLimiter(1)
        self._budgets = AddressBudgets(
            limits.max_connections_per_server, limits.max_connections_per_ip, limits.min_connection_interval_s
        )
        self._shares = FairShares(threads=limits.max_threads, connections=open_connections)
        self._counters = ScanCounters()
        self._servers_started = 0
        self._servers_completed = 0
        self._checks_completed = 0

    async def _assessed(self, result: ServerScanResult) -> ServerScanResult:
        """``result`` with its findings, grade, verdict and the rest of ``policy.assess``."""
        return await anyio.to_thread.run_sync(assess, result, self._config.policy, limiter=self._judging_limiter)

    @property
    def config(self) -> ScanConfig:
        """The configuration every scan of this scanner uses."""
        return self._config

    def statistics(self) -> ScannerStatistics:
        """Where the scanner's scans stand."""
        return ScannerStatistics(
            servers_started=self._servers_started,
            servers_completed=self._servers_completed,
            checks_completed=self._checks_completed,
            connections_open=self._counters.connections_open,
            connections_opened=self._counters.connections_opened,
            retries=self._counters.retries,
        )

    @asynccontextmanager
    async def scan(
        self,
        targets: Iterable[TargetInput] | AsyncIterable[TargetInput],
        checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    ) -> AsyncIterator[ScanResults]:
        """Scan ``targets`` (consumed lazily) with ``checks``; results stream out as each server finishes.

        Leaving the block early cancels the servers still being scanned.

        :raises ConfigurationError: for two checks with the same name, or a target string that does not parse.
        """
        require_unique_names(checks)
        send, receive = anyio.create_memory_object_stream[ServerScanResult](
            max_buffer_size=self._config.limits.max_concurrent_servers
        )
        results = ScanResults(receive)
        consumer_error: Exception | None = None
        with self._shares.share() as share:
            async with anyio.create_task_group() as group:
                group.start_soon(self._produce, targets, tuple(checks), share, send, results)
                try:
                    with receive:
                        yield results
                except Exception as error:  # the caller's own exception: re-raised as is, not in a group
                    consumer_error = error
                finally:
                    group.cancel_scope.cancel()
        if consumer_error is not None:
            raise consumer_error

    async def scan_server(self, target: TargetInput, checks: Sequence[Check[Any]] = DEFAULT_CHECKS) -> ServerScanResult:
        """Scan one server and return its result: at the first address its name resolves to, even with
        ``ScanConfig.all_ips`` (``scan`` gives every address its own result)."""
        require_unique_names(checks)
        with self._shares.share() as share:
            async with self._server_slots:
                return await self._assessed(await self._scan_one(as_target(target), tuple(checks), share))

    async def _produce(
        self,
        targets: Iterable[TargetInput] | AsyncIterable[TargetInput],
        checks: tuple[Check[Any], ...],
        share: ScanShare,
        send: MemoryObjectSendStream[ServerScanResult],
        results: ScanResults,
    ) -> None:
        # A target listed again while its scan is under way is not scanned twice: its scan's result is sent once
        # more for each repeat. Only targets in progress are remembered, so memory follows the servers in progress.
        repeats: dict[ServerTarget, int] = {}

        async def scan_and_send(
            target: ServerTarget, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
        ) -> None:
            # The slot is taken inside the task, so a task cancelled before it runs cannot leak one; the producer
            # waits in start() until it is taken, so targets are read no faster than servers finish.
            try:
                async with self._server_slots:
                    task_status.started()
                    result = await self._assessed(await self._scan_one(target, checks, share))
            finally:
                copies = 1 + repeats.pop(target)
            # A consumer that left early closed the stream; the scan is being cancelled then.
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                for _ in range(copies):
                    await send.send(result)

        async def scan_once(group: anyio.abc.TaskGroup, target: ServerTarget) -> None:
            if target in repeats:
                repeats[target] += 1
            else:
                repeats[target] = 0
                await group.start(scan_and_send, target)

        async def expand_and_scan(
            target: ServerTarget, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
        ) -> None:
            # --all-ips: one result per address. The lookup takes a server slot too, so that targets are still
            # read no faster than servers finish.
            async with self._server_slots:
                task_status.started()
                try:
                    addresses = await resolve_all(target, self._config)
                except Exception as error:  # the lookup failed: that is this target's result
                    addresses = None
                    self._servers_started += 1
                    failed = await self._assessed(
                        self._failed_result(target, error, ProbeMeter(), anyio.current_time())
                    )
            if addresses is None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await send.send(failed)
                return
            async with anyio.create_task_group() as addresses_group:
                for address in addresses:
                    await scan_once(addresses_group, attrs.evolve(target, ip=address))

        with send:
            async with anyio.create_task_group() as group:
                async for item in iterate_targets(targets):
                    try:
                        target = as_target(item)
                    except ConfigurationError as error:
                        results._input_error = error
                        break
                    if self._scans_every_address(target):
                        await group.start(expand_and_scan, target)
                    else:
                        await scan_once(group, target)

    def _scans_every_address(self, target: ServerTarget) -> bool:
        config = self._config
        return config.all_ips and config.https_tunnel is None and target.ip is None and not target.host_is_ip

    async def _scan_one(
        self, target: ServerTarget, checks: tuple[Check[Any], ...], share: ScanShare
    ) -> ServerScanResult:
        self._servers_started += 1
        started_at = datetime.datetime.now(datetime.UTC)
        started = anyio.current_time()
        meter = ProbeMeter(ahead_of_checks=True)
        try:
            ip_address = await resolve(target, self._config)
        except Exception as error:  # any failure to reach the server becomes its result
            return self._failed_result(target, error, meter, started, started_at)
        # Every target, spelling and scan that reaches this address shares its permits.
        with self._budgets.lease(ip_address, target.port) as budget:
            return await self._scan_address(target, checks, share, ip_address, budget, meter, started, started_at)

    async def _scan_address(
        self,
        target: ServerTarget,
        checks: tuple[Check[Any], ...],
        share: ScanShare,
        ip_address: str,
        budget: ServerBudget,
        meter: ProbeMeter,
        started: float,
        started_at: datetime.datetime,
    ) -> ServerScanResult:
        config = self._config
        try:
            starttls = effective_starttls(config.starttls if target.starttls is None else target.starttls, target.port)
            connector = ServerConnector(
                ip_address=ip_address,
                port=target.port,
                timeouts=config.timeouts,
                permits=budget.permits,
                ip_permits=budget.ip_permits,
                share=share,
                global_connections=self._global_connections,
                thread_limiter=self._thread_limiter,
                counters=self._counters,
                setup=ConnectionSetup(
                    proxy=config.https_tunnel,
                    starttls=starttls,
                    xmpp_domain=config.xmpp_to or target.host,
                    ehlo_name=config.smtp_ehlo_name,
                ),
                handshake=HandshakeContext(identity=self._client_identity),
                max_retries=config.limits.max_retries,
            )
            prober = NativeProber(connector, config.timeouts)
        except Exception as error:  # any failure to reach the server becomes its result
            return self._failed_result(target, error, meter, started, started_at)
        outcomes: list[CheckOutcome | None] = [None] * len(checks)
        shared = SharedObservations()
        async with anyio.create_task_group() as group:

            def beside_the_first_contact() -> None:
                # The half-close learning hello first (until it is compared, the checks' hellos are fully
                # closed), then the early broad hellos (half-closed ahead of it). Started only once the server is
                # known to be there: a scan of many unreachable targets starts (and cancels) nothing for them.
                group.start_soon(prober.learn_half_close, meter)
                group.start_soon(_send_early_hellos, prober, meter, shared, target, checks)

            prober.on_first_connection(beside_the_first_contact)
            prober.finish_closes_with(group.start_soon)
            try:
                profile = await probe_server(target, ip_address, connector, prober, meter)
            except Exception as error:  # any failure to reach the server becomes its result
                group.cancel_scope.cancel()
                return self._failed_result(target, error, meter, started, started_at)
            finally:
                prober.on_first_connection(None)
                prober.finish_closes_with(None)
            # From now on a failed handshake on a server that requires a certificate we do not have says so.
            connector.handshake = HandshakeContext(
                identity=self._client_identity,
                client_certificate_required=profile.client_auth is ClientAuthRequirement.REQUIRED,
            )
            connectivity_s = anyio.current_time() - started

            async def run_check(index: int, check: Check[Any]) -> None:
                check_meter = ProbeMeter(in_sequence=probes_in_sequence(check), long_held=long_held_probe(check))
                context = ServerContext(
                    target=target, profile=profile, prober=prober, connector=connector, meter=check_meter, shared=shared
                )
                outcomes[index] = await _run_check(check, context, check_meter)
                self._checks_completed += 1

            for index, check in enumerate(checks):
                group.start_soon(run_check, index, check)
        self._servers_completed += 1
        connectivity_cost = ProbeCost(connections=meter.connections, retries=meter.retries, duration_s=connectivity_s)
        return ServerScanResult(
            target=target,
            connectivity=ConnectivityCompleted(profile=profile, cost=connectivity_cost),
            checks=tuple(outcome for outcome in outcomes if outcome is not None),
            started_at=started_at,
            duration_s=anyio.current_time() - started,
        )

    def _failed_result(
        self,
        target: ServerTarget,
        error: Exception,
        meter: ProbeMeter,
        started: float,
        started_at: datetime.datetime | None = None,
    ) -> ServerScanResult:
        self._servers_completed += 1
        return ServerScanResult(
            target=target,
            connectivity=ConnectivityFailed(error=error_from_exception(error), cost=_cost(meter, started)),
            checks=(),
            started_at=started_at or datetime.datetime.now(datetime.UTC),
            duration_s=anyio.current_time() - started,
        )


async def _send_early_hellos(
    prober: NativeProber,
    meter: ProbeMeter,
    shared: SharedObservations,
    target: ServerTarget,
    checks: Sequence[Check[Any]],
) -> None:
    """The hellos the checks will ask for on any server that answers (``Check.early_hellos``), sent beside the
    first contact once it has a connection (so never to a server that is not there), instead of after it: the
    connectivity phase has the server to itself for a round trip or two, with permits to spare. They count as
    connectivity's connections; on a server without their versions they cost a refused hello each."""
    hellos = {hello.key: hello for check in checks for hello in early_hellos(check, target.server_name)}
    if not hellos:
        return
    shared.expect_early(hellos)  # before any await: the checks, which start later, find them announced
    # Newest first: the shared baseline hello is TLS 1.2's, which most checks wait for; should the server refuse
    # some of these connections, the last ones to arrive are those it refuses.
    ordered = sorted(hellos.values(), key=lambda hello: hello.spec.version, reverse=True)
    send = functools.partial(prober.hello, meter, ahead_of_learning=True)
    async with anyio.create_task_group() as group:
        for hello in ordered:
            group.start_soon(_send_early_hello, shared, send, hello)


async def _send_early_hello(
    shared: SharedObservations, send: Callable[[ClientHelloSpec], Awaitable[HelloOutcome]], hello: EarlyHello
) -> None:
    await shared.provide_early(hello.key, lambda: send(hello.spec))  # an error is kept for the checks that ask


async def _run_check(check: Check[Any], context: ServerContext, meter: ProbeMeter) -> CheckOutcome:
    """Run one check; the one place where a check's exceptions become outcomes. Cancellation propagates."""
    started = anyio.current_time()
    try:
        result = await check.run(context)
    except CheckNotApplicable as reason:
        return CheckSkipped(name=check.name, reason=str(reason), cost=_cost(meter, started))
    except Exception as error:
        if (inapplicable := not_applicable(error)) is not None:  # raised inside the check's own task group
            return CheckSkipped(name=check.name, reason=str(inapplicable), cost=_cost(meter, started))
        return CheckFailed(name=check.name, error=error_from_exception(error), cost=_cost(meter, started))
    return CheckCompleted(name=check.name, result=result, cost=_cost(meter, started))


def _cost(meter: ProbeMeter, started: float) -> ProbeCost:
    return ProbeCost(connections=meter.connections, retries=meter.retries, duration_s=anyio.current_time() - started)
