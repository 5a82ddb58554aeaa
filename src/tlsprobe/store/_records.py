"""What the store hands back: scans and a target's history. Pure records, no database types."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Final, Literal

import attrs

ScanStatus = Literal["running", "completed", "interrupted"]
"""A scan is ``running`` from ``begin_scan`` until ``finish_scan`` says how it ended."""

SCAN_STATUSES: Final[tuple[ScanStatus, ...]] = ("running", "completed", "interrupted")
FINISHED: Final[tuple[ScanStatus, ...]] = ("completed", "interrupted")
"""The statuses of scans that ended: the only ones ``latest`` and ``previous`` name."""


@attrs.frozen(kw_only=True)
class ScanRecord:
    """One scan of a target list, as the store keeps it."""

    scan_id: str
    """Its identifier (given to ``begin_scan``, or made there: 32 hex digits)."""
    list_key: str
    """Which target list it scanned; scans with the same key are compared with one another."""
    label: str | None
    """A name for people (the list's name, say); None when none was given."""
    started_at: datetime.datetime
    """When it started (UTC)."""
    completed_at: datetime.datetime | None
    """When it ended (UTC); None while it runs."""
    status: ScanStatus
    """``running``, ``completed`` or ``interrupted``."""
    target_count: int | None
    """How many targets it was given, when known at its start."""
    server_count: int
    """How many servers' results the store holds for it."""
    tlsprobe_version: str
    """The tlsprobe that began it."""


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One target in one scan: the facts a history line shows, read from the store's columns."""

    scan_id: str
    """The scan."""
    list_key: str
    """The scan's target list."""
    started_at: datetime.datetime
    """When the scan started (UTC): the history's order."""
    status: ScanStatus
    """The scan's status."""
    reachable: bool
    """The server answered a TLS hello."""
    error: str | None
    """Why it was not reachable; None when it was."""
    grade: str | None
    """The letter grade (``?`` when a needed check failed); None when not graded."""
    score: int | None
    """The grade's 0-100 score before caps."""
    versions: tuple[str, ...]
    """Protocol versions accepted, oldest first, as the JSON names them."""
    certificate_not_after: datetime.datetime | None
    """The earliest expiry among the leaf certificates presented."""
    certificate_days_left: int | None
    """Whole days from the server's scan to that expiry."""
    certificate_fingerprints: tuple[str, ...]
    """SHA-256 fingerprints of the leaf certificates presented, sorted."""
    trusted: bool | None
    """Every leaf chains to a root of a trust store checked; None without a certificate result."""
    findings: Mapping[str, int]
    """How many findings of each severity."""
    worst_finding: str | None
    """The title of the most severe finding; None without findings."""
    worst_severity: str | None
    """Its severity."""
