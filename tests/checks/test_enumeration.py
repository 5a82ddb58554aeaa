"""The enumeration algorithm on its own, against pick functions that behave like servers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES
from tlsprobe.checks._enumeration import KnownPick, picks_and_order
from tlsprobe.checks.cipher_suites import (
    MAX_CHAINS,
    _fewest_chains,
    _folded_behind_head,
    _predicted_rank,
    _version_parts,
)
from tlsprobe.wire import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_code

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


def _rank(code: int) -> int:
    suite = cipher_suite_by_code(code)
    assert suite is not None
    return _predicted_rank(suite)


def test_parts_are_joined_down_to_a_few_chains_keeping_every_code_in_order() -> None:
    parts = list(_version_parts(TLSVersion.TLS1_2, MAX_HELLO_SUITES))
    answered = frozenset({parts[-1]})  # a part whose first hello was answered: never joined, not counted
    joined = _fewest_chains(parts, answered, MAX_HELLO_SUITES)
    assert [code for part in joined for code in part] == [code for part in parts for code in part]
    assert parts[-1] in joined
    assert sum(1 for part in joined if part not in answered) <= MAX_CHAINS < len(parts) - 1
    assert all(len(part) <= MAX_HELLO_SUITES for part in joined)


def test_parts_ranked_with_the_head_ride_along_with_the_next() -> None:
    high, low = (part[::3] for part in _version_parts(TLSVersion.TLS1_0, MAX_HELLO_SUITES))
    assert max(map(_rank, high)) < min(map(_rank, low))
    # The head's last pick ranked with the first part's suites: that part most likely holds nothing.
    assert _folded_behind_head([high, low], max(map(_rank, high)), MAX_HELLO_SUITES) == [high + low]
    # Ranked above them: the first part may hold the next picks, and gets a chain of its own.
    assert _folded_behind_head([high, low], min(map(_rank, high)) - 1, MAX_HELLO_SUITES) == [high, low]
    # Too many suites for one hello together: never joined.
    assert _folded_behind_head([high, low], max(map(_rank, high)), 10) == [high, low]
