"""Offer, record the server's pick, remove it, repeat: the enumeration cipher suites, groups, signature schemes
and ALPN protocols share, and how the server's order of preference is told from the client's.

``pick(offered)`` sends one hello and returns the code the server chose among ``offered``, or None when it
refused them all.

An answer already in hand (``KnownPick``: a hello another step sent) stands for the first hello when it offered
every code the first hello would and the server picked one of them: what the server prefers among the codes
offered, it preferred among more. So the enumeration saves a connection, at no cost in accuracy.

Fewer hellos in a row: the chain of one enumeration is as long as the codes it finds, so the cipher-suite
enumeration runs one chain per disjoint part of its catalogue at once (``parts_in_parallel``), each part's picks
in the server's order, and merges the parts' orders (``merged_server_order``): the parts are cut so that a
server commonly ranks every code of one above every code of the next, which one hello per boundary verifies (all
at once); only where that fails are the parts merged one hello at a time. ``server_order`` and the plain chain
remain the sequential method, against which the tests compare it.

Telling the orders apart: a server that follows the client's order always picks the first code of the offer it
accepts. Once the enumeration has found every accepted code, a pick that was not the first accepted code of its
offer proves the server picked by its own preference, and no more hello is needed. Offering the rest in reverse
every other time makes such a pick likely whenever the server has an order of its own, whatever it is. Nothing
in an enumeration can prove the opposite (each code is picked once), so only then does one more hello ask.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

import anyio
import attrs

from tlsprobe._net import chain

Pick = Callable[[Sequence[int]], Awaitable[int | None]]


@attrs.frozen
class KnownPick:
    """A pick already seen: the server chose ``choice`` from a hello that offered ``offered``."""

    offered: tuple[int, ...]
    choice: int

    def answers(self, offered: Sequence[int]) -> bool:
        """Whether this pick is also the answer to a hello offering ``offered`` (the rest of it alike)."""
        return self.choice in offered and frozenset(offered) <= frozenset(self.offered)


class PickLog:
    """What each hello of an enumeration offered, in order, and what the server picked from it."""

    def __init__(self) -> None:
        self._rounds: list[tuple[tuple[int, ...], int]] = []

    def record(self, offered: Sequence[int], choice: int) -> None:
        self._rounds.append((tuple(offered), choice))

    def logging(self, pick: Pick) -> Pick:
        """``pick``, with every pick it returns recorded."""

        async def logged(offered: Sequence[int]) -> int | None:
            choice = await pick(offered)
            if choice is not None:
                self.record(offered, choice)
            return choice

        return logged

    def shows_above(self, higher: int, lower: int) -> bool:
        """Whether some hello offered both codes and the server picked ``higher``."""
        return any(choice == higher and lower in offered for offered, choice in self._rounds)

    def against_client_order(self, accepted: Collection[int]) -> bool:
        """Whether some pick was not the first code of its offer among ``accepted`` (every code the server
        accepts from these offers): then it picks by its own preference."""
        known = frozenset(accepted)
        return any(next(code for code in offered if code in known) != choice for offered, choice in self._rounds)

    async def order_enforced(self, pick: Pick, accepted: Collection[int], tested: Sequence[int]) -> bool | None:
        """Whether the server picks by its own preference: True without a hello when its picks showed it
        (``against_client_order``), else what one hello offering ``tested`` reversed tells (``order_enforced``)."""
        return True if self.against_client_order(accepted) else await order_enforced(pick, tested)


async def picks_until_refused(
    pick: Pick,
    offered: Sequence[int],
    *,
    first: int | None = None,
    alternate: bool = False,
    at_most: int | None = None,
    until: Callable[[], bool] | None = None,
) -> list[int]:
    """Every code the server picks from ``offered``, in the order picked; ``first`` is an answer already had to
    ``offered`` itself. With ``alternate``, every other hello offers the rest in reverse (see the module
    docstring). The chain stops early, refused or not, after ``at_most`` picks or once ``until()`` is true."""
    order: list[int] = []
    pending = list(offered)
    with chain():
        choice = first if first is not None else await pick(pending)
        while choice is not None:
            order.append(choice)
            pending.remove(choice)
            if not pending or len(order) == at_most or (until is not None and until()):
                break
            choice = await pick(pending[::-1] if alternate and len(order) % 2 else pending)
    return order


async def picks_and_order(
    pick: Pick, offered: Sequence[int], *, known: KnownPick | None = None
) -> tuple[list[int], bool | None]:
    """Every code the server picks from ``offered``, and whether it enforces its own order (None: fewer than two
    codes, or it refused the test). The codes come in the server's order when it enforces one, else in the order
    of ``offered``. ``known`` stands for the first hello when it answers it."""
    log = PickLog()
    first = None
    if known is not None and known.answers(offered):
        log.record(known.offered, known.choice)
        first = known.choice
    order = await picks_until_refused(log.logging(pick), offered, first=first, alternate=True)
    enforced = await log.order_enforced(pick, order, order)
    return (order if enforced else in_offer_order(order, offered)), enforced


def in_offer_order(codes: Collection[int], offered: Sequence[int]) -> list[int]:
    """``codes`` in the order of ``offered`` (the order a server that follows the client's would pick them)."""
    known = frozenset(codes)
    return [code for code in offered if code in known]


async def server_order(pick: Pick, accepted: Sequence[int]) -> list[int]:
    """``accepted`` (all known to be accepted) in the order the server picks them; the last needs no hello."""
    order: list[int] = []
    pending = list(accepted)
    while len(pending) > 1 and (choice := await pick(pending)) is not None:
        order.append(choice)
        pending.remove(choice)
    return order + pending  # a refusal midway keeps the rest in the order found


async def order_enforced(pick: Pick, order: Sequence[int]) -> bool | None:
    """Whether the server picks by its own preference: offered ``order`` reversed, does it still pick the first?
    ``order[0]`` must have been picked from an offer holding all of ``order``. None with fewer than two codes, or
    when it refuses."""
    if len(order) < 2:
        return None
    choice = await pick(order[::-1])
    return None if choice is None else choice == order[0]


async def parts_in_parallel(
    pick: Pick, parts: Sequence[Sequence[int]], *, log: PickLog, answered: Mapping[int, int | None] | None = None
) -> list[list[int]]:
    """Bundle-and-remove over each of ``parts`` (disjoint), all at once, each its own chain: every part's picks,
    in the order picked (the server's order within the part when it enforces one). The critical path is the
    longest part's chain instead of the sum of all. ``answered`` holds answers already had to a part's whole
    offer, by the part's index: its pick, or None when the server refused the part."""
    found: list[list[int]] = [[] for _ in parts]
    known = answered or {}

    async def enumerate_part(index: int) -> None:
        if index in known and known[index] is None:
            return  # refused as a whole already
        found[index] = await picks_until_refused(
            log.logging(pick), parts[index], first=known.get(index), alternate=True
        )

    async with anyio.create_task_group() as group:
        for index in range(len(parts)):
            group.start_soon(enumerate_part, index)
    return found


async def merged_server_order(
    pick: Pick, blocks: Sequence[Sequence[int]], *, known: PickLog | None = None
) -> list[int]:
    """The server's order of every code of ``blocks``: each block already in the server's order, the blocks in
    the order a server is predicted to rank them (every code of one above every code of the next).

    The prediction is verified where it can fail: between two blocks, one hello offering the last code of the
    first and the first of the second (the second ahead, so that a pick of the first is the server's own
    choice). By transitivity, when every such boundary holds the concatenation is the server's order. All
    boundaries are asked at once. Blocks whose boundary fails are merged by their heads (offer the first
    remaining code of each, the pick comes next), then the new boundaries are verified the same way, until all
    hold: a correct prediction costs one hello per boundary in one round trip, a wrong one what the sequential
    method costs over the blocks it got wrong. A boundary that a hello in ``known`` already settled (it offered
    both codes and the server picked one) costs none."""
    pending = [list(block) for block in blocks if block]
    verdicts: dict[tuple[int, int], bool] = {}  # (higher, lower) as predicted -> whether the server agrees

    async def verify(higher: int, lower: int) -> None:
        if known is not None and known.shows_above(higher, lower):
            verdicts[higher, lower] = True
        elif known is not None and known.shows_above(lower, higher):
            verdicts[higher, lower] = False
        else:
            verdicts[higher, lower] = await pick([lower, higher]) == higher

    while len(pending) > 1:
        boundaries = [(above[-1], below[0]) for above, below in itertools.pairwise(pending)]
        with chain():  # the merge is the end of the enumeration's critical path: served as its chain
            async with anyio.create_task_group() as group:
                for higher, lower in boundaries:
                    if (higher, lower) not in verdicts:
                        group.start_soon(verify, higher, lower)
        segments: list[list[list[int]]] = [[pending[0]]]
        for (higher, lower), block in zip(boundaries, pending[1:], strict=False):
            if verdicts[higher, lower]:
                segments.append([block])
            else:
                segments[-1].append(block)
        if all(len(segment) == 1 for segment in segments):
            break
        pending = await _merged_segments(pick, segments)
    return [code for block in pending for code in block]


async def _merged_segments(pick: Pick, segments: Sequence[Sequence[Sequence[int]]]) -> list[list[int]]:
    """Each segment's blocks merged by their heads, all segments at once."""
    merged: list[list[int]] = [[] for _ in segments]

    async def merge(index: int) -> None:
        merged[index] = await merged_by_heads(pick, segments[index])

    async with anyio.create_task_group() as group:
        for index in range(len(segments)):
            group.start_soon(merge, index)
    return merged


_GALLOP_AFTER = 2
"""Picks in a row from one block before the merge looks for how long that block's run is (timsort's galloping)."""


async def merged_by_heads(pick: Pick, blocks: Sequence[Sequence[int]]) -> list[int]:
    """``blocks`` (each in the server's order) merged into the server's order: offer the first remaining code of
    each block, the pick comes next; one hello per code but the last block's tail. Once one block has won
    ``_GALLOP_AFTER`` picks in a row, the length of its run ahead of every other head is searched for instead
    (``_leading_run``): a run of r codes costs about 2·log2(r) hellos, not r."""
    pending = [list(block) for block in blocks if block]
    order: list[int] = []
    streak: tuple[int, int] = (-1, 0)  # the code that heads the block that last won, and its wins in a row
    with chain():
        while len(pending) > 1:
            heads = [block[0] for block in pending]
            choice = await pick(heads)
            if choice is None or choice not in heads:
                break  # a refusal midway keeps the rest in the order found
            block = next(block for block in pending if block[0] == choice)
            wins = streak[1] + 1 if streak[0] == choice else 1
            run = 1
            if wins >= _GALLOP_AFTER:
                run = await _leading_run(pick, block, [head for head in heads if head != choice])
            order.extend(block[:run])
            del block[:run]
            streak = (block[0], wins) if block else (-1, 0)
            pending = [block for block in pending if block]
    return order + [code for block in pending for code in block]


async def _leading_run(pick: Pick, block: Sequence[int], rivals: Sequence[int]) -> int:
    """How many codes at the start of ``block`` (in the server's order, its first known to beat every code of
    ``rivals``, the other blocks' heads) the server prefers to every rival: an exponential search, then a binary
    one. A code that beats every rival head beats every code behind them, and the codes before it in its block."""

    async def leads(index: int) -> bool:
        choice = await pick([*rivals, block[index]])
        return choice == block[index]

    known, step = 1, 1  # block[:known] lead
    while known < len(block):
        probe = min(known + step, len(block)) - 1
        if not await leads(probe):
            low, high = known, probe  # block[:low] lead, block[high] does not
            while low < high:
                middle = (low + high) // 2
                if await leads(middle):
                    low = middle + 1
                else:
                    high = middle
            return low
        known, step = probe + 1, step * 2
    return known
