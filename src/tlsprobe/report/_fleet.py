"""The fleet's numbers, gathered one server at a time while the servers' sections are written: what the overview
draws. Only small facts are kept per server (its summary and its findings' kinds), never its whole result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from tlsprobe._model._assessment import GRADES
from tlsprobe._model._summary import SEVERITIES, VERSIONS, ServerSummary, severity_rank

NOT_GRADED: Final = "not graded"
"""The grade column of a server that answered but has no grade."""
UNREACHABLE: Final = "unreachable"
"""The grade column of a server that could not be scanned."""
GRADE_COLUMNS: Final = (*GRADES, "?", NOT_GRADED, UNREACHABLE)
"""Every value a server's place in the grade distribution can take, best first."""


@attrs.frozen(kw_only=True)
class Host:
    """One server as the overview lists it."""

    anchor: str
    """The id of its section in the page."""
    label: str | None
    """What the caller calls it (the demo's descriptions), if anything."""
    summary: ServerSummary
    """Its summary."""
    kinds: Mapping[str, str]
    """The kinds of its findings (ids), each with the worst severity it was found with."""

    @property
    def grade_column(self) -> str:
        """Its place in the grade distribution."""
        if not self.summary.reachable:
            return UNREACHABLE
        return self.summary.grade if self.summary.grade in GRADE_COLUMNS else NOT_GRADED

    @property
    def worst_severity(self) -> str:
        """The severity of its worst finding, or ``none``."""
        return self.summary.worst_severity or "none"


@attrs.frozen(kw_only=True)
class FindingKindTally:
    """One kind of finding across the fleet."""

    id: str
    """The kind's id, as the JSON has it."""
    severity: str
    """The worst severity it was found with."""
    example: str
    """The title of the first finding of the kind (titles of some kinds name a certificate)."""
    hosts: int
    """How many servers have it."""


@attrs.define
class Fleet:
    """The numbers of the overview, added to one server at a time (``add``)."""

    hosts: list[Host] = attrs.field(factory=list)
    """Every server, in the order given."""
    _kind_examples: dict[str, str] = attrs.field(factory=dict)
    _kind_severity: dict[str, str] = attrs.field(factory=dict)
    _kind_hosts: Counter[str] = attrs.field(factory=Counter)

    def add(
        self, *, anchor: str, label: str | None, summary: ServerSummary, findings: Sequence[Mapping[str, Any]]
    ) -> Host:
        """Count one server; ``findings`` are the ``findings`` of its JSON form. Its ``Host`` back."""
        kinds: dict[str, str] = {}
        for finding in findings:
            kind, severity = str(finding["id"]), str(finding["severity"])
            self._kind_examples.setdefault(kind, str(finding["title"]))
            if severity_rank(severity) < severity_rank(kinds.get(kind, "")):
                kinds[kind] = severity
            if severity_rank(severity) < severity_rank(self._kind_severity.get(kind, "")):
                self._kind_severity[kind] = severity
        self._kind_hosts.update(kinds.keys())
        host = Host(anchor=anchor, label=label, summary=summary, kinds=kinds)
        self.hosts.append(host)
        return host

    @property
    def reachable(self) -> int:
        """How many servers answered."""
        return sum(1 for host in self.hosts if host.summary.reachable)

    def grades(self) -> dict[str, int]:
        """How many servers in each column of ``GRADE_COLUMNS`` (zeros included)."""
        counts = dict.fromkeys(GRADE_COLUMNS, 0)
        for host in self.hosts:
            counts[host.grade_column] += 1
        return counts

    def findings_by_severity(self) -> dict[str, int]:
        """How many findings of each severity across the fleet (zeros included)."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for host in self.hosts:
            for severity, count in host.summary.findings.items():
                counts[severity] = counts.get(severity, 0) + count
        return counts

    def hosts_by_severity(self) -> dict[str, int]:
        """How many servers have at least one finding of each severity."""
        return {
            severity: sum(1 for host in self.hosts if host.summary.findings.get(severity, 0)) for severity in SEVERITIES
        }

    def kinds(self) -> list[FindingKindTally]:
        """Every kind of finding seen, worst severity first, then the most widespread, then by id."""
        tallies = [
            FindingKindTally(
                id=kind, severity=self._kind_severity[kind], example=self._kind_examples[kind], hosts=hosts
            )
            for kind, hosts in self._kind_hosts.items()
        ]
        return sorted(tallies, key=lambda tally: (severity_rank(tally.severity), -tally.hosts, tally.id))

    def versions(self) -> dict[str, int]:
        """How many servers accept each protocol version, oldest first (zeros included)."""
        counts = dict.fromkeys(VERSIONS, 0)
        for host in self.hosts:
            for version in host.summary.versions:
                counts[version] = counts.get(version, 0) + 1
        return counts

    def expiring(self) -> list[Host]:
        """The servers with a certificate, the soonest to expire first."""
        with_certificate = [host for host in self.hosts if host.summary.certificate_days_left is not None]
        return sorted(with_certificate, key=lambda host: (host.summary.certificate_days_left, host.summary.target))
