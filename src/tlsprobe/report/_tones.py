"""The CSS classes that colour grades and severities: fixed names of ours, so server text never becomes a class.
Colour only repeats what the text says (the grade letter, the severity word)."""

from __future__ import annotations

from typing import Final

_GRADE_TONES: Final = {
    "A+": "grade-a-plus",
    "A": "grade-a",
    "A-": "grade-a-minus",
    "B": "grade-b",
    "C": "grade-c",
    "D": "grade-d",
    "E": "grade-e",
    "F": "grade-f",
}
_SEVERITY_TONES: Final = {
    "critical": "sev-critical",
    "high": "sev-high",
    "medium": "sev-medium",
    "low": "sev-low",
}


def grade_tone(grade: str | None) -> str:
    """The class of a grade (or of ``?``, ``not graded``, ``unreachable``, None: all grey)."""
    return _GRADE_TONES.get(grade or "", "grade-none")


def severity_tone(severity: str | None) -> str:
    """The class of a severity (unknown ones: grey)."""
    return _SEVERITY_TONES.get(severity or "", "sev-none")
