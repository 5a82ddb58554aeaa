"""Each tool's results on fragile servers against its own results on the same servers when they are not fragile.

tlsprobe: every server's result must be equal, finding for finding, once the volatile fields are removed.
SSLyze: the commands that errored, and the accepted cipher suites and supported curves lost or gained.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import _tools

# Fields that differ between two clean tlsprobe runs of the same servers (found by diffing two runs of the
# 10-server farm) and so say nothing about the servers. "*" matches any key or list index.
VOLATILE_PATHS: tuple[tuple[str, ...], ...] = (
    ("started_at",),  # when the server's scan started
    ("duration_s",),  # how long it took
    ("connectivity", "cost"),  # what the scan paid: connections, retries, duration (retries vary with refusals)
    ("checks", "*", "cost"),
    # A fresh ephemeral key on every handshake; its group and size stay and are compared.
    ("checks", "*", "result", "accepted_cipher_suites", "*", "ephemeral_key", "public_key"),
)


def _strip(node: Any, path: tuple[str, ...]) -> None:
    if not path or not isinstance(node, dict | list):
        return
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
        for key in keys:
            if rest:
                _strip(node[key], rest)
            else:
                del node[key]
    elif head == "*":
        for item in node:
            _strip(item, rest)


def normalised(result: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of one server's result without the volatile fields, its checks keyed by name for readable paths."""
    copy: dict[str, Any] = _deep_copy(result)
    for path in VOLATILE_PATHS:
        _strip(copy, path)
    copy["checks"] = {outcome["name"]: outcome for outcome in copy.get("checks", [])}
    return copy


def _deep_copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _deep_copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_deep_copy(item) for item in node]
    return node


def differing_paths(clean: Any, other: Any, path: str = "") -> Iterator[str]:
    """Every path where the two JSON values differ (a whole sub-tree reported once when its type differs)."""
    if isinstance(clean, dict) and isinstance(other, dict):
        for key in sorted(set(clean) | set(other)):
            if key not in other or key not in clean:
                yield f"{path}.{key} ({'missing' if key not in other else 'added'})"
            else:
                yield from differing_paths(clean[key], other[key], f"{path}.{key}")
    elif isinstance(clean, list) and isinstance(other, list):
        if len(clean) != len(other):
            yield f"{path} ({len(clean)} items, then {len(other)})"
        else:
            for index, (left, right) in enumerate(zip(clean, other, strict=True)):
                yield from differing_paths(left, right, f"{path}[{index}]")
    elif clean != other:
        yield path or "."


@dataclass(frozen=True)
class TlsprobeComparison:
    servers: int
    equal_servers: int
    findings_clean: int
    findings_lost: int
    findings_gained: int
    paths: dict[str, list[str]]  # server -> differing paths


def compare_tlsprobe(
    clean: Mapping[str, Mapping[str, Any]], other: Mapping[str, Mapping[str, Any]]
) -> TlsprobeComparison:
    paths: dict[str, list[str]] = {}
    findings_clean = findings_lost = findings_gained = 0
    for server, clean_result in clean.items():
        other_result = other.get(server)
        if other_result is None:
            paths[server] = ["(no result)"]
            continue
        left, right = normalised(clean_result), normalised(other_result)
        differences = list(differing_paths(left, right))
        if differences:
            paths[server] = differences
        clean_findings = {_finding_key(finding) for finding in left.get("findings", [])}
        other_findings = {_finding_key(finding) for finding in right.get("findings", [])}
        findings_clean += len(clean_findings)
        findings_lost += len(clean_findings - other_findings)
        findings_gained += len(other_findings - clean_findings)
    equal = sum(1 for server in clean if server not in paths)
    return TlsprobeComparison(len(clean), equal, findings_clean, findings_lost, findings_gained, paths)


def _finding_key(finding: Mapping[str, Any]) -> str:
    return f"{finding.get('id')}: {finding.get('title')}"


# --- SSLyze ---------------------------------------------------------------------------------------------------

_SSLYZE_SUITE_COMMANDS = (
    "ssl_2_0_cipher_suites",
    "ssl_3_0_cipher_suites",
    "tls_1_0_cipher_suites",
    "tls_1_1_cipher_suites",
    "tls_1_2_cipher_suites",
    "tls_1_3_cipher_suites",
)


def sslyze_facts(server: Mapping[str, Any] | None) -> set[str]:
    """The accepted cipher suites (per version) and supported curves SSLyze reported for one server."""
    if server is None:
        return set()
    attempts = server.get("scan_result") or {}
    facts = set()
    for command in _SSLYZE_SUITE_COMMANDS:
        result = (attempts.get(command) or {}).get("result") or {}
        facts |= {f"{command}: {item['cipher_suite']['name']}" for item in result.get("accepted_cipher_suites", [])}
    curves = (attempts.get("elliptic_curves") or {}).get("result") or {}
    facts |= {f"curve: {curve['name']}" for curve in curves.get("supported_curves") or []}
    return facts


@dataclass(frozen=True)
class SslyzeServerComparison:
    server: str
    errored_commands: list[str]
    clean_facts: int
    lost: list[str]
    gained: list[str]


def compare_sslyze(
    clean: Mapping[str, Mapping[str, Any]], other: Mapping[str, Mapping[str, Any]]
) -> list[SslyzeServerComparison]:
    rows = []
    for server, clean_result in clean.items():
        other_result = other.get(server)
        before, after = sslyze_facts(clean_result), sslyze_facts(other_result)
        errored = ["(no result)"] if other_result is None else _errored(other_result)
        rows.append(
            SslyzeServerComparison(server, errored, len(before), sorted(before - after), sorted(after - before))
        )
    return rows


def _errored(server: Mapping[str, Any]) -> list[str]:
    if server.get("connectivity_status") != "COMPLETED":
        return ["(connectivity)"]
    return _tools.sslyze_errored_commands(dict(server))
