"""Process settings a mass scan needs: open-files limit raised where the system allows, fewer garbage collections,
and the event loop it runs on."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import sys
from collections.abc import Iterator


def raise_open_files_limit() -> None:
    """Raise the soft limit on open files to the hard one: a scan of many servers holds up to
    ``Limits.max_open_connections`` sockets at once, more than the usual soft limit of 1024 allows with room to
    spare. The scanner itself stays within whatever limit there is (``Scanner`` caps its connections by it)."""
    if sys.platform == "win32":
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        # Some systems refuse an unlimited soft limit; the scanner then keeps within the current one.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


SCAN_GC_THRESHOLD = 50_000
"""Allocations between two young-generation collections during a scan, at least (Python's default is 700)."""


@contextlib.contextmanager
def fewer_garbage_collections() -> Iterator[None]:
    """Collect garbage less often while the block runs, and never look again at what exists when it starts (the
    imported modules, mostly). A scan allocates many short-lived objects per connection, and with the default
    thresholds the collector takes a noticeable share of a mass scan's CPU (benchmarks/RESULTS.md). Restored on
    exit."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], SCAN_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


EVENT_LOOP_VARIABLE = "TLSPROBE_EVENT_LOOP"
"""``asyncio`` keeps the standard event loop even where uvloop is installed (for an A/B, or a suspected loop bug)."""


def event_loop_options() -> dict[str, object]:
    """anyio's backend options for a scan: uvloop when it is installed (``pip install 'tlsprobe[uvloop]'``), whose
    socket and timer handling costs the scan's event loop less CPU per connection (benchmarks/RESULTS.md); the
    standard loop otherwise. Looked up without importing uvloop, so a scan without it pays nothing."""
    if os.environ.get(EVENT_LOOP_VARIABLE, "").strip().lower() == "asyncio":
        return {}
    if sys.platform == "win32" or importlib.util.find_spec("uvloop") is None:
        return {}
    return {"use_uvloop": True}
