"""The command's pieces that need no server: escaping and fitting text, the gate, the summary table, the JSON
document written server by server, completion scripts, the package metadata. Fast."""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import json
import re
import tomllib
import weakref
from pathlib import Path

import anyio
import jsonschema
import pytest

from tlsprobe import DEFAULT_CHECKS, json_schema
from tlsprobe._cli._completion import completion_script
from tlsprobe._cli._concerns import FailureGate
from tlsprobe._cli._errors import InputError, quoted, shortened
from tlsprobe._cli._escape import escape
from tlsprobe._cli._options import build_parser
from tlsprobe._cli._outputs import JsonOutput, check_output_path
from tlsprobe._cli._scan import ReportSettings, _ScanRun
from tlsprobe._cli._summary_table import SummaryRow, render_summary_table
from tlsprobe._cli._text import Line, cell_width, cut, finish, painted
from tlsprobe._model._assessment import Compliance, Severity, Verdict
from tlsprobe._model._config import InvalidTargetLine, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import CheckError, ConnectivityFailed, ErrorKind, ProbeCost, ServerScanResult
from tlsprobe._model._summary import SEVERITIES, ServerSummary, summarize

_ROOT = Path(__file__).parents[2]
_NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


# --- escaping and fitting ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", r"\x1b]0;title\x07"),
        ("a\rb\nc\td", r"a\rb\nc\td"),
        ("\u202eDETSURT", r"\u202eDETSURT"),
        ("\x9b2J", r"\x9b2J"),  # the one-byte CSI of C1
        ("zero\u200bwidth", r"zero\u200bwidth"),
        ("\U000e0041tag", r"\U000e0041tag"),
        ("café 中文 ñ", "café 中文 ñ"),
    ],
)
def test_escape_makes_controls_visible_and_leaves_text_alone(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert escape(shown) == shown  # escaping twice changes nothing: lines of escaped parts are escaped again


def test_a_report_line_is_escaped_wrapped_under_its_label_and_coloured_only_by_structure() -> None:
    hostile = "\x1b[31mevil\x1b[0m " + "word " * 20
    text = finish([f"  Issuer:                {hostile}"], colour=True, width=60)
    assert "\x1b" not in text.replace("\\x1b", "")  # no escape sequence at all: the line has no painted span
    lines = text.splitlines()
    assert all(cell_width(line) <= 60 for line in lines)
    assert all(line.startswith(" " * 25) for line in lines[1:])  # continued under the value
    painted_line = finish([Line(lead=(("  ", None), painted("FAIL", "red")), text=": why")], colour=True, width=None)
    assert painted_line == "  \x1b[31mFAIL\x1b[0m: why\n"


def test_cut_and_width_count_terminal_cells() -> None:
    assert cell_width("中文") == 4 and cell_width("e\u0301") == 1
    assert cut("abcdef", 4) == "abc…" and cell_width(cut("中文中文", 5)) <= 5
    assert shortened("x" * 1000, 50).count("…") == 1 and len(shortened("x" * 1000, 50)) == 50
    assert quoted("a\nb") == r"'a\nb'"


# --- the gate ------------------------------------------------------------------------------------------------------


def _summary(**changes: object) -> ServerSummary:
    fields: dict[str, object] = {
        "target": "example.com:443",
        "host": "example.com",
        "port": 443,
        "reachable": True,
        "error": None,
        "grade": "B",
        "score": 88,
        "versions": ("tls1_2", "tls1_3"),
        "certificate_not_after": None,
        "certificate_days_left": 90,
        "certificate_fingerprints": (),
        "trusted": True,
        "findings": dict.fromkeys(SEVERITIES, 0),
        "worst_finding": None,
        "worst_severity": None,
        "started_at": _NOW,
        "duration_s": 1.0,
        "connections": 40,
    }
    fields.update(changes)
    return ServerSummary(**fields)  # type: ignore[arg-type]


def test_the_gate_counts_findings_at_its_severity_and_reads_the_grade() -> None:
    findings = {**dict.fromkeys(SEVERITIES, 0), "medium": 2, "low": 3}
    server = _summary(findings=findings, worst_finding="TLS 1.0 is accepted", worst_severity="medium")
    assert FailureGate().failures(server) == ("2 findings at medium or above",)
    assert FailureGate(fail_on=Severity.HIGH).failures(server) == ()
    assert FailureGate(fail_on=None, fail_under="A-").failures(server) == ("grade B is below A-",)
    assert FailureGate(fail_on=None, fail_under="B").failures(server) == ()
    assert FailureGate(fail_on=None, fail_under="B").failures(_summary(grade="?")) == ("not graded (--fail-under B)",)
    unreachable = _summary(reachable=False, error="timeout: no answer", grade=None)
    assert FailureGate(fail_on=None).failures(unreachable) == ("not scanned: timeout: no answer",)
    incomplete = Compliance(policy="mozilla-modern", verdict=Verdict.INCOMPLETE, deviations=(), unevaluated=())
    assert FailureGate(fail_on=None).failures(_summary(), checks_not_completed=["robot"], compliance=incomplete) == (
        "1 check not completed (robot)",
        "mozilla-modern: 0 rules not evaluated",
    )


def test_the_gates_default_is_medium_without_a_policy_and_the_policy_with_one() -> None:
    assert FailureGate.from_options(None, None, with_policy=False).fail_on is Severity.MEDIUM
    assert FailureGate.from_options(None, None, with_policy=True).fail_on is None
    assert FailureGate.from_options("low", "a+", with_policy=True) == FailureGate(fail_on=Severity.LOW, fail_under="A+")
    with pytest.raises(InputError, match="--fail-under"):
        FailureGate.from_options(None, "Z", with_policy=False)


# --- the summary table ---------------------------------------------------------------------------------------------


def _rows() -> list[SummaryRow]:
    bad = {**dict.fromkeys(SEVERITIES, 0), "high": 1, "medium": 2}
    return [
        SummaryRow(summary=_summary(target="good.example:443", grade="A+"), failures=()),
        SummaryRow(
            summary=_summary(
                target="bad.example:443",
                grade="F",
                versions=("tls1_0", "tls1_1", "tls1_2"),
                findings=bad,
                worst_finding="Anonymous key exchange: no server authentication",
                worst_severity="high",
            ),
            failures=("3 findings at medium or above",),
        ),
        SummaryRow(
            summary=_summary(target="down.example:443", reachable=False, error="dns: no such host", grade=None),
            failures=("not scanned",),
        ),
    ]


def test_the_summary_lists_the_worst_first_and_fits_the_width() -> None:
    text = render_summary_table(_rows(), gate=FailureGate(), width=72, colour=False)
    lines = text.splitlines()
    assert lines[0] == "Summary of 3 servers, worst first:"
    assert [line.split()[0] for line in lines[2:5]] == ["down.example:443", "bad.example:443", "good.example:443"]
    assert lines[3].split()[1:5] == ["fail", "F", "1.0-1.2", "90d"]
    assert lines[-1] == "2 servers of 3 fail (--fail-on medium): exit status 1"
    assert all(cell_width(line) <= 72 for line in lines)
    assert "Anonymous key exchange: no server authentication" in render_summary_table(
        _rows(), gate=FailureGate(), width=None, colour=False
    )
    for width in (20, 40, 60):  # however narrow, never wider than the terminal
        narrow = render_summary_table(_rows(), gate=FailureGate(), width=width, colour=True)
        assert all(cell_width(re.sub(r"\x1b\[[0-9]+m", "", line)) <= width for line in narrow.splitlines())


def test_the_summary_escapes_what_servers_said() -> None:
    rows = [
        SummaryRow(
            summary=_summary(worst_finding="Certificate '\x1b[2J\u202eevil'", worst_severity="high"), failures=()
        )
    ]
    text = render_summary_table(rows * 2, gate=FailureGate(), width=None, colour=False)
    assert "\x1b[2J" not in text and "\u202e" not in text and r"\x1b[2J\u202eevil" in text


# --- the JSON document, server by server ---------------------------------------------------------------------------


def _unreachable(port: int) -> ServerScanResult:
    error = CheckError(kind=ErrorKind.CONNECTION_REJECTED, message="refused", exception="ConnectionRefusedError")
    return ServerScanResult(
        target=ServerTarget(host="127.0.0.1", port=port),
        connectivity=ConnectivityFailed(error=error, cost=ProbeCost(connections=1, retries=0, duration_s=0.0)),
        checks=(),
        started_at=_NOW,
        duration_s=0.01,
    )


@pytest.fixture(scope="module")
def document_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(check.result_type for check in DEFAULT_CHECKS))


@pytest.mark.parametrize(("servers", "complete"), [(0, True), (1, False), (3, True)])
def test_the_streamed_document_is_the_scan_document(
    servers: int, complete: bool, document_validator: jsonschema.Draft202012Validator
) -> None:
    stream = io.StringIO()
    output = JsonOutput(stream, name="scan.json", lines=False, started_at=_NOW)
    output.begin()
    results = [_unreachable(port) for port in range(1, servers + 1)]
    for result in results:
        output.add(to_jsonable(result))
    invalid = [InvalidTargetLine(source="targets.txt", line_number=2, text="bad host", error="invalid")]
    output.end(complete=complete, invalid_targets=invalid)
    document = json.loads(stream.getvalue())
    document_validator.validate(document)
    assert document["complete"] is complete
    assert document["servers"] == [to_jsonable(result) for result in results]
    assert document["invalid_targets"] == [to_jsonable(line) for line in invalid]
    assert summarize(document["servers"][0]).reachable is False if results else True


def test_output_paths_are_checked_before_a_scan(tmp_path: Path) -> None:
    check_output_path(str(tmp_path / "new.json"), "--json-out")
    check_output_path("-", "--json-out")
    with pytest.raises(InputError, match="is a directory"):
        check_output_path(str(tmp_path), "--json-out")
    with pytest.raises(InputError, match="does not exist"):
        check_output_path(str(tmp_path / "missing" / "out.json"), "--json-out")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is not a directory"):
        check_output_path(str(tmp_path / "file" / "out.json"), "--json-out")


# --- flags, completion, metadata -----------------------------------------------------------------------------------


def test_completion_scripts_name_every_visible_flag_and_no_hidden_one() -> None:
    parser = build_parser()
    visible = {flag for action in parser._actions if action.help != argparse.SUPPRESS for flag in action.option_strings}
    for shell in ("bash", "zsh", "fish"):
        script = completion_script(shell, parser, ("demo",))
        assert all(flag.lstrip("-") in script for flag in visible), shell
        assert "tls1_2_cipher_suites" not in script and "demo" in script


def test_the_package_metadata_names_its_project() -> None:
    project = tomllib.loads((_ROOT / "pyproject.toml").read_text())["project"]
    assert project["authors"] == [{"name": "tlsprobe developers"}]
    assert {"Homepage", "Documentation", "Issues", "Changelog"} <= set(project["urls"])
    classifiers = project["classifiers"]
    assert "Environment :: Console" in classifiers and "Topic :: Security" in classifiers
    # The licence is the SPDX expression (PEP 639), which forbids licence classifiers beside it.
    assert project["license"] == "AGPL-3.0-or-later" and not [c for c in classifiers if c.startswith("License ::")]


# --- what a scan keeps ---------------------------------------------------------------------------------------------


def test_a_scan_keeps_the_summary_of_each_server_not_its_result() -> None:
    async def take_one() -> tuple[weakref.ref[ServerScanResult], _ScanRun]:
        run = _ScanRun(FailureGate(), ReportSettings(reports=None, summary=None), None, None, [])
        result = _unreachable(7)
        run.take(result)
        return weakref.ref(result), run

    reference, run = anyio.run(take_one)
    gc.collect()
    assert reference() is None  # the result is gone once taken: memory does not grow with the targets
    (row,) = run.rows
    assert (row.summary.port, row.failures) == (7, ("not scanned: connection_rejected: refused",))
