"""The package's shape holds: imports point one way down the layers of docs/architecture.md,
no two modules import each other round a circle, no module passes 400 lines, and the command
line passes no value typed ``Any``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
PACKAGE = SRC / "pdplan"
MODULES = sorted(PACKAGE.rglob("*.py"))

#: Each component's layer: a module may import its own component or a lower layer.
LAYERS = {
    "base": 0,  # quantiles, units, errors, strict, parallel, lazy
    "queueing": 1,
    "schema": 1,
    "engine": 2,
    "traffic": 2,
    "sim": 3,
    "capacity": 3,
    "plan": 4,
    "measured": 5,
    "export": 5,
    "io": 6,
    "bench": 7,
    "report": 8,
    "cli": 9,
    "data": 0,
    "api": 10,  # pdplan/__init__.py: the public names
    "__main__": 11,
}
_BASE = {"quantiles", "units", "errors", "strict", "parallel", "lazy"}
MAX_LINES = 400


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _component(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    return "base" if parts[1] in _BASE else parts[1]


def _imports(path: Path) -> list[str]:
    """Every pdplan module ``path`` imports (at the top or inside a function)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pdplan"):
            if node.module == "pdplan":
                out.extend(f"pdplan.{a.name}" for a in node.names)
            else:
                out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names if a.name.startswith("pdplan"))
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_imports_point_down_the_layers(path: Path) -> None:
    source = _component(_module(path))
    for target in _imports(path):
        other = _component(target)
        assert other == source or LAYERS[other] < LAYERS[source], (
            f"{_module(path)} ({source}, layer {LAYERS[source]}) imports {target} "
            f"({other}, layer {LAYERS[other]})"
        )


def test_no_import_cycle() -> None:
    names = {_module(p) for p in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        deps = set()
        for target in _imports(path):
            while target not in names and "." in target:  # a name imported from a module
                target = target.rsplit(".", 1)[0]
            if target in names and target != _module(path):
                deps.add(target)
        graph[_module(path)] = deps
    # a package's __init__ re-exporting its own modules is not a cycle through them
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{_module(path)} has {lines} lines (at most {MAX_LINES})"


def test_the_command_line_passes_no_any() -> None:
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "Any" not in names | attrs, path.name
