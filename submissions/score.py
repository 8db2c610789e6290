"""Score a submission exactly as Kaggle does: per task, solved outputs / outputs; mean over tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.core.grids import grid_problem
from submissions.validate import ATTEMPT_KEYS

BOOTSTRAP_SAMPLES = 10_000


@dataclass
class Score:
    """Overall and per-task results; `per_task` has one row per task of the reference set."""

    per_task: pd.DataFrame  # task_id, outputs, solved, score, missing
    dataset: str
    dataset_hash: str

    @property
    def score(self) -> float:
        """The Kaggle score: mean over tasks of solved outputs / outputs."""
        return float(self.per_task["score"].mean()) if len(self.per_task) else 0.0

    @property
    def outputs_solved(self) -> int:
        return int(self.per_task["solved"].sum())

    @property
    def outputs_total(self) -> int:
        return int(self.per_task["outputs"].sum())

    @property
    def tasks_fully_solved(self) -> int:
        return int((self.per_task["solved"] == self.per_task["outputs"]).sum())

    def interval(self, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap over tasks (seeded, so the same data gives the same interval)."""
        values = self.per_task["score"].to_numpy(dtype=float)
        if len(values) == 0:
            return (0.0, 0.0)
        rng = np.random.default_rng(seed)
        means = values[rng.integers(0, len(values), (BOOTSTRAP_SAMPLES, len(values)))].mean(axis=1)
        tail = (1 - level) / 2
        lo, hi = np.quantile(means, [tail, 1 - tail])
        return float(lo), float(hi)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {
            "dataset": self.dataset,
            "dataset_hash": self.dataset_hash,
            "score": self.score,
            "ci95": [lo, hi],
            "tasks": len(self.per_task),
            "tasks_fully_solved": self.tasks_fully_solved,
            "tasks_missing": int(self.per_task["missing"].sum()),
            "outputs": self.outputs_total,
            "outputs_solved": self.outputs_solved,
            "output_score": self.outputs_solved / self.outputs_total if self.outputs_total else 0.0,
        }


def _attempt_matches(attempt: Any, truth: np.ndarray) -> bool:
    if grid_problem(attempt) is not None:
        return False
    return np.array_equal(np.asarray(attempt), truth)


def score_submission(
    raw: Mapping[str, Any],
    truth: Mapping[str, Sequence[np.ndarray]],
    dataset: str = "",
    dataset_hash: str = "",
) -> Score:
    """Score parsed submission JSON against the truth of every task in `truth` (its order kept).

    A missing task scores 0; a malformed entry or attempt counts as not solved. Validate first
    (submissions.validate) to tell those apart from wrong answers.
    """
    rows = []
    for task_id, outputs in truth.items():
        entries = raw.get(task_id)
        missing = not isinstance(entries, list)
        solved = 0
        for i, target in enumerate(outputs):
            if not isinstance(entries, list) or i >= len(entries) or not isinstance(entries[i], dict):
                continue
            solved += any(_attempt_matches(entries[i].get(k), target) for k in ATTEMPT_KEYS)
        rows.append((task_id, len(outputs), solved, solved / len(outputs), missing))
    per_task = pd.DataFrame(rows, columns=["task_id", "outputs", "solved", "score", "missing"])
    return Score(per_task, dataset, dataset_hash)
