"""Opening a store: the one place that imports the SQL implementation, and only when called."""

from __future__ import annotations

from tlsprobe.store._api import ResultStore


def open_store(location: str) -> ResultStore:
    """Open the results store at ``location``, creating it or bringing its schema up to date:

    - a file path: an SQLite database there (its folder is created);
    - ``sqlite:///relative/path`` or ``sqlite:////absolute/path``;
    - ``postgresql://user:password@host:port/database`` (or ``postgresql+psycopg://``), which needs the
      ``postgresql`` extra (psycopg 3). The database must exist; the store's tables are created in it.

    :raises StoreError: the location is not one of those, the database cannot be reached or is not a database,
        or its schema is newer than this tlsprobe knows. The message hides any password.
    """
    from tlsprobe.store._sql import open_sql_store  # SQLAlchemy is slow to import: only when used

    return open_sql_store(location)
