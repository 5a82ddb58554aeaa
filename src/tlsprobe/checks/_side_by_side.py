"""Running a check's independent parts at once: each is a chain of connections, and the server's permits decide
how many of them are open together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import anyio

K = TypeVar("K")
V = TypeVar("V")


async def side_by_side(parts: Mapping[K, Callable[[], Awaitable[V]]]) -> dict[K, V]:
    """Run every part at once; their results under their keys. A part that fails fails the whole (its exception
    reaches the scanner inside an exception group, which describes it by the part's own error)."""
    results: dict[K, V] = {}

    async def run(key: K, part: Callable[[], Awaitable[V]]) -> None:
        results[key] = await part()

    async with anyio.create_task_group() as group:
        for key, part in parts.items():
            group.start_soon(run, key, part)
    return results
