"""Adaptive per-server permits and retries: the permits themselves, then fragile real servers."""

from __future__ import annotations

import anyio
import anyio.abc
import pytest

from tests.scanning import comparable, observations
from tlsprobe import CheckCompleted, CheckFailed, ErrorKind, Limits, ScanConfig, Scanner, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._net import ConnectionPermits, PermitHold, ProbeMeter, chain
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = pytest.mark.anyio


class _Holders:
    """Tasks that each take a permit and keep it until told to let go."""

    def __init__(self, permits: ConnectionPermits, group: anyio.abc.TaskGroup) -> None:
        self._permits = permits
        self._group = group
        self.holds: list[PermitHold] = []
        self.release = anyio.Event()

    def start(self, count: int, *, exclusive: bool = False) -> None:
        for _ in range(count):
            self._group.start_soon(self._hold, exclusive)

    async def _hold(self, exclusive: bool) -> None:
        async with self._permits.hold(exclusive=exclusive) as held:
            self.holds.append(held)
            await self.release.wait()


async def test_an_overload_among_n_connections_leaves_n_minus_one_permits() -> None:
    permits = ConnectionPermits(5)
    async with anyio.create_task_group() as group:
        holders = _Holders(permits, group)
        holders.start(4)
        await anyio.wait_all_tasks_blocked()
        permits.record_overload(holders.holds[3])  # the 4th connection was one too many
        assert permits.allowed == 3
        holders.release.set()
    async with anyio.create_task_group() as group:
        holders = _Holders(permits, group)
        holders.start(5)
        await anyio.wait_all_tasks_blocked()
        assert (permits.in_use, len(holders.holds)) == (3, 3)  # two wait for a permit
        holders.release.set()
    assert permits.max_in_use == 4
    assert permits.reductions == 1


async def test_permits_never_drop_below_one_and_a_lone_failure_keeps_one() -> None:
    permits = ConnectionPermits(3)
    async with permits.hold() as alone:
        assert (alone.concurrency, alone.overlapped) == (1, False)
    permits.record_overload(alone)
    assert permits.allowed == 1
    permits.record_overload(alone)
    assert permits.allowed == 1


async def test_answers_earn_permits_back_more_slowly_after_each_relapse() -> None:
    permits = ConnectionPermits(5)
    async with anyio.create_task_group() as group:
        holders = _Holders(permits, group)
        holders.start(4)
        await anyio.wait_all_tasks_blocked()
        permits.record_overload(holders.holds[3])
        holders.release.set()
    assert permits.allowed == 3
    answers_to_grow = 0
    while permits.allowed == 3:
        permits.record_answer()
        answers_to_grow += 1
    assert permits.allowed == 4
    # Relapse at the new level: the next permit takes twice as many answers.
    async with anyio.create_task_group() as group:
        holders = _Holders(permits, group)
        holders.start(4)
        await anyio.wait_all_tasks_blocked()
        permits.record_overload(holders.holds[3])
        holders.release.set()
    assert permits.allowed == 3
    for _ in range(answers_to_grow * 2 - 1):
        permits.record_answer()
    assert permits.allowed == 3
    permits.record_answer()
    assert permits.allowed == 4
    for _ in range(10_000):
        permits.record_answer()
    assert permits.allowed == 5  # the limit is a ceiling


async def test_an_exclusive_hold_waits_for_the_others_and_keeps_newcomers_out() -> None:
    permits = ConnectionPermits(5)
    async with anyio.create_task_group() as group:
        early = _Holders(permits, group)
        early.start(2)
        await anyio.wait_all_tasks_blocked()
        alone = _Holders(permits, group)
        alone.start(1, exclusive=True)
        await anyio.wait_all_tasks_blocked()
        late = _Holders(permits, group)
        late.start(2)
        await anyio.wait_all_tasks_blocked()
        assert (len(alone.holds), len(late.holds), permits.in_use) == (0, 0, 2)
        assert all(held.overlapped for held in early.holds)
        early.release.set()
        await anyio.wait_all_tasks_blocked()
        assert (len(alone.holds), len(late.holds), permits.in_use) == (1, 0, 1)
        assert not alone.holds[0].overlapped
        alone.release.set()
        await anyio.wait_all_tasks_blocked()
        assert (len(late.holds), permits.in_use) == (2, 2)
        late.release.set()
    assert permits.in_use == 0


async def test_a_cancelled_exclusive_waiter_lets_the_others_in() -> None:
    permits = ConnectionPermits(2)
    async with anyio.create_task_group() as group:
        early = _Holders(permits, group)
        early.start(1)
        await anyio.wait_all_tasks_blocked()
        waiting = anyio.CancelScope()
        group.start_soon(_wait_exclusive_in, permits, waiting)
        await anyio.wait_all_tasks_blocked()
        late = _Holders(permits, group)
        late.start(1)
        await anyio.wait_all_tasks_blocked()
        assert len(late.holds) == 0  # behind the exclusive waiter
        waiting.cancel()
        await anyio.wait_all_tasks_blocked()
        assert len(late.holds) == 1
        early.release.set()
        late.release.set()


async def test_waiters_are_served_exclusive_first_then_by_priority_then_in_order_of_arrival() -> None:
    permits = ConnectionPermits(1)
    served: list[str] = []

    async def wait_and_record(name: str, priority: int, exclusive: bool = False) -> None:
        async with permits.hold(exclusive=exclusive, priority=priority):
            served.append(name)

    async with anyio.create_task_group() as group:
        holder = _Holders(permits, group)
        holder.start(1)
        await anyio.wait_all_tasks_blocked()
        for name, priority in (("first low", 0), ("second low", 0), ("long chain", 7), ("longer chain", 9)):
            group.start_soon(wait_and_record, name, priority)
            await anyio.wait_all_tasks_blocked()
        group.start_soon(wait_and_record, "alone", 0, True)
        await anyio.wait_all_tasks_blocked()
        assert served == []  # one permit, and it is held
        holder.release.set()
    assert served == ["alone", "longer chain", "long chain", "first low", "second low"]


def test_chains_go_first_in_the_order_they_began_and_long_held_probes_lead_the_independent_ones() -> None:
    busy_check = ProbeMeter(connections=12, in_sequence=True)  # several chains side by side
    lone_chain_check = ProbeMeter(connections=3, in_sequence=True)
    independent = ProbeMeter(connections=40)
    with chain():
        first_chain = lone_chain_check.priority
        with chain():  # begun later, even inside the first
            later_chain = busy_check.priority
        assert lone_chain_check.priority == first_chain  # the inner chain is forgotten on exit
    with chain():
        last_chain = busy_check.priority
    assert first_chain > later_chain > last_chain  # whatever their checks' connections
    # Outside a chain, a check's probes rank by its connections, below every chain; connectivity goes first of all.
    assert last_chain > busy_check.priority > lone_chain_check.priority > independent.priority
    assert ProbeMeter(ahead_of_checks=True).priority > first_chain
    # A probe held for many round trips goes before other independent ones, after every sequence.
    long_held = ProbeMeter(long_held=True).priority
    assert independent.priority < long_held < lone_chain_check.priority


async def _wait_exclusive_in(permits: ConnectionPermits, scope: anyio.CancelScope) -> None:
    with scope:
        async with permits.hold(exclusive=True):
            pytest.fail("the exclusive hold cannot start while another connection is open")


# --- Fragile real servers --------------------------------------------------------------------------------------------


@pytest.mark.realserver
@pytest.mark.parametrize("refuse_beyond", [3, 1])
async def test_a_fragile_server_gets_the_same_results_with_no_failed_check(
    web_server: LocalTLSServer, refuse_beyond: int
) -> None:
    with (
        CountingProxy(*web_server.address) as sturdy,
        CountingProxy(*web_server.address, refuse_beyond=refuse_beyond) as fragile,
    ):
        expected = await Scanner().scan_server(ServerTarget(host="127.0.0.1", port=sturdy.port))
        scanner = Scanner()
        result = await scanner.scan_server(ServerTarget(host="127.0.0.1", port=fragile.port))
    assert fragile.refused_connections > 0  # the default limit of 5 did meet the server's fragility
    assert observations(result) == observations(expected)
    retries = result.connectivity.cost.retries + sum(outcome.cost.retries for outcome in result.checks)
    assert retries == scanner.statistics().retries > 0
    # Every refused connection was retried, and is paid for in the cost reported.
    assert fragile.refused_connections <= retries
    assert result.connections == fragile.total_connections + fragile.refused_connections


@pytest.mark.realserver
async def test_without_retries_a_hang_up_among_others_fails_the_check_and_never_reads_as_a_refusal(
    web_server: LocalTLSServer,
) -> None:
    config = ScanConfig(limits=Limits(max_retries=0))
    with CountingProxy(*web_server.address) as sturdy, CountingProxy(*web_server.address, refuse_beyond=1) as fragile:
        expected = await Scanner(config).scan_server(ServerTarget(host="127.0.0.1", port=sturdy.port))
        result = await Scanner(config).scan_server(ServerTarget(host="127.0.0.1", port=fragile.port))
    assert fragile.refused_connections > 0
    expected_outcomes = {outcome.name: outcome for outcome in expected.checks}
    failed = [outcome for outcome in result.checks if isinstance(outcome, CheckFailed)]
    assert failed, "a server refusing all but one connection must fail some probe without retries"
    for outcome in failed:  # a hang-up that could not be settled, or a refused connection: said as such
        assert outcome.error.kind in (ErrorKind.CONNECTION_CLOSED, ErrorKind.CONNECTION_REJECTED), outcome
        if outcome.error.kind is ErrorKind.CONNECTION_CLOSED:
            assert "no retry was left" in outcome.error.message
    for outcome in result.checks:
        if isinstance(outcome, CheckCompleted):  # what completed is exactly what the sturdy server gave
            reference = expected_outcomes[outcome.name]
            assert isinstance(reference, CheckCompleted)
            assert comparable(to_jsonable(outcome.result)) == comparable(to_jsonable(reference.result))
