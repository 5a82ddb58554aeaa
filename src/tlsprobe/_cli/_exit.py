"""The command's exit statuses, one meaning each (listed in ``tlsprobe --help``)."""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
"""Every server was scanned and none fails the gate (``--fail-on``, ``--fail-under``, the policy)."""
EXIT_FAILED: Final = 1
"""A server fails the gate, or could not be scanned completely."""
EXIT_USAGE: Final = 2
"""Bad usage or input: an option, a target, a file; or an output that could not be written."""
EXIT_INTERRUPTED: Final = 130
"""Ended by Ctrl-C (128 + SIGINT, as a shell reports it)."""
EXIT_CLOSED_OUTPUT: Final = 141
"""stdout was closed by its reader (``| head``): 128 + SIGPIPE, what a shell reports for a command SIGPIPE ended."""
