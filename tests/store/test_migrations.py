"""The schema's versions on SQLite and on a real PostgreSQL: opening creates or migrates once, a later step applies
in order and all or nothing, openers racing do the work once, and a newer schema is refused."""

from __future__ import annotations

import datetime
import threading

import pytest
import sqlalchemy as sa

from tests.store.results import document
from tlsprobe._model._summary import SEVERITIES
from tlsprobe.store import StoreError, open_store
from tlsprobe.store._engines import open_database
from tlsprobe.store._migrations import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from tlsprobe.store._rows import SEVERITY_COLUMNS
from tlsprobe.store._tables import metadata

T0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


def versions(store_location: str) -> list[tuple[int, str]]:
    database = open_database(store_location)
    try:
        with database.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version, description FROM tlsprobe_schema ORDER BY version")
            return [(version, description) for version, description in rows]
    finally:
        database.engine.dispose()


def test_opening_again_changes_nothing_and_keeps_the_results(store_location: str) -> None:
    with open_store(store_location) as store:
        scan_id = store.begin_scan(list_key="web", started_at=T0)
        store.write(scan_id, document())
    with open_store(store_location) as store:
        assert [summary.target for summary in store.summaries(scan_id)] == ["www.example.com:443"]
    assert versions(store_location) == [(step.version, step.description) for step in MIGRATIONS]
    assert versions(store_location)[-1][0] == SCHEMA_VERSION


def test_the_tables_created_are_the_tables_queried(store_location: str) -> None:
    open_store(store_location).close()
    database = open_database(store_location)
    try:
        with database.engine.connect() as connection:
            inspector = sa.inspect(connection)
            for table in metadata.sorted_tables:
                assert {column["name"] for column in inspector.get_columns(table.name)} == set(table.c.keys())
    finally:
        database.engine.dispose()


def test_a_schema_newer_than_this_tlsprobe_is_refused(store_location: str) -> None:
    open_store(store_location).close()
    database = open_database(store_location)
    try:
        with database.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO tlsprobe_schema (version, description, applied_at) "
                f"VALUES ({SCHEMA_VERSION + 1}, 'from the future', '2030-01-01 00:00:00')"
            )
    finally:
        database.engine.dispose()
    with pytest.raises(StoreError) as refused:
        open_store(store_location)
    assert str(refused.value) == (
        f"{database.shown} holds results in schema version "
        f"{SCHEMA_VERSION + 1}, newer than this tlsprobe knows ({SCHEMA_VERSION}): upgrade tlsprobe to use it"
    )


def _add_label_index(connection: sa.Connection) -> None:
    connection.exec_driver_sql("CREATE INDEX tlsprobe_scans_by_label ON tlsprobe_scans (label)")


def _index_names(store_location: str) -> set[str]:
    database = open_database(store_location)
    try:
        with database.engine.connect() as connection:
            return {index["name"] or "" for index in sa.inspect(connection).get_indexes("tlsprobe_scans")}
    finally:
        database.engine.dispose()


def test_a_later_step_applies_once_and_a_failing_one_changes_nothing(store_location: str) -> None:
    with open_store(store_location) as store:
        scan_id = store.begin_scan(list_key="web", started_at=T0)
    version_2 = Migration(2, "index scans by label", _add_label_index)
    database = open_database(store_location)
    try:
        assert migrate(database.engine, database.shown, (*MIGRATIONS, version_2)) == 2
        assert migrate(database.engine, database.shown, (*MIGRATIONS, version_2)) == 2  # nothing left to do

        def create_then_fail(connection: sa.Connection) -> None:
            connection.exec_driver_sql("CREATE TABLE tlsprobe_half_done (x INTEGER)")
            raise RuntimeError("step 3 broke")

        with pytest.raises(RuntimeError, match="step 3 broke"):
            migrate(database.engine, database.shown, (*MIGRATIONS, version_2, Migration(3, "broken", create_then_fail)))
        with database.engine.connect() as connection:
            assert not sa.inspect(connection).has_table("tlsprobe_half_done")  # DDL rolled back with the step
    finally:
        database.engine.dispose()
    assert versions(store_location) == [(1, MIGRATIONS[0].description), (2, "index scans by label")]
    assert "tlsprobe_scans_by_label" in _index_names(store_location)
    with pytest.raises(StoreError, match="schema version 2, newer than this tlsprobe knows"):
        open_store(store_location)  # this tlsprobe stops at version 1
    database = open_database(store_location)
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT scan_id FROM tlsprobe_scans").scalars().all() == [scan_id]
    finally:
        database.engine.dispose()


def test_openers_racing_on_a_new_database_migrate_it_once(store_location: str) -> None:
    openers = 4
    start = threading.Barrier(openers)
    errors: list[BaseException] = []

    def open_once() -> None:
        try:
            start.wait()
            open_store(store_location).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_once) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [version for version, _ in versions(store_location)] == [step.version for step in MIGRATIONS]


def test_every_severity_has_its_count_column() -> None:
    # A new severity needs a new column, hence a migration step: this fails until one is written.
    assert tuple(SEVERITY_COLUMNS) == SEVERITIES
