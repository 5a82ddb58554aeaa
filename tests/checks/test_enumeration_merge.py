"""The parallel enumeration (parts at once, orders merged by verified prediction) against pick functions that
behave like servers: it must find what the sequential chain finds, in fewer hellos in a row."""

from __future__ import annotations

import random
from collections.abc import Sequence

import anyio
import pytest

from tlsprobe.checks._enumeration import (
    PickLog,
    merged_by_heads,
    merged_server_order,
    parts_in_parallel,
    server_order,
)

pytestmark = pytest.mark.anyio


class _Server:
    """Accepts the codes of ``preference`` and picks the first of them offered; records every hello."""

    def __init__(self, preference: Sequence[int]) -> None:
        self.preference = list(preference)
        self.hellos: list[tuple[int, ...]] = []

    async def pick(self, offered: Sequence[int]) -> int | None:
        self.hellos.append(tuple(offered))
        return next((code for code in self.preference if code in offered), None)


def _blocks_in_server_order(preference: Sequence[int], parts: Sequence[Sequence[int]]) -> list[list[int]]:
    rank = {code: index for index, code in enumerate(preference)}
    return [sorted((code for code in part if code in rank), key=rank.__getitem__) for part in parts]


async def test_a_correct_prediction_costs_one_hello_per_boundary() -> None:
    server = _Server([1, 2, 3, 4, 5, 6, 7])
    assert await merged_server_order(server.pick, [[1, 2], [3, 4, 5], [6, 7]]) == [1, 2, 3, 4, 5, 6, 7]
    # Each boundary offered once, the predicted lower code first, so that the pick is the server's own choice.
    assert sorted(server.hellos) == [(3, 2), (6, 5)]


async def test_a_wrong_prediction_is_repaired_where_it_fails() -> None:
    server = _Server([5, 1, 6, 2, 3, 4])
    assert await merged_server_order(server.pick, [[1, 2], [5, 6], [3, 4]]) == [5, 1, 6, 2, 3, 4]


@pytest.mark.parametrize("seed", range(40))
async def test_merge_equals_the_sequential_order_whatever_the_prediction(seed: int) -> None:
    chance = random.Random(seed)
    catalogue = list(range(100, 100 + chance.randint(2, 60)))
    accepted = chance.sample(catalogue, chance.randint(2, len(catalogue)))
    preference = accepted if seed % 2 else sorted(accepted)  # shuffled, or exactly as predicted
    part_count = chance.randint(1, 6)
    parts = [catalogue[index::part_count] for index in range(part_count)]
    if seed % 2 == 0:
        parts = [catalogue[index * len(catalogue) // part_count : (index + 1) * len(catalogue) // part_count]
                 for index in range(part_count)]  # fmt: skip
    sequential = _Server(preference)
    expected = await server_order(sequential.pick, sorted(accepted))
    assert expected == preference
    parallel = _Server(preference)
    found = await parts_in_parallel(parallel.pick, parts, log=PickLog())
    assert found == _blocks_in_server_order(preference, parts)
    assert await merged_server_order(parallel.pick, found) == expected


async def test_a_boundary_an_earlier_hello_settled_costs_no_hello() -> None:
    log = PickLog()
    log.record((1, 2, 3, 9), 2)  # 2 was picked with 3 offered: the first boundary holds
    log.record((5, 6), 6)  # 6 was picked with 5 offered: the second boundary fails
    server = _Server([2, 6, 3, 5])
    assert await merged_server_order(server.pick, [[2], [3, 5], [6]], known=log) == [2, 6, 3, 5]
    assert (3, 2) not in server.hellos and (6, 5) not in server.hellos
    # Without the log, the same merge asks both boundaries.
    asking = _Server([2, 6, 3, 5])
    assert await merged_server_order(asking.pick, [[2], [3, 5], [6]]) == [2, 6, 3, 5]
    assert {(3, 2), (6, 5)} <= set(asking.hellos)


async def test_parts_already_answered_start_from_their_answer() -> None:
    server = _Server([3, 1, 7])
    # Part 0's offer was answered with 3, part 1's refused as a whole, part 2 unknown.
    found = await parts_in_parallel(server.pick, [[1, 2, 3], [4, 5], [6, 7]], log=PickLog(), answered={0: 3, 1: None})
    assert found == [[3, 1], [], [7]]
    assert (1, 2, 3) not in server.hellos and not any(4 in hello for hello in server.hellos)


async def test_merge_by_heads_offers_only_heads_and_stops_at_a_refusal() -> None:
    server = _Server([4, 1, 3, 2])
    assert await merged_by_heads(server.pick, [[1, 2], [4, 3]]) == [4, 1, 3, 2]
    assert all(len(hello) <= 2 for hello in server.hellos)
    refusing = _Server([])
    assert await merged_by_heads(refusing.pick, [[1], [2]]) == [1, 2]


async def test_parts_are_enumerated_at_once() -> None:
    """One part's chain held up does not hold up the others: the first part's second hello is answered only once
    both other parts have offered their last code (one part after the other, the enumeration would never end)."""
    parts = [list(range(start, start + 4)) for start in (0, 4, 8)]
    others_at_their_last = anyio.Event()
    last_offers: list[int] = []

    async def pick(offered: Sequence[int]) -> int | None:
        if offered[0] in parts[0] and len(offered) == 3:
            await others_at_their_last.wait()
        if len(offered) == 1 and offered[0] not in parts[0]:
            last_offers.append(offered[0])
            if len(last_offers) == 2:
                others_at_their_last.set()
        return min(offered)

    with anyio.fail_after(10):  # only a deadlock reaches it: the parts run at once, or never end
        found = await parts_in_parallel(pick, parts, log=PickLog())
    assert found == parts


async def test_merge_by_heads_gallops_through_a_long_run() -> None:
    # One block's first 20 codes all come before the other block's: found in a few hellos, not 20.
    preference = [*range(1, 21), 50, 21, 51]
    server = _Server(preference)
    assert await merged_by_heads(server.pick, [[*range(1, 22)], [50, 51]]) == preference
    assert len(server.hellos) <= 12
    # Interleaved blocks gain nothing from galloping, and lose at most one hello per run of two.
    interleaved = _Server([1, 50, 2, 51, 3, 52])
    assert await merged_by_heads(interleaved.pick, [[1, 2, 3], [50, 51, 52]]) == [1, 50, 2, 51, 3, 52]
    assert len(interleaved.hellos) <= 5
