"""``tlsprobe [options] TARGET...``: the scan, from its arguments to its exit status.

Everything that can be found wrong is found before the first connection: options (one line, exit 2), the policy
file, the targets (a file naming none is an error), and the JSON output (opened, its first bytes written). Then
the scan runs; the exit status says how it ended (``_exit``).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import attrs

from tlsprobe._cli._concerns import FailureGate
from tlsprobe._cli._errors import InputError, report_input_error, say
from tlsprobe._cli._exit import EXIT_CLOSED_OUTPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tlsprobe._cli._html_output import HtmlOutput
from tlsprobe._cli._limits import event_loop_options, fewer_garbage_collections, raise_open_files_limit
from tlsprobe._cli._options import build_parser, scan_config, selected_checks, target_options
from tlsprobe._cli._outputs import JsonOutput, OutputClosed, OutputFailed, open_output
from tlsprobe._cli._recording import Recording
from tlsprobe._cli._scan import ReportSettings, ScanOutcome, run_scan
from tlsprobe._cli._targets import Targets, read_targets
from tlsprobe._cli._text import colour_wanted, width_of
from tlsprobe._exceptions import ConfigurationError, TLSProbeError
from tlsprobe._model._assessment import Severity
from tlsprobe._model._config import ScanConfig, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import target_key
from tlsprobe.checks._base import Check


@attrs.frozen(kw_only=True)
class ScanInputs:
    """Everything a scan needs, checked: what a subcommand that scans can build with ``scan_inputs``."""

    config: ScanConfig
    """The scan's configuration (the policy included)."""
    checks: tuple[Check[Any], ...]
    """The checks asked for."""
    gate: FailureGate
    """What fails the scan."""
    targets: Targets
    """The targets, read as they are scanned."""


def scan_inputs(parser: argparse.ArgumentParser, options: argparse.Namespace) -> ScanInputs:
    """The scan the options describe. A bad option is a usage error (``parser.error``: one line, exit 2); bad
    input (a targets file naming nothing, unreadable) is an ``InputError``."""
    try:
        config = scan_config(options)
        checks = selected_checks(options)
        adjust = target_options(options)
        gate = FailureGate.from_options(options.fail_on, options.fail_under, with_policy=config.policy is not None)
    except (ConfigurationError, InputError) as error:
        parser.error(str(error))
    if not options.targets and not options.targets_in:
        parser.error("give at least one TARGET or --targets-in FILE")
    targets = read_targets(options.targets, options.targets_in, adjust)
    return ScanInputs(config=config, checks=checks, gate=gate, targets=targets)


def report_settings(options: argparse.Namespace, labels: dict[ServerTarget, str] | None = None) -> ReportSettings:
    """What the terminal shows, from the output options: the report on stdout unless stdout carries JSON, the
    summary with it (or on stderr when stdout carries JSON and stderr is a terminal), progress on stderr."""
    json_to_stdout = options.json_out == "-" or (options.jsonl and options.json_out is None)
    reports = None if options.quiet or options.summary_only or json_to_stdout else sys.stdout
    if options.quiet:
        summary = None
    elif json_to_stdout:
        summary = sys.stderr if sys.stderr.isatty() else None
    else:
        summary = sys.stdout
    shown = summary or sys.stdout
    return ReportSettings(
        reports=reports,
        summary=summary,
        colour=colour_wanted(shown),
        width=width_of(shown),
        progress=sys.stderr.isatty() and not options.no_progress,
        min_severity=Severity(options.min_severity) if options.min_severity else None,
        only_problems=options.only_problems,
        labels=labels or {},
    )


def open_json_output(options: argparse.Namespace, started_at: datetime.datetime) -> JsonOutput | None:
    """The JSON output the options ask for, opened and begun: ``InputError`` or ``OutputFailed`` when it cannot
    be written, before anything is scanned."""
    if options.json_out is None and not options.jsonl:
        return None
    path = options.json_out or "-"
    stream = open_output(path, "--json-out")
    output = JsonOutput(stream, name="stdout" if path == "-" else path, lines=options.jsonl, started_at=started_at)
    try:
        output.begin()
    except OutputFailed:
        output.abandon()
        raise
    return output


def exit_status(outcome: ScanOutcome, targets: Targets) -> int:
    """The exit status of a scan that ran: how it ended first, then bad input, then the gate."""
    if outcome.output_closed:
        return EXIT_CLOSED_OUTPUT
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    if outcome.output_failed or targets.invalid:
        return EXIT_USAGE
    if targets.yielded == 0:
        source = targets.source or "the command line"
        return report_input_error(f"no targets to scan: {'stdin' if source == '-' else source} named none")
    return EXIT_FAILED if outcome.failing else EXIT_OK


def scan(
    inputs: ScanInputs,
    options: argparse.Namespace,
    *,
    labels: dict[ServerTarget, str] | None = None,
    before: Callable[[], None] | None = None,
    recording: Recording | None = None,
) -> int:
    """Open the outputs, run the scan, and give its exit status. ``before`` runs once the outputs are open (the
    demo says what it scans). The scan is recorded in ``recording`` (begun by the caller, who closes its store),
    else in the store ``--store`` names."""
    started_at = datetime.datetime.now(datetime.UTC)
    try:
        json_output = open_json_output(options, started_at)
    except (InputError, OutputFailed) as error:
        return report_input_error(str(error))
    except OutputClosed:
        return EXIT_CLOSED_OUTPUT
    opened_here = recording is None
    html_output = None
    try:
        html_path = getattr(options, "html_out", None)
        html_output = None if html_path is None else HtmlOutput(html_path)
        if recording is None:
            recording = _begin_recording(options, inputs.targets, started_at)
    except (InputError, TLSProbeError) as error:
        if json_output is not None:
            json_output.abandon()
        if html_output is not None:
            html_output.abandon()
        return report_input_error(str(error))
    if before is not None:
        before()
    settings = report_settings(options, labels)
    targets = inputs.targets
    run = functools.partial(
        run_scan,
        targets,
        inputs.checks,
        inputs.config,
        gate=inputs.gate,
        settings=settings,
        json_output=json_output,
        invalid_targets=targets.invalid,
        total=targets.total,
        recording=recording,
        html_output=html_output,
        ray_address=getattr(options, "ray", None),
    )
    raise_open_files_limit()
    outcome = None
    try:
        with fewer_garbage_collections():
            outcome = anyio.run(run, backend_options=event_loop_options())
    except KeyboardInterrupt:  # before the scan could watch for Ctrl-C, or after
        if json_output is not None:
            _end_quietly(json_output, targets)
        say("interrupted")
        return EXIT_INTERRUPTED
    except TLSProbeError as failure:  # the store failed as the scan ended (its last commit)
        if json_output is not None:
            _end_quietly(json_output, targets)
        say(str(failure))
        return EXIT_USAGE
    finally:
        if recording is not None:
            _finish_recording(recording, complete=outcome is not None and outcome.complete)
            if opened_here:
                recording.store.close()
        if html_output is not None and outcome is None:
            html_output.abandon()
    if html_output is not None:
        try:
            html_output.write(title=options.html_title, started_at=started_at, labels=_keyed(settings.labels))
        except OutputFailed as failure:
            say(str(failure))
            return EXIT_USAGE
    if json_output is not None and outcome.output_failed:
        json_output.abandon()  # its failure is said already
    elif json_output is not None:
        try:
            json_output.close()
        except OutputFailed as failure:
            say(str(failure))
            return EXIT_USAGE
    return exit_status(outcome, targets)


def _begin_recording(options: argparse.Namespace, targets: Targets, started_at: datetime.datetime) -> Recording | None:
    """The scan's record in the store, begun, when ``--store`` asks for one (``monitor`` always does)."""
    location = getattr(options, "store", None)
    if location is None:
        return None
    return Recording.begin(location, targets, getattr(options, "name", None), started_at)


def _finish_recording(recording: Recording, *, complete: bool) -> None:
    try:
        recording.finish(complete=complete)
    except TLSProbeError as failure:
        say(str(failure))


def _keyed(labels: Mapping[ServerTarget, str]) -> dict[str, str]:
    """The demo's labels keyed as the report finds servers: by the target key of their JSON form."""
    return {target_key(to_jsonable(target)): label for target, label in labels.items()}


def _end_quietly(json_output: JsonOutput, targets: Targets) -> None:
    try:
        json_output.end(complete=False, invalid_targets=targets.invalid)
        json_output.close()
    except (OutputClosed, OutputFailed):
        json_output.abandon()


def run_scan_command(arguments: Sequence[str], *, subcommands: Sequence[str] = ()) -> int:
    """The scan command; ``subcommands`` are named in the completion scripts."""
    parser = build_parser()
    options = parser.parse_args(list(arguments))
    if options.json_schema:
        from tlsprobe._model._json_schema import json_schema
        from tlsprobe.checks._registry import DEFAULT_CHECKS

        print(json.dumps(json_schema(check.result_type for check in DEFAULT_CHECKS), indent=2))
        return EXIT_OK
    if options.completion:
        from tlsprobe._cli._completion import completion_script

        sys.stdout.write(completion_script(options.completion, parser, subcommands))
        return EXIT_OK
    try:
        inputs = scan_inputs(parser, options)
    except InputError as error:
        return report_input_error(error)
    return scan(inputs, options)
