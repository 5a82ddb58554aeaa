"""The results store on SQLAlchemy Core: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tlsprobe._model._summary import ServerSummary
from tlsprobe._version import __version__
from tlsprobe.store._api import ResultStore, ScanWriter
from tlsprobe.store._engines import Database, open_database, translated
from tlsprobe.store._errors import StoreError
from tlsprobe.store._migrations import WRITES, migrate
from tlsprobe.store._records import FINISHED, HistoryEntry, ScanRecord, ScanStatus
from tlsprobe.store._references import Identifier, Keyword, Period, parse_reference
from tlsprobe.store._rows import clean_text, history_entry_from_row, server_rows, summary_from_row
from tlsprobe.store._tables import SUMMARY_COLUMNS, findings, scans, servers

T = TypeVar("T")

PAGE_SIZE: Final = 200
"""Servers read per query when streaming a scan: memory holds one page, whatever the scan's size."""

_REFERENCE_HELP: Final = (
    "give latest, previous, a scan id or its beginning, a date YYYY-MM-DD or a date and time YYYY-MM-DDTHH:MM"
)

_server_count = (
    sa.select(sa.func.count()).where(servers.c.scan_id == scans.c.scan_id).scalar_subquery().label("server_count")
)
_scan_query = sa.select(*scans.c, _server_count)
_newest_first = (scans.c.started_at.desc(), scans.c.scan_id.desc())


def open_sql_store(location: str) -> SqlResultStore:
    """Open (creating or migrating) the store at ``location``; see ``tlsprobe.store.open_store``."""
    database = open_database(location)
    try:
        with translated(database, "cannot open the store"):
            migrate(database.engine, database.shown)
    except BaseException:
        database.engine.dispose()
        raise
    return SqlResultStore(database)


def _aware(moment: datetime.datetime, name: str) -> datetime.datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry its time zone: {moment.isoformat()}")
    return moment


def _insert(dialect: str, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the dialect: a repeated key is ignored, not an error."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def _record(row: sa.RowMapping) -> ScanRecord:
    return ScanRecord(
        scan_id=row["scan_id"],
        list_key=row["list_key"],
        label=row["label"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        status=row["status"],
        target_count=row["target_count"],
        server_count=row["server_count"],
        tlsprobe_version=row["tlsprobe_version"],
    )


class SqlScanWriter(ScanWriter):
    """A connection with a transaction kept open across writes."""

    def __init__(self, store: SqlResultStore, scan_id: str) -> None:
        self._store = store
        self._scan_id = scan_id
        # RETURNING rather than rowcount, which psycopg leaves at -1 for an INSERT ... ON CONFLICT DO NOTHING.
        self._insert_server = _insert(store.dialect, servers).returning(servers.c.target_key)
        self._insert_findings = _insert(store.dialect, findings)
        self._pending = 0
        self._connection: sa.Connection | None = store.connect(writes=True)

    @property
    def scan_id(self) -> str:
        return self._scan_id

    @property
    def pending(self) -> int:
        return self._pending

    def write(self, server: Mapping[str, Any]) -> bool:
        row, finding_rows = server_rows(self._scan_id, server)  # a malformed form fails before the transaction
        connection = self._open_connection()
        with self._store.translated(f"cannot store {row['target_key']} in scan {self._scan_id} of"):
            try:
                stored = connection.execute(self._insert_server, row).first() is not None
                if stored and finding_rows:
                    connection.execute(self._insert_findings, finding_rows)
            except sa.exc.IntegrityError:
                self._lose_batch(connection)
                if not self._store.scan_exists(self._scan_id):
                    raise StoreError(f"no scan {self._scan_id} in {self._store.location}: begin it first") from None
                raise
            except BaseException:
                self._lose_batch(connection)
                raise
        self._pending += stored
        return stored

    def _lose_batch(self, connection: sa.Connection) -> None:
        """After a failed statement the transaction is unusable: roll it back (a connection that is gone has
        nothing to roll back) and start the next batch afresh."""
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            connection.rollback()
        self._pending = 0

    def commit(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            with self._store.translated("cannot commit results to"):
                self._connection.commit()
        self._pending = 0

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self.commit()
        finally:
            self._connection.close()
            self._connection = None

    def _open_connection(self) -> sa.Connection:
        if self._connection is None:
            raise StoreError(f"the writer of scan {self._scan_id} is closed")
        return self._connection


class SqlResultStore(ResultStore):
    """``ResultStore`` on a SQLAlchemy engine."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._closed = False

    @property
    def location(self) -> str:
        return self._database.shown

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._database.engine.dialect.name

    def translated(self, doing: str) -> contextlib.AbstractContextManager[None]:
        """Database failures inside become ``StoreError`` naming what was being done."""
        return translated(self._database, doing)

    def connect(self, *, writes: bool = False) -> sa.Connection:
        """A pooled connection (``writes``: its transactions take the write lock at once, on SQLite)."""
        if self._closed:
            raise StoreError(f"the store {self.location} is closed")
        with self.translated("cannot connect to"):
            connection = self._database.engine.connect()
        return connection.execution_options(**{WRITES: True}) if writes else connection

    def _read(self, doing: str, query: Callable[[sa.Connection], T]) -> T:
        with self.connect() as connection, self.translated(doing):
            return query(connection)

    def scan_exists(self, scan_id: str) -> bool:
        """Whether the store holds a scan ``scan_id``."""
        query = sa.select(scans.c.scan_id).where(scans.c.scan_id == scan_id)
        return self._read("cannot read the scans of", lambda c: c.execute(query).first() is not None)

    def begin_scan(
        self,
        *,
        list_key: str,
        label: str | None = None,
        started_at: datetime.datetime,
        scan_id: str | None = None,
        target_count: int | None = None,
    ) -> str:
        scan_id = uuid.uuid4().hex if scan_id is None else scan_id
        if not scan_id.strip() or not scan_id.isprintable():
            raise StoreError(f"a scan id must be printable text, not {scan_id!r}")
        if not list_key:
            raise StoreError("a scan needs the key of its target list")
        row = {
            "scan_id": scan_id,
            "list_key": clean_text(list_key),
            "label": None if label is None else clean_text(label),
            "started_at": _aware(started_at, "started_at"),
            "completed_at": None,
            "status": "running",
            "target_count": target_count,
            "tlsprobe_version": __version__,
        }
        with self.connect(writes=True) as connection, self.translated("cannot record a scan in"), connection.begin():
            connection.execute(_insert(self.dialect, scans), row)
        return scan_id

    def write(self, scan_id: str, server: Mapping[str, Any]) -> bool:
        return self.write_many(scan_id, (server,)) == 1

    def write_many(self, scan_id: str, servers: Iterable[Mapping[str, Any]]) -> int:
        with self.open_writer(scan_id) as writer:
            return sum(writer.write(server) for server in servers)

    def open_writer(self, scan_id: str) -> SqlScanWriter:
        return SqlScanWriter(self, scan_id)

    def finish_scan(self, scan_id: str, *, completed_at: datetime.datetime, status: str = "completed") -> None:
        if status not in FINISHED:
            raise ValueError(f"a scan finishes completed or interrupted, not {status!r}")
        update = (
            sa.update(scans)
            .where(scans.c.scan_id == scan_id)
            .values(completed_at=_aware(completed_at, "completed_at"), status=status)
        )
        with self.connect(writes=True) as connection, self.translated("cannot finish a scan in"), connection.begin():
            updated = connection.execute(update).rowcount
        if updated != 1:
            raise StoreError(f"no scan {scan_id} in {self.location}")

    def scans(
        self, *, list_key: str | None = None, statuses: Collection[ScanStatus] | None = None, limit: int = 50
    ) -> list[ScanRecord]:
        query = self._filtered(_scan_query, list_key, statuses).order_by(*_newest_first).limit(limit)
        return self._read("cannot read the scans of", lambda c: [_record(row) for row in c.execute(query).mappings()])

    @staticmethod
    def _filtered(
        query: sa.Select[Any], list_key: str | None, statuses: Collection[ScanStatus] | None = None
    ) -> sa.Select[Any]:
        if list_key is not None:
            query = query.where(scans.c.list_key == list_key)
        if statuses is not None:
            query = query.where(scans.c.status.in_(list(statuses)))
        return query

    def resolve(self, reference: str, *, list_key: str | None = None) -> ScanRecord:
        parsed = parse_reference(reference)
        of_list = "" if list_key is None else f" of list {list_key}"
        if parsed is None:
            raise StoreError(f"no scan named: {_REFERENCE_HELP}")
        if isinstance(parsed, Keyword):
            finished = self.scans(list_key=list_key, statuses=FINISHED, limit=parsed.back + 1)
            if len(finished) <= parsed.back:
                missing = "finished scan" if parsed.back == 0 else "finished scan before the latest"
                raise StoreError(f"no {missing}{of_list} in {self.location}")
            return finished[parsed.back]
        exact = self._first(self._filtered(_scan_query, list_key).where(scans.c.scan_id == reference.strip()))
        if exact is not None:
            return exact
        if isinstance(parsed, Period):
            return self._in_period(parsed, list_key, reference)
        return self._by_prefix(parsed, list_key, reference)

    def _first(self, query: sa.Select[Any]) -> ScanRecord | None:
        def first(connection: sa.Connection) -> ScanRecord | None:
            row = connection.execute(query.limit(1)).mappings().first()
            return None if row is None else _record(row)

        return self._read("cannot read the scans of", first)

    def _in_period(self, period: Period, list_key: str | None, reference: str) -> ScanRecord:
        query = self._filtered(_scan_query, list_key).where(scans.c.started_at < period.end)
        if period.start is not None:
            query = query.where(scans.c.started_at >= period.start)
        found = self._first(query.order_by(*_newest_first))
        if found is None:
            when = "that day" if period.start is not None else "at or before then"
            of_list = "" if list_key is None else f" of list {list_key}"
            raise StoreError(f"no scan{of_list} started {when} ({reference.strip()}) in {self.location}")
        return found

    def _by_prefix(self, identifier: Identifier, list_key: str | None, reference: str) -> ScanRecord:
        query = self._filtered(_scan_query, list_key).where(
            scans.c.scan_id.startswith(identifier.text, autoescape=True)
        )
        matches = self._read(
            "cannot read the scans of",
            lambda c: [_record(row) for row in c.execute(query.order_by(*_newest_first).limit(6)).mappings()],
        )
        if len(matches) == 1:
            return matches[0]
        if not matches:
            of_list = "" if list_key is None else f" of list {list_key}"
            raise StoreError(f"no scan{of_list} matches {reference.strip()!r} in {self.location}: {_REFERENCE_HELP}")
        shown = ", ".join(match.scan_id for match in matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise StoreError(f"{reference.strip()!r} begins more than one scan id ({shown}): give more of it")

    def _require_scan(self, scan_id: str) -> None:
        if not self.scan_exists(scan_id):
            raise StoreError(f"no scan {scan_id} in {self.location}")

    def _pages(self, scan_id: str, columns: Iterable[sa.ColumnElement[Any]]) -> Iterator[sa.RowMapping]:
        """The scan's server rows in target-key order, one short query per page (no cursor held between pages)."""
        base = sa.select(*columns).where(servers.c.scan_id == scan_id).order_by(servers.c.target_key).limit(PAGE_SIZE)
        after: str | None = None
        while True:
            query = base if after is None else base.where(servers.c.target_key > after)
            with self.connect() as connection, self.translated("cannot read the servers of"):
                page = list(connection.execute(query).mappings())
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after = page[-1]["target_key"]

    def servers(self, scan_id: str) -> Iterator[dict[str, Any]]:
        self._require_scan(scan_id)
        return (json.loads(row["document"]) for row in self._pages(scan_id, (servers.c.target_key, servers.c.document)))

    def summaries(self, scan_id: str) -> Iterator[ServerSummary]:
        self._require_scan(scan_id)
        return (summary_from_row(row) for row in self._pages(scan_id, SUMMARY_COLUMNS))

    def history(self, target_key: str, *, list_key: str | None = None, limit: int = 30) -> list[HistoryEntry]:
        query = (
            sa.select(
                *SUMMARY_COLUMNS,
                scans.c.list_key,
                scans.c.started_at.label("scan_started_at"),
                scans.c.status,
            )
            .join(scans, scans.c.scan_id == servers.c.scan_id)
            .where(servers.c.target_key == clean_text(target_key))
            .order_by(*_newest_first)
            .limit(limit)
        )
        if list_key is not None:
            query = query.where(scans.c.list_key == list_key)
        return self._read(
            "cannot read the history of", lambda c: [history_entry_from_row(row) for row in c.execute(query).mappings()]
        )

    def close(self) -> None:
        self._closed = True
        self._database.engine.dispose()
