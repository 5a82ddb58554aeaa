"""A server's words never drive the terminal: a certificate named with control sequences is shown escaped in the
report (colour on, on a real pseudo-terminal) and kept exact in the JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli._process import run_cli
from tests.cli.conftest import HOSTILE_NAME
from tlsprobe.testing import LocalTLSServer

pytestmark = pytest.mark.realserver

_OUR_COLOURS = re.compile(r"\x1b\[(?:0|1|2|31|32|33)m")


def test_a_hostile_certificate_name_is_escaped_in_the_report_and_exact_in_the_json(
    hostile_certificate: LocalTLSServer, tmp_path: Path
) -> None:
    out = tmp_path / "scan.json"
    ran = run_cli(f"127.0.0.1:{hostile_certificate.port}", "--json-out", str(out), stdout_tty=True, columns=200)
    screen = ran.stdout
    assert "Certificate 1 of 1" in screen, screen  # the report was printed, in colour
    assert _OUR_COLOURS.search(screen)
    # Each raw piece of the name would act on the terminal; none reaches it.
    for raw in ("\x1b]", "\x07", "\x1b[2J", "\x1b[32mTRUSTED", "\rgood", "\u202e"):
        assert raw not in screen, f"{raw!r} reached the terminal"
    assert "\r" not in screen  # not even a bare carriage return (the terminal's own CR LF read back as LF)
    assert _OUR_COLOURS.sub("", screen).count("\x1b") == 0  # every escape left is one of our colours
    # Shown, visibly escaped, wherever the report names the certificate: the subject, the issuer, the findings.
    visible = r"owned\x07\x1b[2J\x1b[32mTRUSTED\x1b[0m\rgood.example\u202eDETSURT"
    assert screen.count(visible) >= 3, screen
    document = json.loads(out.read_text())
    (certificate,) = [check for check in document["servers"][0]["checks"] if check["name"] == "certificate"]
    leaf = certificate["result"]["deployments"][0]["chain"]["received_chain"][0]
    assert leaf["subject"] == "CN=" + HOSTILE_NAME.replace(";", "\\;")  # RFC 4514 escapes ';', nothing else
