"""The top of each server's report: grade, verdict and the main findings in plain words, before the details."""

from __future__ import annotations

from typing import Final

from tlsprobe._model._assessment import Finding, Grade, Severity, Verdict
from tlsprobe._model._results import ServerScanResult

_RESET: Final = "\x1b[0m"
_COLOURS: Final = {"green": "\x1b[32m", "yellow": "\x1b[33m", "red": "\x1b[31m", "bold": "\x1b[1m"}
_GRADE_COLOURS: Final = {"A+": "green", "A": "green", "A-": "green", "B": "yellow", "C": "yellow"}
_SEVERITY_COLOURS: Final = {Severity.CRITICAL: "red", Severity.HIGH: "red", Severity.MEDIUM: "yellow"}
_TOP_FINDINGS: Final = 5


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """``text`` in ``colour`` when colour is enabled (a terminal, and no NO_COLOR)."""
    return f"{_COLOURS[colour]}{text}{_RESET}" if enabled and colour is not None else text


def _grade_line(grade: Grade, colour: bool) -> str:
    letter = paint(grade.grade, _GRADE_COLOURS.get(grade.grade, "red"), colour)
    if grade.score is None:
        return f"  Grade:      {letter} (not graded: {'; '.join(grade.missing)})"
    worst_caps = [cap for cap in grade.caps if cap.grade == grade.grade]
    why = f"; capped: {worst_caps[0].reason}" if worst_caps else ""
    return f"  Grade:      {letter} (score {grade.score}/100{why})"


def _finding_line(finding: Finding, colour: bool) -> str:
    label = paint(f"[{finding.severity.value.upper()}]", _SEVERITY_COLOURS.get(finding.severity), colour)
    return f"    {label} {finding.title}"


def render_summary(result: ServerScanResult, colour: bool) -> list[str]:
    """Grade, verdict, and the most severe findings."""
    lines: list[str] = []
    if result.grade is not None:
        lines.append(_grade_line(result.grade, colour))
    compliance = result.compliance
    if compliance is not None:
        verdict = compliance.verdict.value.upper()
        shade = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.INCOMPLETE: "yellow"}[compliance.verdict]
        detail = {
            Verdict.PASS: "every rule met",
            Verdict.FAIL: f"{len(compliance.deviations)} rules broken",
            Verdict.INCOMPLETE: f"{len(compliance.unevaluated)} rules could not be evaluated",
        }[compliance.verdict]
        lines.append(f"  Policy:     {compliance.policy} {paint(verdict, shade, colour)} ({detail})")
        lines += [f"    - {d.rule}: {', '.join(d.found)}" for d in compliance.deviations]
        lines += [f"    - not evaluated: {u.rule} ({u.reason})" for u in compliance.unevaluated]
    if result.findings:
        lines.append(f"  Findings:   {len(result.findings)}")
        lines += [_finding_line(finding, colour) for finding in result.findings[:_TOP_FINDINGS]]
        if len(result.findings) > _TOP_FINDINGS:
            lines.append(f"    ... and {len(result.findings) - _TOP_FINDINGS} more (see the details and the JSON)")
    else:
        lines.append("  Findings:   none")
    return lines
