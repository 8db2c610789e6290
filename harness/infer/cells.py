"""Scoring every (depth, breadth, views, halting rule, selector) cell of a recording, vectorised.

Inverted grids are grouped into answers once for the whole recording (voting's own grouping);
a cell is then a choice of exit step per row (its halting rule, capped at its depth) and of rows
(restarts < breadth, the first `views` views of each test input: the un-augmented one first,
then a seeded order), and its two attempts are ranked by bincounts over answer ids, as
voting.vote ranks candidates. pass@2 is the Kaggle metric (per task the fraction of test outputs
either attempt solves, averaged over tasks) with a 95% bootstrap interval over tasks, the same
resamples for every cell, so differences to the reference cell get paired intervals.
add_intervals, reference_index and headline also serve the Sudoku and Maze sweep
(harness.infer.puzzle_cells): they take the metric column ("exact" there) and the reference's selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.core.tasks import TaskSet
from harness.data.encoding import decode
from harness.predictions.recording import Recording
from voting import Predictions
from voting.halting import HaltRule, StepSignals, exit_steps
from voting.selectors import ARC_SELECTORS, answer_ids, top_answers, view_weights

RESAMPLES = 1000


@dataclass(frozen=True)
class CellGrid:
    """The axes of a sweep; every combination is one cell."""

    depths: tuple[int, ...]
    breadths: tuple[int, ...]
    views: tuple[int, ...]
    rules: tuple[HaltRule, ...]
    selectors: tuple[str, ...] = ARC_SELECTORS


def powers_up_to(n: int) -> tuple[int, ...]:
    """1, 2, 4, ... below n, then n."""
    return tuple(sorted({2**i for i in range(max(n, 1).bit_length()) if 2**i < n} | {n}))


def view_ranks(rec: Recording, pair: np.ndarray, seed: int) -> np.ndarray:
    """(N,) rank of each row's view among its test input's views: identity 0, the others seeded."""
    first = np.unique(rec.view, return_index=True)[1]
    identity = (rec.tids[first] == 0) & (rec.colors[first] == np.arange(10)).all(axis=1)
    noise = np.random.default_rng(seed).random(len(first))
    order = np.lexsort((noise, ~identity, pair[first]))
    sorted_pair = pair[first][order]
    rank = np.empty(len(first), np.int64)
    rank[order] = np.arange(len(order)) - np.searchsorted(sorted_pair, sorted_pair, side="left")
    return rank[np.searchsorted(rec.view[first], rec.view)]


class _Truth:
    """Per pair its task column and whether each answer is correct (looked at once per recording)."""

    def __init__(
        self,
        rec: Recording,
        pair: np.ndarray,
        grids: list[np.ndarray],
        answer: np.ndarray,
        answer_pair: np.ndarray,
        tasks: TaskSet,
    ) -> None:
        truth = tasks.solutions()
        self.tasks = list(truth)
        column = {t: i for i, t in enumerate(self.tasks)}
        self.n_pairs = int(pair.max()) + 1
        rows = np.unique(pair, return_index=True)[1]
        self.pair_task = np.array([column[str(rec.task_ids[r])] for r in rows])
        owner = np.zeros(len(grids), np.int64)
        owner[answer] = answer_pair
        targets = [truth[str(rec.task_ids[r])][int(rec.test_index[r])] for r in rows]
        self.correct = np.array(
            [g.shape == targets[o].shape and np.array_equal(g, targets[o]) for g, o in zip(grids, owner)], bool
        )
        self.empty = np.array([g.size == 0 for g in grids], bool)
        # A task's score is the mean over its outputs; outputs never predicted count as unsolved.
        self.outputs = np.array([len(truth[t]) for t in self.tasks], np.float64)

    def per_task(self, solved_pairs: np.ndarray) -> np.ndarray:
        return np.bincount(self.pair_task, solved_pairs.astype(np.float64), len(self.tasks)) / self.outputs


def score_cells(
    rec: Recording, tasks: TaskSet, canvas: int, nfe_per_step: int, grid: CellGrid, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per cell (accuracies, intervals, NFE) and the (cells, tasks) pass@2 matrix."""
    shapes, offsets, cells = decode(rec.change_tokens, canvas)
    rows_of = rec.change_row
    changes = Predictions(
        rec.task_ids[rows_of],
        rec.test_index[rows_of],
        rec.tids[rows_of],
        rec.colors[rows_of],
        shapes,
        offsets,
        cells,
        np.zeros(len(rows_of)),
    )
    pair_c, answer_c, grids = answer_ids(changes)
    pair = np.zeros(len(rec), np.int64)
    pair[rows_of] = pair_c
    truth = _Truth(rec, pair, grids, answer_c, pair_c, tasks)
    ranks = view_ranks(rec, pair, seed)
    signals = StepSignals(rec.q_halt, rec.changed(), rec.dz, rec.entropy)
    n_tasks = len(tasks)  # NFE per task of the set, as evaluate divides it (run.json)
    out, matrix = [], []
    for rule in grid.rules:
        for depth in grid.depths:
            exits = exit_steps(rule, signals, depth)
            answer = answer_c[rec.change_index(exits)]
            q, dz, ent = (rec.at_exit(k, exits).astype(np.float64) for k in ("q_halt", "dz", "entropy"))
            for breadth in grid.breadths:
                for views in grid.views:
                    rows = np.flatnonzero((rec.restart < breadth) & (ranks < views))
                    a, p = answer[rows], pair[rows]
                    oracle = truth.per_task(np.bincount(p, truth.correct[a], truth.n_pairs) > 0)
                    nfe = float(exits[rows].sum() * nfe_per_step / n_tasks)
                    for selector in grid.selectors:
                        weights = (
                            view_weights(selector, dz[rows], ent[rows])
                            if selector in ("entropy", "convergence")
                            else None
                        )
                        top = top_answers(p, a, truth.n_pairs, len(grids), selector, q[rows], weights, truth.empty)
                        hit = (top >= 0) & truth.correct[np.maximum(top, 0)]
                        pass2 = truth.per_task(hit.any(axis=1))
                        out.append(
                            {
                                "depth": depth,
                                "breadth": breadth,
                                "views": views,
                                "rule": rule.label,
                                "selector": selector,
                                "nfe_per_task": nfe,
                                "mean_steps": float(exits[rows].mean()),
                                "pass1": float(truth.per_task(hit[:, 0]).mean()),
                                "pass2": float(pass2.mean()),
                                "oracle": float(oracle.mean()),
                            }
                        )
                        matrix.append(pass2)
    return pd.DataFrame(out), np.array(matrix)


def add_intervals(
    cells: pd.DataFrame, matrix: np.ndarray, reference: int | None, seed: int = 0, metric: str = "pass2"
) -> pd.DataFrame:
    """95% bootstrap intervals over tasks (puzzles) of `metric` (the matrix's per-task score) and, when a
    reference cell is given, of each cell's difference to it (paired: the same resampled tasks); and
    the Pareto front in NFE."""
    n_tasks = matrix.shape[1]
    counts = np.random.default_rng(seed).multinomial(n_tasks, np.full(n_tasks, 1 / n_tasks), RESAMPLES)
    means = matrix @ counts.T / n_tasks
    cells = cells.assign(low=np.percentile(means, 2.5, axis=1), high=np.percentile(means, 97.5, axis=1))
    if reference is not None:
        diff = means - means[reference]
        cells = cells.assign(
            delta=cells[metric] - cells[metric].iloc[reference],
            delta_low=np.percentile(diff, 2.5, axis=1),
            delta_high=np.percentile(diff, 97.5, axis=1),
        )
    return cells.assign(pareto=pareto_front(cells["nfe_per_task"].to_numpy(), cells[metric].to_numpy()))


def pareto_front(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """(C,) bool: no other cell is at most as costly and strictly better, or cheaper and as good."""
    order = np.lexsort((-value, cost))
    front = np.zeros(len(cost), bool)
    best = -np.inf
    for i in order:
        if value[i] > best:
            front[i] = True
            best = value[i]
    return front


def reference_index(
    cells: pd.DataFrame, halt_max_steps: int, all_views: int | None = None, selector: str = "votes-q"
) -> int | None:
    """The reference protocol's cell: fixed, halt_max_steps, breadth 1, every view (ARC), `selector`
    (ARC votes-q; a single-answer set's majority: with one candidate every selector agrees)."""
    match = (
        (cells["rule"] == "fixed")
        & (cells["depth"] == halt_max_steps)
        & (cells["breadth"] == 1)
        & (cells["selector"] == selector)
    )
    if all_views is not None:
        match &= cells["views"] == all_views
    found = cells.index[match]
    return int(found[0]) if len(found) else None


def headline(
    cells: pd.DataFrame, reference: int | None, selectors: Sequence[str] = ARC_SELECTORS, metric: str = "pass2"
) -> dict:
    """The cheapest cell reaching the reference's `metric`, and the best `metric` at the reference's NFE."""
    if reference is None:
        return {}
    ref = cells.iloc[reference]
    pool = cells[cells["selector"].isin(selectors)]
    reach = pool[pool[metric] >= ref[metric]].sort_values(["nfe_per_task", metric], ascending=[True, False])
    within = pool[pool["nfe_per_task"] <= ref["nfe_per_task"]].sort_values(
        [metric, "nfe_per_task"], ascending=[False, True]
    )
    cheapest, best = reach.iloc[0], within.iloc[0]
    return {
        "reference": _cell(ref, metric),
        "cheapest_reaching_reference": _cell(cheapest, metric),
        "nfe_fraction": float(cheapest["nfe_per_task"] / ref["nfe_per_task"]) if ref["nfe_per_task"] else None,
        "best_at_reference_nfe": _cell(best, metric),
    }


# The scores a headline cell shows beside its metric's intervals: ARC's pass@1 and pass@2; a single-answer
# set's exact accuracy and the share of cells right.
SCORES = {"pass2": ("pass1", "pass2"), "exact": ("exact", "cell_accuracy")}


def _cell(row: pd.Series, metric: str = "pass2") -> dict:
    keys = ("depth", "breadth", "views", "rule", "selector", "nfe_per_task", *SCORES[metric], "low", "high", "oracle")
    return {k: (row[k].item() if hasattr(row[k], "item") else row[k]) for k in keys if k in row}
