"""Registering a check: what ``DEFAULT_CHECKS`` cannot derive, checked against it (see ``checks/_registry.py``).

Each test names the registry's checks one by one, every per-version cipher-suite check included, so a check
added to the registry but missing elsewhere fails here, not in a user's report.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import pkgutil
import types
import typing
from importlib import resources
from typing import Any

import attrs
import pytest

import tlsprobe
import tlsprobe.checks
from tlsprobe._cli import main
from tlsprobe._cli._render import RENDERERS
from tlsprobe.checks import DEFAULT_CHECKS, Check

_BY_NAME = pytest.mark.parametrize("check", DEFAULT_CHECKS, ids=lambda check: check.name)


def _held_types(annotation: Any, found: set[type]) -> None:
    """Add to ``found`` every attrs class and enum that ``annotation`` is or holds, transitively."""
    origin = typing.get_origin(annotation)
    if origin is not None:
        for argument in (origin, *typing.get_args(annotation)):
            _held_types(argument, found)
        return
    if not isinstance(annotation, type) or annotation in found:
        return
    if issubclass(annotation, enum.Enum):
        found.add(annotation)
    elif attrs.has(annotation):
        found.add(annotation)
        hints = typing.get_type_hints(annotation)
        for field in attrs.fields(annotation):
            _held_types(hints[field.name], found)


def _types_held_by_results() -> set[type]:
    found: set[type] = set()
    for check in DEFAULT_CHECKS:
        _held_types(check.result_type, found)
    return found


def _check_classes_in_the_package() -> set[type]:
    """Every class a module of ``tlsprobe.checks`` defines with a ``result_type``: what follows ``Check``."""
    found: set[type] = set()
    for module_info in pkgutil.iter_modules(tlsprobe.checks.__path__):
        module = importlib.import_module(f"tlsprobe.checks.{module_info.name}")
        found |= {
            value
            for value in vars(module).values()
            if inspect.isclass(value) and value.__module__ == module.__name__ and hasattr(value, "result_type")
        }
    return found


def _public_package(cls: type) -> types.ModuleType:
    """The public package a tlsprobe class belongs to: ``tlsprobe.wire`` for ``tlsprobe.wire._server``."""
    first = cls.__module__.split(".")[1]
    return tlsprobe if first.startswith("_") else importlib.import_module(f"tlsprobe.{first}")


def _exports(module: types.ModuleType, cls: type) -> bool:
    return cls.__name__ in module.__all__ and getattr(module, cls.__name__) is cls


def _result_refs(schema: dict[str, Any]) -> set[str]:
    result = schema["$defs"]["CheckCompleted"]["properties"]["result"]
    return {entry["$ref"] for entry in result["anyOf"]}


@_BY_NAME
def test_every_registered_check_has_a_renderer(check: Check[Any]) -> None:
    # Keyed by the exact type, as render_server looks it up; without it the report falls back to one bare line.
    assert check.result_type in RENDERERS, f"no renderer for {check.result_type.__name__} in _cli/_render.py"


def test_every_renderer_belongs_to_a_registered_check() -> None:
    registered = {check.result_type for check in DEFAULT_CHECKS}
    assert set(RENDERERS) <= registered, "a renderer for a result type no registered check returns"


@_BY_NAME
def test_every_registered_check_and_its_result_are_exported(check: Check[Any]) -> None:
    assert _exports(tlsprobe.checks, type(check)), f"tlsprobe.checks does not export {type(check).__name__}"
    assert _exports(tlsprobe.checks, check.result_type), f"tlsprobe.checks does not export {check.result_type.__name__}"


def test_every_type_a_result_holds_is_exported() -> None:
    # A user can name (and isinstance-test) every record and enum a result holds: from tlsprobe.checks, or from the
    # public package its module belongs to. Foreign types (cryptography's) are theirs to export.
    unexported = sorted(
        f"{cls.__module__}.{cls.__name__}"
        for cls in _types_held_by_results()
        if cls.__module__.startswith("tlsprobe.")
        and not (_exports(tlsprobe.checks, cls) or _exports(_public_package(cls), cls))
    )
    assert unexported == []


def test_every_check_class_is_registered() -> None:
    registered = {type(check) for check in DEFAULT_CHECKS}
    written = _check_classes_in_the_package()
    exported = {
        value for name in tlsprobe.checks.__all__ if hasattr(value := getattr(tlsprobe.checks, name), "result_type")
    }
    assert sorted(cls.__name__ for cls in written - registered) == [], "written but not in DEFAULT_CHECKS"
    assert sorted(cls.__name__ for cls in exported - registered) == [], "exported but not in DEFAULT_CHECKS"


def test_the_schema_covers_every_registered_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json-schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    shipped = json.loads(resources.files("tlsprobe").joinpath("scan-document.schema.json").read_text())
    for schema in (printed, shipped):
        refs = _result_refs(schema)
        for check in DEFAULT_CHECKS:
            name = check.result_type.__name__
            assert f"#/$defs/{name}" in refs and name in schema["$defs"], (
                f"{check.name}: {name} missing from the schema; "
                "regenerate with: tlsprobe --json-schema > src/tlsprobe/scan-document.schema.json"
            )


def test_schema_definition_names_are_unique() -> None:
    # The schema keys each record's definition by its class name: two records of one name would share one.
    records = [cls for cls in _types_held_by_results() if attrs.has(cls)]
    names = [cls.__name__ for cls in records]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []
