"""Lines of the terminal report: escaped at one place, coloured only where tlsprobe says so, fitted to the width.

A report line is a ``Line``: a ``lead`` of spans, each with an optional colour (the label, a grade letter, a
severity), then a ``text`` that wraps (or is cut) to the width. ``finish`` escapes every span and every text with
``escape`` (server-controlled strings included: a certificate subject, a header, an error quoting the server),
measures them in terminal cells, wraps, and only then adds the colour codes. Colour is structure here, never
in-band: no string a server sends can colour, move or clear anything. Plain ``str`` lines are lines with an
empty lead.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Final, Literal, TextIO

import attrs

from tlsprobe._cli._escape import escape

_RESET: Final = "\x1b[0m"
COLOURS: Final = {
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "red": "\x1b[31m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
}
"""The only escape sequences tlsprobe writes to a report."""
ELLIPSIS: Final = "…"
_LEAST_BESIDE: Final = 12
"""Fewer cells than this left beside a line's lead, and its text goes under it."""

Span = tuple[str, str | None]
"""Text and its colour (a key of ``COLOURS``), or None for plain text."""

# "  Label:      value": a continuation line starts under the value.
_LABEL: Final = re.compile(r"^( *)(?:[^ :][^:]{0,38}:|-|\[[A-Z]+\]) +")


@attrs.frozen
class Line:
    """One line of a report."""

    lead: tuple[Span, ...] = ()
    """What starts the line, never wrapped: labels and painted words."""
    text: str = ""
    """The rest: wrapped (or cut) to the width."""
    hang: int | None = None
    """Continuation lines start this many cells in; None: under the start of ``text``."""
    overflow: Literal["wrap", "cut"] = "wrap"
    """What to do with a text that does not fit: wrap it onto more lines, or cut it with an ellipsis."""


def painted(text: str, colour: str | None) -> Span:
    """A span of ``text`` in ``colour``."""
    return (text, colour)


def cell_width(text: str) -> int:
    """How many terminal cells ``text`` takes: East Asian wide characters two, combining marks none."""
    width = 0
    for character in text:
        if unicodedata.combining(character):
            continue
        width += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
    return width


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, an ellipsis marking the cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for character in text:
        size = cell_width(character)
        if used + size > width - 1:
            break
        kept.append(character)
        used += size
    return "".join(kept) + ELLIPSIS


def wrap(text: str, width: int, first: int, hang: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken at spaces: the first line has ``first`` cells already
    taken, the others start after ``hang`` spaces. A word longer than a line stays whole (a fingerprint, a URL)."""
    words = text.split(" ")
    lines: list[str] = []
    current, used = "", first
    for word in words:
        size = cell_width(word)
        if current and used + 1 + size > width:
            lines.append(current)
            current, used = " " * hang + word, hang + size
        elif current:
            current, used = f"{current} {word}", used + 1 + size
        else:
            current, used = (word, used + size) if not lines else (" " * hang + word, hang + size)
    lines.append(current)
    return lines


def _as_line(text: str, width: int | None) -> Line:
    """A plain line as a ``Line``: its label (or indentation) as the lead, continuation lines under the value (or
    four cells further in than the line, when there is no label or it takes half the width)."""
    match = _LABEL.match(text)
    if match and (width is None or 2 * cell_width(text[: match.end()]) <= width):
        return Line(lead=((text[: match.end()], None),), text=text[match.end() :])
    indent = len(text) - len(text.lstrip(" "))
    return Line(lead=((text[:indent], None),), text=text[indent:], hang=indent + 4)


def render_line(line: Line | str, *, colour: bool, width: int | None) -> list[str]:
    """One report line as terminal lines: escaped, fitted to ``width`` (None: as long as it is), coloured."""
    if isinstance(line, str):
        line = _as_line(escape(line), width)
    lead = [(escape(text), shade) for text, shade in line.lead]
    lead_width = sum(cell_width(text) for text, _ in lead)
    start = "".join(f"{COLOURS[shade]}{text}{_RESET}" if colour and shade else text for text, shade in lead)
    text = escape(line.text)
    if width is None or lead_width + cell_width(text) <= width:
        return [start + text]
    if line.overflow == "cut":
        return [start + cut(text, width - lead_width)]
    hang = min(lead_width if line.hang is None else line.hang, width // 2)
    if lead_width + _LEAST_BESIDE > width:  # no room beside the lead: the text goes under it
        return [start.rstrip(), *wrap(text, width, hang, hang)]
    pieces = wrap(text, width, lead_width, hang)
    return [start + pieces[0], *pieces[1:]]


def finish(lines: Iterable[Line | str], *, colour: bool, width: int | None) -> str:
    """The report's text, one newline after each line."""
    return "".join(f"{piece}\n" for line in lines for piece in render_line(line, colour=colour, width=width))


def width_of(stream: TextIO) -> int | None:
    """The width to fit a report to: ``$COLUMNS`` when set, else the terminal's; None (no limit) for a file or a
    pipe, whose lines are then whole (one finding, one deviation a line, for grep)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError):  # not a real file, or closed
        pass
    return None


def colour_wanted(stream: TextIO) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set (https://no-color.org)."""
    try:
        return stream.isatty() and not os.environ.get("NO_COLOR")
    except ValueError:  # closed
        return False
