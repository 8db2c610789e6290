"""A sweep's per-task scores: for every cell (a row of cells.csv, same order) each task's score, so
two cells, two sweeps or a sweep and an evaluation run can be compared paired over tasks later
without rescoring the recording.

`<sweep>/cell_scores.npz`: `tasks` (T,) str, the task (ARC) or puzzle ids in a fixed order;
`scores` (C, T) float32, the cell's metric per task (ARC: the Kaggle pass@2 fraction of the task's
test outputs; Sudoku and Maze: 1.0 for a puzzle solved exactly, else 0.0); `metric` () str, the
column of cells.csv those scores average to. Written atomically; a damaged file is a DataError.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write


@dataclass(frozen=True)
class CellScores:
    tasks: np.ndarray  # (T,) str
    scores: np.ndarray  # (C, T) float32, rows in cells.csv order
    metric: str  # "pass2" (ARC) or "exact" (puzzles)


def save_cell_scores(path: Path, cell_scores: CellScores) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        tasks=np.asarray(cell_scores.tasks, str),
        scores=np.asarray(cell_scores.scores, np.float32),
        metric=np.asarray(cell_scores.metric),
    )
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), mode="wb")


def load_cell_scores(path: Path, n_cells: int | None = None) -> CellScores:
    """The file at `path`, checked against the number of cells its cells.csv has (when given)."""
    if not Path(path).is_file():
        raise DataError(f"{path}: missing (sweeps made before cell scores existed have none); rerun the sweep")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("tasks", "scores", "metric") if k not in z.files]
            if missing:
                raise DataError(f"{path}: not a sweep's cell scores (no {', '.join(missing)})")
            tasks, scores, metric = z["tasks"], z["scores"], z["metric"]
            metric = str(metric) if metric.shape == () else ""
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: damaged cell scores: {first_line(exc)}") from None
    if scores.dtype.kind != "f" or tasks.dtype.kind != "U" or metric not in ("pass2", "exact"):
        raise DataError(f"{path}: scores must be floats, tasks strings and metric pass2 or exact")
    if scores.ndim != 2 or tasks.ndim != 1 or scores.shape[1] != len(tasks):
        raise DataError(f"{path}: scores of shape {scores.shape} do not match {len(tasks)} tasks")
    if n_cells is not None and scores.shape[0] != n_cells:
        raise DataError(f"{path}: scores for {scores.shape[0]} cells, but cells.csv has {n_cells}; rerun the sweep")
    if not np.isfinite(scores).all() or (scores < 0).any() or (scores > 1).any():
        raise DataError(f"{path}: scores outside [0, 1]")
    return CellScores(tasks, scores, metric)
