"""The page made from a known fleet, read back as a tree: the charts and tables hold the fleet's numbers (computed
here from the records, not from the page's code), hostile text stays text, the page loads nothing and allows only
its own style and script, and the tables and charts are described for people who do not see them."""

from __future__ import annotations

import base64
import collections
import hashlib
import itertools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.report._dom import Element, parse
from tests.report.fleet import GENERATED_AT, HOSTILE, documents, results
from tlsprobe import ConnectivityFailed, TLSVersion
from tlsprobe._exceptions import ConfigurationError
from tlsprobe.policy import Severity
from tlsprobe.policy._findings import suite_weakness
from tlsprobe.report import write_html_report
from tlsprobe.report._text import visible


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "fleet.html"
    write_html_report(path, iter(documents()), title="Fleet <b>test</b>", generated_at=GENERATED_AT)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tree(page: str) -> Element:
    return parse(page)


def bars(tree: Element, chart: str) -> dict[str, int]:
    """What a chart drew: each mark's label and value."""
    figure = tree.by_id(chart)
    return {g.attributes["data-label"]: int(g.attributes["data-value"]) for g in figure.find_all("g", class_="bar")}


def table_rows(table: Element) -> list[list[str]]:
    return [
        [cell.text for cell in row.children if isinstance(cell, Element)] for row in table.find("tbody").find_all("tr")
    ]


def test_the_grade_chart_and_its_table_count_every_server(tree: Element) -> None:
    fleet = results()
    expected = collections.Counter(
        "unreachable"
        if isinstance(result.connectivity, ConnectivityFailed) or result.grade is None
        else result.grade.grade
        for result in fleet
    )
    drawn = bars(tree, "chart-grades")
    assert {label: count for label, count in drawn.items() if count} == dict(expected)
    rows = {row[0]: int(row[1]) for row in table_rows(tree.by_id("chart-grades").find("table"))}
    assert {label: count for label, count in rows.items() if count} == dict(expected)
    assert sum(rows.values()) == len(fleet)


def test_the_severity_chart_counts_every_finding(tree: Element) -> None:
    fleet = results()
    expected = {severity.value: sum(f.severity is severity for r in fleet for f in r.findings) for severity in Severity}
    assert bars(tree, "chart-severities") == expected
    assert sum(expected.values()) > 0


def test_the_version_chart_counts_servers_per_version(tree: Element) -> None:
    fleet = results()
    accepted = {
        version: sum(
            1
            for result in fleet
            for outcome in result.checks
            if outcome.name == f"{version.value}_cipher_suites"
            and getattr(outcome, "result", None)
            and outcome.result.is_supported  # type: ignore[attr-defined]
        )
        for version in TLSVersion
    }
    assert bars(tree, "chart-versions") == {version.label: count for version, count in accepted.items()}
    assert accepted[TLSVersion.TLS1_0] == 2 and accepted[TLSVersion.TLS1_3] == 1


def test_the_expiry_chart_draws_the_soonest_expiry_of_each_server(tree: Element) -> None:
    drawn = list(bars(tree, "chart-expiry").items())
    # The legacy server's second certificate expired two days before the scan: it comes first, below zero.
    assert drawn[0] == ("legacy.example:443", -2)
    assert [days for _, days in drawn] == sorted(days for _, days in drawn)
    assert len(drawn) == 3  # the unreachable server has no certificate


def test_the_kinds_table_and_the_matrix_agree_with_the_findings(tree: Element) -> None:
    fleet = results()
    hosts_per_kind = collections.Counter(kind for result in fleet for kind in {f.id for f in result.findings})
    rows = {row[0]: int(row[2]) for row in table_rows(tree.by_id("kinds-table"))}
    assert rows == dict(hosts_per_kind)
    matrix = tree.by_id("matrix")
    cells = collections.Counter(cell.attributes["data-kind"] for cell in matrix.find_all("td") if cell.text)
    assert cells == hosts_per_kind
    listed = len(table_rows(matrix))
    assert listed == sum(1 for result in fleet if result.findings)


def test_each_server_has_a_section_with_its_suites_in_server_order(tree: Element) -> None:
    fleet = results()
    sections = tree.find_all("section", class_="server")
    assert len(sections) == len(fleet)
    legacy = sections[1]
    (tls12,) = [t for t in legacy.find_all("table", class_="suites") if t.find("caption").text.startswith("TLS 1.2")]
    (outcome,) = [o for o in fleet[1].checks if o.name == "tls1_2_cipher_suites"]
    accepted = outcome.result.accepted_cipher_suites  # type: ignore[attr-defined]
    assert [row[1] for row in table_rows(tls12)] == [entry.cipher_suite.name for entry in accepted]
    weaknesses = [suite_weakness(entry.cipher_suite) or "" for entry in accepted]
    assert [row[3] for row in table_rows(tls12)] == weaknesses
    assert any(weaknesses)
    assert "NOT SCANNED (connection rejected)" in sections[2].text


def test_hostile_text_is_shown_as_text_and_runs_nothing(page: str, tree: Element) -> None:
    scripts = tree.find_all("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attributes  # ours, and only ours
    assert tree.find_all("img") == []
    assert tree.find_all(id="injected") == []
    assert tree.find("head").find("title").text == "Fleet <b>test</b>"
    shown = visible(HOSTILE)
    assert "\\u202e" in shown  # the bidi override is shown as an escape, not obeyed
    hostile = tree.find_all("section", class_="server")[3]
    assert hostile.text.count(" ".join(shown.split())) >= 4  # target, subject, issuer, names, findings...
    assert "\u202e" not in page


def test_the_page_loads_nothing_and_its_policy_allows_only_its_own_style_and_script(page: str, tree: Element) -> None:
    for element in tree.iter():
        assert "src" not in element.attributes, element.tag
        assert element.attributes.get("href", "#").startswith("#"), element.attributes
        assert not any(name.startswith("on") for name in element.attributes), element.attributes
    policy = tree.find("meta", http_equiv="Content-Security-Policy").attributes["content"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'none'"

    def digest(element: Element) -> str:
        content = "".join(child for child in element.children if isinstance(child, str))
        return f"'sha256-{base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()}'"

    assert directives["script-src"] == digest(tree.find("script"))
    assert directives["style-src"] == digest(tree.find("style"))
    assert "style" not in " ".join(attribute for element in tree.iter() for attribute in element.attributes)


def test_tables_and_charts_are_described(tree: Element) -> None:
    identities = [element.attributes["id"] for element in tree.iter() if "id" in element.attributes]
    assert len(identities) == len(set(identities))
    for table in tree.find_all("table"):
        assert table.find_all("caption"), table.attributes
        for header in table.find_all("th"):
            assert header.attributes.get("scope") in ("col", "row"), header.text
    charts = tree.find_all("svg")
    assert len(charts) >= 5
    for chart in charts:
        assert chart.attributes["role"] == "img"
        for reference in chart.attributes["aria-labelledby"].split():
            assert tree.by_id(reference).text
        figure = chart.parent
        assert figure is not None and figure.tag == "figure" and figure.find_all("table")
    headings = [int(element.tag[1]) for element in tree.iter() if re.fullmatch(r"h[1-6]", element.tag)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(headings))
    # Grades and severities are written out, not told by colour alone.
    for badge in tree.find_all("span", class_="grade"):
        assert badge.text


def test_servers_are_read_once_in_order(tmp_path: Path) -> None:
    read: list[str] = []

    def servers() -> Iterator[Mapping[str, Any]]:
        for document in documents():
            read.append(document["target"]["host"])
            yield document

    path = tmp_path / "once.html"
    write_html_report(path, servers(), title="t", generated_at=GENERATED_AT)
    assert read == [document["target"]["host"] for document in documents()]
    tree = parse(path.read_text(encoding="utf-8"))
    assert [s.attributes["id"] for s in tree.find_all("section", class_="server")] == [
        f"server-{n}" for n in range(1, len(read) + 1)
    ]


def test_a_server_that_is_not_a_result_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.html"
    broken = {**documents()[0], "checks": None}
    with pytest.raises(ConfigurationError, match="server 2 is not a tlsprobe server result"):
        write_html_report(path, [documents()[1], broken], title="t", generated_at=GENERATED_AT)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_report_is_replaced_whole_or_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("earlier report")
    with pytest.raises(ConfigurationError):
        write_html_report(path, [{"target": {}}], title="t", generated_at=GENERATED_AT)
    assert path.read_text() == "earlier report"
    write_html_report(path, documents()[:1], title="t", generated_at=GENERATED_AT)
    assert parse(path.read_text(encoding="utf-8")).find_all("section", class_="server")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain ascii, accents: é, scripts: 中文", "plain ascii, accents: é, scripts: 中文"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("a\u202eb\u200bc", "a\\u202eb\\u200bc"),
        ("line\nbreak\ttab", "line\\x0abreak\\x09tab"),
        ("\U000e0001tag", "\\U000e0001tag"),
    ],
)
def test_invisible_characters_are_made_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible(shown) == shown
