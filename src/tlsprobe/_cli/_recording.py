"""A scan recorded in the results store (``--store``): opened and begun before the first connection, written as
results arrive (the scan's loop feeds a ``StoreSink``), marked completed or interrupted at the end."""

from __future__ import annotations

import datetime
import hashlib
from typing import TYPE_CHECKING

import attrs

from tlsprobe._cli._errors import InputError
from tlsprobe._cli._targets import STDIN, Targets, parse_lines
from tlsprobe._model._config import ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import target_key

if TYPE_CHECKING:
    from tlsprobe.store import ResultStore


def list_key(targets: Targets, name: str | None) -> str:
    """The key under which the store groups the scans of one target list: ``name`` when given, else a digest of
    the sorted, deduplicated target keys (reordering a targets file keeps its history; adding a target starts a
    new list, unless the list is named). Reads the targets file once more: ``InputError`` for stdin without a
    name, which cannot be read twice."""
    if name:
        return name
    keys = {target_key(to_jsonable(target)) for target in targets.from_arguments}
    if targets.source == STDIN:
        raise InputError("targets from stdin need --name NAME to be recorded in the store")
    if targets.source is not None:
        with open(targets.source, "rb") as lines:
            keys |= {
                target_key(to_jsonable(targets.adjust(item)))
                for item in parse_lines(lines, targets.source)
                if isinstance(item, ServerTarget)
            }
    return "targets:" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


@attrs.define
class Recording:
    """A scan being recorded: its store and id."""

    store: ResultStore
    """The open store (its opener closes it)."""
    scan_id: str
    """The scan's id in the store."""
    list_key: str
    """The target list it belongs to."""

    @classmethod
    def begin(cls, location: str, targets: Targets, name: str | None, started_at: datetime.datetime) -> Recording:
        """Open the store and begin a scan in it (the caller closes ``store``); ``StoreError`` or ``InputError``
        before anything is scanned."""
        from tlsprobe.store import open_store

        key = list_key(targets, name)
        store = open_store(location)
        try:
            scan_id = store.begin_scan(list_key=key, label=name, started_at=started_at, target_count=targets.total)
        except BaseException:
            store.close()
            raise
        return cls(store=store, scan_id=scan_id, list_key=key)

    def finish(self, *, complete: bool) -> None:
        """Mark the scan completed, or interrupted (what was written stays)."""
        self.store.finish_scan(
            self.scan_id,
            completed_at=datetime.datetime.now(datetime.UTC),
            status="completed" if complete else "interrupted",
        )
