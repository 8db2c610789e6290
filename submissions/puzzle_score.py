"""Scores of Sudoku and maze predictions, as the paper reports them and what it leaves out.

Exact accuracy (every cell equals the answer: the paper's metric) with a 95% Wilson interval;
per-cell accuracy over all cells and over the cells a question leaves open (copying the givens is
free); exact accuracy per difficulty-rating bucket; and for mazes whether a prediction is one valid
start-to-goal path even where it is not the label's (a second route is right, not an error of the
model, though exact match counts it wrong). A puzzle without a prediction counts as wrong.
"""

from __future__ import annotations

import math

import numpy as np

from harness.core import rundir
from harness.core.puzzles import GOAL, OPEN, PATH, START, PuzzleSet
from harness.predictions.puzzle_shards import INVALID, PuzzlePredictions

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile
MAX_VALUE_BUCKETS = 8  # up to this many distinct ratings: one bucket each; more: quintiles
# The published test sets, known by shape (they cannot be downloaded here to pin their hashes).
PUBLISHED_SETS = {("sudoku", 9, 423_168): "sudoku-extreme/test", ("maze", 30, 1000): "maze-30x30-hard-1k/test"}


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n: unlike the normal one, sane at 0% and 100%."""
    if n == 0:
        return 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def published_set(puzzles: PuzzleSet) -> str | None:
    """Which published test set this is (never a generated one), by kind, side and count."""
    if any(name.startswith("generated:") for name in puzzles.source_names):
        return None
    return PUBLISHED_SETS.get((puzzles.kind, puzzles.side, len(puzzles)))


def rating_buckets(ratings: np.ndarray) -> list[tuple[int, int]]:
    """(low, high) rating ranges, both ends included: one per value when there are few distinct ratings,
    else quintiles cut at integers (fewer when ratings repeat). Unknown ratings (-1) are left out."""
    known = ratings[ratings >= 0]
    values = np.unique(known)
    if len(values) <= MAX_VALUE_BUCKETS:
        return [(int(v), int(v)) for v in values]
    cuts = np.unique(np.ceil(np.quantile(known, np.linspace(0, 1, 6)[1:-1])).astype(np.int64))
    lows = [int(values[0]), *(int(c) for c in cuts if c > values[0])]
    highs = [low - 1 for low in lows[1:]] + [int(values[-1])]
    return list(zip(lows, highs))


def valid_paths(questions: np.ndarray, predicted: np.ndarray, side: int) -> np.ndarray:
    """Per maze: the prediction keeps every wall, S and G, marks only open cells as path, and its path
    cells with S and G form one simple S -> G path (S and G touch one path cell, every path cell two,
    all of them reached from S). A path with a chord (two path cells side by side that the route does
    not join) fails: a route through a corridor is what a maze answer draws."""
    q = questions.reshape(-1, side, side)
    a = predicted.reshape(-1, side, side)
    kept = ((q == OPEN) & ((a == OPEN) | (a == PATH))) | ((q != OPEN) & (a == q))
    on = (a == PATH) | (a == START) | (a == GOAL)
    padded = np.pad(on, ((0, 0), (1, 1), (1, 1)))
    degree = padded[:, :-2, 1:-1].astype(np.int8) + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
    ends = (a == START) | (a == GOAL)
    ok = kept.all((1, 2)) & ((degree == 1) | ~ends).all((1, 2)) & ((degree == 2) | (a != PATH)).all((1, 2))
    reached = on & (a == START)
    while True:  # flood from S over path cells, every maze at once
        grown = reached.copy()
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown[:, :, 1:] |= reached[:, :, :-1]
        grown[:, :, :-1] |= reached[:, :, 1:]
        grown &= on
        if np.array_equal(grown, reached):
            break
        reached = grown
    return ok & (reached == on).all((1, 2))


def _aligned(puzzles: PuzzleSet, index: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Predicted cells for every puzzle of the set, in set order (INVALID where none was made)."""
    full = np.full(puzzles.answers.shape, INVALID, dtype=np.uint8)
    full[index] = cells
    return full


def score_puzzles(puzzles: PuzzleSet, preds: PuzzlePredictions, source: str) -> rundir.PuzzleScoreRecord:
    """Every number of score.json for `preds` against the set's answers."""
    cells = _aligned(puzzles, preds.index, preds.cells)
    correct = cells == puzzles.answers
    exact = correct.all(axis=1)
    n, k = len(puzzles), int(exact.sum())
    open_cells = puzzles.questions == (OPEN if puzzles.kind == "maze" else 0)
    buckets: list[rundir.RatingBucket] = []
    for low, high in rating_buckets(puzzles.ratings):
        inside = (puzzles.ratings >= low) & (puzzles.ratings <= high)
        hits = int(exact[inside].sum())
        buckets.append(
            {
                "low": low,
                "high": high,
                "puzzles": int(inside.sum()),
                "exact": hits,
                "exact_accuracy": hits / int(inside.sum()),
            }
        )
    record: rundir.PuzzleScoreRecord = {
        "benchmark": puzzles.kind,
        "tasks": puzzles.name,
        "tasks_hash": puzzles.hash,
        "published_set": published_set(puzzles),
        "puzzles": n,
        "predicted": len(preds.index),
        "exact": k,
        "exact_accuracy": k / n if n else 0.0,
        "exact_ci95": list(wilson(k, n)),
        "cell_accuracy": float(correct.mean()) if n else 0.0,
        "fill_accuracy": float(correct[open_cells].mean()) if open_cells.any() else 1.0,
        "by_rating": buckets,
        "predictions": source,
    }
    if puzzles.kind == "maze":
        valid = int(valid_paths(puzzles.questions, cells, puzzles.side).sum())
        record |= {"valid_paths": valid, "valid_path_rate": valid / n if n else 0.0}
    if preds.recorded and n:
        record["exact_by_step"] = {
            str(s): float((_aligned(puzzles, preds.index, preds.at_step(s)) == puzzles.answers).all(axis=1).mean())
            for s in preds.recorded
        }
    if (preds.steps > 0).any():
        record["mean_steps"] = float(preds.steps.mean())
    return record
