"""What goes where: results on stdout, progress and messages on stderr; a closed stdout ends the command quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli._process import run_cli
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver


def _three_targets(server: LocalTLSServer) -> list[str]:
    return [f"127.0.0.1:{server.port}", f"localhost:{server.port}{{127.0.0.1}}", "127.0.0.1:1"]


def test_jsonl_on_a_terminal_is_only_json_and_the_progress_is_on_stderr(modern: LocalTLSServer) -> None:
    ran = run_cli(*_three_targets(modern), "--jsonl", "--tls1_3_cipher_suites", stdout_tty=True, stderr_tty=True)
    lines = ran.stdout.splitlines()
    assert sorted(json.loads(line)["target"]["port"] for line in lines) == sorted([modern.port, modern.port, 1])
    assert "\x1b" not in ran.stdout
    assert "/3 servers" in ran.stderr  # the bar, on the other terminal
    final = ran.stderr.rsplit("\r", 1)[-1]  # what the line shows once the bar is erased: the final line
    assert "3 servers in " in final and "not reachable" in final


def test_progress_is_shown_on_stderr_when_stdout_is_piped(modern: LocalTLSServer) -> None:
    ran = run_cli(*_three_targets(modern), "--jsonl", "--tls1_3_cipher_suites", stderr_tty=True)
    assert len([json.loads(line) for line in ran.stdout.splitlines()]) == 3
    assert "/3 servers" in ran.stderr and "3 servers in " in ran.stderr


def test_no_progress_when_stderr_is_not_a_terminal_or_with_no_progress(modern: LocalTLSServer) -> None:
    ran = run_cli(*_three_targets(modern), "--tls1_3_cipher_suites", stdout_tty=True)
    assert "servers ·" not in ran.stdout and "\x1b[2K" not in ran.stdout
    ran = run_cli(*_three_targets(modern), "--tls1_3_cipher_suites", "--no-progress", stderr_tty=True)
    assert "\x1b[2K" not in ran.stderr and "servers in" not in ran.stderr


def test_demo_jsonl_is_nothing_but_json_lines() -> None:
    ran = run_cli("demo", "--jsonl", "--tls1_3_cipher_suites")
    lines = ran.stdout.splitlines()
    assert len(lines) == 5 and all(isinstance(json.loads(line), dict) for line in lines), ran.stdout
    assert "scanning 5 servers" in ran.stderr


def _with_closed_stdout(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe nobody reads any more (``| head`` after its lines): every write fails with EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "tlsprobe", *arguments],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)


@pytest.mark.parametrize(
    "arguments",
    [("--json-schema",), ("--help",), ("127.0.0.1:1",), ("127.0.0.1:1", "--jsonl"), ("demo", "--tls1_3_cipher_suites")],
)
def test_output_into_a_closed_pipe_ends_quietly(arguments: tuple[str, ...]) -> None:
    completed = _with_closed_stdout(*arguments)
    assert "Traceback" not in completed.stderr and "BrokenPipe" not in completed.stderr, completed.stderr
    assert completed.returncode == 141  # what a shell reports for a command ended by SIGPIPE
