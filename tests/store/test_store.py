"""The store on SQLite and on a real PostgreSQL: what goes in comes out, once, in order, found by the names people
give scans. Every test runs on both (``store_location`` in conftest.py)."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tests.store.results import LEGACY, document, scripted_result, unreachable_result
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import summarize
from tlsprobe.store import ResultStore, StoreError, open_store
from tlsprobe.store import _sql as sql_store
from tlsprobe.store._tables import findings

UTC = datetime.UTC
T0 = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


def begin(store: ResultStore, at: datetime.datetime = T0, *, list_key: str = "web", **fields: Any) -> str:
    return store.begin_scan(list_key=list_key, started_at=at, **fields)


def finished(store: ResultStore, at: datetime.datetime, *, status: str = "completed", **fields: Any) -> str:
    scan_id = begin(store, at, **fields)
    store.finish_scan(scan_id, completed_at=at + HOUR, status=status)
    return scan_id


def finding_rows(store_location: str, scan_id: str) -> list[tuple[str, int, str]]:
    """The findings table of a scan, read with SQLAlchemy directly."""
    url = store_location if "://" in store_location else f"sqlite:///{store_location}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            query = (
                sa.select(findings.c.target_key, findings.c.position, findings.c.finding_id)
                .where(findings.c.scan_id == scan_id)
                .order_by(findings.c.target_key, findings.c.position)
            )
            return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]
    finally:
        engine.dispose()


# --- what goes in comes out -------------------------------------------------------------------------------------


def test_documents_and_summaries_come_back_exactly(store: ResultStore) -> None:
    scan_id = begin(store)
    documents = [
        to_jsonable(scripted_result()),
        to_jsonable(scripted_result(versions=LEGACY)),
        to_jsonable(unreachable_result()),
    ]
    documents[1]["target"]["port"] = 8443  # another target: same host, another port
    for server in documents:
        assert store.write(scan_id, server) is True
    by_key = sorted(documents, key=lambda server: summarize(server).target)
    assert list(store.servers(scan_id)) == by_key
    assert list(store.summaries(scan_id)) == [summarize(server) for server in by_key]
    assert store.scans()[0].server_count == 3


def test_text_a_server_controls_is_stored_whatever_it_holds(store: ResultStore) -> None:
    # PostgreSQL refuses NUL in text, and a lone surrogate cannot be encoded: the document keeps both exactly (as
    # JSON escapes), the summary columns hold a replacement character instead.
    awkward = "reset \x00 by \udcff peer, \u00e9t\u00e9 \U0001f512"
    server = to_jsonable(unreachable_result(message=awkward))
    scan_id = begin(store)
    assert store.write(scan_id, server)
    assert list(store.servers(scan_id)) == [server]
    (summary,) = store.summaries(scan_id)
    assert summary.error == "connection_rejected: reset \ufffd by ? peer, \u00e9t\u00e9 \U0001f512"


def test_a_second_write_of_a_target_stores_nothing(store: ResultStore, store_location: str) -> None:
    scan_id = begin(store)
    first = document("a.example", grade={"grade": "B", "score": 70})
    assert store.write(scan_id, first) is True
    assert store.write(scan_id, document("a.example", grade={"grade": "F", "score": 10})) is False
    assert store.write_many(scan_id, [document("b.example"), document("b.example"), first]) == 1
    assert [server["grade"]["grade"] for server in store.servers(scan_id)] == ["B", "?"]
    per_server = len(first["findings"])
    assert per_server >= 1
    rows = finding_rows(store_location, scan_id)
    assert len(rows) == 2 * per_server  # the repeats added no finding rows
    assert sorted({(key, position) for key, position, _ in rows}) == sorted(
        (key, position) for key, position, _ in rows
    )


def test_two_writers_at_once_store_each_target_once(store_location: str) -> None:
    servers = [document(f"host{index}.example") for index in range(40)]
    with open_store(store_location) as store:
        scan_id = begin(store)
    stored: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(order: list[dict[str, Any]]) -> None:
        try:
            with open_store(store_location) as own:  # an engine, pool and connections of its own, as a process
                start.wait()
                stored.append(sum(own.write(scan_id, server) for server in order))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(order,)) for order in (servers, servers[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(stored) == len(servers)
    with open_store(store_location) as store:
        assert len(list(store.summaries(scan_id))) == len(servers)


def test_servers_stream_in_pages_in_code_point_order(store: ResultStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_store, "PAGE_SIZE", 3)
    # Code point order puts capitals and digits before lower case; a locale's order (PostgreSQL's test server has
    # ICU en-US) would not.
    hosts = ["b.example", "B.example", "a.example", "_.example", "Z.example", "9.example", "zz.example", "a-b.example"]
    scan_id = begin(store)
    store.write_many(scan_id, [document(host) for host in hosts])
    keys = [summary.target for summary in store.summaries(scan_id)]
    assert keys == sorted(f"{host}:443" for host in hosts)
    assert [server["target"]["host"] for server in store.servers(scan_id)] == [key[:-4] for key in keys]


def test_a_writer_makes_its_batch_visible_at_commit(store: ResultStore, store_location: str) -> None:
    scan_id = begin(store)
    with open_store(store_location) as reader, store.open_writer(scan_id) as writer:
        assert writer.write(document("a.example"))
        assert writer.write(document("b.example"))
        assert not writer.write(document("a.example"))
        assert writer.pending == 2
        assert list(reader.summaries(scan_id)) == []
        writer.commit()
        assert writer.pending == 0
        assert len(list(reader.summaries(scan_id))) == 2
        assert writer.write(document("c.example"))
    assert len(list(store.summaries(scan_id))) == 3  # closing committed the last one


def test_a_malformed_document_is_refused_and_the_writer_goes_on(store: ResultStore) -> None:
    scan_id = begin(store)
    with store.open_writer(scan_id) as writer:
        assert writer.write(document("a.example"))
        with pytest.raises(
            StoreError, match=r"^not the JSON form of a server's scan result \(KeyError: 'connectivity'\)"
        ):
            writer.write({"target": {"host": "x", "port": 1}})
        assert writer.write(document("b.example"))
    assert [summary.host for summary in store.summaries(scan_id)] == ["a.example", "b.example"]


# --- scans ------------------------------------------------------------------------------------------------------


def test_begin_scan_again_returns_the_scan_unchanged(store: ResultStore) -> None:
    scan_id = begin(store, label="first", target_count=3)
    assert len(scan_id) == 32 and int(scan_id, 16) >= 0
    assert begin(store, T0 + HOUR, label="second", scan_id=scan_id, target_count=9) == scan_id
    (record,) = store.scans()
    assert (record.label, record.started_at, record.target_count, record.status) == ("first", T0, 3, "running")
    assert begin(store, scan_id="nightly-1") == "nightly-1"
    assert begin(store) not in {scan_id, "nightly-1"}


def test_timestamps_come_back_as_the_same_instants_in_utc(store: ResultStore) -> None:
    paris = datetime.timezone(datetime.timedelta(hours=2))
    started = datetime.datetime(2026, 6, 30, 23, 59, 59, 123456, tzinfo=paris)
    scan_id = store.begin_scan(list_key="web", started_at=started)
    store.finish_scan(scan_id, completed_at=started + datetime.timedelta(microseconds=1))
    (record,) = store.scans()
    assert record.started_at == started and record.started_at.tzinfo is UTC
    assert record.started_at.isoformat() == "2026-06-30T21:59:59.123456+00:00"
    assert record.completed_at == started + datetime.timedelta(microseconds=1)
    with pytest.raises(ValueError, match="time zone"):
        store.begin_scan(list_key="web", started_at=datetime.datetime(2026, 1, 1))  # naive


def test_scans_newest_first_per_list_and_status(store: ResultStore) -> None:
    old = finished(store, T0)
    other_list = finished(store, T0 + HOUR, list_key="mail")
    interrupted = finished(store, T0 + 2 * HOUR, status="interrupted")
    running = begin(store, T0 + 3 * HOUR)
    store.write(old, document("a.example"))
    assert [record.scan_id for record in store.scans()] == [running, interrupted, other_list, old]
    assert [record.scan_id for record in store.scans(list_key="web", limit=2)] == [running, interrupted]
    assert [record.scan_id for record in store.scans(statuses=("completed",))] == [other_list, old]
    assert [record.server_count for record in store.scans()] == [0, 0, 0, 1]
    assert store.scans(list_key="nothing") == []


def test_an_interrupted_scan_keeps_what_it_stored(store: ResultStore) -> None:
    scan_id = begin(store)
    store.write(scan_id, document("a.example"))
    store.finish_scan(scan_id, completed_at=T0 + HOUR, status="interrupted")
    record = store.resolve("latest")
    assert (record.scan_id, record.status, record.completed_at, record.server_count) == (
        scan_id,
        "interrupted",
        T0 + HOUR,
        1,
    )
    with pytest.raises(ValueError, match="completed or interrupted"):
        store.finish_scan(scan_id, completed_at=T0, status="running")
    with pytest.raises(StoreError, match=r"^no scan missing in "):
        store.finish_scan("missing", completed_at=T0)


# --- naming scans -----------------------------------------------------------------------------------------------


def test_latest_and_previous_are_the_scans_that_ended(store: ResultStore) -> None:
    first = finished(store, T0)
    second = finished(store, T0 + HOUR, status="interrupted")
    finished(store, T0 + 2 * HOUR, list_key="mail")
    begin(store, T0 + 3 * HOUR)  # running: never latest
    assert store.resolve("latest", list_key="web").scan_id == second
    assert store.resolve("previous", list_key="web").scan_id == first
    assert store.resolve("latest").list_key == "mail"
    with pytest.raises(StoreError, match=r"^no finished scan before the latest of list mail in "):
        store.resolve("previous", list_key="mail")
    with pytest.raises(StoreError, match=r"^no finished scan of list dns in "):
        store.resolve("latest", list_key="dns")


def test_a_scan_by_id_or_the_beginning_of_one(store: ResultStore) -> None:
    for scan_id in ("abc123", "abc456", "abd789", "50%_off"):
        finished(store, T0, scan_id=scan_id)
    assert store.resolve("abc123").scan_id == "abc123"
    assert store.resolve(" abd ").scan_id == "abd789"
    assert store.resolve("50%").scan_id == "50%_off"
    with pytest.raises(StoreError, match=r"^'abc' begins more than one scan id \(abc\d+, abc\d+\): give more of it$"):
        store.resolve("abc")
    with pytest.raises(StoreError, match=r"^no scan matches '5_' in "):
        store.resolve("5_")  # LIKE's wildcards are taken literally
    with pytest.raises(StoreError, match=r"^no scan of list mail matches 'abc123' in "):
        store.resolve("abc123", list_key="mail")
    with pytest.raises(StoreError, match=r"^no scan named: give latest, previous"):
        store.resolve("  ")


def test_a_scan_by_day_or_moment(store: ResultStore) -> None:
    night = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    early = finished(store, night - 20 * HOUR)
    late = finished(store, night)
    next_day = finished(store, night + HOUR)  # 00:30 on 2 March, UTC
    assert store.resolve("2026-03-01").scan_id == late
    assert store.resolve("2026-03-02").scan_id == next_day
    assert store.resolve("2026-03-01T23:30:00Z").scan_id == late  # at or before: inclusive
    assert store.resolve("2026-03-01T23:29:59").scan_id == early  # naive: UTC
    assert store.resolve("2026-03-02T02:00+02:00").scan_id == late  # midnight UTC
    assert store.resolve("2026-03-02T01:00+02:00").scan_id == early  # 23:00 UTC
    with pytest.raises(StoreError, match=r"^no scan started that day \(2026-02-28\) in "):
        store.resolve("2026-02-28")
    with pytest.raises(StoreError, match=r"^no scan started at or before then \(2026-03-01 03:00\) in "):
        store.resolve("2026-03-01 03:00")


def test_an_id_that_looks_like_a_date_is_found_as_an_id(store: ResultStore) -> None:
    finished(store, T0, scan_id="2026-03-01")
    dated = finished(store, T0 + HOUR)
    assert store.resolve("2026-03-01").scan_id == "2026-03-01"
    assert store.resolve("2026-03-01T12:30").scan_id == "2026-03-01"
    assert store.resolve("2026-03-01T13:00").scan_id == dated


# --- history ----------------------------------------------------------------------------------------------------


def test_history_is_newest_first_with_each_scans_facts(store: ResultStore) -> None:
    grades = ["B", "A", "C", "A+"]
    scan_ids = []
    for hours, grade in enumerate(grades):
        scan_id = finished(store, T0 + hours * HOUR)
        store.write(scan_id, document("a.example", grade={"grade": grade, "score": 50 + hours}))
        store.write(scan_id, document("b.example"))
        scan_ids.append(scan_id)
    mail = finished(store, T0 + 9 * HOUR, list_key="mail")
    store.write(mail, document("a.example", grade={"grade": "F", "score": 1}))

    history = store.history("a.example:443")
    assert [entry.scan_id for entry in history] == [mail, *scan_ids[::-1]]
    assert [entry.grade for entry in history] == ["F", *grades[::-1]]
    assert [entry.started_at for entry in history] == [T0 + 9 * HOUR] + [T0 + h * HOUR for h in (3, 2, 1, 0)]
    assert [entry.list_key for entry in store.history("a.example:443", list_key="web", limit=2)] == ["web", "web"]
    summary = summarize(document("a.example"))
    entry = history[0]
    assert (entry.versions, entry.findings, entry.worst_finding) == (
        summary.versions,
        dict(summary.findings),
        summary.worst_finding,
    )
    assert (entry.certificate_not_after, entry.certificate_fingerprints, entry.trusted, entry.reachable) == (
        summary.certificate_not_after,
        summary.certificate_fingerprints,
        True,
        True,
    )
    assert store.history("c.example:443") == []


# --- misuse -----------------------------------------------------------------------------------------------------


def test_an_unknown_scan_is_an_error_at_once(store: ResultStore) -> None:
    with pytest.raises(StoreError, match=r"^no scan nope in "):
        store.servers("nope")  # not only when iterated
    with pytest.raises(StoreError, match=r"^no scan nope in "):
        store.summaries("nope")
    with pytest.raises(StoreError, match=r"^no scan nope in .*: begin it first$"):
        store.write("nope", document())


def test_a_closed_store_says_so(store_location: str) -> None:
    store = open_store(store_location)
    store.close()
    with pytest.raises(StoreError, match=r"^the store .* is closed$"):
        store.scans()
