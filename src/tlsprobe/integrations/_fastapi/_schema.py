"""The server results in the OpenAPI document: typed by the JSON Schema of ``tlsprobe --json-schema``, not a copy.

``server_result_type(result_types)`` is a type for pydantic models: validated as ``dict[str, Any]`` (the results are
the CLI's JSON, made by ``to_jsonable``, not checked again), described as the CLI's ``ServerScanResult``. Every
definition of the CLI's schema becomes a component of the document under its own name (``ServerScanResult``,
``CertificateResult``...), its ``#/$defs/...`` references turned into references to the components.

The definitions go through pydantic rather than being added to the document afterwards, so that any app including
the router has them in its ``openapi()`` without a hook of ours, and pydantic settles clashes with the app's own
model names as it does between models (a longer name for one of them). Each definition is a core schema with a
``ref`` (``tlsprobe.<name>:<n>``: pydantic names the component ``<name>``; ``n`` keeps apart the schemas of routers
that offer different checks) and a JSON Schema function, pydantic's mechanism for ``__get_pydantic_json_schema__``.
Pydantic keeps only the definitions that core schemas refer to, so the root refers to every definition it reaches,
in the input-schema slot of a no-op validator: a slot that only JSON Schema reads (``_Definitions.root_schema``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, core_schema

from tlsprobe._model._json_schema import json_schema

_LOCAL_REFERENCE: Final = "#/$defs/"
_ROOT: Final = "ServerScanResult"
_schema_numbers = itertools.count(1)

JsonSchema = dict[str, Any]


def _references(node: object) -> set[str]:
    """The names of the definitions ``node`` refers to directly."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_LOCAL_REFERENCE):
                found.add(value.removeprefix(_LOCAL_REFERENCE))
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _rewritten(node: Any, reference: Callable[[str], JsonSchema]) -> Any:
    """``node`` with each ``{"$ref": "#/$defs/<name>"}`` replaced by ``reference(name)``; a new object."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith(_LOCAL_REFERENCE):
            siblings = {key: _rewritten(value, reference) for key, value in node.items() if key != "$ref"}
            return {**siblings, **reference(target.removeprefix(_LOCAL_REFERENCE))}
        return {key: _rewritten(value, reference) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewritten(value, reference) for value in node]
    return node


def _unchanged(value: object) -> object:
    return value


class _Definitions:
    """The definitions of one CLI schema, as the core schemas that pydantic turns into components."""

    def __init__(self, definitions: Mapping[str, JsonSchema]) -> None:
        self._definitions = definitions
        self._number = next(_schema_numbers)

    def core_ref(self, name: str) -> str:
        return f"tlsprobe.{name}:{self._number}"

    def reachable(self, name: str) -> list[str]:
        """Every definition that ``name`` reaches, itself excluded, sorted."""
        seen: set[str] = set()
        pending = [name]
        while pending:
            for found in _references(self._definitions[pending.pop()]) - seen - {name}:
                seen.add(found)
                pending.append(found)
        return sorted(seen)

    def json_schema_function(self, name: str) -> Callable[[CoreSchema, GetJsonSchemaHandler], JsonSchema]:
        """The JSON Schema of the definition ``name``: its references rewritten to the components' (references
        only, never another definition's schema, so that cycles cannot recurse)."""

        def json_schema_of(_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchema:
            def reference(target: str) -> JsonSchema:
                return handler(core_schema.definition_reference_schema(self.core_ref(target)))

            rewritten: JsonSchema = _rewritten(self._definitions[name], reference)
            return rewritten

        return json_schema_of

    def definition_schema(self, name: str) -> CoreSchema:
        """The definition ``name``: never validated (only the root is), only described."""
        metadata = {"pydantic_js_functions": [self.json_schema_function(name)]}
        return core_schema.any_schema(ref=self.core_ref(name), metadata=metadata)

    def root_schema(self, validated: CoreSchema) -> CoreSchema:
        """``ServerScanResult``: validated as ``validated``, with every definition it reaches."""
        reachable = self.reachable(_ROOT)
        # Metadata on a reference stops pydantic inlining its definition at the one place it is referred to:
        # it stays a definition, and so becomes a component.
        references: list[CoreSchema] = [
            core_schema.definition_reference_schema(self.core_ref(name), metadata={"tlsprobe": "a component"})
            for name in reachable
        ]
        root = core_schema.no_info_before_validator_function(
            _unchanged,
            validated,
            json_schema_input_schema=core_schema.tuple_schema(references),
            ref=self.core_ref(_ROOT),
            metadata={"pydantic_js_functions": [self.json_schema_function(_ROOT)]},
        )
        return core_schema.definitions_schema(root, [self.definition_schema(name) for name in reachable])


class _ServerResult:
    """Validated as ``dict[str, Any]``, described as the CLI's ``ServerScanResult``; subclassed once per set of
    check result types by ``server_result_type``."""

    definitions: ClassVar[_Definitions]

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # A type's method rather than Annotated metadata: pydantic takes in the definitions a type's schema brings.
        return cls.definitions.root_schema(handler.generate_schema(dict[str, Any]))


def result_types(checks: Iterable[Any]) -> tuple[type, ...]:
    """The result types of ``checks``, once each, in order."""
    return tuple(dict.fromkeys(check.result_type for check in checks))


@functools.cache
def server_result_type(result_types: tuple[type, ...]) -> type:
    """The type of one server of the CLI's JSON whose check results are of ``result_types``, for pydantic models."""
    definitions = _Definitions(json_schema(result_types)["$defs"])
    return type(_ROOT, (_ServerResult,), {"definitions": definitions, "__module__": __name__})
