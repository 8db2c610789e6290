"""The benchmark registry: each task family with its built-in sets, how a set spec is loaded, and
how many answers per test input are scored.

Two shapes of data so far, so `load` returns one of two types: ARC's TaskSet (demonstrations,
several test inputs per task) and the single-answer PuzzleSet of Sudoku and Maze (one test input
and its one answer per puzzle). Both offer what the listing and a score record need: len,
n_test_inputs, n_test_outputs, hash. Anything past that is the family's own business."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import DataError
from harness.core.puzzle_npy import is_reference_split
from harness.core.puzzle_sources import PUZZLE_SETS, GeneratedSet, load_puzzles
from harness.core.puzzles import Kind, PuzzleSet
from harness.core.sources import BUILTIN_SETS, BuiltinSet, load_tasks
from harness.core.tasks import TaskSet


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    sets: Mapping[str, BuiltinSet | GeneratedSet]  # built-in sets, shipped offline or generated from fixed seeds
    load: Callable[[str | Path, str | Path | None], TaskSet | PuzzleSet]  # a set spec (name, file, folder) -> set
    attempts: int  # answers submitted and scored per test input


def _puzzle_loader(kind: Kind) -> Callable[[str | Path, str | Path | None], PuzzleSet]:
    """`load` for a puzzle family: built-in names and sapientinc-format CSV files of that kind."""

    def load(spec: str | Path, solutions: str | Path | None = None) -> PuzzleSet:
        if solutions is not None:
            raise DataError(f"{spec}: a {kind} set carries its answers; drop --solutions")
        return load_puzzles(spec, kind)

    return load


BENCHMARKS: dict[str, Benchmark] = {
    "arc": Benchmark(
        "arc",
        "ARC-AGI: grid puzzles from a few demonstrations; two attempts per test input, scored as ARC Prize / Kaggle do",
        BUILTIN_SETS,
        load_tasks,
        attempts=2,
    ),
    "sudoku": Benchmark(
        "sudoku",
        "Sudoku (Sudoku-Extreme's CSV, or generated n x n with a unique solution): "
        "one answer per puzzle, exact match of every cell",
        {n: s for n, s in PUZZLE_SETS.items() if s.kind == "sudoku"},
        _puzzle_loader("sudoku"),
        attempts=1,
    ),
    "maze": Benchmark(
        "maze",
        "Maze (Maze-Hard's CSV, or generated with a unique shortest path): one answer per "
        "puzzle, exact match of every cell",
        {n: s for n, s in PUZZLE_SETS.items() if s.kind == "maze"},
        _puzzle_loader("maze"),
        attempts=1,
    ),
}


def benchmark_of_set(name: str) -> Benchmark | None:
    """The benchmark a built-in set belongs to (None for a file or folder)."""
    return next((b for b in BENCHMARKS.values() if name in b.sets), None)


def load_any(spec: str | Path, solutions: str | Path | None = None) -> TaskSet | PuzzleSet:
    """Any benchmark's set spec: a built-in name of any family, a CSV file or reference .npy split
    (puzzles), else ARC (a Kaggle challenges file or a folder of tasks)."""
    benchmark = benchmark_of_set(str(spec))
    if benchmark is not None:
        return benchmark.load(spec, solutions)
    if is_puzzle_spec(spec):
        if solutions is not None:
            raise DataError(f"{spec}: a puzzle set carries its answers; drop --solutions")
        return load_puzzles(spec)
    return load_tasks(spec, solutions)


def is_puzzle_spec(spec: str | Path) -> bool:
    """Whether a set spec names a Sudoku or maze set (built-in, CSV, or a reference .npy split), without
    loading it: commands choose their path (ARC or puzzles) by this."""
    benchmark = benchmark_of_set(str(spec))
    if benchmark is not None:
        return benchmark.name != "arc"
    path = Path(spec)
    return path.suffix == ".csv" or is_reference_split(path) or (not path.exists() and Path(f"{spec}.csv").is_file())
