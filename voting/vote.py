"""Vectorised voting over augmented predictions.

The reference rule: invert every view's grid to the original frame; per (task, test input) the
candidates are the distinct grids; rank them by how many views produced them, then by the mean
sigmoid(q_halt) of those views, descending. Remaining ties go to the grid seen first in the
prediction stream (what the reference's stable sort does), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from augment.dihedral import SWAPS_AXES, inverse_dihedral
from voting.predictions import Predictions

PASS_KS = (1, 2, 5, 10, 100, 1000)
SUBMITTED_K = 2  # attempts Kaggle scores; pass@K for K > 2 is an oracle, not a submittable score

# Sort keys (most significant first) over per-candidate columns; `first` always closes the tie-break.
RANKERS: dict[str, tuple[str, ...]] = {
    "votes-q": ("votes", "mean_q"),  # the reference rule
    "votes": ("votes",),
    "q": ("mean_q", "votes"),
    "weighted": ("weighted", "mean_q"),  # sum of per-view weights (vote(weights=...)), then confidence
}


@dataclass
class Candidates:
    """Distinct inverted grids per (task, test input), sorted by pair then rank (0 = best)."""

    task_ids: np.ndarray  # (C,) str
    test_index: np.ndarray  # (C,) int64
    rank: np.ndarray  # (C,) int64
    votes: np.ndarray  # (C,) int64
    mean_q: np.ndarray  # (C,) float64, mean sigmoid(q_halt) of the views behind the grid
    shapes: np.ndarray  # (C, 2)
    offsets: np.ndarray  # (C,)
    cells: np.ndarray  # flat uint8

    def __len__(self) -> int:
        return len(self.task_ids)

    def grid(self, i: int) -> np.ndarray:
        h, w = self.shapes[i]
        return self.cells[self.offsets[i] : self.offsets[i] + h * w].reshape(h, w)

    def ranked(self) -> dict[tuple[str, int], list[int]]:
        """Row indices of each pair's candidates, best first."""
        out: dict[tuple[str, int], list[int]] = {}
        for i, (task, idx) in enumerate(zip(self.task_ids.tolist(), self.test_index.tolist())):
            out.setdefault((task, idx), []).append(i)
        return out

    def attempts(self, k: int = SUBMITTED_K) -> dict[tuple[str, int], list[np.ndarray]]:
        """Top-k grids per pair, padded with the best one when fewer than k exist (as the reference).

        Empty grids (a model output that decodes to 0x0) are never submitted: no ARC answer is
        empty and Kaggle rejects them; a pair with nothing else gets no attempts (a fallback).
        """
        result = {}
        nonempty: list[bool] = np.asarray((self.shapes > 0).all(axis=1)).tolist()
        for pair, rows in self.ranked().items():
            grids = [self.grid(i) for i in [r for r in rows if nonempty[r]][:k]]
            if grids:
                result[pair] = grids + [grids[0]] * (k - len(grids))
        return result


def _pair_codes(preds: Predictions) -> np.ndarray:
    """Integer code per row for its (task, test input), numbered in order of first appearance."""
    task_codes, _ = pd.factorize(preds.task_ids, sort=False)
    key = task_codes.astype(np.int64) * (int(preds.test_index.max(initial=0)) + 1) + preds.test_index
    pair, _ = pd.factorize(key, sort=False)
    return pair.astype(np.int64)


def _groups(key: np.ndarray) -> list[np.ndarray]:
    """Row indices per distinct value of `key`, each in stream order."""
    order = np.argsort(key, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(key[order])) + 1) if len(key) else []


def _gather(preds: Predictions, idx: np.ndarray, size: int) -> np.ndarray:
    """(n, size) cells of rows `idx`; a plain slice when they lie back to back (as decode writes them)."""
    start = preds.offsets[idx]
    if np.array_equal(start, start[0] + size * np.arange(len(idx))):
        return preds.cells[start[0] : start[0] + size * len(idx)].reshape(len(idx), size)
    return preds.cells[start[:, None] + np.arange(size)]


def _invert_all(preds: Predictions) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """Invert every grid; grouped by original-frame shape -> (row indices, (n, h*w) cells).

    Work is batched per augmented-frame shape (colours) and per (shape, dihedral id) (geometry),
    so the Python loop runs over a few hundred groups, not over predictions.
    """
    inverse_colors = np.argsort(preds.colors, axis=1).astype(np.uint8).ravel()
    by_shape: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray]]] = {}
    for idx in _groups(preds.shapes[:, 0] * 32 + preds.shapes[:, 1]):
        h, w = (int(x) for x in preds.shapes[idx[0]])
        cells = _gather(preds, idx, h * w)
        # Per-row colour lookup in one gather: row i's table starts at 10 * idx[i].
        cells = np.take(inverse_colors, (idx * 10).astype(np.int32)[:, None] + cells).reshape(len(idx), h, w)
        # Sorted by dihedral id, each id's rows are one slice.
        by_tid = np.argsort(preds.tids[idx], kind="stable")
        idx, cells = idx[by_tid], cells[by_tid]
        tids = preds.tids[idx]
        bounds = [0, *(np.flatnonzero(np.diff(tids)) + 1).tolist(), len(idx)]
        for start, stop in zip(bounds[:-1], bounds[1:]):
            tid = int(tids[start])
            grids = np.ascontiguousarray(inverse_dihedral(cells[start:stop], tid, axes=(1, 2)))
            shape = (w, h) if SWAPS_AXES[tid] else (h, w)
            by_shape.setdefault(shape, []).append((idx[start:stop], grids.reshape(stop - start, h * w)))
    return {
        s: (np.concatenate([i for i, _ in parts]), np.concatenate([c for _, c in parts]))
        for s, parts in by_shape.items()
    }


_HASH_WEIGHTS = np.random.default_rng(20251007).integers(1, 2**63, size=128, dtype=np.uint64) | np.uint64(1)


def _distinct(pair: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (pair, grid) rows of same-shaped grids: (first row of each, row -> its index).

    Rows are hashed to 64 bits (8 cells per multiply) and de-duplicated on the hash; the result is
    then checked cell for cell, and in the (astronomically rare) case of a collision the exact,
    slower byte-wise de-duplication is used instead. Either way the answer is exact.
    """
    n, size = cells.shape
    words = -(-size // 8)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :size] = cells
    with np.errstate(over="ignore"):
        h = padded.view(np.uint64) * _HASH_WEIGHTS[np.arange(words) % len(_HASH_WEIGHTS)]
        key = h.sum(axis=1, dtype=np.uint64) ^ (pair.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if np.array_equal(cells, cells[first][inverse]) and np.array_equal(pair, pair[first][inverse]):
        return first, inverse
    keyed = np.ascontiguousarray(np.concatenate([pair.astype(">u8").view(np.uint8).reshape(-1, 8), cells], axis=1))
    _, first, inverse = np.unique(
        keyed.view(np.dtype((np.void, keyed.shape[1]))).ravel(), return_index=True, return_inverse=True
    )
    return first, inverse.ravel()


def vote(preds: Predictions, rank_by: str = "votes-q", weights: np.ndarray | None = None) -> Candidates:
    """Invert, de-duplicate and rank predictions into candidates (see module docstring); the
    `weighted` ranker counts each view as its entry of `weights` (e.g. a convergence signal)."""
    if rank_by not in RANKERS:
        raise ValueError(f"unknown ranker {rank_by!r}; choose from {', '.join(RANKERS)}")
    if (rank_by == "weighted") != (weights is not None):
        raise ValueError("the weighted ranker needs per-view weights, and only it takes them")
    n = len(preds)
    pair = _pair_codes(preds)

    cand = np.empty(n, dtype=np.int64)
    shapes, offsets, flat = [], [], []
    n_cand, n_cells = 0, 0
    for shape, (idx, cells) in _invert_all(preds).items():
        first_local, inverse = _distinct(pair[idx], cells)
        cand[idx] = n_cand + inverse
        size = shape[0] * shape[1]
        shapes.append(np.tile(shape, (len(first_local), 1)))
        offsets.append(n_cells + size * np.arange(len(first_local)))
        flat.append(cells[first_local].ravel())
        n_cand += len(first_local)
        n_cells += size * len(first_local)

    # bincount accumulates in stream order, so the mean equals the reference's running sum / count.
    confidence = np.where(np.isnan(preds.q_halt), 0.5, expit(np.nan_to_num(preds.q_halt)))
    votes = np.bincount(cand, minlength=n_cand)
    mean_q = np.bincount(cand, weights=confidence, minlength=n_cand) / np.maximum(votes, 1)
    by_cand = np.argsort(cand, kind="stable")
    first = by_cand[np.searchsorted(cand[by_cand], np.arange(n_cand))]

    columns = {"votes": votes, "mean_q": mean_q}
    if weights is not None:
        columns["weighted"] = np.bincount(cand, weights=np.asarray(weights, np.float64), minlength=n_cand)
    sort_keys = [first] + [-columns[c] for c in reversed(RANKERS[rank_by])] + [pair[first]]
    order = np.lexsort(sort_keys)
    pair_sorted = pair[first][order]
    rank = np.arange(n_cand) - np.searchsorted(pair_sorted, pair_sorted, side="left")
    row = first[order]
    return Candidates(
        task_ids=preds.task_ids[row],
        test_index=preds.test_index[row],
        rank=rank,
        votes=votes[order],
        mean_q=mean_q[order],
        shapes=np.concatenate(shapes)[order] if shapes else np.zeros((0, 2), np.int64),
        offsets=np.concatenate(offsets)[order] if offsets else np.zeros(0, np.int64),
        cells=np.concatenate(flat) if flat else np.zeros(0, np.uint8),
    )


def correct_ranks(candidates: Candidates, truth: Mapping[str, Sequence[np.ndarray]]) -> dict[tuple[str, int], int]:
    """Per (task, test input) whose truth is among the candidates, the rank of the right one."""
    found: dict[tuple[str, int], int] = {}
    for pair, rows in candidates.ranked().items():
        outputs = truth.get(pair[0])
        if outputs is None or not 0 <= pair[1] < len(outputs):
            continue
        target = outputs[pair[1]]
        for i in rows:
            if tuple(candidates.shapes[i]) == target.shape and np.array_equal(candidates.grid(i), target):
                found[pair] = int(candidates.rank[i])
                break
    return found


def pass_at_k(
    candidates: Candidates,
    truth: Mapping[str, Sequence[np.ndarray]],
    ks: Sequence[int] = PASS_KS,
) -> dict[int, float]:
    """Per task, the fraction of test outputs whose truth is among the top K candidates, averaged
    over the tasks of `truth` (a pair without predictions counts as unsolved)."""
    best_rank = correct_ranks(candidates, truth)
    result = {}
    for k in ks:
        per_task = [
            np.mean([best_rank.get((task, i), k) < k for i in range(len(outputs))]) for task, outputs in truth.items()
        ]
        result[k] = float(np.mean(per_task)) if per_task else 0.0
    return result
