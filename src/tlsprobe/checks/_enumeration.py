"""Offer, record the server's pick, remove it, repeat: the enumeration cipher suites and groups share.

``pick(offered)`` sends one hello and returns the code the server chose among ``offered``, or None when it
refused them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

Pick = Callable[[Sequence[int]], Awaitable[int | None]]


async def picks_until_refused(pick: Pick, offered: Sequence[int], *, first: int | None = None) -> list[int]:
    """Every code the server picks from ``offered``, in the order picked; ``first`` is an answer already had."""
    order: list[int] = []
    pending = list(offered)
    choice = first if first is not None else await pick(pending)
    while choice is not None:
        order.append(choice)
        pending.remove(choice)
        if not pending:
            break
        choice = await pick(pending)
    return order


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
    None with fewer than two codes, or when it refuses."""
    if len(order) < 2:
        return None
    choice = await pick(order[::-1])
    return None if choice is None else choice == order[0]
