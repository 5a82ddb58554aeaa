"""The gate a scan must pass (exit status 0), made of the same findings the report lists and the grade is capped by.

A server fails when it has a finding at or above ``--fail-on`` (default: medium, today's rule; with a policy, the
policy's verdict alone, unless ``--fail-on`` is given), when its grade is below ``--fail-under``, when its policy
verdict is not "pass", and always when it could not be scanned in full: a scan that did not happen never passes.

The gate reads a ``ServerSummary`` (the facts a fleet view keeps) plus the checks that did not complete and the
policy verdict, so that other subcommands can judge results read back from JSON or a store the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from tlsprobe._cli._errors import InputError
from tlsprobe._model._assessment import GRADES, Compliance, Severity, Verdict
from tlsprobe._model._results import CheckFailed, ServerScanResult
from tlsprobe._model._summary import ServerSummary, grade_rank, severity_rank

SEVERITY_CHOICES: Final = (*(severity.value for severity in Severity), "none")
"""What ``--fail-on`` and ``--min-severity`` accept: a severity, or ``none``."""


def plural(count: int, noun: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def parse_severity(value: str | None, flag: str) -> Severity | None:
    """A severity named on the command line; None for ``none``; ``InputError`` for anything else."""
    if value is None or value == "none":
        return None
    try:
        return Severity(value.lower())
    except ValueError:
        raise InputError(f"{flag} must be one of {', '.join(SEVERITY_CHOICES)}, not {value[:40]!r}") from None


def parse_grade(value: str | None, flag: str) -> str | None:
    """A letter grade named on the command line (``A+`` to ``F``); ``InputError`` for anything else."""
    if value is None:
        return None
    letter = value.strip().upper()
    if letter not in GRADES:
        raise InputError(f"{flag} must be one of {', '.join(GRADES)}, not {value[:40]!r}")
    return letter


def at_or_above(severity: str, level: Severity) -> bool:
    """Whether a severity (as the JSON names it) is ``level`` or worse."""
    return severity_rank(severity) <= severity_rank(level.value)


@attrs.frozen(kw_only=True)
class FailureGate:
    """What makes a server fail the scan (exit status 1)."""

    fail_on: Severity | None = Severity.MEDIUM
    """Findings of this severity or worse fail; None: no finding fails by its severity."""
    fail_under: str | None = None
    """A grade worse than this letter (or no grade at all) fails; None: the grade never fails."""

    @classmethod
    def from_options(cls, fail_on: str | None, fail_under: str | None, *, with_policy: bool) -> FailureGate:
        """The gate ``--fail-on`` and ``--fail-under`` ask for; ``InputError`` for a bad value. Without
        ``--fail-on``: medium, or with a policy, the policy's verdict alone."""
        severity = parse_severity(fail_on, "--fail-on") if fail_on is not None else None
        if fail_on is None and not with_policy:
            severity = Severity.MEDIUM
        return cls(fail_on=severity, fail_under=parse_grade(fail_under, "--fail-under"))

    @property
    def description(self) -> str:
        """The gate in the command's words: ``--fail-on medium``."""
        parts = [f"--fail-on {self.fail_on.value}"] if self.fail_on is not None else []
        if self.fail_under is not None:
            parts.append(f"--fail-under {self.fail_under}")
        return ", ".join(parts) or "the policy"

    def failures(
        self,
        summary: ServerSummary,
        *,
        checks_not_completed: Sequence[str] = (),
        compliance: Compliance | None = None,
    ) -> tuple[str, ...]:
        """Why the server fails, most serious first, in plain words; empty when it passes."""
        if not summary.reachable:
            return (f"not scanned: {summary.error}",)
        reasons: list[str] = []
        if checks_not_completed:
            names = ", ".join(checks_not_completed)
            reasons.append(f"{plural(len(checks_not_completed), 'check')} not completed ({names})")
        if self.fail_on is not None:
            count = sum(n for severity, n in summary.findings.items() if at_or_above(severity, self.fail_on))
            if count:
                level = self.fail_on.value
                reasons.append(
                    plural(count, f"{level} finding")
                    if self.fail_on is Severity.CRITICAL
                    else f"{plural(count, 'finding')} at {level} or above"
                )
        if compliance is not None and compliance.verdict is Verdict.FAIL:
            reasons.append(f"{compliance.policy}: {plural(len(compliance.deviations), 'rule')} broken")
        elif compliance is not None and compliance.verdict is Verdict.INCOMPLETE:
            reasons.append(f"{compliance.policy}: {plural(len(compliance.unevaluated), 'rule')} not evaluated")
        if self.fail_under is not None:
            rank = grade_rank(summary.grade)
            if rank is None:
                reasons.append(f"not graded (--fail-under {self.fail_under})")
            elif rank < (grade_rank(self.fail_under) or 0):
                reasons.append(f"grade {summary.grade} is below {self.fail_under}")
        return tuple(reasons)

    def failures_of(self, result: ServerScanResult, summary: ServerSummary) -> tuple[str, ...]:
        """``failures`` of a scan result in memory (``summary`` is its summary)."""
        return self.failures(
            summary,
            checks_not_completed=[outcome.name for outcome in result.checks if isinstance(outcome, CheckFailed)],
            compliance=result.compliance,
        )
