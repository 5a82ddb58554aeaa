"""Ctrl-C during a scan: a quiet exit 130, with every server finished so far written (the document marked
incomplete). The scan is interrupted once the first result is out, while a silent server holds the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli._process import CliProcess
from tests.servers.hostile import SilentServer
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver

# Long enough that only Ctrl-C ends the silent server's scan.
_PATIENT = ("--connect-timeout", "600", "--read-timeout", "600", "--tls1_3_cipher_suites", "--no-progress")


def _interrupt_after_the_first_result(arguments: list[str], marker: str, stream: str = "stdout") -> CliProcess:
    running = CliProcess(arguments, stdout_tty=stream == "stdout")
    running.read_until(marker, stream)
    running.interrupt()
    return running


def test_ctrl_c_writes_the_finished_servers_as_an_incomplete_document(
    modern: LocalTLSServer, silent: SilentServer, tmp_path: Path
) -> None:
    out = tmp_path / "scan.json"
    arguments = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{silent.port}", "--json-out", str(out), *_PATIENT]
    with _interrupt_after_the_first_result(arguments, "TLS 1.3") as running:
        ran = running.finish(timeout=60)
    assert ran.code == 130, ran
    assert "Traceback" not in ran.stderr and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    document = json.loads(out.read_text())
    assert document["complete"] is False
    assert [server["target"]["port"] for server in document["servers"]] == [modern.port]


def test_ctrl_c_keeps_the_json_lines_already_written(
    modern: LocalTLSServer, silent: SilentServer, tmp_path: Path
) -> None:
    out = tmp_path / "scan.jsonl"
    arguments = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{silent.port}", "--jsonl", "--json-out", str(out), *_PATIENT]
    with _interrupt_after_the_first_result(arguments, "TLS 1.3") as running:
        ran = running.finish(timeout=60)
    assert ran.code == 130 and "Traceback" not in ran.stderr, ran
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["target"]["port"] == modern.port


def test_ctrl_c_with_json_lines_on_stdout(modern: LocalTLSServer, silent: SilentServer) -> None:
    arguments = [f"127.0.0.1:{modern.port}", f"127.0.0.1:{silent.port}", "--jsonl", *_PATIENT]
    with _interrupt_after_the_first_result(arguments, "\n") as running:
        ran = running.finish(timeout=60)
    assert ran.code == 130 and "Traceback" not in ran.stderr, ran
    (line,) = ran.stdout.splitlines()
    assert json.loads(line)["target"]["port"] == modern.port
