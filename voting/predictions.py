"""Columnar predictions: one row per evaluated view, grids in a flat ragged buffer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from augment import Transform


@dataclass
class Predictions:
    """One row per augmented view. Grids are in the augmented frame, as the model produced them.

    `cells` holds every grid's cells back to back (row-major); row i is
    `cells[offsets[i]:offsets[i] + h*w]` reshaped to `shapes[i]`. `q_halt` is the raw logit,
    NaN where the producer gave none.
    """

    task_ids: np.ndarray  # (N,) str
    test_index: np.ndarray  # (N,) int64
    tids: np.ndarray  # (N,) int8, dihedral id of the view
    colors: np.ndarray  # (N, 10) uint8, colour map of the view
    shapes: np.ndarray  # (N, 2) int64
    offsets: np.ndarray  # (N,) int64
    cells: np.ndarray  # (sum h*w,) uint8
    q_halt: np.ndarray  # (N,) float64

    def __len__(self) -> int:
        return len(self.task_ids)

    def subset(self, idx: np.ndarray) -> Predictions:
        """The rows `idx` (indices or a boolean mask); the cell buffer is shared, not copied."""
        idx = np.flatnonzero(idx) if np.asarray(idx).dtype == bool else np.asarray(idx)
        return Predictions(
            self.task_ids[idx],
            self.test_index[idx],
            self.tids[idx],
            self.colors[idx],
            self.shapes[idx],
            self.offsets[idx],
            self.cells,
            self.q_halt[idx],
        )

    def grid(self, i: int) -> np.ndarray:
        h, w = self.shapes[i]
        return self.cells[self.offsets[i] : self.offsets[i] + h * w].reshape(h, w)

    def transform(self, i: int) -> Transform:
        return Transform(int(self.tids[i]), tuple(int(c) for c in self.colors[i]))

    @classmethod
    def from_rows(
        cls,
        task_ids: Sequence[str],
        test_index: Sequence[int],
        transforms: Sequence[Transform],
        grids: Sequence[np.ndarray],
        q_halt: Iterable[float | None] | None = None,
    ) -> Predictions:
        """Build from per-view Python objects (grids already validated as uint8 0..9)."""
        n = len(task_ids)
        shapes = np.array([g.shape for g in grids], dtype=np.int64).reshape(n, 2)
        sizes = shapes[:, 0] * shapes[:, 1]
        offsets = np.zeros(n, dtype=np.int64)
        np.cumsum(sizes[:-1], out=offsets[1:])
        cells = np.concatenate([np.asarray(g, dtype=np.uint8).ravel() for g in grids]) if n else np.zeros(0, np.uint8)
        q = (
            np.full(n, np.nan)
            if q_halt is None
            else np.array([np.nan if v is None else float(v) for v in q_halt], dtype=np.float64)
        )
        return cls(
            task_ids=np.asarray(task_ids, dtype=str),
            test_index=np.asarray(test_index, dtype=np.int64),
            tids=np.array([t.tid for t in transforms], dtype=np.int8),
            colors=np.array([t.colors for t in transforms], dtype=np.uint8).reshape(n, 10),
            shapes=shapes,
            offsets=offsets,
            cells=cells,
            q_halt=q,
        )

    @classmethod
    def concat(cls, parts: Sequence[Predictions]) -> Predictions:
        """Stack prediction tables (e.g. shards from several ranks), preserving order."""
        sizes = [len(p.cells) for p in parts]
        shift = np.cumsum([0, *sizes[:-1]])
        return cls(
            task_ids=np.concatenate([p.task_ids for p in parts]),
            test_index=np.concatenate([p.test_index for p in parts]),
            tids=np.concatenate([p.tids for p in parts]),
            colors=np.concatenate([p.colors for p in parts]),
            shapes=np.concatenate([p.shapes for p in parts]),
            offsets=np.concatenate([p.offsets + s for p, s in zip(parts, shift)]),
            cells=np.concatenate([p.cells for p in parts]),
            q_halt=np.concatenate([p.q_halt for p in parts]),
        )
