"""Targets from the command line, a targets file or stdin (``--targets-in -``), read lazily.

Each line is decoded on its own: a line that is not UTF-8 is one invalid line, reported like any other, and the
rest is scanned. Invalid lines are reported as they are met (one short line each on stderr) and kept for the JSON
document. A regular file is read once beforehand to count its targets, for the progress bar and so that a file
naming no target at all is an error before anything starts (a CI job must not pass after scanning nothing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO

import attrs

from tlsprobe._cli._errors import QUOTE_LIMIT, InputError, quoted, say, shortened
from tlsprobe._model._config import InvalidTargetLine, ServerTarget, parse_target_lines

STDIN = "-"
"""``--targets-in -``: read the targets from stdin."""


def _decoded_lines(lines: Iterable[bytes], source: str) -> Iterator[tuple[int, str | InvalidTargetLine]]:
    """Each line with its number: its text, or an ``InvalidTargetLine`` when it is not UTF-8."""
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            shown = raw.decode("utf-8", "replace").rstrip("\r\n")
            where = f"byte 0x{raw[error.start]:02x} at column {error.start + 1}"
            yield number, InvalidTargetLine(source=source, line_number=number, text=shown, error=f"not UTF-8 ({where})")
            continue
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def parse_lines(lines: Iterable[bytes], source: str) -> Iterator[ServerTarget | InvalidTargetLine]:
    """The targets (and invalid lines) of a targets file's lines, as bytes."""
    for number, line in _decoded_lines(lines, source):
        if isinstance(line, InvalidTargetLine):
            yield line
            continue
        for item in parse_target_lines((line,), source=source):
            yield attrs.evolve(item, line_number=number) if isinstance(item, InvalidTargetLine) else item


def report_invalid(line: InvalidTargetLine) -> None:
    """One line on stderr for an invalid target: where it is, and why, a long line quoted only in part."""
    text = line.text.split("#", 1)[0].strip()
    error = line.error.replace(text, shortened(text, QUOTE_LIMIT)) if len(text) > QUOTE_LIMIT else line.error
    say(f"{line.source}, line {line.line_number}: {error}")


def count_targets(path: str) -> int | None:
    """How many valid targets the file at ``path`` names; None when it cannot be read twice (a pipe, stdin)."""
    if path == STDIN or not os.path.isfile(path):
        return None
    with open(path, "rb") as lines:
        return sum(1 for item in parse_lines(lines, path) if isinstance(item, ServerTarget))


@attrs.define
class Targets:
    """The targets of one command: those given as arguments, then those of ``--targets-in``, read as the scan
    consumes them. Invalid lines are reported as they are met and collected in ``invalid``."""

    from_arguments: list[ServerTarget]
    """Valid targets given on the command line."""
    source: str | None
    """The ``--targets-in`` file, ``-`` for stdin, or None."""
    adjust: Callable[[ServerTarget], ServerTarget]
    """What the options do to every target (``--sni``)."""
    total: int | None
    """How many valid targets in all; None when unknown before reading (stdin, a pipe)."""
    invalid: list[InvalidTargetLine] = attrs.Factory(list)
    """Every invalid target met so far, in order."""
    yielded: int = 0
    """Targets handed to the scan so far."""

    def __iter__(self) -> Iterator[ServerTarget]:
        for target in self.from_arguments:
            self.yielded += 1
            yield target
        if self.source is None:
            return
        stream, close = _open_source(self.source)
        try:
            for item in parse_lines(stream, self.source):
                if isinstance(item, InvalidTargetLine):
                    report_invalid(item)
                    self.invalid.append(item)
                else:
                    self.yielded += 1
                    yield self.adjust(item)
        finally:
            if close:
                stream.close()


def _open_source(source: str) -> tuple[BinaryIO, bool]:
    if source == STDIN:
        return sys.stdin.buffer, False
    return open(source, "rb"), True


def _report_every_invalid_line(path: str) -> None:
    """Say what is wrong with each line of a file that names no valid target, before saying it names none."""
    with open(path, "rb") as lines:
        for item in parse_lines(lines, path):
            if isinstance(item, InvalidTargetLine):
                report_invalid(item)


def read_targets(
    arguments: Sequence[str], source: str | None, adjust: Callable[[ServerTarget], ServerTarget]
) -> Targets:
    """The targets of the command line and of ``--targets-in``. Invalid arguments are reported now; the file is
    checked (readable, and naming at least one target when it can be read twice) before anything is scanned:
    ``InputError`` otherwise."""
    valid: list[ServerTarget] = []
    invalid: list[InvalidTargetLine] = []
    for item in parse_target_lines(arguments, source="command line"):
        if isinstance(item, InvalidTargetLine):
            report_invalid(item)
            invalid.append(item)
        else:
            valid.append(adjust(item))
    in_file: int | None = 0 if source is None else None
    if source is not None and source != STDIN:
        try:
            if os.path.isdir(source):
                raise InputError(f"--targets-in {quoted(source, 120)}: is a directory")
            in_file = count_targets(source)
            if in_file is None:  # a pipe or device: read once, as it comes
                with open(source, "rb"):
                    pass
        except OSError as error:
            raise InputError(f"cannot read targets file {quoted(source, 120)}: {error.strerror or error}") from None
    if in_file == 0 and not valid:
        if source is None:
            raise InputError("no targets to scan: every target given is invalid")
        _report_every_invalid_line(source)
        raise InputError(
            f"no targets to scan: {quoted(source, 120)} names none (only comments, blank or invalid lines)"
        )
    total = None if in_file is None else len(valid) + in_file
    return Targets(from_arguments=valid, source=source, adjust=adjust, total=total, invalid=invalid)
