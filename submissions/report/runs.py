"""A run directory as the report sees it: its files, the task set they were scored on, per-output results.

Read: score.json (required: names the task set and its hash), submission.json (required),
run.json (optional metadata: checkpoint, model family and parameter counts, ACT steps, gpu_seconds,
device) and predictions (optional, see harness.predictions.shards). The task set is reloaded by name
and must have the recorded hash, so a report never silently scores against other data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.grids import grid_problem
from harness.core.io import read_json
from harness.core.sources import load_tasks
from harness.core.tasks import TaskSet
from harness.predictions.shards import RunPredictions, find_predictions
from submissions.score import Score, score_submission
from submissions.submission import read_submission
from submissions.validate import ATTEMPT_KEYS


def recorded_nfe(meta: Mapping[str, Any]) -> float | None:
    """Network applications per task a run.json records (None for older runs and baselines)."""
    value = meta.get("nfe_per_task")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class Run:
    """One evaluated run: what it submitted, on which tasks, and how each test output fared."""

    name: str
    path: Path
    summary: dict[str, Any]  # score.json
    meta: dict[str, Any]  # run.json, {} when absent
    tasks: TaskSet
    submission: dict[str, Any]

    @cached_property
    def outputs(self) -> pd.DataFrame:
        """One row per test output: task_id, test_index, attempt_1, attempt_2 (bool: equals truth), solved."""
        return per_output(self.submission, self.tasks.solutions())

    @cached_property
    def pass2(self) -> Score:
        """The Kaggle score (either attempt counts)."""
        return score_submission(self.submission, self.tasks.solutions(), self.tasks.name, self.tasks.hash)

    @cached_property
    def pass1(self) -> Score:
        """The score had only attempt_1 been submitted."""
        first = {
            t: [{k: e.get("attempt_1") for k in ATTEMPT_KEYS} if isinstance(e, dict) else e for e in v]
            if isinstance(v, list)
            else v
            for t, v in self.submission.items()
        }
        return score_submission(first, self.tasks.solutions(), self.tasks.name, self.tasks.hash)

    @property
    def family(self) -> str | None:
        """The model family run.json records (None for older runs and baselines)."""
        value = self.meta.get("family")
        return value if isinstance(value, str) else None

    @property
    def nfe_per_task(self) -> float | None:
        return recorded_nfe(self.meta)

    @property
    def parameters(self) -> dict[str, int] | None:
        """Weight counts run.json records, {"network", "puzzle_embedding"} (None when not recorded)."""
        value = self.meta.get("parameters")
        keys = ("network", "puzzle_embedding")
        if isinstance(value, dict) and all(type(value.get(k)) is int for k in keys):
            return {k: value[k] for k in keys}
        return None

    @cached_property
    def predictions(self) -> RunPredictions | None:
        """The run's views, when it kept them (None otherwise)."""
        return find_predictions(self.path, self.tasks)


def attempt_grid(submission: Mapping[str, Any], task_id: str, index: int, key: str) -> np.ndarray | None:
    """One attempt as a grid, or None when missing or malformed."""
    entries = submission.get(task_id)
    if not isinstance(entries, list) or index >= len(entries) or not isinstance(entries[index], dict):
        return None
    value = entries[index].get(key)
    return None if grid_problem(value) is not None else np.asarray(value, dtype=np.uint8)


def per_output(submission: Mapping[str, Any], truth: Mapping[str, list[np.ndarray]]) -> pd.DataFrame:
    """Which attempt, if any, equals the truth, for every test output of `truth` (its order kept)."""
    rows = []
    for task_id, outputs in truth.items():
        for i, target in enumerate(outputs):
            hits = []
            for key in ATTEMPT_KEYS:
                grid = attempt_grid(submission, task_id, i, key)
                hits.append(grid is not None and np.array_equal(grid, target))
            rows.append((task_id, i, *hits, any(hits)))
    return pd.DataFrame(rows, columns=["task_id", "test_index", "attempt_1", "attempt_2", "solved"])


def _run_names(paths: list[Path]) -> list[str]:
    """The shortest trailing path that tells the runs apart (`symmetry`, or `a/symmetry` vs `b/symmetry`)."""
    for depth in range(1, max(len(p.parts) for p in paths) + 1):
        names = ["/".join(p.parts[-depth:]) for p in paths]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]


def load_runs(paths: Sequence[str | Path]) -> list[Run]:
    """Load run directories, each task set once, verifying every run's recorded data set hash."""
    resolved = [Path(p).resolve() for p in paths]
    if len(set(resolved)) != len(resolved):
        raise DataError("the same run directory is given twice")
    cache: dict[str, TaskSet] = {}
    runs = []
    for name, path in zip(_run_names(resolved), resolved):
        runs.append(load_run(path, name, cache))
    return runs


def load_run(path: Path, name: str, cache: dict[str, TaskSet]) -> Run:
    """One run directory; `cache` shares task sets between runs scored on the same one."""
    if not path.is_dir():
        raise DataError(f"{path}: not a run directory")
    for required in (rundir.SCORE, rundir.SUBMISSION):
        if not (path / required).is_file():
            raise DataError(
                f"{path}: no {required} (a run directory holds submission.json and score.json; "
                f"make one with `trm-eval demo`, `vote` or `evaluate`)"
            )
    summary = read_json(path / rundir.SCORE)
    if (
        not isinstance(summary, dict)
        or not isinstance(summary.get("tasks"), str)
        or not isinstance(summary.get("tasks_hash"), str)
    ):
        raise DataError(f'{path}/score.json: needs the task set as "tasks" and its sha256 as "tasks_hash"')
    spec, recorded = summary["tasks"], summary["tasks_hash"]
    if spec not in cache:
        cache[spec] = load_tasks(spec)
    tasks = cache[spec]
    if tasks.hash != recorded:
        raise DataError(
            f"{path}/score.json: task set {spec} now has sha256 {tasks.hash[:12]}, but the run "
            f"was scored on {recorded[:12]}: the data changed or is another version"
        )
    if not tasks.has_solutions:
        raise DataError(f"{path}: task set {spec} has no test outputs; a report needs the truth")
    meta_path = path / rundir.EVALUATION_RECORD
    meta = read_json(meta_path) if meta_path.is_file() else {}
    if not isinstance(meta, dict):
        raise DataError(f"{meta_path}: expected a JSON object")
    return Run(name, path, summary, meta, tasks, read_submission(path / rundir.SUBMISSION))
