"""The one exception the store raises for what goes wrong outside the caller's code."""

from __future__ import annotations

from tlsprobe._exceptions import TLSProbeError


class StoreError(TLSProbeError):
    """The store cannot be opened or used: a bad location, an unreachable server, a file that is not a database, a
    schema newer than this tlsprobe, an unknown scan, a reference that matches nothing. The message is one line for
    people (a password never appears in it); the database driver's exception, when there is one, is its cause."""
