"""Charts as inline SVG, drawn here: no chart library, nothing fetched, nothing to vendor or license.

Every chart is a ``<figure>``: a caption, the SVG (``role="img"``, titled and described for screen readers, each
mark with its number as text beside it, so nothing is told by colour alone), and the same numbers as a table.
Each mark carries ``data-label`` and ``data-value`` so that tests, and scripts, can read what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from tlsprobe.report._text import attr, text

_WIDTH: Final = 720
_LABEL_WIDTH: Final = 200
_VALUE_WIDTH: Final = 120
_ROW: Final = 22
_BAR: Final = 15
_LABEL_CHARACTERS: Final = 30
_MARKERS: Final = ("circle", "square", "triangle", "diamond", "cross")


@attrs.frozen(kw_only=True)
class Bar:
    """One bar of a horizontal bar chart."""

    label: str
    """What it counts (any text: it is escaped)."""
    value: int
    """Its length; negative values are drawn left of zero."""
    tone: str
    """The CSS class that colours it (a fixed name of ours, never server text)."""
    shown: str | None = None
    """The text beside it; the value when None."""


@attrs.frozen(kw_only=True)
class Series:
    """One line of a line chart."""

    name: str
    """What it counts."""
    tone: str
    """The CSS class that colours it."""
    values: tuple[int, ...]
    """One value per point of the x axis."""


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARACTERS else label[: _LABEL_CHARACTERS - 1] + "\u2026"


def _svg_open(chart_id: str, title: str, description: str, height: int) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{text(title)}</title><desc id="{chart_id}-desc">{text(description)}</desc>'
    )


def data_table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]], *, table_id: str = "") -> str:
    """A plain table: the first cell of each row is its header (``th scope="row"``)."""
    identity = f' id="{table_id}"' if table_id else ""
    head = "".join(f'<th scope="col">{text(header)}</th>' for header in headers)
    body = "".join(
        f'<tr><th scope="row">{text(row[0])}</th>' + "".join(f"<td>{text(cell)}</td>" for cell in row[1:]) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="data"{identity}><caption>{text(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def figure(chart_id: str, caption: str, svg: str, table: str) -> str:
    """A chart with its caption and its table equivalent (folded away on screen, opened for printing)."""
    return (
        f'<figure class="chart-figure" id="{chart_id}"><figcaption>{text(caption)}</figcaption>{svg}'
        f'<details class="chart-data"><summary>The numbers as a table</summary>{table}</details></figure>'
    )


def bar_chart(*, chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, one per row, the label left and the number right of each; zero is marked when some
    values are negative."""
    low = min((bar.value for bar in bars), default=0)
    high = max((bar.value for bar in bars), default=0)
    low, high = min(low, 0), max(high, 0)
    span = (high - low) or 1
    area = _WIDTH - _LABEL_WIDTH - _VALUE_WIDTH
    zero = _LABEL_WIDTH + area * (-low) / span
    height = len(bars) * _ROW + 10
    parts = [_svg_open(chart_id, title, description, height)]
    for row, bar in enumerate(bars):
        top = 5 + row * _ROW
        start = zero + area * min(bar.value, 0) / span
        length = area * abs(bar.value) / span
        shown = bar.shown if bar.shown is not None else str(bar.value)
        middle = top + _BAR - 3
        value_x, anchor = (start + length + 6, "start") if bar.value >= 0 else (start - 6, "end")
        if bar.value < 0 and value_x - 6 < _LABEL_WIDTH + 40:
            value_x, anchor = zero + 6, "start"
        parts.append(
            f'<g class="bar {bar.tone}" data-label={attr(bar.label)} data-value="{bar.value}">'
            f"<title>{text(bar.label)}: {text(shown)}</title>"
            f'<text class="bar-label" x="{_LABEL_WIDTH - 8}" y="{middle}" text-anchor="end">'
            f"{text(_short(bar.label))}</text>"
            f'<rect x="{start:.1f}" y="{top}" width="{max(length, 1.0):.1f}" height="{_BAR}"/>'
            f'<text class="bar-value" x="{value_x:.1f}" y="{middle}" text-anchor="{anchor}">{text(shown)}</text></g>'
        )
    if low < 0:
        parts.append(f'<line class="axis" x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}"/>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(
    *,
    chart_id: str,
    title: str,
    description: str,
    columns: Sequence[tuple[str, Sequence[int]]],
    keys: Sequence[tuple[str, str]],
) -> str:
    """Vertical columns, one per x label, each stacked from ``keys`` (name, tone) in order, with a legend; each
    segment tall enough shows its count, and every segment has its name and count as a tooltip."""
    legend_height, label_height, plot = 24, 34, 200
    height = legend_height + plot + label_height
    total = max((sum(values) for _, values in columns), default=0) or 1
    slot = (_WIDTH - 40) / max(len(columns), 1)
    width = min(slot * 0.7, 60)
    parts = [_svg_open(chart_id, title, description, height)]
    x = 40.0
    for name, tone in keys:
        parts.append(
            f'<g class="legend {tone}"><rect x="{x:.1f}" y="6" width="12" height="12"/>'
            f'<text x="{x + 16:.1f}" y="16">{text(name)}</text></g>'
        )
        x += 24 + 8 * len(name)
    for index, (label, values) in enumerate(columns):
        left = 40 + slot * index + (slot - width) / 2
        bottom = float(legend_height + plot)
        parts.append(f'<g class="column" data-label={attr(label)} data-value="{sum(values)}">')
        for (name, tone), value in zip(keys, values, strict=True):
            if not value:
                continue
            size = plot * value / total
            bottom -= size
            parts.append(
                f'<g class="segment {tone}" data-label={attr(name)} data-value="{value}">'
                f"<title>{text(label)}: {text(name)} {value}</title>"
                f'<rect x="{left:.1f}" y="{bottom:.1f}" width="{width:.1f}" height="{size:.1f}"/>'
            )
            if size >= 13:
                parts.append(
                    f'<text class="segment-value" x="{left + width / 2:.1f}" y="{bottom + size / 2 + 4:.1f}" '
                    f'text-anchor="middle">{text(name)} {value}</text>'
                )
            parts.append("</g>")
        parts.append(
            f'<text class="column-label" x="{left + width / 2:.1f}" y="{legend_height + plot + 14}" '
            f'text-anchor="middle">{text(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y + 4:.1f}L{x - 5:.1f} {y + 4:.1f}Z"/>'
    if shape == "diamond":
        return f'<path d="M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}L{x - 5:.1f} {y:.1f}Z"/>'
    return (
        f'<path d="M{x - 4:.1f} {y - 4:.1f}L{x + 4:.1f} {y + 4:.1f}M{x - 4:.1f} {y + 4:.1f}L{x + 4:.1f} {y - 4:.1f}"/>'
    )


def line_chart(
    *, chart_id: str, title: str, description: str, x_labels: Sequence[str], series: Sequence[Series]
) -> str:
    """Lines over the x labels, each with its own marker shape and its name and last value written at its end."""
    top, plot, label_height, left, right = 10, 180, 34, 50, 150
    height = top + plot + label_height
    high = max((value for line in series for value in line.values), default=0) or 1
    step = (_WIDTH - left - right) / max(len(x_labels) - 1, 1)
    parts = [_svg_open(chart_id, title, description, height)]
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{_WIDTH - right}" y2="{top + plot}"/>'
        f'<text class="axis-label" x="{left - 6}" y="{top + 8}" text-anchor="end">{high}</text>'
        f'<text class="axis-label" x="{left - 6}" y="{top + plot}" text-anchor="end">0</text>'
    )
    for index, label in enumerate(x_labels):
        parts.append(
            f'<text class="column-label" x="{left + step * index:.1f}" y="{top + plot + 16}" '
            f'text-anchor="middle">{text(label)}</text>'
        )
    for number, line in enumerate(series):
        shape = _MARKERS[number % len(_MARKERS)]
        points = [(left + step * index, top + plot - plot * value / high) for index, value in enumerate(line.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<g class="series {line.tone}" data-label={attr(line.name)}>')
        parts.append(f'<polyline points="{path}"/>')
        for (x, y), value, label in zip(points, line.values, x_labels, strict=True):
            parts.append(
                f'<g class="point" data-label={attr(label)} data-value="{value}">'
                f"<title>{text(label)}: {text(line.name)} {value}</title>{_marker(shape, x, y)}</g>"
            )
        if points:
            x, y = points[-1]
            parts.append(
                f'<text class="series-label" x="{x + 10:.1f}" y="{y + 4 + 12 * (number - len(series) / 2) / 2:.1f}">'
                f"{text(line.name)} {line.values[-1]}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
