"""A one-line progress bar for scans of many servers, on stderr when it is a terminal.

Progress is not output: it goes to stderr, so that stdout (a report, JSON Lines) stays clean whether it is a
terminal, a file or a pipe, and a long scan shows its progress even when stdout is redirected. The bar lives on
the terminal's last line and is erased before anything else is printed (``interrupting``), so the report and JSON
lines scroll past it unbroken when both streams share a terminal; when the scan ends, a final line says how many
servers, findings and how long (``finish``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import TextIO, final

import anyio

from tlsprobe._engine._scanner import ScannerStatistics

_REFRESH_S = 0.25
_BAR_WIDTH = 24
_ERASE_LINE = "\r\x1b[2K"


@final
class ProgressBar:
    """Draws ``statistics()`` against ``total`` servers on ``stream`` until the scan ends."""

    def __init__(self, stream: TextIO, total: int | None, statistics: Callable[[], ScannerStatistics]) -> None:
        self._stream = stream
        self._total = total
        self._statistics = statistics
        self._started = time.monotonic()
        self._shown = False

    def finish(self, text: str) -> None:
        """Replace the bar with ``text``, a final line that stays."""
        self._erase()
        self._write(text + "\n")

    async def run(self) -> None:
        """Redraw a few times a second; cancel to stop (the line is left erased)."""
        try:
            while True:
                self._draw()
                await anyio.sleep(_REFRESH_S)
        finally:
            self._erase()

    @contextmanager
    def interrupting(self) -> Iterator[None]:
        """Erase the bar for the duration of the block (something else prints), then draw it again."""
        self._erase()
        try:
            yield
        finally:
            self._draw()

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a terminal gone away: progress is not worth an error
            self._stream.write(text)
            self._stream.flush()

    def _draw(self) -> None:
        self._write(_ERASE_LINE + render_progress(self._statistics(), self._total, self._elapsed_s()))
        self._shown = True

    def _erase(self) -> None:
        if self._shown:
            self._write(_ERASE_LINE)
            self._shown = False

    def _elapsed_s(self) -> float:
        return time.monotonic() - self._started

    @property
    def elapsed_s(self) -> float:
        """Seconds since the bar was made (the scan's start)."""
        return self._elapsed_s()


@asynccontextmanager
async def shown(bar: ProgressBar | None) -> AsyncIterator[None]:
    """Keep ``bar`` (if any) drawn while the block runs; the block's own exception comes out as is."""
    if bar is None:
        yield
        return
    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        group.start_soon(bar.run)
        try:
            yield
        except Exception as error:  # re-raised below, not wrapped in an exception group
            failure = error
        finally:
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure


def render_progress(statistics: ScannerStatistics, total: int | None, elapsed_s: float) -> str:
    """The bar's text: servers done of the total (when known), being scanned, connections, retries, time."""
    done = statistics.servers_completed
    if total:
        filled = min(_BAR_WIDTH, done * _BAR_WIDTH // total)
        head = f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done}/{total} servers"
    else:
        head = f"{done} servers done"
    scanning = statistics.servers_started - statistics.servers_completed
    minutes, seconds = divmod(int(elapsed_s), 60)
    return (
        f"{head} · {scanning} scanning · {statistics.connections_opened} connections "
        f"({statistics.connections_open} open) · {statistics.retries} retries · {minutes}:{seconds:02d}"
    )


def render_final_line(
    *, servers: int, not_reachable: int, findings: Mapping[str, int], elapsed_s: float, interrupted: bool
) -> str:
    """The line left when the scan ends: servers, how many could not be scanned, findings by severity, time."""
    minutes, seconds = divmod(int(elapsed_s), 60)
    total = sum(findings.values())
    counts = ", ".join(f"{count} {severity}" for severity, count in findings.items() if count)
    found = f"{total} finding{'' if total == 1 else 's'}" + (f" ({counts})" if counts else "")
    reach = f", {not_reachable} not reachable" if not_reachable else ""
    ended = "interrupted after" if interrupted else "in"
    return f"{servers} server{'' if servers == 1 else 's'} {ended} {minutes}:{seconds:02d}{reach} · {found}"
