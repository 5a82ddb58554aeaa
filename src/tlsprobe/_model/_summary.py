"""One server's scan in a few facts, read from its JSON form: what a fleet view, a store row, a diff or a metric
needs (target, reachable, grade, versions, certificate expiry, findings by severity).

It reads the JSON form (``to_jsonable`` of a ``ServerScanResult``) rather than the records, because the places
that need it read scans back from files and databases written by any earlier version of the same schema; a
result in memory goes through ``to_jsonable`` first. Missing or failed checks give ``None``, never a guess.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from tlsprobe._model._assessment import GRADES, Severity

VERSIONS: Final = ("ssl2", "ssl3", "tls1_0", "tls1_1", "tls1_2", "tls1_3")
"""Protocol versions as the JSON names them, oldest first."""

SEVERITIES: Final = tuple(severity.value for severity in Severity)
"""Severities as the JSON names them, worst first."""

_VERSION_CHECKS: Final = {f"{version}_cipher_suites": version for version in VERSIONS}


def target_key(target: Mapping[str, Any]) -> str:
    """A stable text key for a target in its JSON form: ``host:port`` (IPv6 in brackets), then the pinned IP in
    braces and the STARTTLS protocol as a scheme, as ``ServerTarget`` prints it, then a differing SNI. Two scans
    of the same target give the same key, so a store and a diff can pair them."""
    host = str(target["host"])
    shown_host = f"[{host}]" if ":" in host else host
    pinned = f"{{{target['ip']}}}" if target.get("ip") else ""
    starttls = target.get("starttls")
    scheme = "" if starttls is None else ("tls://" if starttls == "none" else f"{starttls}://")
    key = f"{scheme}{shown_host}:{target['port']}{pinned}"
    if target.get("sni"):
        key += f" sni={target['sni']}"
    elif target.get("send_sni") is False:
        key += " no-sni"
    return key


def grade_rank(grade: str | None) -> int | None:
    """A number for a letter grade that grows with quality: F is 1, A+ is 8; None for no grade or ``?``."""
    if grade not in GRADES:
        return None
    return len(GRADES) - GRADES.index(grade)


def severity_rank(severity: str) -> int:
    """0 for critical, growing as severity falls; unknown severities sort last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@attrs.frozen(kw_only=True)
class ServerSummary:
    """The facts of one server's scan that a fleet view compares."""

    target: str
    """``target_key`` of the target."""
    host: str
    """The host as given."""
    port: int
    """The port."""
    reachable: bool
    """Connectivity completed: the server answered a TLS hello."""
    error: str | None
    """Why it is not reachable (``kind: message``); None when it is."""
    grade: str | None
    """The letter grade (``?`` when a needed check failed); None when not graded."""
    score: int | None
    """The grade's 0-100 score before caps."""
    versions: tuple[str, ...]
    """Protocol versions accepted, oldest first, from the cipher-suite checks that completed."""
    certificate_not_after: datetime.datetime | None
    """The earliest expiry among the leaf certificates the server presented; None when none was retrieved."""
    certificate_days_left: int | None
    """Whole days from the scan's start to that expiry (negative once expired)."""
    certificate_fingerprints: tuple[str, ...]
    """SHA-256 fingerprints of the leaf certificates presented (one per deployment), sorted."""
    trusted: bool | None
    """Every leaf chains to a root of at least one trust store checked (the findings' meaning); None without a
    certificate result."""
    findings: Mapping[str, int]
    """How many findings of each severity (every severity present, zeros included)."""
    worst_finding: str | None
    """The title of the most severe finding; None without findings."""
    worst_severity: str | None
    """Its severity."""
    started_at: datetime.datetime
    """When the server's scan started."""
    duration_s: float
    """How long it took."""
    connections: int
    """Connections opened to the server, connectivity and every check together."""

    @property
    def highest_version(self) -> str | None:
        """The newest version accepted."""
        return self.versions[-1] if self.versions else None

    @property
    def lowest_version(self) -> str | None:
        """The oldest version accepted."""
        return self.versions[0] if self.versions else None


def summarize(server: Mapping[str, Any]) -> ServerSummary:
    """The summary of one server in its JSON form."""
    connectivity = server["connectivity"]
    reachable = connectivity["status"] == "completed"
    error = None if reachable else f"{connectivity['error']['kind']}: {connectivity['error']['message']}"
    results = _completed_results(server["checks"])
    started_at = datetime.datetime.fromisoformat(server["started_at"])
    leaves = list(_leaf_certificates(results.get("certificate")))
    not_after = min((datetime.datetime.fromisoformat(leaf["not_after"]) for leaf in leaves), default=None)
    findings = server.get("findings") or []
    worst = min(findings, key=lambda finding: severity_rank(finding["severity"]), default=None)
    grade = server.get("grade") or {}
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return ServerSummary(
        target=target_key(server["target"]),
        host=server["target"]["host"],
        port=server["target"]["port"],
        reachable=reachable,
        error=error,
        grade=grade.get("grade"),
        score=grade.get("score"),
        versions=tuple(
            version for name, version in _VERSION_CHECKS.items() if (results.get(name) or {}).get("is_supported")
        ),
        certificate_not_after=not_after,
        certificate_days_left=None if not_after is None else (not_after - started_at).days,
        certificate_fingerprints=tuple(sorted({leaf["sha256_fingerprint"] for leaf in leaves})),
        trusted=_trusted(results.get("certificate")),
        findings=counts,
        worst_finding=None if worst is None else worst["title"],
        worst_severity=None if worst is None else worst["severity"],
        started_at=started_at,
        duration_s=server["duration_s"],
        connections=connectivity["cost"]["connections"]
        + sum(outcome["cost"]["connections"] for outcome in server["checks"]),
    )


def _completed_results(outcomes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {outcome["name"]: outcome["result"] for outcome in outcomes if outcome["status"] == "completed"}


def _leaf_certificates(certificate: Mapping[str, Any] | None) -> Iterable[Mapping[str, Any]]:
    for deployment in (certificate or {}).get("deployments", ()):
        chain = deployment["chain"]["received_chain"]
        if chain:
            yield chain[0]


def _trusted(certificate: Mapping[str, Any] | None) -> bool | None:
    if not certificate or not certificate.get("deployments"):
        return None
    return all(
        any(verdict["trusted"] for verdict in deployment.get("trust", ())) for deployment in certificate["deployments"]
    )
