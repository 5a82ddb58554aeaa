"""What a comparison reads of one server's scan, taken once from its JSON form.

The JSON form of a server carries every certificate as PEM, every rejected suite and group, the evidence of every
finding: tens of kilobytes. A comparison pairs the servers of two whole scans, so it holds these few facts instead
and lets the JSON go as soon as it has been read.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

from tlsprobe._model._summary import VERSIONS, ServerSummary, severity_rank, summarize

GROUP_PARTS: Final = ("tls1_3", "ecdhe_below_tls1_3", "ffdhe_below_tls1_3")
"""The parts of the supported-groups result, as the JSON names them."""


@attrs.frozen(kw_only=True)
class CheckStatus:
    """How one check ended."""

    status: str
    """``completed``, ``failed`` or ``skipped``."""
    error: str | None
    """``kind: message`` of a failed check; None otherwise."""


@attrs.frozen(kw_only=True)
class Leaf:
    """A leaf certificate the server presented."""

    fingerprint: str
    """Its SHA-256 fingerprint."""
    subject: str
    """Its subject (the server's text)."""
    not_after: datetime.date
    """The last day it is valid."""


@attrs.frozen(kw_only=True)
class ServerFacts:
    """One server's scan as a comparison reads it. Results are present only for checks that completed."""

    summary: ServerSummary
    """Target, reachability, grade, certificate expiry and trust."""
    checks: Mapping[str, CheckStatus]
    """Every check run, by name."""
    findings: Mapping[str, tuple[str, str]]
    """Each finding id with its severity and title (the most severe, when an id comes more than once)."""
    versions: Mapping[str, bool]
    """For each version whose cipher-suite check completed: whether it is accepted."""
    suites: Mapping[str, Mapping[str, Mapping[str, Any]]]
    """For each of those versions: the suites accepted, by name, with their JSON catalogue entry."""
    groups: Mapping[str, Mapping[str, Mapping[str, Any]]] | None
    """For each part of the supported-groups result (``GROUP_PARTS``): the groups accepted, by name, with their
    JSON catalogue entry; None when the check did not complete."""
    leaves: tuple[Leaf, ...]
    """The leaf certificates presented, when the certificate check completed."""
    untrusted_reason: str | None
    """Why the first deployment that no store trusts is not trusted (the first store's error)."""


def read_facts(server: Mapping[str, Any]) -> ServerFacts:
    """The facts of one server in its JSON form; ``KeyError``, ``TypeError`` or ``ValueError`` when it is not
    one."""
    summary = summarize(server)
    checks = {outcome["name"]: outcome for outcome in server["checks"]}
    completed = {name: outcome["result"] for name, outcome in checks.items() if outcome["status"] == "completed"}
    suite_results = {
        version: completed[f"{version}_cipher_suites"]
        for version in VERSIONS
        if f"{version}_cipher_suites" in completed
    }
    groups = completed.get("supported_groups")
    certificate = completed.get("certificate")
    return ServerFacts(
        summary=summary,
        checks={name: _status(outcome) for name, outcome in checks.items()},
        findings=_findings(server.get("findings") or ()),
        versions={version: bool(result["is_supported"]) for version, result in suite_results.items()},
        suites={
            version: {
                entry["cipher_suite"]["name"]: entry["cipher_suite"] for entry in result["accepted_cipher_suites"]
            }
            for version, result in suite_results.items()
        },
        groups=None
        if groups is None
        else {
            part: {group["name"]: group for group in (groups.get(part) or {}).get("accepted_groups") or ()}
            for part in GROUP_PARTS
        },
        leaves=tuple(_leaves(certificate)) if certificate is not None else (),
        untrusted_reason=_untrusted_reason(certificate) if certificate is not None else None,
    )


def _status(outcome: Mapping[str, Any]) -> CheckStatus:
    error = outcome.get("error") if outcome["status"] == "failed" else None
    return CheckStatus(
        status=str(outcome["status"]), error=None if error is None else f"{error['kind']}: {error['message']}"
    )


def _findings(findings: Any) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for finding in findings:
        known = found.get(finding["id"])
        if known is None or severity_rank(finding["severity"]) < severity_rank(known[0]):
            found[finding["id"]] = (str(finding["severity"]), str(finding["title"]))
    return found


def _leaves(certificate: Mapping[str, Any]) -> Iterator[Leaf]:
    for deployment in certificate.get("deployments") or ():
        chain = deployment["chain"]["received_chain"]
        if chain:
            leaf = chain[0]
            yield Leaf(
                fingerprint=leaf["sha256_fingerprint"],
                subject=leaf["subject"],
                not_after=datetime.datetime.fromisoformat(leaf["not_after"]).date(),
            )


def _untrusted_reason(certificate: Mapping[str, Any]) -> str | None:
    for deployment in certificate.get("deployments") or ():
        verdicts = deployment.get("trust") or ()
        if not any(verdict["trusted"] for verdict in verdicts):
            return next((verdict["error"] for verdict in verdicts if verdict.get("error")), None)
    return None
