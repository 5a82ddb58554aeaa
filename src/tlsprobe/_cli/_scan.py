"""One scan as the command runs it: results reported and written as JSON as they arrive, with a progress bar."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from tlsprobe._cli._concerns import concerns
from tlsprobe._cli._options import EXIT_CONCERN, EXIT_OK
from tlsprobe._cli._progress import ProgressBar, shown
from tlsprobe._cli._render import render_server
from tlsprobe._engine._scanner import Scanner
from tlsprobe._model._config import InvalidTargetLine, ScanConfig, ServerTarget
from tlsprobe._model._json import dumps, scan_document
from tlsprobe._model._results import ServerScanResult
from tlsprobe.checks._base import Check


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
