"""A store of scan results in a database: SQLite by default (a file, nothing to set up), PostgreSQL for a team.

Results are written as they arrive (``store_sink`` for a scan's stream, ``ResultStore.write`` for one), never
gathered in memory, and read back as streams: a scan's servers in their JSON form, or their summaries from the
store's columns; scans are found by what people call them (``resolve``: ``latest``, ``previous``, a date, an id),
and a target's history across scans is one query. Importing this module does not import SQLAlchemy; opening a
store does.

::

    with open_store("results.sqlite") as store:
        scan_id = store.begin_scan(list_key="web", started_at=datetime.datetime.now(datetime.UTC))
        async with Scanner().scan(targets) as results, store_sink(store, scan_id) as sink:
            async for result in results:
                await sink.write(result)
        store.finish_scan(scan_id, completed_at=datetime.datetime.now(datetime.UTC))
"""

from tlsprobe.store._api import ResultStore, ScanWriter
from tlsprobe.store._errors import StoreError
from tlsprobe.store._open import open_store
from tlsprobe.store._records import HistoryEntry, ScanRecord, ScanStatus
from tlsprobe.store._sink import StoreSink, store_sink

__all__ = [
    "HistoryEntry",
    "ResultStore",
    "ScanRecord",
    "ScanStatus",
    "ScanWriter",
    "StoreError",
    "StoreSink",
    "open_store",
    "store_sink",
]
