"""The top of each server's report: the verdict (what the exit status says, and why), the grade, the policy, and
the findings with the grade each one caps, before the details. One story: every cap is a finding, and the
verdict counts findings by the same severities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from tlsprobe._cli._concerns import FailureGate, at_or_above, plural
from tlsprobe._cli._text import Line, painted
from tlsprobe._model._assessment import Compliance, Finding, Grade, Severity, Verdict

_GRADE_COLOURS: Final = {"A+": "green", "A": "green", "A-": "green", "B": "yellow", "C": "yellow"}
SEVERITY_COLOURS: Final = {Severity.CRITICAL: "red", Severity.HIGH: "red", Severity.MEDIUM: "yellow"}
_LABEL_WIDTH: Final = len("[CRITICAL] ")


def grade_colour(letter: str | None) -> str:
    """The colour of a grade letter: green for the As, yellow for B and C, red below (and for no grade)."""
    return _GRADE_COLOURS.get(letter or "", "red")


def _verdict_line(failures: Sequence[str], gate: FailureGate) -> Line:
    if failures:
        return Line(lead=(("  Verdict:    ", None), painted("FAIL", "red")), text=": " + "; ".join(failures), hang=14)
    return Line(lead=(("  Verdict:    ", None), painted("pass", "green")), text=f" ({gate.description})")


def _grade_line(grade: Grade) -> Line:
    lead = (("  Grade:      ", None), painted(grade.grade, grade_colour(grade.grade)))
    if grade.score is None:
        return Line(lead=lead, text=f" (not graded: {'; '.join(grade.missing)})", hang=14)
    worst_caps = [cap for cap in grade.caps if cap.grade == grade.grade]
    why = f"; capped by: {worst_caps[0].reason}" if worst_caps else ""
    return Line(lead=lead, text=f" (score {grade.score}/100{why})", hang=14)


def _policy_lines(compliance: Compliance) -> list[Line | str]:
    shade = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.INCOMPLETE: "yellow"}[compliance.verdict]
    detail = {
        Verdict.PASS: "every rule met",
        Verdict.FAIL: f"{plural(len(compliance.deviations), 'rule')} broken",
        Verdict.INCOMPLETE: f"{plural(len(compliance.unevaluated), 'rule')} could not be evaluated",
    }[compliance.verdict]
    lines: list[Line | str] = [
        Line(
            lead=((f"  Policy:     {compliance.policy} ", None), painted(compliance.verdict.value.upper(), shade)),
            text=f" ({detail})",
        )
    ]
    lines += [
        Line(lead=(("    - ", None),), text=f"{d.rule}: expected {d.expected}; found {', '.join(d.found)}", hang=8)
        for d in compliance.deviations
    ]
    lines += [
        Line(lead=(("    - ", None),), text=f"{u.rule}: not evaluated ({u.reason})", hang=8)
        for u in compliance.unevaluated
    ]
    return lines


def _finding_line(finding: Finding, cap: str | None) -> Line:
    label = f"[{finding.severity.value.upper()}]"
    capped = f" (caps the grade at {cap})" if cap is not None else ""
    return Line(
        lead=(
            ("    ", None),
            painted(label, SEVERITY_COLOURS.get(finding.severity)),
            (" " * (_LABEL_WIDTH - len(label)), None),
        ),
        text=finding.title + capped,
    )


def severity_counts(findings: Sequence[Finding]) -> str:
    """``1 high, 2 medium``: how many findings of each severity present, worst first."""
    counts = [(severity, sum(1 for f in findings if f.severity is severity)) for severity in Severity]
    return ", ".join(f"{count} {severity.value}" for severity, count in counts if count)


def _findings_lines(
    findings: Sequence[Finding], grade: Grade | None, min_severity: Severity | None
) -> list[Line | str]:
    if not findings:
        return ["  Findings:   none"]
    caps = {cap.reason: cap.grade for cap in grade.caps} if grade is not None else {}
    shown = [f for f in findings if min_severity is None or at_or_above(f.severity.value, min_severity)]
    lines: list[Line | str] = [f"  Findings:   {len(findings)} ({severity_counts(findings)})"]
    lines += [_finding_line(finding, caps.get(finding.title)) for finding in shown]
    if len(shown) < len(findings) and min_severity is not None:
        lines.append(f"    ({len(findings) - len(shown)} below {min_severity.value} not shown)")
    return lines


def render_verdict(
    *,
    findings: Sequence[Finding],
    grade: Grade | None,
    compliance: Compliance | None,
    failures: Sequence[str],
    gate: FailureGate,
    min_severity: Severity | None = None,
) -> list[Line | str]:
    """Verdict, grade, policy and findings (those at ``min_severity`` or above, when given)."""
    lines: list[Line | str] = [_verdict_line(failures, gate)]
    if grade is not None:
        lines.append(_grade_line(grade))
    if compliance is not None:
        lines += _policy_lines(compliance)
    lines += _findings_lines(findings, grade, min_severity)
    return lines
