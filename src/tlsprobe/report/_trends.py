"""Trends over past scans of the same target list: per scan, how many servers got each grade and how many
findings of each severity there were. Computed from summaries, so a store answers it from its columns."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

import attrs

from tlsprobe._model._summary import SEVERITIES, ServerSummary
from tlsprobe.report._fleet import GRADE_COLUMNS, NOT_GRADED, UNREACHABLE


@attrs.frozen(kw_only=True)
class TrendPoint:
    """One past scan, in numbers."""

    scan_id: str
    """The scan."""
    started_at: datetime.datetime
    """When it started: the point's place on the time axis."""
    servers: int
    """How many servers it holds."""
    grades: Mapping[str, int]
    """Servers per grade column (every column of the overview's grade distribution, zeros included)."""
    findings: Mapping[str, int]
    """Findings per severity across its servers (every severity, zeros included)."""


def trend_point(scan_id: str, started_at: datetime.datetime, summaries: Iterable[ServerSummary]) -> TrendPoint:
    """The numbers of one scan, from its servers' summaries (read once)."""
    grades = dict.fromkeys(GRADE_COLUMNS, 0)
    findings = dict.fromkeys(SEVERITIES, 0)
    servers = 0
    for summary in summaries:
        servers += 1
        if not summary.reachable:
            grades[UNREACHABLE] += 1
        else:
            grades[summary.grade if summary.grade in grades else NOT_GRADED] += 1
        for severity, count in summary.findings.items():
            findings[severity] = findings.get(severity, 0) + count
    return TrendPoint(scan_id=scan_id, started_at=started_at, servers=servers, grades=grades, findings=findings)
