"""``tlsprobe report``: from a JSON Lines file or a JSON document, and from a scan in a store (SQLite in the test's
folder), where the page also gets the trends of the earlier scans of the same list; bad input is one line and
exit status 2, and writes nothing."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from tests.report._dom import Element, parse
from tests.report.fleet import documents, results
from tlsprobe._cli._report import run_report
from tlsprobe._model._json import scan_document
from tlsprobe.policy import Severity
from tlsprobe.store import open_store

DAY = datetime.timedelta(days=1)


def test_a_jsonl_file_and_a_document_give_the_same_servers(tmp_path: Path) -> None:
    lines = tmp_path / "scan.jsonl"
    lines.write_text("".join(json.dumps(document) + "\n" for document in documents()))
    whole = tmp_path / "scan.json"
    now = datetime.datetime.now(datetime.UTC)
    whole.write_text(json.dumps(scan_document(results(), started_at=now, completed_at=now)))
    pages = []
    for source in (lines, whole):
        output = tmp_path / f"{source.stem}-{source.suffix[1:]}.html"
        assert run_report([str(source), "-o", str(output), "--title", "Nightly"]) == 0
        pages.append(parse(output.read_text(encoding="utf-8")))
    for tree in pages:
        assert tree.find("head").find("title").text == "Nightly"
        assert len(tree.find_all("section", class_="server")) == len(documents())
        assert tree.find_all(id="trends") == []  # a file has no history


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["missing.jsonl", "-o", "out.html"], "missing.jsonl: no such file, and no store at"),
        (["junk.jsonl", "-o", "out.html"], "line 1: not JSON"),
        (["scan.jsonl", "-o", "no-such-folder/out.html"], "cannot write no-such-folder/out.html"),
        (["broken.jsonl", "-o", "out.html"], "server 1 is not a tlsprobe server result"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    arguments: list[str], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TLSPROBE_STORE", str(tmp_path / "no-store.sqlite"))
    (tmp_path / "junk.jsonl").write_text("<html>not a scan</html>\n")
    (tmp_path / "scan.jsonl").write_text(json.dumps(documents()[0]) + "\n")
    (tmp_path / "broken.jsonl").write_text(json.dumps({**documents()[0], "checks": 7}) + "\n")
    before = sorted(path.name for path in tmp_path.iterdir())
    assert run_report(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert err.startswith("tlsprobe: ")
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_the_report_option_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_request:
        run_report(["scan.jsonl"])
    assert exit_request.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def _numbers(table: Element) -> list[list[str]]:
    return [
        [cell.text for cell in row.children if isinstance(cell, Element)] for row in table.find("tbody").find_all("tr")
    ]


def test_a_scan_in_the_store_gets_the_trends_of_its_list(tmp_path: Path) -> None:
    location = str(tmp_path / "history.sqlite")
    fleet = documents()
    nights = [fleet[:1], fleet[:2], fleet]  # the list grows by a server each night
    start = datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC)
    with open_store(location) as store:
        other = store.begin_scan(list_key="other", started_at=start + DAY)  # another list: not in the trends
        store.write_many(other, fleet)
        store.finish_scan(other, completed_at=start + DAY)
        for night, servers in enumerate(nights):
            scan_id = store.begin_scan(list_key="web", started_at=start + night * 2 * DAY)
            store.write_many(scan_id, servers)
            store.finish_scan(scan_id, completed_at=start + night * 2 * DAY)
    output = tmp_path / "latest.html"
    assert run_report(["latest", "-o", str(output), "--store", location]) == 0
    tree = parse(output.read_text(encoding="utf-8"))
    records = results()
    findings = [_numbers(tree.by_id("trend-findings"))[night] for night in range(len(nights))]
    for night, row in enumerate(findings):
        assert row[0] == f"{start + night * 2 * DAY:%Y-%m-%d %H:%M}"
        counted = {
            s.value: sum(f.severity is s for r in records[: len(nights[night])] for f in r.findings) for s in Severity
        }
        assert row[1:] == [str(counted[s.value]) for s in Severity]
    grades = _numbers(tree.by_id("trend-grades"))
    assert [row[-1] for row in grades] == ["1", "2", "4"]
    assert len(tree.by_id("chart-trend-findings").find_all("g", class_="point")) == len(Severity) * len(nights)
