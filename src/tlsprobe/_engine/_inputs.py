"""What a scan is given, read the same way by the scanner and the distributed driver: targets as objects or
strings, from a plain or an async iterable, and checks whose names must be unique (they key the results)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import Any

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import ServerTarget
from tlsprobe.checks._base import Check

TargetInput = ServerTarget | str


def as_target(item: TargetInput) -> ServerTarget:
    """``item`` as a ``ServerTarget``; a string is parsed (``ConfigurationError`` when it does not parse)."""
    return item if isinstance(item, ServerTarget) else ServerTarget.parse(item)


def require_unique_names(checks: Sequence[Check[Any]]) -> None:
    """:raises ConfigurationError: for two checks with the same name."""
    names = [check.name for check in checks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"checks requested twice: {', '.join(duplicates)}")


async def iterate_targets(targets: Iterable[TargetInput] | AsyncIterable[TargetInput]) -> AsyncIterator[TargetInput]:
    """Each item of ``targets``, whichever kind of iterable it is."""
    if isinstance(targets, AsyncIterable):
        async for item in targets:
            yield item
    else:
        for item in targets:
            yield item
