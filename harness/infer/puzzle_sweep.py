"""`trm-eval sweep` on a Sudoku or Maze set: one recording of the largest cell (max depth x max breadth
restarts x every puzzle, fixed schedule), then every (depth, breadth, halting rule, selector) cell scored
from it (harness.infer.puzzle_cells) with the single-answer selectors and the oracle. No views axis:
no test-time augmentation, the paper scores the set as it is (harness.infer.puzzle_eval).

The files are the ARC sweep's (harness.infer.sweep): OUT/recording/chunk-*.npz in the same Recording
format (resumable), OUT/options.json (a rerun with other options is refused), OUT/cells.csv and
OUT/cell_scores.npz (per cell, 1.0 per puzzle solved exactly) and OUT/sweep.json (with "metric":
"exact"); with seeds > 1 each further seed is a whole sweep in OUT/seeds/seed-<S>/ (harness.infer.repeats).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from harness.core.errors import DataError
from harness.core.puzzles import PuzzleSet
from harness.data.puzzle_encoding import encode_cells
from harness.data.views import Views
from harness.infer.cells import add_intervals, headline, powers_up_to, reference_index
from harness.infer.checkpoints import load_checkpoint
from harness.infer.puzzle_cells import PuzzleGrid, score_puzzle_cells
from harness.infer.puzzle_eval import check_fits
from harness.infer.repeats import over_seeds
from harness.infer.sweep_common import SweepOptions, parse_rules, record_largest, write_sweep
from harness.predictions.cell_scores import CellScores
from voting.selectors import SINGLE_SELECTORS

METRIC = "exact"


def puzzle_views(puzzles: PuzzleSet) -> Views:
    """Every puzzle as one view, filling the Recording's ARC-only row columns: task id = the puzzle's
    index in the set (as str), test input 0, identifier 0 (`<blank>`, as every puzzle run), identity
    transform (tid 0, colours 0..9)."""
    n = len(puzzles)
    return Views(
        np.zeros(n, np.int64),
        np.arange(n).astype(str),
        np.zeros(n, np.int64),
        np.zeros(n, np.int8),
        np.tile(np.arange(10, dtype=np.uint8), (n, 1)),
    )


def run_puzzle_sweep(
    checkpoint: Path,
    puzzles: PuzzleSet,
    out_dir: Path,
    opts: SweepOptions,
    device: torch.device | None = None,
    progress: Callable[[int, int], None] | None = None,
    recording_dir: Path | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Record (or resume) the largest cell, score every cell; returns (cells, summary), both written.
    `recording_dir` (default OUT/recording): where the chunks are read and written."""
    rules = parse_rules(opts.rules)
    if opts.max_aug is not None:
        raise DataError(f"{puzzles.name}: max_aug is for ARC sets; a puzzle set has one view per puzzle")
    if len(puzzles) == 0:
        raise DataError(f"{puzzles.name}: no puzzles, so no cell can be scored")
    model, manifest = load_checkpoint(checkpoint)
    check_fits(model.config, puzzles, checkpoint)
    device = device or torch.device("cpu")

    def encode(chunk: Views) -> np.ndarray:
        return encode_cells(puzzles.questions[chunk.task_ids.astype(np.int64)])

    views = puzzle_views(puzzles)
    run = record_largest(model, views, encode, out_dir, opts, checkpoint, puzzles.hash, device, progress, recording_dir)
    grid = PuzzleGrid(tuple(range(1, run.depth + 1)), powers_up_to(opts.breadth), rules)
    cells, matrix = score_puzzle_cells(run.rec, puzzles, run.nfe_step, grid)
    ref = reference_index(cells, run.halt_max, selector="majority")
    cells = add_intervals(cells, matrix, ref, opts.seed, METRIC)
    n = len(puzzles)
    fields = {
        "benchmark": puzzles.kind,
        "metric": METRIC,
        "tasks": puzzles.name,
        "tasks_hash": puzzles.hash,
        "puzzles": n,
        "views": n,
        "views_per_input": 1,
        # Per puzzle: what the recording ran, and what the reference protocol (fixed, halt_max_steps) runs.
        "nfe_recorded_per_task": run.depth * len(run.rec) * run.nfe_step / n,
        "nfe_reference_per_task": run.halt_max * run.nfe_step,
        "headline": headline(cells, ref, SINGLE_SELECTORS, METRIC),
    }
    scores = CellScores(np.arange(n).astype(str), matrix, METRIC)
    return cells, write_sweep(out_dir, run, opts, checkpoint, manifest, device, cells, scores, fields)


def run_puzzle_sweep_seeds(
    checkpoint: Path,
    puzzles: PuzzleSet,
    out_dir: Path,
    opts: SweepOptions,
    seeds: int,
    device: torch.device | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """run_puzzle_sweep for seeds opts.seed .. opts.seed + seeds - 1, as harness.infer.sweep.run_sweep_seeds
    does for ARC (further seeds rescore OUT's recording when the seed cannot change it)."""

    def one(where: Path, o: SweepOptions, recording: Path | None) -> tuple[pd.DataFrame, dict[str, Any]]:
        return run_puzzle_sweep(checkpoint, puzzles, where, o, device, progress, recording)

    return over_seeds(one, out_dir, opts, seeds)
