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
from collections.abc import Iterable
from typing import Any, Final, cast

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
    match value:
        case None | bool() | int() | float() | str():
            return value
        case enum.Enum():
            return value.value
        case datetime.datetime() | datetime.date():
            return value.isoformat()
        case bytes():
            return value.hex()
        case ipaddress.IPv4Address() | ipaddress.IPv6Address():
            return str(value)
        case x509.Certificate():
            return value.public_bytes(serialization.Encoding.PEM).decode("ascii")
        case frozenset() | set():
            return sorted((to_jsonable(item) for item in value), key=json.dumps)
        case tuple() | list():
            return [to_jsonable(item) for item in value]
        case dict():
            return {str(key): to_jsonable(item) for key, item in value.items()}
        case _ if attrs.has(type(value)):
            fields = attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
            return {field.name: to_jsonable(getattr(value, field.name)) for field in fields}
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


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
