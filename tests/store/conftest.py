"""The store's tests run against SQLite and a real PostgreSQL alike: ``store_location`` is parametrized over both,
the PostgreSQL server is started once per session (``store_postgres`` in tests/conftest.py), each test gets a
fresh database, and the PostgreSQL half is slow (the SQLite half writes only files in the test's
temporary directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.postgres import PostgresServer
from tlsprobe.store import ResultStore, open_store

BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.slow),
)


def new_location(request: pytest.FixtureRequest, backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(directory / "stores" / "results.sqlite")  # a folder that does not exist yet: open_store makes it
        return
    server: PostgresServer = request.getfixturevalue("store_postgres")
    database = server.new_database()
    try:
        yield server.url(database)
    finally:
        server.drop_database(database)


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a new, empty store can be opened: an SQLite file or a PostgreSQL database of its own."""
    yield from new_location(request, request.param, tmp_path)


@pytest.fixture
def store(store_location: str) -> Iterator[ResultStore]:
    """An open store at ``store_location``."""
    with open_store(store_location) as opened:
        yield opened
