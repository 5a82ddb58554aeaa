"""``render_diff``: the summary first, then each target worst first; server-controlled text escaped; lines fitted
to the width and aligned."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.scans import MODERN_SUITES, Config, leaf, scan
from tlsprobe import TLSVersion
from tlsprobe._cli._diff_render import render_diff
from tlsprobe._cli._text import COLOURS, cell_width
from tlsprobe.monitoring import ScanDiff, diff_scans, folded_changes

HOSTILE_SUBJECT = "evil\x1b]0 owned\x07\u202etxt.exe\x1b[2J"
WITH_TLS10 = Config(
    versions=frozenset({TLSVersion.TLS1_0, TLSVersion.TLS1_2, TLSVersion.TLS1_3}),
    suites=(*MODERN_SUITES, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
)
_COLOUR_CODE = re.compile("|".join(re.escape(code) for code in [*COLOURS.values(), "\x1b[0m"]))
_MESSAGE_COLUMN = len("  neutral  ")


def renamed(server: dict[str, Any], host: str) -> dict[str, Any]:
    """``server`` as if its target had been written ``host`` (a target list a user wrote, read back)."""
    server["target"]["host"] = host
    return server


@pytest.fixture(scope="module")
def diff(ca_directory: Path) -> ScanDiff:
    old = [
        scan(Config(), ca_directory),
        scan(Config(), ca_directory, host="b.test"),
        renamed(scan(Config(), ca_directory, host="c.test"), "c\u202eevil.test"),
        scan(Config(), ca_directory, host="gone.test"),
    ]
    new = [
        scan(Config(certificate=leaf(subject=HOSTILE_SUBJECT, days_left=9)), ca_directory),  # worse and neutral
        scan(WITH_TLS10, ca_directory, host="b.test"),  # worse only, the most
        renamed(scan(Config(reachable=False), ca_directory, host="c.test"), "c\u202eevil.test"),  # one worse
    ]
    return diff_scans(old, new)


def test_the_summary_comes_first_with_the_counts_and_the_targets_that_got_worse(diff: ScanDiff) -> None:
    lines = render_diff(diff, colour=False, width=200).splitlines()
    assert [line.split(":")[0] for line in lines[:5]] == ["Old scan", "New scan", "Targets", "Changes", "Worse"]
    assert lines[1].endswith("3 servers, 2 reachable")
    assert lines[2] == "Targets:   3 compared, 3 changed, 0 added, 1 removed"
    counts = diff.counts
    assert counts["worse"] > 0 and counts["neutral"] > 0
    assert lines[3] == f"Changes:   {counts['worse']} worse, {counts['neutral']} neutral, {counts['better']} better"
    assert lines[4] == "Worse:     b.test:443, server.test:443, c\\u202eevil.test:443"


def test_targets_come_worst_first_and_each_change_under_its_label(diff: ScanDiff) -> None:
    lines = render_diff(diff, colour=False, width=None).splitlines()
    headers = [line.split("  (")[0] for line in lines if line and not line.startswith(" ") and "  (" in line]
    assert headers == ["b.test:443", "server.test:443", "c\\u202eevil.test:443", "gone.test:443"]
    changes = [line for line in lines if line.startswith("  ")]
    assert len(changes) == sum(len(folded_changes(target.changes)) for target in diff.targets)
    assert all(line[_MESSAGE_COLUMN - 1] == " " and line[_MESSAGE_COLUMN] != " " for line in changes)  # aligned
    server = lines.index("server.test:443  (1 worse, 1 neutral)")
    assert lines[server + 1].startswith("  worse    certificate expires in 9 days, on ")
    assert lines[server + 2].startswith("  neutral  certificate replaced: CN=")


def test_what_the_server_sent_is_escaped(diff: ScanDiff) -> None:
    for colour in (False, True):
        text = render_diff(diff, colour=colour, width=100)
        plain = _COLOUR_CODE.sub("", text)
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", plain)  # only the newlines are raw
        assert "CN=evil\\x1b]0 owned\\x07\\u202etxt.exe\\x1b[2J, valid until" in plain
    assert "\x1b" not in render_diff(diff, colour=False, width=100)


def test_colour_marks_worse_red_and_better_green_and_nothing_else(diff: ScanDiff, ca_directory: Path) -> None:
    text = render_diff(diff, colour=True, width=100)
    assert f"{COLOURS['red']}worse\x1b[0m" in text
    assert f"{COLOURS['bold']}b.test:443\x1b[0m" in text
    better = diff_scans([scan(WITH_TLS10, ca_directory)], [scan(Config(), ca_directory)])
    assert f"{COLOURS['green']}better\x1b[0m" in render_diff(better, colour=True, width=100)


@pytest.mark.parametrize("width", [40, 60, 80])
def test_lines_fit_the_width_but_for_a_word_longer_than_a_line(diff: ScanDiff, width: int) -> None:
    for line in render_diff(diff, colour=False, width=width).splitlines():
        if cell_width(line) > width:
            assert " " not in line.strip(), line  # a suite name, a fingerprint: kept whole
    wrapped = render_diff(diff, colour=False, width=40).splitlines()
    continued = [line for line in wrapped if line.startswith(" " * _MESSAGE_COLUMN)]
    assert continued  # messages wrapped, each continuation under the message's start
    assert all(line[_MESSAGE_COLUMN] != " " for line in continued)


def test_a_versions_neutral_suites_and_groups_take_one_line_each(ca_directory: Path) -> None:
    tls12 = Config(versions=frozenset({TLSVersion.TLS1_2}))
    lines = render_diff(
        diff_scans([scan(Config(), ca_directory)], [scan(tls12, ca_directory)]), colour=False, width=None
    )
    assert "  neutral  2 cipher suites removed at TLS 1.3: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384" in lines
    assert "  neutral  2 groups removed under TLS 1.3: secp256r1, x25519" in lines
    assert "  worse    TLS 1.3 disabled" in lines


def test_no_change_says_so(ca_directory: Path) -> None:
    same = diff_scans([scan(Config(), ca_directory)], [scan(Config(), ca_directory)])
    lines = render_diff(same, colour=True, width=80).splitlines()
    assert lines[-1] == "No changes."
    assert "Changes:   0 worse, 0 neutral, 0 better" in lines
    assert not any(line.startswith("Worse:") for line in lines)
