"""The per-server permits: one permit is one open connection, and how many the server gets adapts to how it copes.

``limit`` is a ceiling. Below it, ``allowed`` is what the server is given now: a failure that says "too many"
(a refusal, a reset before any answer, a timeout) while ``n`` of our connections were open to it means the server
copes with fewer than ``n``, so ``allowed`` drops to ``n - 1`` (never below 1). Answers earn it back one permit at
a time; a server that fails again at the level it grew to must then behave twice as long before the next one.

``responded`` says whether the server has ever broken its silence on a connection it accepted (a byte, a hang-up,
an answer): until it has, a timeout is silence, not load, and is not retried (``_retries``), and the work beside
the first contact waits for it beyond a few connections (``wait_response``).

An exclusive hold waits until no other connection to the server is open and keeps the others out while it lasts:
a connection that was alone cannot have been refused for being one too many, so its answer, even a hang-up, is
the server's real answer to the probe.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import anyio

_FIRST_GROWTH_AFTER: Final = 8  # answers before one more permit, doubled after each relapse
_MAX_GROWTH_AFTER: Final = 256


class PermitHold:
    """One connection's permit, and what the retry logic needs to know about its circumstances."""

    __slots__ = ("concurrency", "exclusive", "overlapped")

    def __init__(self, concurrency: int, *, exclusive: bool) -> None:
        self.concurrency = concurrency
        """Our connections open to the server when this one started, this one included."""
        self.exclusive = exclusive
        """Whether it kept every other connection out."""
        self.overlapped = concurrency > 1
        """Whether another of our connections to the server was open at any moment while this one was."""


class _Waiter:
    __slots__ = ("exclusive", "granted", "key")

    def __init__(self, exclusive: bool, priority: int, arrival: int) -> None:
        self.exclusive = exclusive
        self.granted = anyio.Event()
        self.key = (not exclusive, -priority, arrival)

    def __lt__(self, other: _Waiter) -> bool:
        return self.key < other.key


class ConnectionPermits:
    """The permits of one server: a ceiling (``limit``), an adaptive allowance below it, exclusive holds, and
    optional pacing (``min_interval_s`` between the starts of two connections)."""

    def __init__(self, limit: int, min_interval_s: float = 0.0) -> None:
        self.limit = limit
        self.allowed = limit
        self.min_interval_s = min_interval_s
        self.max_in_use = 0
        self.reductions = 0
        """How many times the allowance was lowered."""
        self._active: set[PermitHold] = set()
        self._exclusive_active = 0
        self._lone: PermitHold | None = None
        """The hold that started alone and has had no company since, if any: at most one can be."""
        self._queue: list[_Waiter] = []
        """A heap: the next waiter to serve first."""
        self._arrivals = itertools.count()
        self._granted: set[_Waiter] = set()
        """Waiters handed a permit that have not started their connection yet."""
        self._exclusive_granted = 0
        # The counters keep _may_start constant-time: a per-IP budget may hold hundreds of connections.
        self._answers = 0
        self._growth_after = _FIRST_GROWTH_AFTER
        self._pacing = anyio.Lock()
        self._next_start = 0.0
        self.responded = False
        """Whether the server ever sent a byte, hung up, or answered a probe (see the module docstring)."""
        self._response: anyio.Event | None = None  # made only if someone waits: most servers answer first

    @asynccontextmanager
    async def hold(self, *, exclusive: bool = False, priority: int = 0) -> AsyncIterator[PermitHold]:
        """Hold a permit for one connection (all of them with ``exclusive``) until the block exits.

        Waiters are served exclusive ones first, then by ``priority`` (higher first), then in order of arrival.
        """
        await self._acquire(exclusive, priority)
        held = PermitHold(self.in_use + 1, exclusive=exclusive)
        if self._lone is not None:  # every other open hold is overlapped already
            self._lone.overlapped = True
        self._lone = None if held.overlapped else held
        self._active.add(held)
        self._exclusive_active += exclusive
        self.max_in_use = max(self.max_in_use, self.in_use)
        try:
            await self._pace()
            yield held
        finally:
            self._active.discard(held)
            self._exclusive_active -= exclusive
            if self._lone is held:
                self._lone = None
            self._wake()

    @property
    def in_use(self) -> int:
        """Connections holding a permit now."""
        return len(self._active)

    def record_response(self) -> None:
        """The server sent something or hung up on a connection it accepted: it is not silent."""
        if not self.responded:
            self.responded = True
            if self._response is not None:
                self._response.set()

    async def wait_response(self) -> None:
        """Return once the server has responded (``record_response``), at once if it has."""
        if self.responded:
            return
        if self._response is None:
            self._response = anyio.Event()
        await self._response.wait()

    def record_answer(self) -> None:
        """A connection got an answer from the server: after enough of them, one more permit (up to the limit)."""
        self.record_response()
        if self.allowed >= self.limit:
            return
        self._answers += 1
        if self._answers >= self._growth_after:
            self._answers = 0
            self.allowed += 1
            self._wake()

    def record_overload(self, held: PermitHold) -> None:
        """``held`` failed in a way that says the server had too many connections: fewer from now on."""
        reduced = max(1, min(self.allowed, held.concurrency - 1))
        if reduced < self.allowed:
            self.allowed = reduced
            self.reductions += 1
            self._answers = 0
            self._growth_after = min(_MAX_GROWTH_AFTER, self._growth_after * 2)

    def _may_start(self, exclusive: bool) -> bool:
        if self._exclusive_active or self._exclusive_granted:
            return False
        busy = self.in_use + len(self._granted)
        return busy == 0 if exclusive else busy < self.allowed

    async def _acquire(self, exclusive: bool, priority: int) -> None:
        """Return once this connection may start; the caller adds its hold before its next await."""
        if not self._queue and self._may_start(exclusive):
            return
        waiter = _Waiter(exclusive, priority, next(self._arrivals))
        heapq.heappush(self._queue, waiter)
        try:
            await waiter.granted.wait()
        except BaseException:
            if waiter in self._granted:  # granted just as it was cancelled: give the permit back
                self._ungrant(waiter)
            else:
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
            self._wake()  # a cancelled waiter (an exclusive one at the head) must not keep the others out
            raise
        self._ungrant(waiter)

    def _ungrant(self, waiter: _Waiter) -> None:
        if waiter in self._granted:
            self._granted.remove(waiter)
            self._exclusive_granted -= waiter.exclusive

    def _wake(self) -> None:
        # Only as many as may start, in the order of the heap: a waiter is handed its permit, so a release wakes
        # one task, not every task waiting for this server.
        while self._queue and self._may_start(self._queue[0].exclusive):
            waiter = heapq.heappop(self._queue)
            self._granted.add(waiter)
            self._exclusive_granted += waiter.exclusive
            waiter.granted.set()

    async def _pace(self) -> None:
        if self.min_interval_s <= 0:
            return
        async with self._pacing:
            await anyio.sleep(max(0.0, self._next_start - anyio.current_time()))
            self._next_start = anyio.current_time() + self.min_interval_s
