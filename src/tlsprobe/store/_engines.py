"""From a location (a path or a URL) to a configured SQLAlchemy engine, and database errors to one clear line.

SQLite (the standard library's driver): WAL, so that readers never wait for the writer and the writer never waits
for readers; foreign keys on (SQLite's default is off); a busy timeout, so that two writers queue instead of
failing; and transactions begun by us, since Python's driver would begin them only before DML and so leave DDL
outside (``BEGIN IMMEDIATE`` for connections that write: see ``_migrations.WRITES``).

PostgreSQL (psycopg 3): a pool that checks a connection before handing it out (a long-running monitor outlives
server restarts), and a connect timeout, so that an unreachable server is an error rather than a hang.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import attrs
import sqlalchemy as sa
from sqlalchemy import event, exc

from tlsprobe.store._errors import StoreError
from tlsprobe.store._migrations import WRITES

BUSY_TIMEOUT_S: Final = 30.0
"""How long an SQLite writer waits for another to commit before failing."""
CONNECT_TIMEOUT_S: Final = 10
"""PostgreSQL connect timeout, unless the URL sets ``connect_timeout``."""

_POSTGRESQL_NAMES: Final = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE_NAMES: Final = ("sqlite", "sqlite+pysqlite")
_USAGE: Final = "give a file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE"


@attrs.frozen
class Database:
    """An engine and how to name it to people."""

    engine: sa.Engine
    """Pooled, configured for its database."""
    shown: str
    """The location with any password hidden."""
    password: str | None
    """The password, so that it can be kept out of error messages."""


def open_database(location: str) -> Database:
    """An engine for ``location`` (no connection made yet).

    :raises StoreError: the location is not one tlsprobe can use, or PostgreSQL's driver is not installed.
    """
    text = location.strip()
    if not text:
        raise StoreError(f"no store location: {_USAGE}")
    if "://" not in text:
        return _sqlite(Path(text).expanduser(), text)
    try:
        url = sa.make_url(text)
    except (exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StoreError(f"not a database URL: {_hide_userinfo(text)} ({_USAGE})") from None
    shown = url.render_as_string(hide_password=True)
    if url.drivername in _SQLITE_NAMES:  # no password in such a URL: shown as given (rendering escapes ":")
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise StoreError(f"{text}: the store must be a file ({_USAGE})")
        return _sqlite(Path(url.database).expanduser(), text)
    if url.drivername in _POSTGRESQL_NAMES:
        return _postgresql(url.set(drivername="postgresql+psycopg"), shown)
    raise StoreError(f"{shown}: tlsprobe stores results in SQLite or PostgreSQL (with psycopg 3): {_USAGE}")


def _hide_userinfo(text: str) -> str:
    scheme, _, rest = text.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else text


def _sqlite(path: Path, shown: str) -> Database:
    if path.is_dir():
        raise StoreError(f"{shown} is a directory, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder of {shown}: {error.strerror or error}") from error
    engine = sa.create_engine(
        sa.URL.create("sqlite+pysqlite", database=str(path)), connect_args={"timeout": BUSY_TIMEOUT_S}
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return Database(engine=engine, shown=shown, password=None)


def _configure_sqlite(connection: sqlite3.Connection, record: Any) -> None:
    connection.isolation_level = None  # the driver begins nothing itself: _begin_sqlite does
    cursor = connection.cursor()
    try:
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")  # in WAL: never corrupt, at most the last commits lost
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode (kept in the file: once is enough). Switching takes the file's exclusive lock,
    and SQLite answers "database is locked" at once, without its busy timeout, to a connection that asks while
    another holds a lock: openers racing on a new database retry, within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # another opener holds the lock for a few milliseconds


def _begin_sqlite(connection: sa.Connection) -> None:
    writes = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _postgresql(url: sa.URL, shown: str) -> Database:
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ImportError as error:
        raise StoreError(
            f"{shown}: PostgreSQL needs psycopg 3, an optional extra: pip install 'tlsprobe[postgresql]'"
        ) from error
    return Database(engine=engine, shown=shown, password=url.password)


def reason(error: BaseException, password: str | None = None) -> str:
    """What went wrong, in one line: the driver's own message, without SQLAlchemy's statement and links."""
    original = error.orig if isinstance(error, exc.DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    if isinstance(original, exc.SQLAlchemyError):
        lines = [line for line in lines if not line.startswith("(Background on this error")]
    text = " ".join(lines) or type(original).__name__
    return text.replace(password, "***") if password else text


@contextlib.contextmanager
def translated(database: Database, doing: str) -> Iterator[None]:
    """Database failures inside become ``StoreError("{doing} {location}: {reason}")``."""
    try:
        yield
    except (exc.SQLAlchemyError, sqlite3.Error) as error:
        raise StoreError(f"{doing} {database.shown}: {reason(error, database.password)}") from error
