"""The text of ``tlsprobe diff`` (and of ``monitor``'s changes): a summary first, then each target that changed,
worst first, one change a line under a worse / neutral / better label (a version's neutral suite and group
changes on one line: ``folded_changes``).

Every string goes through ``_text.finish``, which escapes it (a message can quote a certificate subject, a finding's
evidence or an error the server caused) before it fits the lines to the width and adds colour.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Final

from tlsprobe._cli._text import Line, finish, painted
from tlsprobe.monitoring import ChangeKind, Direction, ScanDiff, ScanSide, TargetDiff, folded_changes

_SHADES: Final = {Direction.WORSE: "red", Direction.NEUTRAL: None, Direction.BETTER: "green"}
_LABEL_WIDTH: Final = max(len(direction.value) for direction in Direction) + 2
_SUMMARY_LABEL_WIDTH: Final = len("Old scan:") + 2
_LISTED_WORSE: Final = 10
"""Targets named on the summary's ``Worse:`` line, at most."""


def render_diff(diff: ScanDiff, *, colour: bool, width: int | None) -> str:
    """The comparison as text for a terminal (or a file: ``width`` None leaves lines whole)."""
    return finish(_lines(diff), colour=colour, width=width)


def _lines(diff: ScanDiff) -> Iterator[Line | str]:
    yield from _summary(diff)
    for target in diff.targets:
        yield ""
        yield from _target(target)


def _label(text: str) -> tuple[str, None]:
    return (f"{text}:".ljust(_SUMMARY_LABEL_WIDTH), None)


def _counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _summary(diff: ScanDiff) -> Iterator[Line]:
    yield Line(lead=(_label("Old scan"),), text=_side(diff.old))
    yield Line(lead=(_label("New scan"),), text=_side(diff.new))
    added = len(diff.targets_with(ChangeKind.TARGET_ADDED))
    removed = len(diff.targets_with(ChangeKind.TARGET_REMOVED))
    changed = len(diff.targets) - added - removed
    targets = f"{diff.targets_compared} compared, {changed} changed, {added} added, {removed} removed"
    yield Line(lead=(_label("Targets"),), text=targets)
    changes: list[tuple[str, str | None]] = [_label("Changes")]
    for direction in Direction:
        count = diff.count(direction)
        if direction is not Direction.WORSE:
            changes.append((", ", None))
        changes.append(painted(f"{count} {direction.value}", _SHADES[direction] if count else None))
    yield Line(lead=tuple(changes))
    worse = diff.targets_worse
    if worse:
        shown = ", ".join(worse[:_LISTED_WORSE])
        more = f", and {len(worse) - _LISTED_WORSE} more" if len(worse) > _LISTED_WORSE else ""
        yield Line(lead=(_label("Worse"),), text=shown + more)
    if not diff.targets:
        yield Line(text="No changes.")


def _side(side: ScanSide) -> str:
    servers = f"{_counted(side.servers, 'server')}, {side.reachable} reachable"
    if side.started_at is None:
        return servers
    return f"{side.started_at.astimezone(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {servers}"


def _target(target: TargetDiff) -> Iterator[Line]:
    counts = ", ".join(
        f"{target.count(direction)} {direction.value}" for direction in Direction if target.count(direction)
    )
    yield Line(lead=(painted(target.target, "bold"),), text=f"  ({counts})")
    for change in folded_changes(target.changes):
        label = change.direction.value
        lead = (("  ", None), painted(label, _SHADES[change.direction]), (" " * (_LABEL_WIDTH - len(label)), None))
        yield Line(lead=lead, text=change.message)
