"""The schema's versions, and the runner that brings a database up to the newest on open.

A small runner of our own rather than Alembic: the store needs an ordered list of steps applied in one transaction
at open, nothing of Alembic's script directories, autogeneration or branches, and Alembic would add Mako and its
own import time to every command that opens a store.

``tlsprobe_schema`` has one row per step applied. Opening reads the newest version without a lock (the usual case:
nothing to do); otherwise it takes the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
lock held until commit), reads again, since another opener may have migrated meanwhile, and applies the missing
steps and their rows in that one transaction: both databases have transactional DDL, so a failing step leaves
the database as it was. A version newer than the newest step is refused: this tlsprobe cannot know what it means.

Adding a step: append a ``Migration`` with the next version, and change ``_tables`` to the new shape. Step 1 creates
the tables as ``_tables`` describes them, so the first step that alters a table must first freeze step 1: give it
its own copy of the version-1 tables.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Final

import attrs
import sqlalchemy as sa

from tlsprobe.store._errors import StoreError
from tlsprobe.store._tables import UTCDateTime, metadata


@attrs.frozen
class Migration:
    """One step of the schema."""

    version: int
    """The version the database is at once the step is applied."""
    description: str
    """What it does, recorded beside the version."""
    apply: Callable[[sa.Connection], None]
    """Runs the step inside the open transaction."""


def _create_version_1(connection: sa.Connection) -> None:
    metadata.create_all(connection)


MIGRATIONS: Final = (Migration(1, "scans, servers and their findings", _create_version_1),)

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The newest schema this tlsprobe knows."""

_ADVISORY_LOCK: Final = int.from_bytes(b"tlsprobe", "big")
"""PostgreSQL advisory lock key of schema changes (any fixed 64-bit number: ours is "tlsprobe" in ASCII)."""

_versions = sa.Table(
    "tlsprobe_schema",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

WRITES: Final = "tlsprobe_writes"
"""Execution option of a connection that will write: on SQLite, its transactions begin with ``BEGIN IMMEDIATE``
(taking the write lock at once, waiting up to the busy timeout), so that a read never has to become a write."""


def schema_version(connection: sa.Connection) -> int:
    """The database's schema version: 0 when it holds no store yet."""
    if not sa.inspect(connection).has_table(_versions.name):
        return 0
    newest = sa.select(sa.func.coalesce(sa.func.max(_versions.c.version), 0))
    return int(connection.execute(newest).scalar_one())


def migrate(engine: sa.Engine, location: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to the last of ``migrations`` and return its version.

    :raises StoreError: the database is at a newer version than ``migrations`` knows.
    """
    newest = migrations[-1].version
    with engine.connect() as connection:
        found = schema_version(connection)
    if found < newest:
        with engine.connect().execution_options(**{WRITES: True}) as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
            _versions.create(connection, checkfirst=True)
            found = schema_version(connection)
            for step in migrations:
                if step.version > found:
                    step.apply(connection)
                    applied = {"version": step.version, "description": step.description}
                    connection.execute(
                        _versions.insert(), applied | {"applied_at": datetime.datetime.now(datetime.UTC)}
                    )
    if found > newest:
        raise StoreError(
            f"{location} holds results in schema version {found}, newer than this tlsprobe knows ({newest}): "
            "upgrade tlsprobe to use it"
        )
    return newest
