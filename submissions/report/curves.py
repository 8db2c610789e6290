"""The numbers behind the report's plots: pass@2 against views voted and ACT step, q_halt calibration.

All of them re-vote or re-check a run's own kept predictions; nothing is re-predicted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit

from harness.predictions.shards import RunPredictions
from voting import Predictions, pass_at_k, vote


def pair_codes(preds: Predictions) -> np.ndarray:
    """An integer per row naming its (task, test input)."""
    frame = pd.DataFrame({"task": preds.task_ids, "index": preds.test_index})
    return frame.groupby(["task", "index"], sort=False).ngroup().to_numpy()


def subsample_views(preds: Predictions, pair: np.ndarray, k: int, rng: np.random.Generator) -> Predictions:
    """At most `k` views per test input, drawn at random; kept rows stay in stream order (ties in
    voting go to the grid seen first, so order matters)."""
    order = np.lexsort((rng.random(len(pair)), pair))
    sorted_pair = pair[order]
    rank = np.arange(len(pair)) - np.searchsorted(sorted_pair, sorted_pair, side="left")
    return preds.subset(np.sort(order[rank < k]))


def pass2(preds: Predictions, truth: Mapping[str, Sequence[np.ndarray]]) -> float:
    """pass@2 of voting `preds` (the reference rule), over every task of `truth`."""
    return pass_at_k(vote(preds), truth, (2,))[2]


def view_counts(most: int) -> list[int]:
    """1, 2, 4, ... up to `most`, and `most` itself."""
    return sorted({2**e for e in range(int(np.log2(most)) + 1)} | {most})


def views_curve(
    preds: Predictions, truth: Mapping[str, Sequence[np.ndarray]], repeats: int = 3, seed: int = 0
) -> pd.DataFrame:
    """pass@2 when only k random views per test input are voted, for k = 1, 2, 4, ..., all.

    Columns: views, pass2 (mean over `repeats` draws), low, high (min and max over the draws).
    """
    pair = pair_codes(preds)
    most = int(np.bincount(pair).max())
    rng = np.random.default_rng(seed)
    rows = []
    for k in view_counts(most):
        draws = 1 if k == most else repeats
        values = [pass2(subsample_views(preds, pair, k, rng), truth) for _ in range(draws)]
        rows.append((k, float(np.mean(values)), min(values), max(values)))
    return pd.DataFrame(rows, columns=["views", "pass2", "low", "high"])


def steps_curve(preds: RunPredictions, truth: Mapping[str, Sequence[np.ndarray]]) -> pd.DataFrame:
    """pass@2 of the votes on every view's prediction after each recorded ACT step (columns step, pass2)."""
    return pd.DataFrame([(s, pass2(preds.at_step(s), truth)) for s in preds.steps], columns=["step", "pass2"])


def view_correct(preds: Predictions, idx: np.ndarray, truth: Mapping[str, Sequence[np.ndarray]]) -> np.ndarray:
    """Whether each view in `idx`, mapped back to the original frame, equals the truth."""
    out = np.zeros(len(idx), bool)
    for n, i in enumerate(idx.tolist()):
        outputs = truth.get(str(preds.task_ids[i]))
        j = int(preds.test_index[i])
        if outputs is not None and j < len(outputs):
            out[n] = np.array_equal(preds.transform(i).invert(preds.grid(i)), outputs[j])
    return out


def calibration(
    preds: Predictions,
    truth: Mapping[str, Sequence[np.ndarray]],
    bins: int = 10,
    max_views: int = 50_000,
    seed: int = 0,
) -> tuple[pd.DataFrame, float]:
    """Reliability of sigmoid(q_halt) as P(view correct): per confidence bin, mean confidence, accuracy
    and count, plus the expected calibration error. Views without q are left out; above `max_views`
    a seeded random sample is checked (the check is a Python loop over views)."""
    idx = np.flatnonzero(np.isfinite(preds.q_halt))
    if len(idx) > max_views:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_views, replace=False))
    confidence = expit(preds.q_halt[idx])
    frame = pd.DataFrame(
        {
            "confidence": confidence,
            "correct": view_correct(preds, idx, truth),
            "bin": np.minimum((confidence * bins).astype(int), bins - 1),
        }
    )
    table = (
        frame.groupby("bin")
        .agg(confidence=("confidence", "mean"), accuracy=("correct", "mean"), views=("correct", "size"))
        .reset_index()
    )
    ece = float((table["views"] * (table["accuracy"] - table["confidence"]).abs()).sum() / max(len(frame), 1))
    return table, ece
