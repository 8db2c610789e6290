"""`trm-eval sweep`: inference-time compute as an axis. One recording of the largest cell (max
depth x max breadth x every view, fixed schedule), then every (depth, breadth, views, halting rule,
selector) cell scored from it (harness.infer.cells), with NFE per task beside the reference's.

Files (harness.core.rundir): OUT/recording/chunk-*.npz (resumable), OUT/options.json (a rerun with
other options is refused), OUT/cells.csv, OUT/cell_scores.npz (per cell, per task) and OUT/sweep.json
(the CLI adds OUT/report/). With seeds > 1 (harness.infer.repeats) each further seed is a whole
sweep in OUT/seeds/seed-<S>/, sharing OUT's recording when the seed cannot change it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.tasks import TaskSet
from harness.data.views import build_views, encode_views
from harness.infer.cells import CellGrid, add_intervals, headline, powers_up_to, reference_index, score_cells
from harness.infer.checkpoints import find_identifiers, load_checkpoint
from harness.infer.repeats import over_seeds
from harness.infer.sweep_common import SweepOptions, parse_rules, record_largest, write_sweep
from harness.predictions.cell_scores import CellScores

RECORDING, REPORT = rundir.SWEEP_RECORDING, rundir.SWEEP_REPORT


def run_sweep(
    checkpoint: Path,
    tasks: TaskSet,
    out_dir: Path,
    opts: SweepOptions,
    identifiers_path: Path | None = None,
    device: torch.device | None = None,
    progress: Callable[[int, int], None] | None = None,
    recording_dir: Path | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Record (or resume) the largest cell, score every cell; returns (cells, summary), both written.
    `recording_dir` (default OUT/recording): where the chunks are read and written."""
    rules = parse_rules(opts.rules)
    identifiers = find_identifiers(checkpoint, identifiers_path)
    model, manifest = load_checkpoint(checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks, opts.max_aug, opts.seed)
    if len(views) == 0:
        raise DataError(f"{checkpoint}: its layout has no puzzle of {tasks.name}")
    if not tasks.solutions():
        raise DataError(f"{tasks.name}: no solutions, so no cell can be scored")
    device = device or torch.device("cpu")
    canvas = int(round(model.config.seq_len**0.5))
    encode = partial(encode_views, tasks=tasks, canvas=canvas)
    run = record_largest(model, views, encode, out_dir, opts, checkpoint, tasks.hash, device, progress, recording_dir)
    per_input = int(pd.DataFrame({"task": views.task_ids, "index": views.test_index}).value_counts().max())
    depths = tuple(range(1, run.depth + 1))
    grid = CellGrid(depths, powers_up_to(opts.breadth), powers_up_to(per_input), rules)
    cells, matrix = score_cells(run.rec, tasks, canvas, run.nfe_step, grid, opts.seed)
    ref = reference_index(cells, run.halt_max, per_input)
    cells = add_intervals(cells, matrix, ref, opts.seed)
    n_tasks = len(tasks)  # as evaluate and score_cells divide NFE
    fields = {
        "tasks": tasks.name,
        "tasks_hash": tasks.hash,
        "views": len(views),
        "views_per_input": per_input,
        # What the recording ran, and what the reference protocol runs on the same views.
        "nfe_recorded_per_task": run.depth * len(run.rec) * run.nfe_step / n_tasks,
        "nfe_reference_per_task": run.halt_max * len(views) * run.nfe_step / n_tasks,
        "headline": headline(cells, ref),
    }
    scores = CellScores(np.array(list(tasks.solutions())), matrix, "pass2")  # score_cells' task order
    return cells, write_sweep(out_dir, run, opts, checkpoint, manifest, device, cells, scores, fields)


def run_sweep_seeds(
    checkpoint: Path,
    tasks: TaskSet,
    out_dir: Path,
    opts: SweepOptions,
    seeds: int,
    identifiers_path: Path | None = None,
    device: torch.device | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """run_sweep for seeds opts.seed .. opts.seed + seeds - 1; with seeds > 1 the summary gains
    `repeats` (harness.infer.repeats) and OUT/cells_seeds.csv is written. Returns seed 1's cells."""

    def one(where: Path, o: SweepOptions, recording: Path | None) -> tuple[pd.DataFrame, dict[str, Any]]:
        return run_sweep(checkpoint, tasks, where, o, identifiers_path, device, progress, recording)

    return over_seeds(one, out_dir, opts, seeds)
