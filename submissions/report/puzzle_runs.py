"""A Sudoku or maze evaluation folder as the report sees it.

Read: score.json (a PuzzleScoreRecord, told apart from ARC's by its `benchmark` key; required),
run.json (optional metadata, as for ARC runs) and the prediction shards (optional: the pictures
need them). The puzzle set is reloaded by the name score.json records and must still have its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.core import rundir
from harness.core.benchmarks import load_any
from harness.core.errors import DataError
from harness.core.io import read_json
from harness.core.puzzles import KINDS, PuzzleSet
from harness.predictions.puzzle_shards import PuzzlePredictions, find_puzzle_chunks, read_puzzle_predictions
from submissions.report.runs import recorded_nfe


def is_puzzle_run(path: Path) -> bool:
    """Whether `path` holds a Sudoku or maze evaluation (its score.json names the benchmark)."""
    score = path / rundir.SCORE
    if not score.is_file():
        return False
    summary = read_json(score)
    return isinstance(summary, dict) and summary.get("benchmark") in KINDS


@dataclass
class PuzzleRun:
    name: str
    path: Path
    summary: dict[str, Any]  # score.json
    meta: dict[str, Any]  # run.json, {} when absent
    puzzles: PuzzleSet

    @property
    def family(self) -> str | None:
        value = self.meta.get("family")
        return value if isinstance(value, str) else None

    @property
    def nfe_per_task(self) -> float | None:
        return recorded_nfe(self.meta)

    @cached_property
    def predictions(self) -> PuzzlePredictions | None:
        """The run's predictions when it kept its shards (None otherwise)."""
        folder = self.path / rundir.PREDICTIONS
        return read_puzzle_predictions(folder, self.puzzles) if find_puzzle_chunks(folder) else None


def load_puzzle_runs(paths: list[Path], names: list[str]) -> list[PuzzleRun]:
    """Load the folders, each set once, verifying every run's recorded set hash."""
    cache: dict[str, PuzzleSet] = {}
    runs = []
    for name, path in zip(names, paths):
        summary = read_json(path / rundir.SCORE)
        spec, recorded = summary.get("tasks"), summary.get("tasks_hash")
        if not isinstance(spec, str) or not isinstance(recorded, str):
            raise DataError(f'{path}/score.json: needs the puzzle set as "tasks" and its sha256 as "tasks_hash"')
        if spec not in cache:
            loaded = load_any(spec)
            if not isinstance(loaded, PuzzleSet):
                raise DataError(f"{path}/score.json: {spec} is not a Sudoku or maze set")
            cache[spec] = loaded
        if cache[spec].hash != recorded:
            raise DataError(
                f"{path}/score.json: puzzle set {spec} now has sha256 {cache[spec].hash[:12]}, but the "
                f"run was scored on {recorded[:12]}: the data changed or is another version"
            )
        meta_path = path / rundir.EVALUATION_RECORD
        meta = read_json(meta_path) if meta_path.is_file() else {}
        if not isinstance(meta, dict):
            raise DataError(f"{meta_path}: expected a JSON object")
        runs.append(PuzzleRun(name, path, summary, meta, cache[spec]))
    return runs
