"""``--html-out`` on a scan and on the demo, and ``tlsprobe report`` as a subcommand, run as a user does: a real
``tlsprobe`` process scanning real local servers; the page it writes is read back in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report._browser import rendered_dom
from tests.report._dom import parse
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.slow


def _tlsprobe(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsprobe", *arguments], capture_output=True, text=True, timeout=300, check=False
    )


def test_a_scan_writes_its_report_as_it_writes_its_json(
    web_server: LocalTLSServer, test_pki: TestPKI, tmp_path: Path
) -> None:
    page, document = tmp_path / "scan.html", tmp_path / "scan.json"
    target = f"127.0.0.1:{web_server.port}"
    run = _tlsprobe(
        target, "--ca-file", str(test_pki.ca_cert), "--html-out", str(page), "--html-title", "Nightly <scan>",
        "--json-out", str(document), "--quiet",
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    html = page.read_text()
    assert "<title>Nightly &lt;scan&gt;</title>" in html
    grade = json.loads(document.read_text())["servers"][0]["grade"]["grade"]
    dom = parse(rendered_dom(page))
    assert target in dom.text
    assert grade in dom.text


def test_the_demo_and_the_report_command(tmp_path: Path) -> None:
    demo_page, lines = tmp_path / "demo.html", tmp_path / "demo.jsonl"
    demo = _tlsprobe("demo", "--html-out", str(demo_page), "--jsonl", "--json-out", str(lines), "--quiet")
    assert demo.returncode in (0, 1), demo.stderr
    assert "legacy: TLS 1.0 to 1.2" in demo_page.read_text()  # the demo's labels name its servers
    again = tmp_path / "again.html"
    report = _tlsprobe("report", str(lines), "-o", str(again))
    assert report.returncode == 0, report.stderr
    servers = len(lines.read_text().splitlines())
    assert again.read_text().count('class="server"') == demo_page.read_text().count('class="server"') == servers


def test_an_unwritable_report_is_refused_before_scanning(tmp_path: Path) -> None:
    run = _tlsprobe("127.0.0.1:1", "--html-out", str(tmp_path / "missing" / "r.html"))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--html-out" in run.stderr
