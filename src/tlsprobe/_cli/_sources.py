"""Where a past scan is read from: a JSON document, a JSON Lines file, or a scan in the results store.

``tlsprobe diff`` and ``tlsprobe report`` take either. A name that is a file is read as a file (a document when
it is one JSON object with ``servers``, JSON Lines otherwise, streamed); any other name is a scan reference in
the store (``latest``, ``previous``, a scan id or its prefix, a date or an ISO time).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from tlsprobe._exceptions import ConfigurationError

if TYPE_CHECKING:
    from tlsprobe.store import ResultStore

STORE_ENVIRONMENT: Final = "TLSPROBE_STORE"
"""The environment variable that names the default store (a path or a database URL)."""

_SHOWN_BAD_LINE: Final = 80
"""Characters of a bad line quoted in an error, at most."""


def default_store_location() -> str:
    """``$TLSPROBE_STORE``, else ``history.sqlite`` in tlsprobe's XDG data directory
    (``~/.local/share/tlsprobe`` unless ``$XDG_DATA_HOME`` says otherwise)."""
    configured = os.environ.get(STORE_ENVIRONMENT)
    if configured:
        return configured
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "tlsprobe" / "history.sqlite")


def open_existing_store(location: str) -> ResultStore:
    """The store at ``location`` for reading: a database URL as given, an SQLite file only when it exists (a
    command that reads history must not create an empty store where a path was mistyped)."""
    from tlsprobe.store import open_store

    if "://" not in location and not os.path.exists(location):
        raise ConfigurationError(f"no store at {location} (--store, or $TLSPROBE_STORE)")
    return open_store(location)


@attrs.frozen(kw_only=True)
class ScanSource:
    """One side of a comparison: what it is called, when it started (when known), and its servers' JSON forms
    (an iterator: read once, lazily)."""

    label: str
    """The file name or ``scan <id> (<date>)``."""
    started_at: datetime.datetime | None
    """When the scan started, from the document or the store; None for JSON Lines."""
    servers: Iterator[dict[str, Any]]
    """The servers, each in the JSON form of a ``ServerScanResult``."""


def read_scan_file(path: str) -> ScanSource:
    """A scan written by ``--json-out`` (one document) or ``--jsonl`` (a line per server); a bad file raises
    ``ConfigurationError`` naming the file and line."""
    try:
        with open(path, "rb") as peek:
            head = peek.read(4096).lstrip()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror or error}") from None
    if head.startswith(b"{") and _is_document(path):
        document = _load_document(path)
        return ScanSource(
            label=path,
            started_at=_parse_time(document.get("started_at")),
            servers=iter(document["servers"]),
        )
    return ScanSource(label=path, started_at=None, servers=_json_lines(path))


def _is_document(path: str) -> bool:
    """A JSON Lines file's first line is a whole object; a document's first line is not (it is indented), or
    the file is one line holding an object with ``servers``."""
    with open(path, "rb") as lines:
        first = lines.readline()
    try:
        value = json.loads(first)
    except ValueError:
        return True
    return isinstance(value, dict) and "servers" in value


def _load_document(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as text:
            document = json.load(text)
    except (ValueError, RecursionError) as error:
        raise ConfigurationError(f"{path} is not a tlsprobe JSON document: {_cut(str(error))}") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror or error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("servers"), list):
        raise ConfigurationError(f"{path} is not a tlsprobe JSON document: no list of servers")
    for index, server in enumerate(document["servers"]):
        _check_server(server, f"{path}, server {index + 1}")
    return document


def _json_lines(path: str) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                server = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError):
                shown = _cut(raw.decode("utf-8", "replace").strip())
                raise ConfigurationError(f"{path}, line {number}: not JSON: {shown!r}") from None
            _check_server(server, f"{path}, line {number}")
            yield server


def _check_server(server: object, where: str) -> None:
    if not (isinstance(server, dict) and isinstance(server.get("target"), dict) and "connectivity" in server):
        raise ConfigurationError(f"{where}: not a tlsprobe server result")


def _parse_time(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN_BAD_LINE else text[:_SHOWN_BAD_LINE] + "..."


def open_source(reference: str, store: ResultStore | None) -> ScanSource:
    """A file when ``reference`` names one, else a scan in ``store``; ``ConfigurationError`` or ``StoreError``
    when it is neither."""
    if os.path.exists(reference) or store is None:
        return read_scan_file(reference)
    record = store.resolve(reference)
    return ScanSource(
        label=f"scan {record.scan_id[:12]} of {record.started_at:%Y-%m-%d %H:%M} UTC",
        started_at=record.started_at,
        servers=store.servers(record.scan_id),
    )
