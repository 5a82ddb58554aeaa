"""``summarize``: one server's scan in a few facts, read from its JSON form. The results are made by the real
cipher-suite checks against a scripted server, the real certificate analysis and the real assessment
(tests/store/results.py); each expected fact is computed from the records or the certificates, not from the JSON."""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography.hazmat.primitives import hashes

from tests.store.results import (
    LEGACY,
    MODERN,
    STARTED_AT,
    failed_certificate_outcome,
    scripted_result,
    unreachable_result,
)
from tests.trust import Issued, trust_pki
from tlsprobe import ServerScanResult, ServerTarget, TLSVersion
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import SEVERITIES, VERSIONS, grade_rank, severity_rank, summarize, target_key
from tlsprobe.policy import Severity


def fingerprint(issued: Issued) -> str:
    return issued.cert.fingerprint(hashes.SHA256()).hex()


def severity_counts(result: ServerScanResult) -> dict[str, int]:
    return {severity.value: sum(f.severity is severity for f in result.findings) for severity in Severity}


def test_a_reachable_server_in_a_few_facts() -> None:
    pki = trust_pki()
    result = scripted_result(versions=LEGACY, leaves=[pki.leaf, pki.expired])
    summary = summarize(to_jsonable(result))

    assert (summary.target, summary.host, summary.port, summary.reachable, summary.error) == (
        "www.example.com:443",
        "www.example.com",
        443,
        True,
        None,
    )
    assert summary.versions == ("tls1_0", "tls1_1", "tls1_2")
    assert (summary.lowest_version, summary.highest_version) == ("tls1_0", "tls1_2")
    assert result.grade is not None
    assert (summary.grade, summary.score) == (result.grade.grade, result.grade.score)
    # Two deployments: the earliest expiry is the expired leaf's, two days before the scan.
    assert summary.certificate_not_after == pki.expired.cert.not_valid_after_utc
    assert summary.certificate_days_left == -2
    assert summary.certificate_fingerprints == tuple(sorted([fingerprint(pki.leaf), fingerprint(pki.expired)]))
    assert summary.trusted is False  # the expired one chains to no root the scan trusted
    assert dict(summary.findings) == severity_counts(result)
    assert sum(summary.findings.values()) == len(result.findings) >= 3
    worst = min(result.findings, key=lambda finding: list(Severity).index(finding.severity))
    assert (summary.worst_finding, summary.worst_severity) == (worst.title, worst.severity.value)
    assert (summary.started_at, summary.duration_s) == (STARTED_AT, result.duration_s)
    assert summary.connections == result.connections > 10


def test_every_leaf_trusted_is_trusted() -> None:
    pki = trust_pki()
    summary = summarize(to_jsonable(scripted_result(versions=MODERN, leaves=[pki.leaf, pki.wildcard])))
    assert summary.trusted is True
    assert summary.versions == ("tls1_2", "tls1_3")
    assert summary.certificate_not_after == min(
        pki.leaf.cert.not_valid_after_utc, pki.wildcard.cert.not_valid_after_utc
    )
    assert summary.certificate_days_left == 30  # 30 days and an hour


def test_a_failed_certificate_check_gives_no_certificate_facts() -> None:
    summary = summarize(to_jsonable(scripted_result(certificate=failed_certificate_outcome())))
    assert (summary.certificate_not_after, summary.certificate_days_left) == (None, None)
    assert (summary.certificate_fingerprints, summary.trusted) == ((), None)
    assert summary.versions == ("tls1_2", "tls1_3")  # the other checks still count


def test_an_unreachable_server() -> None:
    result = unreachable_result(message="connection refused by 127.0.0.1:8443")
    summary = summarize(to_jsonable(result))
    assert (summary.target, summary.reachable) == ("down.example:8443", False)
    assert summary.error == "connection_rejected: connection refused by 127.0.0.1:8443"
    assert (summary.versions, summary.highest_version, summary.lowest_version) == ((), None, None)
    assert (summary.certificate_not_after, summary.certificate_fingerprints, summary.trusted) == (None, (), None)
    assert dict(summary.findings) == dict.fromkeys(SEVERITIES, 0)
    assert (summary.worst_finding, summary.worst_severity) == (None, None)
    assert summary.connections == 1


def test_a_server_without_findings() -> None:
    server = to_jsonable(scripted_result()) | {"findings": []}
    summary = summarize(server)
    assert dict(summary.findings) == dict.fromkeys(SEVERITIES, 0)
    assert (summary.worst_finding, summary.worst_severity) == (None, None)


def test_the_json_text_gives_the_same_summary() -> None:
    server = to_jsonable(scripted_result(versions=LEGACY))
    assert summarize(json.loads(json.dumps(server))) == summarize(server)


def test_a_version_whose_check_failed_is_left_out_not_guessed() -> None:
    server = to_jsonable(scripted_result(versions=LEGACY))
    for outcome in server["checks"]:
        if outcome["name"] == "tls1_0_cipher_suites":
            outcome |= {"status": "failed", "result": None}
    assert summarize(server).versions == ("tls1_1", "tls1_2")


@pytest.mark.parametrize(
    ("target", "key"),
    [
        (ServerTarget(host="www.example.com"), "www.example.com:443"),
        (ServerTarget.parse("[2001:db8::1]:8443"), "[2001:db8::1]:8443"),
        (ServerTarget.parse("www.example.com:443{192.0.2.7}"), "www.example.com:443{192.0.2.7}"),
        (ServerTarget.parse("smtp://mail.example.com:587"), "smtp://mail.example.com:587"),
        (ServerTarget.parse("tls://ldap.example.com:636"), "tls://ldap.example.com:636"),
        (ServerTarget(host="a.example", sni="b.example"), "a.example:443 sni=b.example"),
        (ServerTarget(host="a.example", send_sni=False), "a.example:443 no-sni"),
    ],
)
def test_target_keys(target: ServerTarget, key: str) -> None:
    assert target_key(to_jsonable(target)) == key
    assert key.startswith(str(target))  # the target as tlsprobe prints it, then what it leaves out


def test_target_keys_tell_targets_apart() -> None:
    targets = [
        ServerTarget(host="a.example"),
        ServerTarget(host="a.example", port=8443),
        ServerTarget(host="a.example", sni="b.example"),
        ServerTarget(host="a.example", send_sni=False),
        ServerTarget.parse("a.example:443{192.0.2.1}"),
        ServerTarget.parse("smtp://a.example:443"),
    ]
    assert len({target_key(to_jsonable(target)) for target in targets}) == len(targets)


def test_grades_and_severities_rank() -> None:
    assert [grade_rank(grade) for grade in ("F", "E", "D", "C", "B", "A-", "A", "A+")] == list(range(1, 9))
    assert grade_rank("?") is None and grade_rank(None) is None
    assert [severity_rank(severity) for severity in SEVERITIES] == list(range(len(SEVERITIES)))
    assert severity_rank("catastrophic") == len(SEVERITIES)
    assert SEVERITIES[0] == "critical"
    assert tuple(version.value for version in TLSVersion) == VERSIONS


def test_days_left_are_whole_days_from_the_servers_scan() -> None:
    # 30 days and an hour after the scan: 30 whole days; started a day later, 29.
    later = scripted_result(started_at=STARTED_AT + datetime.timedelta(days=1))
    assert summarize(to_jsonable(later)).certificate_days_left == 29
