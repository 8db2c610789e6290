"""Build a complete Kaggle submission from attempts, with fallbacks counted, and write it atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import DataError
from harness.core.grids import grid_to_list
from harness.core.io import read_json, write_json
from harness.core.tasks import TaskSet

N_ATTEMPTS = 2


@dataclass
class Submission:
    """The Kaggle dict `{task_id: [{"attempt_1": grid, "attempt_2": grid}, ...]}` plus what was filled in."""

    entries: dict[str, list[dict[str, list[list[int]]]]]
    fallbacks: list[tuple[str, int]] = field(default_factory=list)  # (task, test index) with no prediction


def build_submission(tasks: TaskSet, attempts: dict[tuple[str, int], list[np.ndarray]]) -> Submission:
    """One entry per test input of every task, in order; where no prediction exists both attempts
    are a copy of the test input (a valid, occasionally right guess) and the pair is recorded."""
    entries, fallbacks = {}, []
    for task in tasks:
        rows = []
        for i, test_input in enumerate(task.test_inputs):
            grids = attempts.get((task.id, i))
            if not grids:
                fallbacks.append((task.id, i))
                grids = [test_input]
            grids = list(grids[:N_ATTEMPTS]) + [grids[0]] * (N_ATTEMPTS - len(grids))
            rows.append({f"attempt_{k + 1}": grid_to_list(g) for k, g in enumerate(grids)})
        entries[task.id] = rows
    return Submission(entries, fallbacks)


def write_submission(submission: Submission, path: str | Path) -> Path:
    """Write submission.json atomically (compact, as Kaggle's own samples)."""
    return write_json(path, submission.entries, separators=(",", ":"))


def read_submission(path: str | Path) -> dict[str, Any]:
    """Load a submission file as raw JSON (validation reports what is wrong inside it)."""
    raw = read_json(Path(path))
    if not isinstance(raw, dict):
        raise DataError(f"{path}: a submission must be a JSON object {{task_id: [...]}}, got {type(raw).__name__}")
    return raw
