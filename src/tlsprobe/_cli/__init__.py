"""The ``tlsprobe`` command."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, NoReturn

import anyio

from tlsprobe._cli._concerns import concerns
from tlsprobe._cli._limits import fewer_garbage_collections, raise_open_files_limit
from tlsprobe._cli._options import (
    EXIT_CONCERN,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    scan_config,
    selected_checks,
    target_options,
)
from tlsprobe._cli._progress import ProgressBar, shown
from tlsprobe._cli._render import render_server
from tlsprobe._config import InvalidTargetLine, ScanConfig, ServerTarget, parse_target_lines
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._json import dumps, scan_document
from tlsprobe._json_schema import json_schema
from tlsprobe._models import ServerScanResult
from tlsprobe._scanner import Scanner
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS


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
    runs a full garbage collection first, about 45 ms after a 10-server scan (measured), work the operating system
    does at once; mypy's command ends the same way. An uncaught exception still ends the normal way, traceback
    and all. Only the command does this: ``main()`` returns its exit code to a caller in the same process."""
    try:
        code = main()
    except SystemExit as exit_request:  # argparse: --help, usage errors
        code = _exit_status(exit_request.code)
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


async def run_scan(
    targets: Iterator[ServerTarget],
    checks: Sequence[Check[Any]],
    config: ScanConfig,
    options: argparse.Namespace,
    invalid: list[InvalidTargetLine],
    labels: Mapping[ServerTarget, str],
    *,
    total: int | None = None,
) -> int:
    """Scan, writing the report and JSON as results arrive, with a progress bar on a terminal when ``total``
    (the number of targets, None when unknown) is not 1; returns EXIT_OK or EXIT_CONCERN."""
    json_to_stdout = options.json_out == "-" or (options.jsonl and options.json_out is None)
    show_report = not options.quiet and not json_to_stdout
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    json_file: IO[str] | None = None
    if options.json_out not in (None, "-"):
        json_file = open(options.json_out, "w", encoding="utf-8")  # noqa: SIM115, ASYNC230 - before any I/O
    elif json_to_stdout:
        json_file = sys.stdout
    started_at = datetime.datetime.now(datetime.UTC)
    collected: list[ServerScanResult] = []
    exit_code = EXIT_OK
    scanner = Scanner(config)
    progress = (
        ProgressBar(sys.stdout, total, scanner.statistics)
        if sys.stdout.isatty() and not options.no_progress and total != 1
        else None
    )
    try:
        async with shown(progress), scanner.scan(targets, checks) as results:
            async for result in results:
                if concerns(result):
                    exit_code = EXIT_CONCERN
                with progress.interrupting() if progress is not None else contextlib.nullcontext():
                    if show_report:
                        print(render_server(result, labels.get(result.target), colour=colour), flush=True)
                    if json_file is not None and options.jsonl:
                        json_file.write(dumps(result) + "\n")
                        json_file.flush()
                if json_file is not None and not options.jsonl:
                    collected.append(result)
        if json_file is not None and not options.jsonl:
            document = scan_document(
                collected,
                started_at=started_at,
                completed_at=datetime.datetime.now(datetime.UTC),
                invalid_targets=invalid,
            )
            json_file.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    finally:
        if json_file is not None and json_file is not sys.stdout:
            json_file.close()
    return exit_code
