"""What changed between two scans, as records: each change, each target's changes, the whole comparison, and
their JSON form (exact strings, a stable order)."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

import attrs


class Direction(enum.Enum):
    """Whether a change makes the server's configuration worse, better or neither (see ``diff_scans``)."""

    WORSE = "worse"
    NEUTRAL = "neutral"
    BETTER = "better"


DIRECTION_ORDER: Final = tuple(Direction)
"""Worst first: worse, neutral, better."""


class ChangeKind(enum.Enum):
    """What kind of change; declared in the order changes of one direction are listed. ``before`` and ``after``
    of each change hold the values named here."""

    UNREACHABLE = "unreachable"
    """The server answered before and does not now. True, False (reachable)."""
    REACHABLE = "reachable"
    """The server answers again. False, True."""
    GRADE_DOWN = "grade_down"
    """A lower letter grade. The letters."""
    GRADE_UP = "grade_up"
    """A higher letter grade. The letters."""
    FINDING_NEW = "finding_new"
    """A finding id absent before. None, its severity."""
    FINDING_RESOLVED = "finding_resolved"
    """A finding id present before and gone. Its severity, None."""
    FINDING_SEVERITY_CHANGED = "finding_severity_changed"
    """A finding id present on both sides with another severity. The severities."""
    TRUST_LOST = "trust_lost"
    """The certificate no longer chains to a trusted root. True, False."""
    TRUST_GAINED = "trust_gained"
    """The certificate chains to a trusted root again. False, True."""
    CERTIFICATE_EXPIRED = "certificate_expired"
    """The certificate has expired. The days left on each side (negative once expired)."""
    CERTIFICATE_EXPIRING = "certificate_expiring"
    """The certificate now expires within ``expiry_days``. The days left on each side."""
    CERTIFICATE_EXPIRY_RESOLVED = "certificate_expiry_resolved"
    """The certificate no longer expires soon, or is no longer expired. The days left on each side."""
    CERTIFICATE_REPLACED = "certificate_replaced"
    """The leaf certificates changed. Their SHA-256 fingerprints on each side."""
    VERSION_ENABLED = "version_enabled"
    """A protocol version now accepted (``subject``). False, True."""
    VERSION_DISABLED = "version_disabled"
    """A protocol version no longer accepted. True, False."""
    CIPHER_SUITE_ADDED = "cipher_suite_added"
    """A suite (``subject``) now accepted at a version (``scope``). False, True."""
    CIPHER_SUITE_REMOVED = "cipher_suite_removed"
    """A suite no longer accepted at a version. True, False."""
    GROUP_ADDED = "group_added"
    """A key-exchange group (``subject``) now accepted, under TLS 1.3 or below it with ECDHE or DHE
    (``scope``: ``tls1_3``, ``ecdhe_below_tls1_3``, ``ffdhe_below_tls1_3``). False, True."""
    GROUP_REMOVED = "group_removed"
    """A group no longer accepted. True, False."""
    CHECK_FAILED = "check_failed"
    """A check (``subject``) that completed before failed now: what it reports is unknown, not changed.
    The statuses."""
    CHECK_RECOVERED = "check_recovered"
    """A check that failed before completed now: what it reports now has nothing to compare with. The
    statuses."""
    TARGET_ADDED = "target_added"
    """A target only in the new scan. None, None."""
    TARGET_REMOVED = "target_removed"
    """A target only in the old scan. None, None."""


Value: TypeAlias = str | int | bool | tuple[str, ...] | None
"""A ``before`` or ``after`` value."""


@attrs.frozen(kw_only=True)
class Change:
    """One change of one target."""

    kind: ChangeKind
    """What changed."""
    direction: Direction
    """Worse, better or neutral."""
    message: str
    """The change in plain words (it may quote what the server sent: escape it for a terminal)."""
    scope: str | None = None
    """Where: the protocol version of a suite, the part of the groups result; None when it needs none."""
    subject: str | None = None
    """What: a version, a suite, a group, a finding id, a check name; None for the target as a whole."""
    before: Value = None
    """The value in the old scan (see ``ChangeKind`` for each kind)."""
    after: Value = None
    """The value in the new scan."""


@attrs.frozen(kw_only=True)
class TargetDiff:
    """The changes of one target, worst first."""

    target: str
    """``target_key`` of the target."""
    host: str
    """The host as given."""
    port: int
    """The port."""
    changes: tuple[Change, ...]
    """Worse changes first, then neutral, then better."""

    def count(self, direction: Direction) -> int:
        """How many changes go in ``direction``."""
        return sum(change.direction is direction for change in self.changes)

    @property
    def worse(self) -> bool:
        """Whether any change is worse."""
        return any(change.direction is Direction.WORSE for change in self.changes)


@attrs.frozen(kw_only=True)
class ScanSide:
    """Facts of one of the two scans."""

    started_at: datetime.datetime | None
    """When its first server's scan started; None for a scan of no servers."""
    servers: int
    """Servers in it (a target listed twice counts once)."""
    reachable: int
    """Servers that answered."""


@attrs.frozen(kw_only=True)
class ScanDiff:
    """What changed between two scans."""

    old: ScanSide
    """The earlier scan."""
    new: ScanSide
    """The later scan."""
    expiry_days: int
    """A certificate expiring within this many days of the new scan is reported."""
    targets_compared: int
    """Targets in both scans."""
    targets: tuple[TargetDiff, ...]
    """Every target with at least one change, worst first: most worse changes, then most neutral ones, then
    most better ones, then by name."""

    @property
    def worse(self) -> bool:
        """Whether anything got worse."""
        return any(target.worse for target in self.targets)

    def count(self, direction: Direction) -> int:
        """How many changes go in ``direction``, over every target."""
        return sum(target.count(direction) for target in self.targets)

    @property
    def counts(self) -> Mapping[str, int]:
        """Changes by direction, worse first."""
        return {direction.value: self.count(direction) for direction in DIRECTION_ORDER}

    def targets_with(self, kind: ChangeKind) -> tuple[str, ...]:
        """The targets with a change of ``kind``, in the order of ``targets``."""
        return tuple(target.target for target in self.targets if any(c.kind is kind for c in target.changes))

    @property
    def targets_worse(self) -> tuple[str, ...]:
        """The targets that got worse, worst first."""
        return tuple(target.target for target in self.targets if target.worse)

    def to_jsonable(self) -> dict[str, Any]:
        """The JSON form: exact strings (nothing escaped), keys and lists in a stable order."""
        return {
            "old": _side_json(self.old),
            "new": _side_json(self.new),
            "expiry_days": self.expiry_days,
            "targets_compared": self.targets_compared,
            "targets_added": len(self.targets_with(ChangeKind.TARGET_ADDED)),
            "targets_removed": len(self.targets_with(ChangeKind.TARGET_REMOVED)),
            "worse": self.worse,
            "counts": dict(self.counts),
            "targets_worse": list(self.targets_worse),
            "targets": [_target_json(target) for target in self.targets],
        }


def _side_json(side: ScanSide) -> dict[str, Any]:
    return {
        "started_at": None if side.started_at is None else side.started_at.isoformat(),
        "servers": side.servers,
        "reachable": side.reachable,
    }


def _value_json(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _target_json(target: TargetDiff) -> dict[str, Any]:
    return {
        "target": target.target,
        "host": target.host,
        "port": target.port,
        "counts": {direction.value: target.count(direction) for direction in DIRECTION_ORDER},
        "changes": [
            {
                "kind": change.kind.value,
                "direction": change.direction.value,
                "message": change.message,
                "scope": change.scope,
                "subject": change.subject,
                "before": _value_json(change.before),
                "after": _value_json(change.after),
            }
            for change in target.changes
        ],
    }
