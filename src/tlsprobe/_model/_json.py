"""JSON straight from the result classes: same field names, same types, one document format.

The document::

    {"schema_version": 1, "tlsprobe_version": "...", "started_at": "...", "completed_at": "...",
     "servers": [<ServerScanResult>, ...], "complete": true, "invalid_targets": [<InvalidTargetLine>, ...]}

``complete`` is false in a document written by a scan that was interrupted: its servers are those that finished.

Values: enums as their value, datetimes (UTC) and dates as ISO 8601, bytes as lowercase hex, IP addresses as text,
certificates as PEM, tuples as arrays, frozensets as sorted arrays, attrs records as objects with their fields in order.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import json
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tlsprobe._model._config import InvalidTargetLine
from tlsprobe._model._results import ServerScanResult
from tlsprobe._version import __version__

SCHEMA_VERSION: Final = 1
"""Bumped whenever a field is renamed, removed or changes type."""


def to_jsonable(value: object) -> Any:
    """Convert a result (or any value inside one) to JSON-compatible Python objects."""
    kind = type(value)
    convert = _CONVERTERS.get(kind)
    if convert is None:  # once per type: a scan's documents hold hundreds of thousands of values of a few types
        convert = _CONVERTERS[kind] = _converter_for(kind)
    return convert(value)


_Converter = Callable[[Any], Any]
_CONVERTERS: dict[type, _Converter] = {}


def _converter_for(kind: type) -> _Converter:
    # In this order: an IntEnum or StrEnum is an int or a str, and stays one.
    if kind is type(None) or issubclass(kind, bool | int | float | str):
        return _same
    if issubclass(kind, enum.Enum):
        return _enum_value
    if issubclass(kind, datetime.datetime | datetime.date):
        return _iso_format
    if issubclass(kind, bytes):
        return bytes.hex
    if issubclass(kind, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str
    if issubclass(kind, x509.Certificate):
        return _pem
    if issubclass(kind, frozenset | set):
        return _sorted_array
    if issubclass(kind, tuple | list):
        return _array
    if issubclass(kind, dict):
        return _object
    if attrs.has(kind):
        names = tuple(field.name for field in attrs.fields(kind))
        return lambda value: {name: to_jsonable(getattr(value, name)) for name in names}
    raise TypeError(f"cannot convert {kind.__name__} to JSON")


def _same(value: Any) -> Any:
    return value


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _iso_format(value: datetime.date) -> str:
    return value.isoformat()


def _pem(value: x509.Certificate) -> str:
    return value.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _sorted_array(value: frozenset[Any] | set[Any]) -> list[Any]:
    return sorted((to_jsonable(item) for item in value), key=json.dumps)


def _array(value: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [to_jsonable(item) for item in value]


def _object(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(key): to_jsonable(item) for key, item in value.items()}


def dumps(value: object, *, indent: int | None = None) -> str:
    """``to_jsonable`` then ``json.dumps``."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


def scan_document(
    servers: Iterable[ServerScanResult],
    *,
    started_at: datetime.datetime,
    completed_at: datetime.datetime,
    invalid_targets: Iterable[InvalidTargetLine] = (),
    complete: bool = True,
) -> dict[str, Any]:
    """The whole JSON document for a scan; ``complete`` false when the scan was interrupted."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tlsprobe_version": __version__,
        "started_at": started_at.isoformat(),
        "completed_at": completed_at.isoformat(),
        "servers": [to_jsonable(server) for server in servers],
        "complete": complete,
        "invalid_targets": [to_jsonable(line) for line in invalid_targets],
    }
