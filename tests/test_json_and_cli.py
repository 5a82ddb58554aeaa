"""The JSON document and the command line, end to end against real local servers."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from tlsprobe import DEFAULT_CHECKS, ServerScanResult, json_schema, to_jsonable
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.realserver


def _run_cli(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # Reports written to a pipe are not wrapped, unless $COLUMNS asks: not here.
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "tlsprobe", *arguments], capture_output=True, text=True, timeout=timeout, env=environment
    )


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema(check.result_type for check in DEFAULT_CHECKS)


@pytest.fixture
def modern(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        yield server


@pytest.fixture
def legacy(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        minimum = ssl.TLSVersion.TLSv1
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=minimum,
        ciphers="ALL:@SECLEVEL=0",
    ) as server:
        yield server


def test_the_command_ends_without_teardown_but_with_all_its_output_and_status(schema: dict[str, Any]) -> None:
    # run() leaves with os._exit once its output is flushed: a large output through a pipe arrives whole, and the
    # exit statuses stay those of main() and argparse.
    printed = _run_cli("--json-schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == schema
    usage = _run_cli("--no-such-option")
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr
    assert _run_cli("--help").returncode == 0


def test_shipped_schema_is_the_generated_one(schema: dict[str, Any]) -> None:
    shipped = json.loads(resources.files("tlsprobe").joinpath("scan-document.schema.json").read_text())
    assert shipped == schema, "regenerate with: tlsprobe --json-schema > src/tlsprobe/scan-document.schema.json"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_covers_every_field_of_the_result_classes(schema: dict[str, Any]) -> None:
    definition = schema["$defs"]["ServerScanResult"]
    assert definition["required"] == [field.name for field in attrs.fields(ServerScanResult)]
    assert definition["additionalProperties"] is False


def test_json_document_uses_the_python_names_and_validates(
    modern: LocalTLSServer, tmp_path: Path, schema: dict[str, Any]
) -> None:
    out = tmp_path / "scan.json"
    completed = _run_cli(f"127.0.0.1:{modern.port}", "127.0.0.1:1", "--json-out", str(out), "--quiet")
    assert completed.returncode == 1, completed.stderr  # the closed port is a scan that did not happen
    document = json.loads(out.read_text())
    jsonschema.validate(document, schema)
    assert document["schema_version"] == 1
    by_port = {server["target"]["port"]: server for server in document["servers"]}
    good = by_port[modern.port]
    assert good["connectivity"]["status"] == "completed"
    assert good["connectivity"]["profile"]["highest_version"] == "tls1_3"
    tls13 = next(check for check in good["checks"] if check["name"] == "tls1_3_cipher_suites")
    assert tls13["status"] == "completed"
    assert tls13["result"]["version"] == "tls1_3"
    suite = tls13["result"]["accepted_cipher_suites"][0]["cipher_suite"]
    assert set(suite) == {field.name for field in attrs.fields(type(_first_suite()))}
    assert by_port[1]["connectivity"]["error"]["kind"] == "connection_rejected"
    assert by_port[1]["checks"] == []


def _first_suite() -> object:
    from tlsprobe.wire.catalogue import CIPHER_SUITES

    return CIPHER_SUITES[0]


def test_python_result_and_json_agree(modern: LocalTLSServer) -> None:
    import anyio

    import tlsprobe

    result = anyio.run(tlsprobe.scan_server, f"127.0.0.1:{modern.port}")
    converted = to_jsonable(result)
    assert converted["target"] == {
        "host": "127.0.0.1",
        "port": modern.port,
        "ip": None,
        "starttls": None,
        "sni": None,
        "send_sni": True,
    }
    assert [check["name"] for check in converted["checks"]] == [outcome.name for outcome in result.checks]
    assert json.loads(json.dumps(converted)) == converted


def test_json_out_stdout_and_exit_code_ok(modern: LocalTLSServer, schema: dict[str, Any], test_pki: TestPKI) -> None:
    # The test CA is trusted through --ca-file: the certificate is then of no concern.
    completed = _run_cli(f"127.0.0.1:{modern.port}", "--json-out", "-", "--ca-file", str(test_pki.ca_cert))
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)  # nothing but JSON on stdout
    jsonschema.validate(document, schema)
    (certificate,) = [check for check in document["servers"][0]["checks"] if check["name"] == "certificate"]
    trust = certificate["result"]["deployments"][0]["trust"]
    assert [(verdict["store"], verdict["trusted"]) for verdict in trust][-1] == ("ca_file", True)


def test_an_untrusted_certificate_is_a_concern(modern: LocalTLSServer) -> None:
    completed = _run_cli(f"127.0.0.1:{modern.port}", "--certificate")
    assert completed.returncode == 1
    assert "Certificate 'CN=localhost,O=tlsprobe test PKI' is not trusted by any trust store" in completed.stdout
    assert "NOT TRUSTED: no path from the leaf to a root of the mozilla store" in completed.stdout
    assert "Host name 127.0.0.1: matches (127.0.0.1)" in completed.stdout


def test_an_unreadable_ca_file_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    completed = _run_cli("127.0.0.1:1", "--ca-file", str(empty))
    assert completed.returncode == 2
    assert f"CA file {str(empty)!r} is empty" in completed.stderr


def test_resumption_attempts_are_taken_from_the_command_line(modern: LocalTLSServer) -> None:
    completed = _run_cli(
        f"127.0.0.1:{modern.port}", "--session_resumption", "--resumption-attempts", "3", "--jsonl", "--quiet"
    )
    (outcome,) = json.loads(completed.stdout)["checks"]
    assert outcome["name"] == "session_resumption", outcome
    ways = [outcome["result"][way] for way in ("session_id_resumption", "ticket_resumption", "tls1_3_resumption")]
    assert [way["attempted"] for way in ways if way is not None and way["issued"]] != []
    assert all(way["attempted"] == 3 for way in ways if way is not None and way["issued"])


def test_out_of_range_resumption_attempts_are_a_usage_error() -> None:
    completed = _run_cli("127.0.0.1:1", "--resumption-attempts", "0")
    assert completed.returncode == 2
    assert "--resumption-attempts must be between 1 and 50" in completed.stderr


def test_legacy_server_is_a_concern(legacy: LocalTLSServer) -> None:
    completed = _run_cli(f"127.0.0.1:{legacy.port}", "--tls1_0_cipher_suites", "--tls1_2_cipher_suites")
    assert completed.returncode == 1
    assert "TLS 1.0 is accepted" in completed.stdout
    assert "no server authentication" in completed.stdout  # anonymous suites are flagged
    rows = [line.split()[:2] for line in completed.stdout.splitlines() if line.startswith("  TLS ")]
    assert rows == [["TLS", "1.0"], ["TLS", "1.2"]]  # only the checks asked for ran


def test_jsonl_streams_one_server_per_line(
    modern: LocalTLSServer, legacy: LocalTLSServer, schema: dict[str, Any]
) -> None:
    completed = _run_cli(f"127.0.0.1:{modern.port}", f"127.0.0.1:{legacy.port}", "--jsonl", "--tls1_3_cipher_suites")
    lines = completed.stdout.splitlines()
    assert len(lines) == 2
    server_schema = {"$ref": "#/$defs/ServerScanResult", "$defs": schema["$defs"]}
    ports = set()
    for line in lines:
        record = json.loads(line)
        jsonschema.validate(record, server_schema)
        ports.add(record["target"]["port"])
    assert ports == {modern.port, legacy.port}


def test_bad_targets_file_lines_are_reported_and_the_rest_scanned(modern: LocalTLSServer, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# local\n127.0.0.1:{modern.port}\nnot a host\n\n127.0.0.1:99999\n")
    out = tmp_path / "out.json"
    completed = _run_cli("--targets-in", str(targets), "--json-out", str(out), "--tls1_3_cipher_suites")
    assert completed.returncode == 2
    assert f"{targets}, line 3" in completed.stderr and "not a host" in completed.stderr
    assert f"{targets}, line 5" in completed.stderr and "out of range" in completed.stderr
    document = json.loads(out.read_text())
    assert [server["target"]["port"] for server in document["servers"]] == [modern.port]
    assert [line["line_number"] for line in document["invalid_targets"]] == [3, 5]


def test_usage_errors_exit_2() -> None:
    assert _run_cli().returncode == 2
    assert _run_cli("--targets-in", "/nonexistent/targets.txt").returncode == 2
    assert _run_cli("example.com", "--max-connections-per-server", "0").returncode == 2


def test_help_documents_exit_codes_and_one_flag_per_check() -> None:
    completed = _run_cli("--help")
    assert completed.returncode == 0
    for check in DEFAULT_CHECKS:
        assert f"--{check.name.replace('_', '-')}" in completed.stdout
    assert "exit codes:" in completed.stdout and "usage or input error" in completed.stdout


def test_demo_runs_offline_and_reports_each_server() -> None:
    completed = _run_cli("demo")
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    assert "scanning 5 servers" in completed.stderr  # said on stderr: stdout is the report alone
    assert "NOT SCANNED (connection rejected)" in output
    assert "Client certificate:  required" in output
    # The demo trusts its own CA, so each server's certificate is validated against it.
    assert output.count("ca_file:               trusted") >= 4
    assert "TLS 1.0 is accepted" in output
    assert "(client order)" in output and "(server order)" in output


def test_mozilla_profile_verdict_is_in_the_json_and_the_exit_code(
    modern: LocalTLSServer, schema: dict[str, Any], test_pki: TestPKI
) -> None:
    target = f"127.0.0.1:{modern.port}"
    completed = _run_cli(target, "--mozilla", "intermediate", "--json-out", "-", "--ca-file", str(test_pki.ca_cert))
    assert completed.returncode == 1, completed.stderr  # the test server staples no OCSP response, among others
    document = json.loads(completed.stdout)
    jsonschema.validate(document, schema)
    (server,) = document["servers"]
    assert server["compliance"]["policy"] == "mozilla-intermediate"
    assert server["compliance"]["verdict"] == "fail"
    rules = {deviation["rule"] for deviation in server["compliance"]["deviations"]}
    assert "ocsp_stapling" in rules
    assert server["grade"]["grade"] in {"A+", "A", "A-"}


def test_a_policy_report_opens_with_grade_verdict_and_findings(legacy: LocalTLSServer, test_pki: TestPKI) -> None:
    completed = _run_cli(f"127.0.0.1:{legacy.port}", "--mozilla", "old", "--ca-file", str(test_pki.ca_cert))
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert lines[2].startswith("  Verdict:    FAIL: mozilla-old: ")
    assert lines[3].startswith("  Grade:      F (score ")
    assert lines[4] == "  Policy:     mozilla-old FAIL (" + lines[4].split("FAIL (")[1]
    assert "[HIGH]     Anonymous key exchange: no server authentication (caps the grade at F)" in completed.stdout
    assert "\x1b[" not in completed.stdout  # no colour when stdout is not a terminal


def test_a_bad_policy_file_is_a_usage_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"name": "x"}')
    completed = _run_cli("127.0.0.1:1", "--policy", str(policy))
    assert completed.returncode == 2
    assert f"policy {policy}: missing field" in completed.stderr


def test_version_is_printed() -> None:
    from tlsprobe import __version__

    completed = _run_cli("--version")
    assert (completed.returncode, completed.stdout.splitlines()[0]) == (0, f"tlsprobe {__version__}")
