"""The report tells one story: the grade's caps, the findings and the exit status come from the same findings;
a scan of several servers ends with a summary, worst first, fitted to the width."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli._process import run_cli
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.realserver


def test_no_forward_secrecy_is_a_finding_that_caps_the_grade_and_fails_the_scan(
    static_rsa: LocalTLSServer, test_pki: TestPKI
) -> None:
    ran = run_cli(f"127.0.0.1:{static_rsa.port}", "--json-out", "-", "--ca-file", str(test_pki.ca_cert))
    assert ran.code == 1, ran.stderr
    (server,) = json.loads(ran.stdout)["servers"]
    titles = {finding["title"]: finding for finding in server["findings"]}
    assert "no_forward_secrecy" in {finding["id"] for finding in server["findings"]}
    # Every cap of the grade is one of the findings: nothing lowers the grade without saying so there.
    assert server["grade"]["caps"] and all(cap["reason"] in titles for cap in server["grade"]["caps"])


def test_the_report_says_why_the_exit_status_fails_from_the_findings(
    static_rsa: LocalTLSServer, test_pki: TestPKI
) -> None:
    ran = run_cli(f"127.0.0.1:{static_rsa.port}", "--ca-file", str(test_pki.ca_cert), columns=120)
    assert ran.code == 1
    report = ran.stdout
    assert "Concerns:" not in report  # the findings are the concerns: listed once
    (verdict,) = [line for line in report.splitlines() if line.startswith("  Verdict:")]
    assert "FAIL" in verdict and "1 finding at medium or above" in verdict
    assert "No suite with forward secrecy" in report
    # The one suite, counted in the singular, with its key exchange.
    assert "TLS 1.2  1 suite accepted" in report
    (suite,) = [line for line in report.splitlines() if line.startswith("      TLS_RSA_WITH_AES_128_GCM_SHA256")]
    assert "RSA key exchange" in suite


def test_fail_on_and_fail_under_set_the_exit_status(
    legacy: LocalTLSServer, static_rsa: LocalTLSServer, test_pki: TestPKI
) -> None:
    trust = ("--ca-file", str(test_pki.ca_cert), "--quiet")
    legacy_target, static_target = f"127.0.0.1:{legacy.port}", f"127.0.0.1:{static_rsa.port}"
    assert run_cli(legacy_target, *trust, "--fail-on", "high").code == 1  # anonymous suites are high
    assert run_cli(legacy_target, *trust, "--fail-on", "critical").code == 0
    assert run_cli(static_target, *trust, "--fail-on", "none", "--fail-under", "A-").code == 1  # graded B
    assert run_cli(static_target, *trust, "--fail-on", "none", "--fail-under", "B").code == 0
    bad = run_cli(static_target, "--fail-under", "Z")
    assert bad.code == 2 and "--fail-under" in bad.stderr


def test_a_scan_of_several_servers_ends_with_a_summary_worst_first(
    modern: LocalTLSServer, legacy: LocalTLSServer, test_pki: TestPKI
) -> None:
    targets = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{legacy.port}", "127.0.0.1:1"]
    ran = run_cli(*targets, "--ca-file", str(test_pki.ca_cert), env={"COLUMNS": "100"})
    assert ran.code == 1
    summary = ran.stdout[ran.stdout.index("Summary of 3 servers") :].splitlines()
    assert all(len(line) <= 100 for line in summary), summary
    rows = [line for line in summary if line.startswith("  127.0.0.1:")]
    assert [row.split()[0] for row in rows] == ["127.0.0.1:1", f"127.0.0.1:{legacy.port}", f"127.0.0.1:{modern.port}"]
    not_scanned, worst, best = rows
    assert "not scanned" in not_scanned
    assert worst.split()[1:3] == ["fail", "F"] and "Anonymous key exchange" in worst
    assert best.split()[1:4] == ["pass", "A+", "1.2-1.3"]


def test_the_summary_fits_a_narrow_terminal(modern: LocalTLSServer, legacy: LocalTLSServer) -> None:
    ran = run_cli(f"127.0.0.1:{modern.port}", f"127.0.0.1:{legacy.port}", stdout_tty=True, columns=60)
    summary = ran.stdout[ran.stdout.index("Summary of 2 servers") :].splitlines()
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in summary]
    assert all(len(line) <= 60 for line in plain), plain


def test_only_problems_and_min_severity_leave_out_what_passes(
    modern: LocalTLSServer, legacy: LocalTLSServer, test_pki: TestPKI
) -> None:
    targets = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{legacy.port}"]
    ran = run_cli(*targets, "--ca-file", str(test_pki.ca_cert), "--only-problems")
    assert ran.code == 1
    titles = [line for line in ran.stdout.splitlines() if line.startswith("127.0.0.1:")]
    assert titles == [f"127.0.0.1:{legacy.port}"]
    assert "TLS 1.3 is not accepted" not in ran.stdout  # a low finding, under the --fail-on level
    ran = run_cli(*targets, "--ca-file", str(test_pki.ca_cert), "--min-severity", "high")
    assert "[HIGH]" in ran.stdout and "[MEDIUM]" not in ran.stdout


def test_policy_deviations_are_listed_once_wrapped_with_expected_and_found(
    modern: LocalTLSServer, test_pki: TestPKI
) -> None:
    ran = run_cli(
        f"127.0.0.1:{modern.port}", "--mozilla", "modern", "--ca-file", str(test_pki.ca_cert), env={"COLUMNS": "80"}
    )
    assert ran.code == 1
    report = ran.stdout
    start = report.index("  Policy:")
    policy = report[start : report.index("\n\n", start)].splitlines()
    assert report.count("ocsp_stapling") == 1 and report.count("cipher_suites:") == 1
    assert all(len(line) <= 80 for line in policy), policy
    deviation = " ".join(line.strip() for line in policy[1:]).split(" - ")[1:]
    assert deviation and all("expected" in item and "found" in item for item in deviation), policy


def test_failed_and_skipped_checks_read_like_the_others() -> None:
    ran = run_cli("demo")
    unaligned = [line for line in ran.stdout.splitlines() if re.match(r"^  [a-z0-9_]+: (FAILED|skipped)", line)]
    assert unaligned == []
    assert re.search(r"^  Client renegotiation: +not completed \(client certificate required\)", ran.stdout, re.M)
    assert re.search(r"^  TLS 1\.3 early data: +not applicable: ", ran.stdout, re.M)
