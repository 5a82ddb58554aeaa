"""A JSON Schema (draft 2020-12) generated from the result classes, so it cannot drift from the JSON."""

from __future__ import annotations

import datetime
import enum
import ipaddress
import types
import typing
from collections.abc import Iterable
from typing import Any

import attrs
from cryptography import x509

from tlsprobe._model._config import InvalidTargetLine
from tlsprobe._model._json import SCHEMA_VERSION
from tlsprobe._model._results import CheckCompleted, ServerScanResult


class _SchemaBuilder:
    def __init__(self, check_result_types: Iterable[type]) -> None:
        self._result_types = tuple(dict.fromkeys(check_result_types))
        self.definitions: dict[str, dict[str, Any]] = {}

    def schema(self, annotation: Any) -> dict[str, Any]:
        origin = typing.get_origin(annotation)
        if annotation is type(None):
            return {"type": "null"}
        if annotation is Any or isinstance(annotation, typing.TypeVar):
            return {"anyOf": [self.schema(result_type) for result_type in self._result_types]}
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.schema(argument) for argument in typing.get_args(annotation)]}
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(annotation))}
        if origin in (tuple, frozenset):
            arguments = typing.get_args(annotation)
            return {"type": "array", "items": self.schema(arguments[0])}
        if origin is not None and attrs.has(origin):
            return self.schema(origin)
        return self._simple(annotation)

    def _simple(self, annotation: Any) -> dict[str, Any]:
        simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
        if annotation in simple:
            return {"type": simple[annotation]}
        if annotation is datetime.datetime:
            return {"type": "string", "format": "date-time"}
        if annotation is datetime.date:
            return {"type": "string", "format": "date"}
        if annotation is bytes:
            return {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
        if annotation is x509.Certificate:
            return {"type": "string", "pattern": "^-----BEGIN CERTIFICATE-----"}
        if annotation in (ipaddress.IPv4Address, ipaddress.IPv6Address):
            return {"type": "string", "format": "ipv4" if annotation is ipaddress.IPv4Address else "ipv6"}
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return {"enum": [member.value for member in annotation]}
        if isinstance(annotation, type) and attrs.has(annotation):
            return self._record(annotation)
        raise TypeError(f"no JSON Schema for {annotation!r}")

    def _record(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.definitions:
            self.definitions[name] = {}  # placeholder against recursion
            hints = typing.get_type_hints(cls)
            self.definitions[name] = {
                "type": "object",
                "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
                "properties": {field.name: self.schema(hints[field.name]) for field in attrs.fields(cls)},
                "required": [field.name for field in attrs.fields(cls)],
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}


def json_schema(check_result_types: Iterable[type]) -> dict[str, Any]:
    """The schema of the scan document, with each check's result type among the allowed ``result`` values."""
    builder = _SchemaBuilder(check_result_types)
    builder.schema(CheckCompleted)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tlsprobe scan document",
        "type": "object",
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "tlsprobe_version": {"type": "string"},
            "started_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": "string", "format": "date-time"},
            "servers": {"type": "array", "items": builder.schema(ServerScanResult)},
            "complete": {
                "type": "boolean",
                "description": "false when the scan was interrupted: servers holds those that finished",
            },
            "invalid_targets": {"type": "array", "items": builder.schema(InvalidTargetLine)},
        },
        "required": [
            "schema_version",
            "tlsprobe_version",
            "started_at",
            "completed_at",
            "servers",
            "invalid_targets",
        ],
        "additionalProperties": False,
        "$defs": dict(sorted(builder.definitions.items())),
    }
