"""The ``tlsprobe`` command.

``main()`` dispatches on the first argument: a name in ``SUBCOMMANDS`` runs that subcommand with the arguments
after it, anything else is a scan. A subcommand is a function taking its arguments and returning the exit status,
imported only when it runs (start-up stays that of a scan); adding one is one line of the table.

The pieces subcommands share: ``_errors`` (bad input in one line, exit 2), ``_outputs`` (output paths checked
before scanning, JSON written as results arrive), ``_concerns`` (``--fail-on`` and ``--fail-under``),
``_summary_table`` (the table of ``ServerSummary`` rows), ``_scan_command`` (options to a checked scan).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from tlsprobe._cli._errors import say
from tlsprobe._cli._exit import EXIT_CLOSED_OUTPUT, EXIT_INTERRUPTED
from tlsprobe._cli._outputs import OutputClosed

Subcommand = Callable[[Sequence[str]], int]
"""A subcommand: its arguments (after its name) in, its exit status out."""


def lazy(module: str, function: str) -> Subcommand:
    """A subcommand whose module is imported only when it runs."""

    def run(arguments: Sequence[str]) -> int:
        command: Subcommand = getattr(importlib.import_module(module), function)
        return command(arguments)

    return run


SUBCOMMANDS: Mapping[str, Subcommand] = {
    "demo": lazy("tlsprobe._cli._demo", "run_demo"),
    "diff": lazy("tlsprobe._cli._diff", "run_diff"),
    "history": lazy("tlsprobe._cli._history", "run_history"),
    "monitor": lazy("tlsprobe._cli._monitor", "run_monitor"),
    "report": lazy("tlsprobe._cli._report", "run_report"),
}
"""Subcommands by name (``tlsprobe NAME ...``); a scan otherwise."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlsprobe`` command; returns the exit status (argparse's ``--help`` and usage errors
    raise ``SystemExit``, as argparse does)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = SUBCOMMANDS.get(arguments[0]) if arguments else None
    if command is not None:
        return command(arguments[1:])
    from tlsprobe._cli._scan_command import run_scan_command

    return run_scan_command(arguments, subcommands=tuple(SUBCOMMANDS))


def run() -> NoReturn:
    """The ``tlsprobe`` console script and ``python -m tlsprobe``: ``main()``, then, with every output flushed and
    closed, an exit that skips the interpreter's teardown. A normal exit frees the scan's objects one by one and
    runs a full garbage collection first (tens of milliseconds after a scan, see CHANGELOG.md), work the operating
    system does at once; mypy's command ends the same way. Ctrl-C and a closed stdout end it quietly (130, 141)."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A server's name in a report must never fail to print, whatever the terminal's encoding.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        code = main()
    except SystemExit as exit_request:  # argparse: --help, usage errors
        code = _exit_status(exit_request.code)
    except KeyboardInterrupt:  # before or after the scan, which handles its own
        say("interrupted")
        code = EXIT_INTERRUPTED
    except (BrokenPipeError, OutputClosed):  # stdout's reader went away (| head)
        code = EXIT_CLOSED_OUTPUT
    try:
        sys.stdout.flush()  # what is still buffered (--help, a short report) meets a closed pipe only now
    except BrokenPipeError:
        code = EXIT_CLOSED_OUTPUT
    except (OSError, ValueError):  # a closed stream
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _exit_status(code: object) -> int:
    """The process status ``sys.exit(code)`` would give: None is 0, an int itself, anything else printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
