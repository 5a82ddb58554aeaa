"""One scan as the command runs it: each result reported and written as JSON as it arrives, a progress bar on
stderr, a summary at the end, and Ctrl-C or a closed output ending it cleanly.

Each result is converted to its JSON form once: the JSON output writes it, ``summarize`` keeps the few facts the
summary table needs (a ``ServerSummary``), and the result itself is dropped, so memory does not grow with the
number of targets. The first Ctrl-C cancels the scan: what finished is written (the JSON document marked
incomplete) and the command exits with 130; a second one quits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import anyio
import attrs

from tlsprobe._cli._concerns import FailureGate, at_or_above
from tlsprobe._cli._errors import say
from tlsprobe._cli._exit import EXIT_INTERRUPTED
from tlsprobe._cli._outputs import JsonOutput, OutputClosed, OutputFailed, write_to
from tlsprobe._cli._progress import ProgressBar, render_final_line, shown
from tlsprobe._cli._render import render_server
from tlsprobe._cli._summary_table import SummaryRow, render_summary_table
from tlsprobe._engine._scanner import Scanner
from tlsprobe._exceptions import TLSProbeError
from tlsprobe._model._assessment import Severity
from tlsprobe._model._config import InvalidTargetLine, ScanConfig, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import ServerScanResult
from tlsprobe._model._summary import SEVERITIES, summarize
from tlsprobe.checks._base import Check

if TYPE_CHECKING:
    from tlsprobe._cli._html_output import HtmlOutput
    from tlsprobe._cli._recording import Recording
    from tlsprobe.distributed import DistributedScanner
    from tlsprobe.store import StoreSink


@attrs.frozen(kw_only=True)
class ReportSettings:
    """What the terminal shows of a scan."""

    reports: TextIO | None
    """Where each server's report goes (stdout), or None for no report."""
    summary: TextIO | None
    """Where the summary of a scan of several servers goes, or None."""
    colour: bool = False
    """Colour the report."""
    width: int | None = None
    """Fit the report and the summary to this many columns; None: no limit."""
    progress: bool = False
    """Draw a progress bar on stderr."""
    min_severity: Severity | None = None
    """Report only the findings at this severity or above, and the servers that have one."""
    only_problems: bool = False
    """Report only the servers that fail the gate."""
    labels: Mapping[ServerTarget, str] = attrs.Factory(dict)
    """A label shown beside a target's name (the demo's descriptions)."""


@attrs.define
class ScanOutcome:
    """How a scan ended."""

    servers: int = 0
    """Results received."""
    failing: int = 0
    """Servers that fail the gate."""
    interrupted: bool = False
    """Ended by Ctrl-C."""
    output_closed: bool = False
    """Ended because stdout's reader went away."""
    output_failed: bool = False
    """Ended because an output could not be written (said on stderr)."""
    not_reachable: int = 0
    """Servers that could not be scanned at all."""
    findings: dict[str, int] = attrs.Factory(lambda: dict.fromkeys(SEVERITIES, 0))
    """Findings of every server, by severity."""

    @property
    def complete(self) -> bool:
        """The scan went through every target."""
        return not (self.interrupted or self.output_closed or self.output_failed)


def _in_report(row: SummaryRow, settings: ReportSettings) -> bool:
    """Whether a server is reported and listed in the summary under ``--only-problems`` or ``--min-severity``."""
    if settings.only_problems:
        return bool(row.failures)
    if settings.min_severity is not None:
        summary = row.summary
        level = settings.min_severity
        return not summary.reachable or any(n and at_or_above(s, level) for s, n in summary.findings.items())
    return True


@contextlib.contextmanager
def _erased(bar: ProgressBar | None) -> Iterator[None]:
    if bar is None:
        yield
    else:
        with bar.interrupting():
            yield


class _ScanRun:
    """The state of one scan while it runs."""

    def __init__(
        self,
        gate: FailureGate,
        settings: ReportSettings,
        json_output: JsonOutput | None,
        bar: ProgressBar | None,
        invalid_targets: Sequence[InvalidTargetLine],
    ) -> None:
        self.gate = gate
        self.invalid_targets = invalid_targets
        self.settings = settings
        self.json_output = json_output
        self.html_output: HtmlOutput | None = None
        self.bar = bar
        self.outcome = ScanOutcome()
        self.rows: list[SummaryRow] = []
        self.scope = anyio.CancelScope()

    def take(self, result: ServerScanResult) -> Any:
        """Write, report and summarise one result, and give its JSON form; ``OutputClosed`` or ``OutputFailed``
        when an output fails."""
        server: Any = to_jsonable(result)
        summary = summarize(server)
        row = SummaryRow(summary=summary, failures=self.gate.failures_of(result, summary))
        outcome = self.outcome
        outcome.servers += 1
        outcome.failing += bool(row.failures)
        outcome.not_reachable += not summary.reachable
        for severity, count in summary.findings.items():
            outcome.findings[severity] = outcome.findings.get(severity, 0) + count
        shown = _in_report(row, self.settings)
        if shown:
            self.rows.append(row)
        with _erased(self.bar):
            if self.json_output is not None:
                self.json_output.add(server)
            if self.html_output is not None:
                self.html_output.add(server)
            if self.settings.reports is not None and shown:
                self._report(result, row)
        return server

    def _report(self, result: ServerScanResult, row: SummaryRow) -> None:
        settings = self.settings
        assert settings.reports is not None
        level = self.gate.fail_on if settings.only_problems else settings.min_severity
        text = render_server(
            result,
            settings.labels.get(result.target),
            colour=settings.colour,
            width=settings.width,
            failures=row.failures,
            gate=self.gate,
            min_severity=level,
        )
        write_to(settings.reports, text + "\n", "stdout")

    async def watch_interrupts(self) -> None:
        """Ctrl-C cancels the scan; the second quits at once. (Where signals cannot be received in the event loop,
        Windows, Ctrl-C raises ``KeyboardInterrupt`` as usual and ``_scan_command`` ends the JSON document.)"""
        if sys.platform == "win32":
            return
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if self.outcome.interrupted:
                    os._exit(EXIT_INTERRUPTED)
                self.outcome.interrupted = True
                say("interrupted: writing the servers finished so far (Ctrl-C again to quit at once)")
                self.scope.cancel()

    def finish(self) -> None:
        """The end: the JSON document's end, the summary, the final progress line."""
        outcome = self.outcome
        if self.json_output is not None and not outcome.output_failed:
            try:
                self.json_output.end(complete=outcome.complete, invalid_targets=self.invalid_targets)
            except OutputClosed:
                outcome.output_closed = True
            except OutputFailed as failure:
                say(str(failure))
                outcome.output_failed = True
        summary = self.settings.summary
        if summary is not None and outcome.servers > 1 and not outcome.output_closed:
            table = render_summary_table(
                self.rows,
                gate=self.gate,
                width=self.settings.width,
                colour=self.settings.colour,
                shown=outcome.servers if len(self.rows) < outcome.servers else None,
            )
            try:
                write_to(summary, table, "stdout")
            except OutputClosed:
                outcome.output_closed = True
            except OutputFailed as failure:
                say(str(failure))
                outcome.output_failed = True
        if self.bar is not None:
            self.bar.finish(
                render_final_line(
                    servers=outcome.servers,
                    not_reachable=outcome.not_reachable,
                    findings=outcome.findings,
                    elapsed_s=self.bar.elapsed_s,
                    interrupted=outcome.interrupted,
                )
            )


async def run_scan(
    targets: Iterable[ServerTarget],
    checks: Sequence[Check[Any]],
    config: ScanConfig,
    *,
    gate: FailureGate,
    settings: ReportSettings,
    json_output: JsonOutput | None,
    invalid_targets: Sequence[InvalidTargetLine],
    total: int | None,
    recording: Recording | None = None,
    html_output: HtmlOutput | None = None,
    ray_address: str | None = None,
) -> ScanOutcome:
    """Scan ``targets``, reporting and writing each result as it arrives (into the store too, with a
    ``recording``); how it ended. ``invalid_targets`` is the list the targets' reader fills (written at the end
    of the JSON document). With ``ray_address`` the scan runs on that Ray cluster (``--ray``)."""
    scanner: Scanner | DistributedScanner
    if ray_address is None:
        scanner = Scanner(config)
    else:
        from tlsprobe.distributed import DistributedScanner  # Ray itself is imported only once the scan starts

        scanner = DistributedScanner(config, address=ray_address)
    bar = ProgressBar(sys.stderr, total, scanner.statistics) if settings.progress and total != 1 else None
    run = _ScanRun(gate, settings, json_output, bar, invalid_targets)
    run.html_output = html_output
    with _one_failure():
        await _watched_scan(run, scanner, targets, checks, bar, recording)
    run.finish()
    return run.outcome


async def _watched_scan(
    run: _ScanRun,
    scanner: Scanner | DistributedScanner,
    targets: Iterable[ServerTarget],
    checks: Sequence[Check[Any]],
    bar: ProgressBar | None,
    recording: Recording | None,
) -> None:
    async with anyio.create_task_group() as watchers:
        watchers.start_soon(run.watch_interrupts)
        with run.scope:
            async with (
                shown(bar),
                _sink(recording) as sink,
                scanner.scan(targets, checks) as results,
            ):
                async for result in results:
                    try:
                        server = run.take(result)
                        if sink is not None:
                            await sink.write_jsonable(server)
                    except OutputClosed:
                        run.outcome.output_closed = True
                    except OutputFailed as failure:
                        say(f"{failure}; stopping the scan (what was written is kept)")
                        run.outcome.output_failed = True
                    except TLSProbeError as failure:  # the store's StoreError: its one line
                        say(f"{failure}; stopping the scan (what was written is kept)")
                        run.outcome.output_failed = True
                    if not run.outcome.complete:
                        run.scope.cancel()
                        break
        watchers.cancel_scope.cancel()


@contextlib.contextmanager
def _one_failure() -> Iterator[None]:
    """A scan that cannot start (``--ray``: no cluster there) fails inside the watchers' task group: its error as
    it was raised, not in a group, so that the command says it in one line."""
    try:
        yield
    except ExceptionGroup as group:
        if len(group.exceptions) == 1 and isinstance(group.exceptions[0], TLSProbeError):
            raise group.exceptions[0] from None
        raise


@contextlib.asynccontextmanager
async def _sink(recording: Recording | None) -> AsyncIterator[StoreSink | None]:
    if recording is None:
        yield None
        return
    from tlsprobe.store import store_sink

    async with store_sink(recording.store, recording.scan_id) as sink:
        yield sink
