"""A server's JSON form as rows of the store, and the rows back as summaries. Pure: no database here.

Summary columns hold what ``summarize`` reads from the JSON, so that fleet views and histories are queries rather
than JSON parsing. The document itself is kept as JSON text, exactly what was given once parsed again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from tlsprobe._model._summary import SEVERITIES, ServerSummary, summarize
from tlsprobe.store._errors import StoreError
from tlsprobe.store._records import HistoryEntry

SEVERITY_COLUMNS: Final = {
    "critical": "findings_critical",
    "high": "findings_high",
    "medium": "findings_medium",
    "low": "findings_low",
}
"""One count column per severity. Written out rather than derived from ``Severity``: a new severity is a new column,
which takes a migration step (a test compares this table with ``SEVERITIES``)."""


def clean_text(text: str) -> str:
    """``text`` as both databases take it: PostgreSQL refuses NUL in text, and neither stores a lone surrogate."""
    if text.isascii() and "\x00" not in text:
        return text
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _clean(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def document_text(server: Mapping[str, Any]) -> str:
    """The JSON text stored for a server: non-ASCII kept as is, unless a lone surrogate forces escapes."""
    text = json.dumps(server, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(server)  # \ud800 escapes are valid JSON and parse back to the same string
    return text


def server_rows(scan_id: str, server: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The server's row and its findings' rows (one per finding, in the JSON's order)."""
    try:
        summary = summarize(server)
        findings = [
            (str(finding["id"]), str(finding["severity"]), str(finding["title"]))
            for finding in server.get("findings") or ()
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StoreError(f"not the JSON form of a server's scan result ({type(error).__name__}: {error})") from error
    target = clean_text(summary.target)
    row = {
        "scan_id": scan_id,
        "target_key": target,
        "host": clean_text(summary.host),
        "port": summary.port,
        "reachable": summary.reachable,
        "error": _clean(summary.error),
        "grade": _clean(summary.grade),
        "score": summary.score,
        "versions": " ".join(summary.versions),
        "highest_version": summary.highest_version,
        "lowest_version": summary.lowest_version,
        "certificate_not_after": summary.certificate_not_after,
        "certificate_days_left": summary.certificate_days_left,
        "certificate_fingerprints": " ".join(summary.certificate_fingerprints),
        "trusted": summary.trusted,
        "worst_finding": _clean(summary.worst_finding),
        "worst_severity": _clean(summary.worst_severity),
        "started_at": summary.started_at,
        "duration_s": summary.duration_s,
        "connections": summary.connections,
        "document": document_text(server),
    }
    row |= {column: summary.findings.get(severity, 0) for severity, column in SEVERITY_COLUMNS.items()}
    finding_rows = [
        {
            "scan_id": scan_id,
            "target_key": target,
            "position": position,
            "finding_id": clean_text(finding_id),
            "severity": clean_text(severity),
            "title": clean_text(title),
        }
        for position, (finding_id, severity, title) in enumerate(findings)
    ]
    return row, finding_rows


def _words(text: str | None) -> tuple[str, ...]:
    return tuple(text.split()) if text else ()


def _counts(row: Mapping[Any, Any]) -> dict[str, int]:
    return {severity: row[SEVERITY_COLUMNS[severity]] for severity in SEVERITIES}


def summary_from_row(row: Mapping[Any, Any]) -> ServerSummary:
    """A ``ServerSummary`` from a server's row."""
    return ServerSummary(
        target=row["target_key"],
        host=row["host"],
        port=row["port"],
        reachable=row["reachable"],
        error=row["error"],
        grade=row["grade"],
        score=row["score"],
        versions=_words(row["versions"]),
        certificate_not_after=row["certificate_not_after"],
        certificate_days_left=row["certificate_days_left"],
        certificate_fingerprints=_words(row["certificate_fingerprints"]),
        trusted=row["trusted"],
        findings=_counts(row),
        worst_finding=row["worst_finding"],
        worst_severity=row["worst_severity"],
        started_at=row["started_at"],
        duration_s=row["duration_s"],
        connections=row["connections"],
    )


def history_entry_from_row(row: Mapping[Any, Any]) -> HistoryEntry:
    """A ``HistoryEntry`` from a server's row joined with its scan's (``scan_started_at``, ``status``,
    ``list_key``)."""
    return HistoryEntry(
        scan_id=row["scan_id"],
        list_key=row["list_key"],
        started_at=row["scan_started_at"],
        status=row["status"],
        reachable=row["reachable"],
        error=row["error"],
        grade=row["grade"],
        score=row["score"],
        versions=_words(row["versions"]),
        certificate_not_after=row["certificate_not_after"],
        certificate_days_left=row["certificate_days_left"],
        certificate_fingerprints=_words(row["certificate_fingerprints"]),
        trusted=row["trusted"],
        findings=_counts(row),
        worst_finding=row["worst_finding"],
        worst_severity=row["worst_severity"],
    )
