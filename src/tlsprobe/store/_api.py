"""What a results store offers, apart from how it is kept: ``open_store`` gives the SQL implementation.

The interface lives apart from the implementation so that importing ``tlsprobe.store`` does not import SQLAlchemy,
which takes longer to import than the rest of tlsprobe's command line does to start; it is imported when a store
is opened.
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self

from tlsprobe._model._summary import ServerSummary
from tlsprobe.store._records import HistoryEntry, ScanRecord, ScanStatus


class ScanWriter(abc.ABC):
    """Writes one scan's results in one transaction, held open across writes until ``commit``: many results, one
    commit. Not for use by two threads at once. Closing commits what was written (each write is a whole server,
    so nothing half-written is ever committed)."""

    @property
    @abc.abstractmethod
    def scan_id(self) -> str:
        """The scan written to."""

    @property
    @abc.abstractmethod
    def pending(self) -> int:
        """Results stored since the last commit (repeats not counted)."""

    @abc.abstractmethod
    def write(self, server: Mapping[str, Any]) -> bool:
        """Store one server's result, given in its JSON form (``to_jsonable`` of a ``ServerScanResult``); False
        when the scan already holds a result for that target, which is left as it was.

        :raises StoreError: the form is not a server's result, the scan is unknown, or the database failed (what
            was written since the last commit is then lost).
        """

    @abc.abstractmethod
    def commit(self) -> None:
        """Make what was written durable and visible to others."""

    @abc.abstractmethod
    def close(self) -> None:
        """Commit, and give the connection back."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class ResultStore(abc.ABC):
    """Scans and their servers' results, written as they arrive and read back as streams.

    Synchronous, and safe to call from several threads at once (each call takes a connection of its own); async code
    writes through ``store_sink``. Timestamps go in and come out timezone-aware, in UTC. Servers of a scan come out
    ordered by target key, in code point order (Python's ``sorted``), on every database.
    """

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the store is, fit to show (a password is hidden)."""

    @abc.abstractmethod
    def begin_scan(
        self,
        *,
        list_key: str,
        label: str | None = None,
        started_at: datetime.datetime,
        scan_id: str | None = None,
        target_count: int | None = None,
    ) -> str:
        """Record a scan as ``running`` and return its id (a new one unless ``scan_id`` is given). Beginning a scan
        that exists returns its id and changes nothing, so a driver that is retried can begin again.

        :raises ValueError: ``started_at`` has no time zone.
        """

    @abc.abstractmethod
    def write(self, scan_id: str, server: Mapping[str, Any]) -> bool:
        """Store one server's result (its JSON form) in its own transaction; False when the scan already holds
        one for that target (the first stays)."""

    @abc.abstractmethod
    def write_many(self, scan_id: str, servers: Iterable[Mapping[str, Any]]) -> int:
        """Store servers' results in one transaction; how many were new."""

    @abc.abstractmethod
    def open_writer(self, scan_id: str) -> ScanWriter:
        """A writer that keeps one transaction open across writes, for batching commits (``store_sink`` uses it)."""

    @abc.abstractmethod
    def finish_scan(self, scan_id: str, *, completed_at: datetime.datetime, status: str = "completed") -> None:
        """Record how and when the scan ended: ``completed``, or ``interrupted`` (what it stored stays).

        :raises ValueError: ``status`` is not one of those two, or ``completed_at`` has no time zone.
        """

    @abc.abstractmethod
    def scans(
        self, *, list_key: str | None = None, statuses: Collection[ScanStatus] | None = None, limit: int = 50
    ) -> list[ScanRecord]:
        """The newest ``limit`` scans (of one list, with one of ``statuses``), newest first."""

    @abc.abstractmethod
    def resolve(self, reference: str, *, list_key: str | None = None) -> ScanRecord:
        """The scan a person names, among the scans of ``list_key`` when given, tried in this order:

        - ``latest``, ``previous``: the newest scan that ended (completed or interrupted), the one before it;
        - a scan id;
        - a date ``YYYY-MM-DD``: the newest scan started that day (UTC);
        - a date and time in ISO 8601 (UTC unless it says otherwise): the newest scan started at or before it;
        - the beginning of exactly one scan id.

        :raises StoreError: nothing matches, or a beginning matches more than one scan.
        """

    @abc.abstractmethod
    def servers(self, scan_id: str) -> Iterator[dict[str, Any]]:
        """The scan's servers in their JSON form, as written, read a page at a time.

        :raises StoreError: no such scan (at once, before the first server).
        """

    @abc.abstractmethod
    def summaries(self, scan_id: str) -> Iterator[ServerSummary]:
        """The scan's servers' summaries, from the store's columns (no JSON is parsed), read a page at a time.

        :raises StoreError: no such scan (at once, before the first summary).
        """

    @abc.abstractmethod
    def history(self, target_key: str, *, list_key: str | None = None, limit: int = 30) -> list[HistoryEntry]:
        """The target in the newest ``limit`` scans that hold it (of one list), newest first. ``target_key`` is
        ``tlsprobe._model._summary.target_key`` of the target, as the JSON and ``ServerSummary.target`` have it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close every connection; the store cannot be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
