"""`trm-eval sweep`: inference-time compute as an axis. One recording of the largest cell (max
depth x max breadth x every view, fixed schedule), then every (depth, breadth, views, halting rule,
selector) cell scored from it (harness.infer.cells), with NFE per task beside the reference's.

Files (harness.core.rundir): OUT/recording/chunk-*.npz (resumable), OUT/options.json (a rerun with
other options is refused), OUT/cells.csv, OUT/cell_scores.npz (per cell, per task) and OUT/sweep.json
(the CLI adds OUT/report/). With seeds > 1 (harness.infer.repeats) each further seed is a whole
sweep in OUT/seeds/seed-<S>/, sharing OUT's recording when the seed cannot change it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import ensure_dir, write_json, write_text
from harness.core.tasks import TaskSet
from harness.data.views import build_views, encode_views
from harness.infer.cells import CellGrid, add_intervals, headline, powers_up_to, reference_index, score_cells
from harness.infer.checkpoints import find_identifiers, load_checkpoint
from harness.infer.record import load_all, record
from harness.infer.repeats import over_seeds
from harness.infer.sweep_options import SweepOptions, check_options
from harness.predictions.cell_scores import CellScores, save_cell_scores
from harness.predictions.recording import stored_bytes
from models.families import family_of
from voting.halting import HaltRule

RECORDING, CELLS, SUMMARY, REPORT = (
    rundir.SWEEP_RECORDING,
    rundir.SWEEP_CELLS,
    rundir.SWEEP_SUMMARY,
    rundir.SWEEP_REPORT,
)


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
    try:
        rules = tuple(HaltRule.parse(r) for r in opts.rules)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    identifiers = find_identifiers(checkpoint, identifiers_path)
    model, manifest = load_checkpoint(checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks, opts.max_aug, opts.seed)
    if len(views) == 0:
        raise DataError(f"{checkpoint}: its layout has no puzzle of {tasks.name}")
    if not tasks.solutions():
        raise DataError(f"{tasks.name}: no solutions, so no cell can be scored")
    halt_max = model.config.halt_max_steps
    depth = opts.depth or 2 * halt_max
    options = asdict(opts) | {
        "depth": depth,
        "rules": list(opts.rules),
        "checkpoint": str(checkpoint),
        "tasks_hash": tasks.hash,
    }
    ensure_dir(out_dir)
    check_options(out_dir, options)
    device = device or torch.device("cpu")
    recording_dir = recording_dir or out_dir / RECORDING
    canvas = int(round(model.config.seq_len**0.5))
    timing = record(
        model,
        views,
        lambda chunk: encode_views(chunk, tasks, canvas),
        recording_dir,
        depth,
        opts.breadth,
        opts.noise,
        opts.seed,
        opts.batch_size,
        opts.chunk_size,
        device,
        progress,
    )
    start = time.perf_counter()
    rec = load_all(recording_dir, len(views), opts.chunk_size)
    per_input = int(pd.DataFrame({"task": views.task_ids, "index": views.test_index}).value_counts().max())
    nfe_step = family_of(model.config).nfe_per_step(model.config)
    grid = CellGrid(tuple(range(1, depth + 1)), powers_up_to(opts.breadth), powers_up_to(per_input), rules)
    cells, matrix = score_cells(rec, tasks, canvas, nfe_step, grid, opts.seed)
    ref = reference_index(cells, halt_max, per_input)
    cells = add_intervals(cells, matrix, ref, opts.seed)
    n_tasks = len(tasks.solutions())
    summary: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "checkpoint_step": manifest.get("step"),
        "family": manifest.get("family", "trm"),
        "tasks": tasks.name,
        "tasks_hash": tasks.hash,
        "nfe_per_step": nfe_step,
        "halt_max_steps": halt_max,
        "depth": depth,
        "breadth": opts.breadth,
        "noise": opts.noise,
        "seed": opts.seed,
        "views": len(views),
        "views_per_input": per_input,
        "rows": len(rec),
        "cells": len(cells),
        # What the recording ran, and what the reference protocol runs on the same views.
        "nfe_recorded_per_task": depth * len(rec) * nfe_step / n_tasks,
        "nfe_reference_per_task": halt_max * len(views) * nfe_step / n_tasks,
        "record_seconds": timing["seconds"],
        "views_computed": timing["views_computed"],
        "score_seconds": time.perf_counter() - start,
        "device": str(device),
        "gpu_seconds": timing["seconds"] if device.type == "cuda" else None,
        "predictions_bytes": stored_bytes(rec),
        "headline": headline(cells, ref),
    }
    write_text(out_dir / CELLS, cells.to_csv(index=False))
    save_cell_scores(out_dir / rundir.SWEEP_CELL_SCORES, CellScores(np.array(truth_order(tasks)), matrix, "pass2"))
    write_json(out_dir / SUMMARY, summary, indent=2)
    return cells, summary


def truth_order(tasks: TaskSet) -> list[str]:
    """The task order of score_cells' per-task matrix."""
    return list(tasks.solutions())


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
