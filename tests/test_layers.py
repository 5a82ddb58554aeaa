"""The layers of ``src/tlsprobe``, as ARCHITECTURE.md draws them, enforced on the import graph.

Every import of tlsprobe code counts: at module level, inside functions, and under ``TYPE_CHECKING`` (a type-only
import is still a dependency a reader has to follow). A package may import only from the layers below its own;
packages of one layer do not import one another; no module imports, directly or not, a module that imports it.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsprobe

_SOURCE = Path(tlsprobe.__file__).parent

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leaves: the exception tree and the version", ("_exceptions", "_version")),
    ("pure protocols and judgement of certificates", ("wire", "trust")),
    ("pure records: configuration, results, JSON", ("_model",)),
    ("sockets, permits, retries, STARTTLS, proxies", ("_net",)),
    ("nassl handshakes in worker threads", ("_tls",)),
    ("talking to one server: prober, connectivity, ServerContext", ("_probing",)),
    ("the checks", ("checks",)),
    ("judging results: findings, grades, compliance", ("policy",)),
    (
        "the engine, the results store, fleet monitoring, HTML reports, and test servers and fakes for users",
        ("_engine", "store", "monitoring", "report", "testing"),
    ),
    ("scale-out on Ray", ("distributed",)),
    ("front ends", ("_cli", "integrations")),
    ("the public surface", ("__init__", "__main__")),
)
"""Lowest first; each entry names the top-level packages or modules of ``tlsprobe`` in that layer."""

_RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
_NO_IO = ("socket", "ssl", "anyio", "nassl", "asyncio", "selectors", "subprocess")


def _module_name(path: Path) -> str:
    parts = path.relative_to(_SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(_SOURCE.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> Iterator[str]:
    """Every module named by an import in ``path``: tlsprobe's own, and foreign ones (for the no-I/O rule)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            # ``from package import submodule`` depends on the submodule itself.
            yield from (f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {imported for imported in _imports(path, known) if imported in known and imported != name}
        for name, path in modules.items()
    }


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = sorted({_unit(module) for module in _modules()} - set(_RANK))
    assert unplaced == [], f"place these in LAYERS (and in ARCHITECTURE.md): {unplaced}"


def test_no_import_goes_up_or_sideways() -> None:
    wrong = sorted(
        f"{importer} -> {imported}"
        for importer, imports in _graph().items()
        for imported in imports
        if _unit(importer) != _unit(imported) and _RANK[_unit(imported)] >= _RANK[_unit(importer)]
    )
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = itertools.count()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = next(counter)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = next(counter)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("unit", ["wire", "trust", "_model", "_exceptions", "_version"])
def test_the_pure_layers_do_no_io(unit: str) -> None:
    modules = _modules()
    known = set(modules)
    foreign = sorted(
        f"{name} imports {imported}"
        for name, path in modules.items()
        if _unit(name) == unit
        for imported in _imports(path, known)
        if imported.split(".")[0] in _NO_IO
    )
    assert foreign == []


def test_only_the_tls_package_imports_nassl() -> None:
    modules = _modules()
    known = set(modules)
    outside = sorted(
        name
        for name, path in modules.items()
        if _unit(name) != "_tls" and any(imported.split(".")[0] == "nassl" for imported in _imports(path, known))
    )
    assert outside == []
