"""Bad input gets one clear line on stderr and exit status 2, and loses nothing: valid targets are still scanned,
and nothing is scanned when the output could not be written anyway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli._process import Finished, run_cli
from tests.servers.hostile import SilentServer

pytestmark = pytest.mark.slow  # each test runs the command


def _one_line_error(ran: Finished) -> str:
    assert ran.code == 2, ran
    assert "Traceback" not in ran.stderr, ran.stderr
    (line,) = ran.stderr.splitlines()
    assert line.startswith("tlsprobe: "), line
    return line


def test_invalid_utf8_in_a_targets_file_is_one_bad_line_and_the_others_are_scanned(tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_bytes(b"127.0.0.1:1\nbad\xff\xfe.example\n127.0.0.1:2\n")
    out = tmp_path / "out.json"
    ran = run_cli("--targets-in", str(targets), "--json-out", str(out), "--tls1_3_cipher_suites")
    line = _one_line_error(ran)
    assert f"{targets}, line 2" in line and "UTF-8" in line
    document = json.loads(out.read_text())
    assert sorted(server["target"]["port"] for server in document["servers"]) == [1, 2]
    assert [invalid["line_number"] for invalid in document["invalid_targets"]] == [2]


@pytest.mark.parametrize("content", ["", "# nothing here yet\n\n   # still nothing\n"])
def test_a_targets_file_without_targets_is_an_error_not_a_pass(tmp_path: Path, content: str) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(content)
    line = _one_line_error(run_cli("--targets-in", str(targets)))
    assert "no targets" in line


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"[" * 200_000, "nested too deeply"),
        (b'{"name": ' + b"7" * 5000 + b"}", "too many digits"),
    ],
    ids=["binary", "deeply-nested", "5000-digit-number"],
)
def test_a_policy_file_that_is_not_a_policy_is_one_line(tmp_path: Path, content: bytes, said: str) -> None:
    policy = tmp_path / "policy.json"
    policy.write_bytes(content)
    line = _one_line_error(run_cli("127.0.0.1:1", "--policy", str(policy)))
    assert str(policy) in line and said in line


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("missing/out.json", "does not exist"),
        (".", "is a directory"),
        ("/dev/full", "No space left on device"),
    ],
)
def test_an_unwritable_json_out_is_reported_before_anything_is_scanned(tmp_path: Path, where: str, said: str) -> None:
    path = where if where.startswith("/") else str(tmp_path / where)
    with SilentServer() as server:
        line = _one_line_error(run_cli(f"127.0.0.1:{server.port}", "--json-out", path, timeout=60))
        assert said in line
        if where != "/dev/full":  # JSON Lines have no first bytes to try: a full disk shows at the first result
            line = _one_line_error(run_cli(f"127.0.0.1:{server.port}", "--jsonl", "--json-out", path, timeout=60))
            assert said in line
        assert server.accepted_connections == 0  # a scan whose results could not be kept never started


def test_json_lines_onto_a_full_disk_stop_the_scan_at_the_first_result() -> None:
    ran = run_cli("127.0.0.1:1", "127.0.0.1:2", "--jsonl", "--json-out", "/dev/full", "--max-concurrent-servers", "1")
    line = _one_line_error(ran)
    assert "cannot write /dev/full: No space left on device" in line and "stopping the scan" in line


@pytest.mark.parametrize(
    "option",
    [
        ("--delay-ms", "inf"),
        ("--delay-ms", "nan"),
        ("--delay-ms", "1e308"),
        ("--connect-timeout", "inf"),
        ("--read-timeout", "1e400"),
        ("--read-timeout", "nan"),
        ("--exchange-timeout", "1e300"),
    ],
)
def test_infinite_or_huge_timeouts_and_delays_are_refused(option: tuple[str, str]) -> None:
    line = _one_line_error(run_cli("127.0.0.1:1", *option, timeout=60))
    assert option[0] in line


def test_a_huge_bad_line_is_cut_in_the_message_and_kept_whole_in_the_json(tmp_path: Path) -> None:
    huge = "x" * 1_000_000 + ".example:99999"
    targets = tmp_path / "targets.txt"
    targets.write_text(f"127.0.0.1:1\n{huge}\n")
    out = tmp_path / "out.json"
    ran = run_cli("--targets-in", str(targets), "--json-out", str(out), "--tls1_3_cipher_suites")
    line = _one_line_error(ran)
    assert f"{targets}, line 2" in line and len(line) < 400
    assert json.loads(out.read_text())["invalid_targets"][0]["text"] == huge


@pytest.mark.parametrize(
    "arguments",
    [("--no-such-option", "example.com"), ("--max-threads", "many", "example.com"), ("--mozilla", "nope"), ()],
)
def test_a_usage_error_is_one_line_without_the_usage_block(arguments: tuple[str, ...]) -> None:
    line = _one_line_error(run_cli(*arguments))
    assert "usage:" not in line and "--help" in line
