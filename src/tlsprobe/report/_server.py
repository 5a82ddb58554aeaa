"""One server's section: the facts of the terminal report (grade, policy, findings, connection, versions and
suites in the server's order, certificates, the other checks, client simulation, cost), read from its JSON form.

The section carries what the page's filters match on as ``data-`` attributes (its target, grade column and
worst severity), the same as its row in the overview's table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from tlsprobe._model._summary import VERSIONS, ServerSummary, severity_rank
from tlsprobe.report._certificates import certificate_tables
from tlsprobe.report._checks import (
    Row,
    check_label,
    error_words,
    key_exchange,
    not_completed,
    order_words,
    rows_of,
    version_label,
    weakness,
)
from tlsprobe.report._fleet import Host
from tlsprobe.report._text import attr, text
from tlsprobe.report._tones import grade_tone, severity_tone

_CLIENT_AUTH: Final = {
    "not_requested": "not requested",
    "optional": "requested (optional)",
    "required": "required",
    "unknown": "unknown",
}
_FOLDED_EVIDENCE: Final = 4
"""Evidence lists longer than this are folded (``<details>``)."""


def severity_badge(severity: object) -> str:
    """A severity as a word in capitals, coloured as a second cue."""
    return f'<span class="severity {severity_tone(str(severity))}">{text(str(severity).upper())}</span>'


def filter_attributes(host: Host) -> str:
    """The ``data-`` attributes the page's filters read, for a server's row and its section alike."""
    summary = host.summary
    return (
        f" data-target={attr(summary.target.lower())} data-grade={attr(host.grade_column)}"
        f' data-worst-rank="{severity_rank(host.worst_severity)}"'
    )


def _table(table_class: str, caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table whose cells are HTML already; the first cell of a row is its header."""
    head = "".join(f'<th scope="col">{header}</th>' for header in headers)
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>' + "".join(f"<td>{cell}</td>" for cell in row[1:]) + "</tr>" for row in rows
    )
    return (
        f'<table class="{table_class}"><caption>{caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _facts(caption: str, rows: Sequence[Row]) -> str:
    body = "".join(f'<tr><th scope="row">{text(label)}</th><td>{value}</td></tr>' for label, value in rows)
    return f'<table class="facts"><caption>{caption}</caption><tbody>{body}</tbody></table>'


def _grade(server: Mapping[str, Any], summary: ServerSummary) -> str:
    grade = server.get("grade")
    if grade is None:
        return '<p class="grade-line">Grade: <span class="grade grade-none">none</span> (not graded)</p>'
    letter = str(grade.get("grade"))
    badge = f'<span class="grade {grade_tone(letter)}">{text(letter)}</span>'
    if grade.get("score") is None:
        why = "; ".join(str(missing) for missing in grade.get("missing") or ())
        return f'<p class="grade-line">Grade: {badge} (not graded: {text(why)})</p>'
    caps = [cap for cap in grade.get("caps") or () if cap.get("grade") == letter]
    why = f"; capped by: {caps[0]['reason']}" if caps else ""
    return f'<p class="grade-line">Grade: {badge} (score {text(grade["score"])}/100{text(why)})</p>'


def _policy(compliance: Mapping[str, Any] | None) -> str:
    if not compliance:
        return ""
    verdict = str(compliance.get("verdict"))
    items = [
        f"<li>{text(d['rule'])}: expected {text(d['expected'])}; found {text(', '.join(map(str, d['found'])))}</li>"
        for d in compliance.get("deviations") or ()
    ]
    items += [
        f"<li>{text(u['rule'])}: not evaluated ({text(u['reason'])})</li>" for u in compliance.get("unevaluated") or ()
    ]
    listed = f"<ul>{''.join(items)}</ul>" if items else ""
    return (
        f'<p class="policy">Policy {text(compliance.get("policy"))}: '
        f'<strong class="verdict-{"pass" if verdict == "pass" else "other"}">{text(verdict.upper())}</strong></p>'
        f"{listed}"
    )


def _evidence(evidence: Sequence[object]) -> str:
    items = "".join(f"<li>{text(item)}</li>" for item in evidence)
    if len(evidence) <= _FOLDED_EVIDENCE:
        return f"<ul>{items}</ul>" if items else ""
    return f"<details><summary>{len(evidence)} items</summary><ul>{items}</ul></details>"


def _findings(server: Mapping[str, Any]) -> str:
    findings = server.get("findings") or []
    if not findings:
        return "<p>Findings: none.</p>"
    caps = {cap["reason"]: cap["grade"] for cap in (server.get("grade") or {}).get("caps") or ()}
    rows = [
        (
            severity_badge(finding["severity"]),
            text(finding["title"]) + f' <code class="kind">{text(finding["id"])}</code>',
            text(caps.get(finding["title"], "")),
            _evidence(finding.get("evidence") or ()),
        )
        for finding in findings
    ]
    return _table("findings", f"Findings ({len(findings)})", ["Severity", "Finding", "Caps grade at", "Evidence"], rows)


def _connection(profile: Mapping[str, Any]) -> str:
    client_auth = _CLIENT_AUTH.get(str(profile.get("client_auth")), str(profile.get("client_auth")))
    if profile.get("client_auth_note"):
        client_auth += f" ({profile['client_auth_note']})"
    rows = [
        (
            "Address",
            text(f"{profile['ip_address']} port {profile['port']}, SNI {profile.get('server_name') or '(none)'}"),
        ),
        (
            "Highest version",
            text(f"{version_label(profile['highest_version'])} ({profile['cipher_suite']['name']})"),
        ),
        ("Client certificate", text(client_auth)),
    ]
    return _facts("Connection", rows)


def _versions(anchor: str, outcomes: Sequence[Mapping[str, Any]]) -> str:
    """The versions table, then one table of suites per accepted version, in the server's order."""
    rows = []
    suites = []
    for outcome in outcomes:
        version = str(outcome["name"]).removesuffix("_cipher_suites")
        label = text(version_label(version))
        if outcome["status"] != "completed":
            rows.append((label, not_completed(outcome), "", ""))
            continue
        result = outcome["result"]
        accepted = result.get("accepted_cipher_suites") or []
        if not result.get("is_supported"):
            rows.append((label, "not accepted", "", ""))
            continue
        order = order_words(result.get("server_order_enforced"), "not determined")
        rows.append(
            (
                label,
                "ACCEPTED" if version in ("ssl2", "ssl3", "tls1_0", "tls1_1") else "accepted",
                str(len(accepted)),
                order,
            )
        )
        suite_rows = []
        for number, entry in enumerate(accepted, start=1):
            flaw = weakness(entry["cipher_suite"])
            suite_rows.append(
                (
                    str(number),
                    f"<code>{text(entry['cipher_suite']['name'])}</code>",
                    text(key_exchange(entry)),
                    f'<span class="weak">{text(flaw)}</span>' if flaw else "",
                )
            )
        suites.append(
            _table(
                "suites",
                f"{label}: {len(accepted)} {'suite' if len(accepted) == 1 else 'suites'} accepted ({order})",
                ["#", "Cipher suite", "Key exchange", "Weakness"],
                suite_rows,
            )
        )
    versions = _table("versions", "Protocol versions", ["Version", "Accepted", "Suites", "Order"], rows)
    return versions + "".join(suites)


def _simulation(handshakes: Sequence[Mapping[str, Any]]) -> str:
    if not handshakes:
        return ""
    connect = sum(1 for handshake in handshakes if handshake.get("outcome") == "connects")
    others = [handshake for handshake in handshakes if handshake.get("outcome") != "connects"]
    summary = (
        "<p>Client simulation (computed from the results, no connection made): "
        f"{connect} of {len(handshakes)} clients connect.</p>"
    )
    if not others:
        return summary
    rows = [
        (
            text(h.get("client_name")),
            "FAILS" if h.get("outcome") == "fails" else text(h.get("outcome")),
            text(h.get("note") or ""),
        )
        for h in others
    ]
    return summary + _table("simulation", "Clients that would not connect", ["Client", "Outcome", "Why"], rows)


def render_server(host: Host, server: Mapping[str, Any]) -> str:
    """The section of one server."""
    summary = host.summary
    anchor = host.anchor
    label = f' <span class="label">({text(host.label)})</span>' if host.label else ""
    head = (
        f'<section class="server" id="{anchor}" aria-labelledby="{anchor}-h"{filter_attributes(host)}>'
        f'<h3 id="{anchor}-h">{text(summary.target)}{label}</h3>'
    )
    connectivity = server["connectivity"]
    if not summary.reachable:
        error = connectivity.get("error") or {}
        return (
            f'{head}<p class="unreachable">NOT SCANNED ({text(error_words(str(error.get("kind"))))}): '
            f"{text(error.get('message', ''))}</p></section>\n"
        )
    checks = server.get("checks") or []
    version_checks = {f"{version}_cipher_suites" for version in VERSIONS}
    versions = [outcome for outcome in checks if outcome["name"] in version_checks]
    certificates = [outcome for outcome in checks if outcome["name"] == "certificate"]
    others: list[Row] = []
    for outcome in checks:
        if outcome["name"] in version_checks or outcome["name"] == "certificate":
            continue
        if outcome["status"] == "completed":
            others.extend(rows_of(outcome["name"], outcome["result"]))
        else:
            others.append((check_label(outcome["name"]), not_completed(outcome)))
    parts = [
        head,
        _grade(server, summary),
        _policy(server.get("compliance")),
        _findings(server),
        _connection(connectivity["profile"]),
    ]
    if versions:
        parts.append(
            f'<h4 id="{anchor}-versions">Protocol versions and cipher suites</h4>{_versions(anchor, versions)}'
        )
    for outcome in certificates:
        shown = (
            certificate_tables(anchor, outcome["result"])
            if outcome["status"] == "completed"
            else f"<p>{not_completed(outcome)}</p>"
        )
        parts.append(f'<h4 id="{anchor}-certificates">Certificates</h4>{shown}')
    if others:
        parts.append(f'<h4 id="{anchor}-checks">Other checks</h4>{_facts("Other checks", others)}')
    parts.append(_simulation(server.get("client_simulation") or ()))
    retries = sum(int(outcome["cost"]["retries"]) for outcome in checks if outcome.get("cost"))
    parts.append(
        f'<p class="cost">Cost: {summary.connections} connections, {retries} retries, {summary.duration_s:.2f} s</p>'
        "</section>\n"
    )
    return "".join(parts)
