"""The table at the end of a scan of several servers: one row per server, worst first, fitted to the width.

It reads ``ServerSummary`` records only (``tlsprobe._model._summary``), never whole results, so a scan of many
servers keeps a few hundred bytes per server for it, and other subcommands can print the same table from results
read back from JSON or a store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from tlsprobe._cli._concerns import FailureGate, plural
from tlsprobe._cli._escape import escape
from tlsprobe._cli._render_verdict import grade_colour
from tlsprobe._cli._text import Line, Span, cell_width, cut, finish, painted
from tlsprobe._model._summary import SEVERITIES, ServerSummary, grade_rank, severity_rank

_VERSION_LABELS: Final = {
    "ssl2": "SSL2",
    "ssl3": "SSL3",
    "tls1_0": "1.0",
    "tls1_1": "1.1",
    "tls1_2": "1.2",
    "tls1_3": "1.3",
}
_COUNT_HEADINGS: Final = {"critical": "CRIT", "high": "HIGH", "medium": "MED", "low": "LOW"}
_TARGET_LIMIT: Final = 40
"""The widest the target column gets; a longer target is cut."""
_LAST_COLUMN_LEAST: Final = 12
"""Below this many cells left for the worst finding, the table is cut at the width rather than squeezed."""
_ZERO: Final = "·"


@attrs.frozen
class SummaryRow:
    """One server in the summary: its summary, and why it fails the gate (empty when it passes)."""

    summary: ServerSummary
    """What the table shows of the server."""
    failures: tuple[str, ...]
    """``FailureGate.failures`` for it."""


def _worst_first(row: SummaryRow) -> tuple[int, int, int, int, int, str]:
    summary = row.summary
    worst = severity_rank(summary.worst_severity) if summary.worst_severity else len(SEVERITIES)
    count = summary.findings.get(summary.worst_severity or "", 0)
    return (
        0 if row.failures else 1,
        1 if summary.reachable else 0,
        grade_rank(summary.grade) or 0,
        worst,
        -count,
        summary.target,
    )


def _versions(summary: ServerSummary) -> str:
    if not summary.versions:
        return "-"
    low, high = (
        _VERSION_LABELS.get(summary.lowest_version or "", "?"),
        _VERSION_LABELS.get(summary.highest_version or "", "?"),
    )
    return low if low == high else f"{low}-{high}"


def _days(summary: ServerSummary) -> str:
    days = summary.certificate_days_left
    return "-" if days is None else f"{days}d"


def _last_column(row: SummaryRow) -> str:
    summary = row.summary
    if not summary.reachable:
        return f"not scanned: {summary.error}"
    return summary.worst_finding or "; ".join(row.failures)


def render_summary_table(
    rows: Sequence[SummaryRow], *, gate: FailureGate, width: int | None, colour: bool, shown: int | None = None
) -> str:
    """The summary: a heading, one row per server worst first, and a closing line with the verdict. ``shown`` is
    how many rows were kept of more (``--only-problems``); None when every server is in ``rows``."""
    ordered = sorted(rows, key=_worst_first)
    total = len(rows) if shown is None else shown
    failing = sum(1 for row in rows if row.failures)
    targets = [escape(row.summary.target) for row in ordered]
    target_width = min(_TARGET_LIMIT, max([len("TARGET"), *(cell_width(t) for t in targets)]))
    version_width = max([len("TLS"), *(len(_versions(row.summary)) for row in ordered)])
    days_width = max([len("CERT"), *(len(_days(row.summary)) for row in ordered)])

    def cells(target: str, verdict: Span, grade: Span, versions: str, days: str, counts: Sequence[str]) -> list[Span]:
        spans: list[Span] = [(f"  {cut(target, target_width):<{target_width}} ", None)]
        spans += [(verdict[0], verdict[1]), (" " * (8 - len(verdict[0])), None)]
        spans += [(grade[0], grade[1]), (" " * (6 - len(grade[0])), None)]
        spans.append((f"{versions:<{version_width}} {days:>{days_width}} ", None))
        aligned = (f"{count:>{len(heading)}}" for count, heading in zip(counts, _COUNT_HEADINGS.values(), strict=True))
        spans.append((" ".join(aligned) + "  ", None))
        return spans

    heading = cells("TARGET", ("VERDICT", None), ("GRADE", None), "TLS", "CERT", list(_COUNT_HEADINGS.values()))
    lines: list[Line | str] = [
        f"Summary of {plural(total, 'server')}, worst first"
        + (f" (only the {plural(len(rows), 'server')} with problems)" if shown is not None else "")
        + ":",
        Line(lead=tuple(heading), text="WORST FINDING", overflow="cut"),
    ]
    for row in ordered:
        summary = row.summary
        verdict = painted("fail", "red") if row.failures else painted("pass", "green")
        grade = painted(summary.grade or "-", grade_colour(summary.grade) if summary.grade else None)
        counts = [str(summary.findings.get(severity, 0) or _ZERO) for severity in _COUNT_HEADINGS]
        spans = cells(escape(summary.target), verdict, grade, _versions(summary), _days(summary), counts)
        lines.append(Line(lead=tuple(spans), text=_last_column(row), overflow="cut"))
    lines.append(
        f"{plural(failing, 'server')} of {total} fail ({gate.description}): exit status 1"
        if failing
        else f"Every server passes ({gate.description})"
    )
    return finish(_fitted(lines, width), colour=colour, width=width)


def _fitted(lines: list[Line | str], width: int | None) -> list[Line | str]:
    """Rows whose columns alone overflow ``width`` (a narrow terminal) are cut whole, their colours dropped, rather
    than wrapped into a table nobody can read."""
    if width is None:
        return lines
    fitted: list[Line | str] = []
    for line in lines:
        if isinstance(line, Line) and sum(cell_width(text) for text, _ in line.lead) + _LAST_COLUMN_LEAST > width:
            plain = "".join(text for text, _ in line.lead) + line.text
            fitted.append(Line(text=cut(escape(plain).rstrip(), width), overflow="cut"))
        else:
            fitted.append(line)
    return fitted
