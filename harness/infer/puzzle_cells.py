"""Scoring every (depth, breadth, halting rule, selector) cell of a single-answer (Sudoku, Maze) recording.

The recorded change tokens are decoded into cells and checked against the answers once; a cell is
then a choice of exit step per row (its halting rule, capped at its depth), of rows (restarts <
breadth) and, per puzzle, of one row by a single-answer selector (voting.selectors.select_single).
Exact accuracy (every cell equals the answer, the paper's metric) gets a 95% bootstrap interval over
puzzles in harness.infer.cells.add_intervals, the same resamples for every cell (paired differences).
The oracle (some restart's answer is right) looks at the truth: an upper bound, never a score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.core.puzzles import PuzzleSet
from harness.data.puzzle_encoding import decode_tokens
from harness.predictions.recording import Recording
from voting.halting import HaltRule, StepSignals, exit_steps
from voting.selectors import SINGLE_SELECTORS, oracle_single, select_single


@dataclass(frozen=True)
class PuzzleGrid:
    """The axes of a puzzle sweep (no views: a puzzle set is scored as it is); every combination is a cell."""

    depths: tuple[int, ...]
    breadths: tuple[int, ...]
    rules: tuple[HaltRule, ...]
    selectors: tuple[str, ...] = SINGLE_SELECTORS


def score_puzzle_cells(
    rec: Recording, puzzles: PuzzleSet, nfe_per_step: int, grid: PuzzleGrid
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per cell (exact and cell accuracy, oracle, NFE per puzzle) and the (cells, puzzles) 0/1
    exact matrix. Rows' `view` is the puzzle's index in the set; every puzzle needs its rows."""
    n = len(puzzles)
    cells_c = decode_tokens(rec.change_tokens, puzzles.kind, puzzles.side)
    right = cells_c == puzzles.answers[rec.view[rec.change_row]]
    correct_c, fraction_c = right.all(axis=1), right.mean(axis=1)
    signals = StepSignals(rec.q_halt, rec.changed(), rec.dz, rec.entropy)
    out, matrix = [], []
    for rule in grid.rules:
        for depth in grid.depths:
            exits = exit_steps(rule, signals, depth)
            change = rec.change_index(exits)
            q, dz, ent = (rec.at_exit(k, exits) for k in ("q_halt", "dz", "entropy"))
            for breadth in grid.breadths:
                rows = np.flatnonzero(rec.restart < breadth)
                groups, c = rec.view[rows], change[rows]
                oracle = oracle_single(correct_c[c], groups, n)
                nfe = float(exits[rows].sum() * nfe_per_step / n)
                for selector in grid.selectors:
                    pick = c[select_single(cells_c[c], groups, selector, q[rows], dz[rows], ent[rows])]
                    exact = correct_c[pick]
                    out.append(
                        {
                            "depth": depth,
                            "breadth": breadth,
                            "rule": rule.label,
                            "selector": selector,
                            "nfe_per_task": nfe,
                            "mean_steps": float(exits[rows].mean()),
                            "exact": float(exact.mean()),
                            "cell_accuracy": float(fraction_c[pick].mean()),
                            "oracle": float(oracle.mean()),
                        }
                    )
                    matrix.append(exact.astype(np.float64))
    return pd.DataFrame(out), np.array(matrix)
