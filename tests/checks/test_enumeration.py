"""The enumeration algorithm on its own, against pick functions that behave like servers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tlsprobe.checks._enumeration import KnownPick, picks_and_order

pytestmark = pytest.mark.anyio


class _Server:
    """Accepts ``accepted``; picks by its own ``preference`` when given, else the client's first accepted code."""

    def __init__(self, accepted: Sequence[int], preference: bool) -> None:
        self.accepted = list(accepted)
        self.preference = preference
        self.hellos: list[tuple[int, ...]] = []

    async def pick(self, offered: Sequence[int]) -> int | None:
        self.hellos.append(tuple(offered))
        ranked = self.accepted if self.preference else offered
        return next((code for code in ranked if code in offered and code in self.accepted), None)


def test_a_known_pick_answers_only_offers_it_covered() -> None:
    known = KnownPick((1, 2, 3, 4), 3)
    assert known.answers([3, 1])
    assert known.answers([1, 2, 3, 4])
    assert not known.answers([1, 2])  # its pick was not offered
    assert not known.answers([3, 5])  # 5 was never offered: the server might have preferred it


@pytest.mark.parametrize("preference", [True, False])
async def test_a_known_pick_saves_the_first_hello_and_changes_nothing_else(preference: bool) -> None:
    offered = [1, 2, 3, 4, 5, 6]
    plain = _Server([5, 2, 4], preference)
    expected = await picks_and_order(plain.pick, offered)
    seeded = _Server([5, 2, 4], preference)
    wider = (9, *offered, 8)  # a hello that offered more, such as a baseline hello
    seed = KnownPick(wider, await seeded.pick(wider))
    seeded.hellos.clear()
    assert await picks_and_order(seeded.pick, offered, known=seed) == expected
    assert tuple(offered) in plain.hellos and tuple(offered) not in seeded.hellos
    assert len(seeded.hellos) == len(plain.hellos) - 1


async def test_a_known_pick_that_does_not_answer_the_offer_is_ignored() -> None:
    server = _Server([7, 2], preference=True)
    seed = KnownPick((1, 2, 7), 7)  # 7 is outside the enumeration's offer
    order, enforced = await picks_and_order(server.pick, [1, 2, 3], known=seed)
    assert order == [2] and enforced is None
    assert server.hellos[0] == (1, 2, 3)
