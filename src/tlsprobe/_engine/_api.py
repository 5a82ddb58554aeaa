"""Module-level conveniences over a default ``Scanner``.

``scan_server`` is a coroutine for code that already runs an event loop (asyncio, or trio through anyio): it never
starts a loop of its own. ``scan_server_sync`` is for scripts without one: it runs its own asyncio loop for the
duration of the call, and refuses to run inside a loop, where it would block every other task.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from tlsprobe._engine._scanner import Scanner
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS


async def scan_server(
    target: ServerTarget | str,
    checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    *,
    config: ScanConfig | None = None,
) -> ServerScanResult:
    """Scan one server with a scanner of its own: ``await tlsprobe.scan_server("example.com:443")``."""
    return await Scanner(config).scan_server(target, checks)


def scan_server_sync(
    target: ServerTarget | str,
    checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    *,
    config: ScanConfig | None = None,
) -> ServerScanResult:
    """Scan one server from synchronous code: ``result = tlsprobe.scan_server_sync("example.com:443")``.

    Runs an event loop for the duration of the call. Ctrl-C cancels the scan, closing its connections.

    :raises RuntimeError: when called from inside a running event loop; ``await scan_server(...)`` there instead.
    """
    running = _running_event_loop()
    if running is not None:
        raise RuntimeError(
            f"scan_server_sync() cannot be called inside a running {running} event loop, which it would block; "
            "use `await tlsprobe.scan_server(...)` there instead"
        )
    return anyio.run(functools.partial(scan_server, target, checks, config=config), backend="asyncio")


def _running_event_loop() -> str | None:
    """The async library whose loop runs in this thread, if any."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return "asyncio"
    trio = sys.modules.get("trio")  # only a program that imported trio can be running it
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            return "trio"
    return None
