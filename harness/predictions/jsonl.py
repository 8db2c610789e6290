"""Predictions interchange: JSON Lines, one object per augmented view.

    {"task_id": "00576224", "test_index": 0, "aug": "t3|||0213456789" | null,
     "grid": [[...]], "q_halt_logit": 1.7}

`grid` is in the augmented frame, as the model produced it ([] when it decodes to no grid at
all); `aug` is the reference's suffix (null = identity); `q_halt_logit` is optional. Any
codebase can write this and be voted/scored. The vote's ranked candidates are written as JSON
Lines too (candidates.jsonl, one object per candidate: write_candidates).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from augment import IDENTITY, Transform
from harness.core.errors import DataError, where
from harness.core.grids import grid_to_list, to_grid
from harness.core.io import atomic_write, parse_json
from harness.core.tasks import TaskSet, task_id_problem
from voting import Candidates, Predictions


def _parse_line(obj: Any, loc: str) -> tuple[str, int, Transform, Any, float | None]:
    if not isinstance(obj, dict):
        raise DataError(where(loc, f"expected a JSON object, got {type(obj).__name__}"))
    task_id = obj.get("task_id")
    if not isinstance(task_id, str) or task_id_problem(task_id):
        raise DataError(where(loc, f"task_id: {task_id_problem(task_id)}"))
    index = obj.get("test_index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise DataError(where(loc, f"task {task_id}", f"test_index must be an int >= 0, got {index!r}"))
    aug = obj.get("aug")
    if aug is not None and not isinstance(aug, str):
        raise DataError(where(loc, f"task {task_id}", f"aug must be a string or null, got {aug!r}"))
    try:
        transform = Transform.from_suffix(aug)
    except ValueError as exc:
        raise DataError(where(loc, f"task {task_id}", f"aug: {exc}")) from None
    q = obj.get("q_halt_logit")
    if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float)) or math.isnan(q)):
        raise DataError(where(loc, f"task {task_id}", f"q_halt_logit must be a number or null, got {q!r}"))
    if "grid" not in obj:
        raise DataError(where(loc, f"task {task_id}", "grid missing"))
    # [] is a model output that decodes to nothing: kept (it is a view that voted) but never submitted.
    grid = np.zeros((0, 0), np.uint8) if obj["grid"] == [] else to_grid(obj["grid"], loc, f"task {task_id}", "grid")
    return task_id, index, transform, grid, q


def read_jsonl(path: str | Path, tasks: TaskSet | None = None) -> Predictions:
    """Read and validate a predictions file; with `tasks`, also check ids and test indices exist."""
    path = Path(path)
    rows = []
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                loc = f"{path}:{n}"
                row = _parse_line(parse_json(line, loc), loc)
                if tasks is not None:
                    _check_known(row[0], row[1], tasks, loc)
                rows.append(row)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    if not rows:
        raise DataError(f"{path}: no predictions in this file")
    task_ids, index, transforms, grids, q = zip(*rows)
    return Predictions.from_rows(task_ids, index, transforms, grids, q)


def _check_known(task_id: str, index: int, tasks: TaskSet, loc: str) -> None:
    if task_id not in tasks.tasks:
        raise DataError(where(loc, f"task {task_id}", f"not in {tasks.name}"))
    n = len(tasks[task_id].test_inputs)
    if index >= n:
        raise DataError(where(loc, f"task {task_id}", f"test_index {index} out of range (task has {n} test inputs)"))


def iter_rows(preds: Predictions) -> Iterator[dict[str, Any]]:
    for i in range(len(preds)):
        transform = preds.transform(i)
        q = preds.q_halt[i]
        yield {
            "task_id": str(preds.task_ids[i]),
            "test_index": int(preds.test_index[i]),
            "aug": None if transform == IDENTITY else transform.suffix,
            "grid": grid_to_list(preds.grid(i)),
            "q_halt_logit": None if math.isnan(q) else float(q),
        }


def write_jsonl(preds: Predictions, path: str | Path) -> Path:
    """Write predictions as JSON Lines, atomically."""

    def write(fh: IO) -> None:
        for row in iter_rows(preds):
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")

    return atomic_write(path, write)


def write_candidates(candidates: Candidates, path: Path) -> Path:
    """Ranked candidates as JSON Lines (task_id, test_index, rank, votes, mean_q, grid)."""

    def write(fh: IO) -> None:
        for i in range(len(candidates)):
            fh.write(
                json.dumps(
                    {
                        "task_id": str(candidates.task_ids[i]),
                        "test_index": int(candidates.test_index[i]),
                        "rank": int(candidates.rank[i]),
                        "votes": int(candidates.votes[i]),
                        "mean_q": float(candidates.mean_q[i]),
                        "grid": grid_to_list(candidates.grid(i)),
                    },
                    separators=(",", ":"),
                )
                + "\n"
            )

    return atomic_write(path, write)
