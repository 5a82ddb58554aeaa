"""How many sockets a scan may hold at once on this machine."""

from __future__ import annotations

import sys
from typing import Final

RESERVED_DESCRIPTORS: Final = 128
"""Descriptors left for everything else: the interpreter's files, output files, DNS lookups in threads."""


def connection_budget(requested: int) -> int:
    """``requested``, lowered if need be so that the scan's sockets fit within the open-files limit with
    ``RESERVED_DESCRIPTORS`` to spare: a scan of many servers must slow down, not fail with "too many open files"."""
    if sys.platform == "win32":  # no per-process descriptor limit of this kind
        return requested
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, soft - RESERVED_DESCRIPTORS))
