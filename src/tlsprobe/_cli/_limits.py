"""The process limits a mass scan needs, raised where the system allows."""

from __future__ import annotations

import contextlib
import sys


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
