"""The ``tlsprobe`` command."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

import anyio

from tlsprobe._cli._limits import fewer_garbage_collections, raise_open_files_limit
from tlsprobe._cli._options import (
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    scan_config,
    selected_checks,
    target_options,
)
from tlsprobe._cli._scan import run_scan
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import InvalidTargetLine, ServerTarget, parse_target_lines
from tlsprobe._model._json_schema import json_schema
from tlsprobe.checks._registry import DEFAULT_CHECKS

EXIT_INTERRUPTED = 130
"""The shell's status for a command ended by Ctrl-C."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tlsprobe`` command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["demo"]:
        from tlsprobe._cli._demo import run_demo

        return run_demo(arguments[1:])
    parser = build_parser()
    options = parser.parse_args(arguments)
    if options.json_schema:
        print(json.dumps(json_schema(check.result_type for check in DEFAULT_CHECKS), indent=2))
        return EXIT_OK
    try:
        config = scan_config(options)
        checks = selected_checks(options)
        adjust = target_options(options)
    except ConfigurationError as error:
        parser.error(str(error))
    if not options.targets and not options.targets_in:
        parser.error("give at least one TARGET or --targets-in FILE")
    invalid: list[InvalidTargetLine] = []
    cli_targets: list[ServerTarget] = []
    for item in parse_target_lines(options.targets, source="command line"):
        if isinstance(item, InvalidTargetLine):
            _report_invalid(item)
            invalid.append(item)
        else:
            cli_targets.append(adjust(item))
    try:
        targets_file = open(options.targets_in, encoding="utf-8") if options.targets_in else None  # noqa: SIM115
        in_file = _count_target_lines(options.targets_in) if targets_file is not None else 0
        total = None if in_file is None else len(cli_targets) + in_file
    except OSError as error:
        print(f"tlsprobe: cannot read targets file: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:

        def targets() -> Iterator[ServerTarget]:
            yield from cli_targets
            if targets_file is not None:
                for entry in parse_target_lines(targets_file, source=options.targets_in):
                    if isinstance(entry, InvalidTargetLine):
                        _report_invalid(entry)
                        invalid.append(entry)
                    else:
                        yield adjust(entry)

        raise_open_files_limit()
        with fewer_garbage_collections():
            code = anyio.run(functools.partial(run_scan, targets(), checks, config, options, invalid, {}, total=total))
    finally:
        if targets_file is not None:
            targets_file.close()
    return EXIT_USAGE if invalid else code


def run() -> NoReturn:
    """The ``tlsprobe`` console script and ``python -m tlsprobe``: ``main()``, then, with every output flushed and
    closed, an exit that skips the interpreter's teardown. A normal exit frees the scan's objects one by one and
    runs a full garbage collection first (tens of milliseconds after a scan, see CHANGELOG.md), work the operating
    system does at once; mypy's command ends the same way. An uncaught exception still ends the normal way, traceback
    and all. Only the command does this: ``main()`` returns its exit code to a caller in the same process."""
    try:
        code = main()
    except SystemExit as exit_request:  # argparse: --help, usage errors
        code = _exit_status(exit_request.code)
    except KeyboardInterrupt:  # the scan was cancelled first: its sockets are closed and its threads back
        print("\ntlsprobe: interrupted; the results written above are complete", file=sys.stderr)
        code = EXIT_INTERRUPTED
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
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


def _count_target_lines(path: str) -> int | None:
    """How many targets a targets file names (for the progress bar), read once without keeping them; None for
    what cannot be read twice (a pipe)."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as lines:
        return sum(1 for _ in parse_target_lines(lines, source=path))


def _report_invalid(line: InvalidTargetLine) -> None:
    print(f"tlsprobe: {line.source}, line {line.line_number}: {line.error}", file=sys.stderr)
