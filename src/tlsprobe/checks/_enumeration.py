"""Offer, record the server's pick, remove it, repeat: the enumeration cipher suites, groups, signature schemes
and ALPN protocols share, and how the server's order of preference is told from the client's.

``pick(offered)`` sends one hello and returns the code the server chose among ``offered``, or None when it
refused them all.

An answer already in hand (``KnownPick``: a hello another step sent) stands for the first hello when it offered
every code the first hello would and the server picked one of them: what the server prefers among the codes
offered, it preferred among more. So the enumeration saves a connection, at no cost in accuracy.

Telling the orders apart: a server that follows the client's order always picks the first code of the offer it
accepts. Once the enumeration has found every accepted code, a pick that was not the first accepted code of its
offer proves the server picked by its own preference, and no more hello is needed. Offering the rest in reverse
every other time makes such a pick likely whenever the server has an order of its own, whatever it is. Nothing
in an enumeration can prove the opposite (each code is picked once), so only then does one more hello ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence

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
    pick: Pick, offered: Sequence[int], *, first: int | None = None, alternate: bool = False
) -> list[int]:
    """Every code the server picks from ``offered``, in the order picked; ``first`` is an answer already had to
    ``offered`` itself. With ``alternate``, every other hello offers the rest in reverse (see the module
    docstring)."""
    order: list[int] = []
    pending = list(offered)
    with chain():
        choice = first if first is not None else await pick(pending)
        while choice is not None:
            order.append(choice)
            pending.remove(choice)
            if not pending:
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
