"""The benchmark registry: each task family with its built-in sets, how a set spec is loaded, and
how many answers per test input are scored. ARC is the only entry so far; the interface grows
from the next real entry (Sudoku, Maze), not ahead of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.core.sources import BUILTIN_SETS, BuiltinSet, load_tasks
from harness.core.tasks import TaskSet


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    sets: Mapping[str, BuiltinSet]  # built-in sets, shipped offline
    load: Callable[[str | Path, str | Path | None], TaskSet]  # a set spec (name, file, folder) -> tasks
    attempts: int  # answers submitted and scored per test input


BENCHMARKS: dict[str, Benchmark] = {
    "arc": Benchmark("arc", "ARC-AGI: grid puzzles from a few demonstrations; two attempts per test input, "
                     "scored as ARC Prize / Kaggle do", BUILTIN_SETS, load_tasks, attempts=2),
}


def benchmark_of_set(name: str) -> Benchmark | None:
    """The benchmark a built-in set belongs to (None for a file or folder)."""
    return next((b for b in BENCHMARKS.values() if name in b.sets), None)
