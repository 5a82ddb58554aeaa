"""The report in a real browser (Debian's headless Chromium), made from a real scan of local servers: a modern
one, a legacy one, one whose certificate is named with HTML that would run if it were not escaped, and a port
where nothing listens. The DOM after the page's script ran holds the scan's numbers, its filters and sorting
work from a query string, the hostile name ran nothing, and the Content-Security-Policy stops a script even if
one got into the page. Screenshots of the overview and of a server's section are taken."""

from __future__ import annotations

import json
import socket
import ssl
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cli._process import run_cli
from tests.report._browser import chromium, rendered_dom, screenshot
from tests.report._dom import Element, parse
from tests.trust import issue, write_server_files
from tlsprobe._cli._report import run_report
from tlsprobe._model._summary import summarize
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.realserver

TITLE = "Loopback fleet"
SCRIPT, IMAGE, ELEMENT = (
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "<b id=injected>b</b>",
)
"""Markup in the certificate's names (each at most 64 characters, as X.509 allows): run, it would set the page's
title and add elements."""
HOSTILE_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, IMAGE),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, SCRIPT),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ELEMENT),
    ]
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPKI) -> Iterator[list[str]]:
    chromium()  # skip before starting anything, saying why, without chromium
    directory = tmp_path_factory.mktemp("hostile")
    ca = issue("hostile CA", key=ec.generate_private_key(ec.SECP256R1()), ca=True)
    leaf = issue(
        "hostile",
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=ca,
        subject=HOSTILE_NAME,
        sans=["127.0.0.1", "dns:" + SCRIPT + IMAGE],
    )
    certfile, keyfile = write_server_files(directory, "hostile", leaf, ca.cert)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        oldest = ssl.TLSVersion.TLSv1
    modern = LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    )
    legacy = LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=oldest,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        ciphers="ALL:@SECLEVEL=0",
    )
    hostile = LocalTLSServer(certfile=certfile, keyfile=keyfile, minimum_version=ssl.TLSVersion.TLSv1_2)
    with modern, legacy, hostile, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
        yield [f"127.0.0.1:{server.port}" for server in (modern, legacy, hostile)] + [
            f"127.0.0.1:{closed.getsockname()[1]}"
        ]


@pytest.fixture(scope="module")
def scan(servers: list[str], test_pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("scan") / "scan.json"
    ran = run_cli(*servers, "--json-out", str(path), "--ca-file", str(test_pki.ca_cert), "--quiet")
    assert path.exists(), ran.stderr
    document: dict[str, Any] = json.loads(path.read_text())
    assert len(document["servers"]) == len(servers)
    document["path"] = path
    return document


@pytest.fixture(scope="module")
def page(scan: dict[str, Any]) -> Path:
    output = Path(scan["path"]).with_name("report.html")
    assert run_report([str(scan["path"]), "-o", str(output), "--title", TITLE]) == 0
    return output


def _dom(page: Path, query: str = "") -> Element:
    return parse(rendered_dom(page, query))


def _bars(tree: Element, chart: str) -> dict[str, int]:
    figure = tree.by_id(chart)
    return {g.attributes["data-label"]: int(g.attributes["data-value"]) for g in figure.find_all("g", class_="bar")}


def _shown_rows(tree: Element) -> list[Element]:
    return [row for row in tree.by_id("hosts").find("tbody").find_all("tr") if "hidden" not in row.attributes]


def test_the_rendered_overview_holds_the_scans_numbers(page: Path, scan: dict[str, Any]) -> None:
    tree = _dom(page)
    root = tree.find("html")
    assert root.attributes["data-report-script"] == "ready"  # our script ran under the page's policy
    assert root.attributes["data-shown"] == "4"
    # What the servers were set up to accept: TLS 1.0 only on the legacy one, TLS 1.3 on all but it.
    versions = _bars(tree, "chart-versions")
    assert (versions["TLS 1.0"], versions["TLS 1.1"], versions["TLS 1.2"], versions["TLS 1.3"]) == (1, 1, 3, 2)
    assert versions["SSL 2.0"] == versions["SSL 3.0"] == 0
    grades = _bars(tree, "chart-grades")
    assert grades["unreachable"] == 1 and sum(grades.values()) == 4
    summaries = [summarize(server) for server in scan["servers"]]
    for summary in summaries:
        if summary.reachable:
            assert summary.grade is not None
            assert grades[summary.grade] >= 1
    severities = _bars(tree, "chart-severities")
    assert severities == {severity: sum(summary.findings[severity] for summary in summaries) for severity in severities}
    assert severities["high"] >= 1  # the legacy server's anonymous suites
    expiry = _bars(tree, "chart-expiry")
    assert sorted(expiry.values()) == sorted(s.certificate_days_left for s in summaries if s.reachable)  # type: ignore[type-var]
    assert len(tree.find_all("section", class_="server")) == 4


def test_the_hostile_certificate_name_ran_nothing(page: Path, servers: list[str]) -> None:
    tree = _dom(page)
    assert tree.find("head").find("title").text == TITLE
    assert tree.find_all("img") == [] and tree.find_all(id="injected") == []
    assert len(tree.find_all("script")) == 1
    hostile = tree.find("section", class_="server", data_target=servers[2])  # in the order scans finished
    certificate = hostile.find("table", class_="certificate")
    subject = [row for row in certificate.find_all("tr") if row.find("th").text == "Subject"]
    shown = subject[0].find("td").text.replace("\\", "")  # RFC 4514 escapes < and > with a backslash
    assert all(" ".join(markup.split()) in shown for markup in (SCRIPT, IMAGE, ELEMENT)), shown


def test_filters_and_sorting_run_from_the_query_string(page: Path, scan: dict[str, Any]) -> None:
    unreachable = _dom(page, "?grade=unreachable")
    assert unreachable.find("html").attributes["data-shown"] == "1"
    (row,) = _shown_rows(unreachable)
    assert row.attributes["data-grade"] == "unreachable"
    sections = [s for s in unreachable.find_all("section", class_="server") if "hidden" not in s.attributes]
    assert [s.attributes["data-grade"] for s in sections] == ["unreachable"]
    assert unreachable.by_id("filter-status").text == "1 of 4 servers shown"

    summaries = [summarize(server) for server in scan["servers"]]
    high_or_worse = sum(1 for s in summaries if s.worst_severity in ("critical", "high"))
    assert len(_shown_rows(_dom(page, "?severity=high"))) == high_or_worse >= 1

    by_expiry = _dom(page, "?sort=certificate&dir=desc")
    table = by_expiry.by_id("hosts")
    assert (table.attributes["data-sorted-by"], table.attributes["data-sort-direction"]) == (
        "certificate",
        "descending",
    )
    days = [row.find_all("td")[3].attributes["data-sort"] for row in table.find("tbody").find_all("tr")]
    known = [int(value) for value in days if value]
    assert known == sorted(known, reverse=True) and days[-1] == ""  # no certificate: last, whatever the direction


def test_the_policy_stops_a_script_that_got_into_the_page(page: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.html"
    injected = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    tampered.write_text(page.read_text(encoding="utf-8").replace("<main>", "<main>" + injected, 1), encoding="utf-8")
    tree = _dom(tampered)
    assert tree.find("head").find("title").text == TITLE  # neither the script nor the handler ran
    assert tree.find("html").attributes["data-report-script"] == "ready"  # ours did


def _png(image: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG."""
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def test_screenshots_of_the_overview_and_the_servers(page: Path, tmp_path: Path) -> None:
    # Headless Chromium paints nothing when a fragment scrolls the page, so the servers' sections are shot in
    # a window tall enough for the whole page instead.
    overview, whole = tmp_path / "overview.png", tmp_path / "whole.png"
    screenshot(page, overview, width=1200, height=1600)
    screenshot(page, whole, width=1200, height=12000)
    for image, height in ((overview, 1600), (whole, 12000)):
        width, rows, pixels = _png(image)
        assert (width, rows) == (1200, height)
        assert len(set(pixels)) > 16, f"{image.name} is blank"  # text and charts, not one colour
