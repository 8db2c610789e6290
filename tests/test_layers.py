"""Data flows one way: every project import (module level or inside a function) goes to a package
this one may use, and no chain of module-level imports comes back to where it started."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("augment", "voting", "models", "harness", "submissions")

# What each part may import besides itself; the order of this table is the pipeline, bottom up.
ALLOWED: dict[str, set[str]] = {
    "harness": set(),  # the package docstring only
    "augment": set(),
    "voting": {"augment"},
    "models": set(),
    "harness.core": set(),
    "harness.data": {"harness.core", "augment"},
    "harness.predictions": {"harness.core", "harness.data", "augment", "voting"},
    "submissions": {"harness.core", "harness.predictions", "voting", "augment"},
    "harness.config": {"harness.core", "harness.data", "models", "voting"},
    "harness.baselines": {"harness.core", "augment", "voting"},
    "harness.pipeline": {"harness.core", "harness.predictions", "harness.baselines", "submissions", "voting"},
    "harness.infer": {
        "harness.core",
        "harness.data",
        "harness.predictions",
        "harness.config",
        "harness.pipeline",
        "models",
        "voting",
        "augment",
    },
    "harness.train": {"harness.core", "harness.data", "harness.config", "harness.infer", "models", "voting"},
    "harness.demo": {
        "harness.core",
        "harness.data",
        "harness.predictions",
        "harness.config",
        "harness.infer",
        "harness.train",
        "harness.pipeline",
        "harness.baselines",
        "submissions",
        "voting",
    },
    "harness.kaggle": {
        "harness.core",
        "harness.data",
        "harness.predictions",
        "harness.config",
        "harness.infer",
        "harness.train",
        "harness.pipeline",
        "submissions",
        "voting",
        "models",
    },
    "harness.cli": {"harness", "submissions", "models", "voting", "augment"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _part(module: str) -> str:
    """The ALLOWED entry a module belongs to (its longest listed prefix)."""
    for name in sorted(ALLOWED, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} belongs to no part of the layering table")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported project module, at module level?) for every import statement in the file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] in PACKAGES:
                found.append((name, id(node) in top))
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def test_every_import_points_down_the_pipeline():
    modules = _modules()
    wrong = []
    for module, path in modules.items():
        mine = _part(module)
        for name, _ in _imports(path):
            target = _resolve(name, modules)
            if target is None:
                continue
            theirs = _part(target)
            allowed = ALLOWED[mine] | {mine}
            if not any(theirs == a or theirs.startswith(a + ".") for a in allowed):
                wrong.append(f"{module} imports {target} ({theirs} is not in {mine}'s list)")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_cycles():
    modules = _modules()
    graph = {
        m: {t for n, top in _imports(p) if top and (t := _resolve(n, modules)) and t != m} for m, p in modules.items()
    }
    # A package's __init__ importing its own submodules is how packages export names, not a cycle.
    for m in graph:
        graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(t) :] + [t]))
            if t not in state:
                visit(t, trail + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_table_names_every_part():
    unplaced = [m for m in _modules() if m != "harness" and _part(m) == "harness"]
    assert not unplaced, f"add these to the layering table: {unplaced}"
