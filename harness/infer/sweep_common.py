"""What every sweep (ARC: harness.infer.sweep; Sudoku and maze: harness.infer.puzzle_sweep) shares:
its options, the rule that a sweep folder is only resumed or rescored with the options its recording
was made with, recording the largest cell, and the files and summary fields it writes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import ensure_dir, read_json, write_json, write_text
from harness.data.views import Views
from harness.infer.record import load_all, record
from harness.predictions.cell_scores import CellScores, save_cell_scores
from harness.predictions.recording import Recording, stored_bytes
from models import ACTModel
from models.families import family_of
from voting.halting import HaltRule

DEFAULT_RULES = ("fixed", "q:0", "stable:1", "stable:2", "converged:0.01", "converged:0.001", "entropy:2:0.01")


@dataclass(frozen=True)
class SweepOptions:
    depth: int | None = None  # None: twice the model's halt_max_steps
    breadth: int = 1
    noise: float = 0.1  # restart noise scale (std of the Gaussian added to H_init and L_init)
    rules: tuple[str, ...] = DEFAULT_RULES
    max_aug: int | None = None
    seed: int = 0
    batch_size: int = 256
    chunk_size: int = 4096


def check_options(out_dir: Path, options: dict[str, Any]) -> None:
    """Refuse a folder holding a recording made with other options; else record these ones."""
    path = out_dir / rundir.SWEEP_OPTIONS
    if path.exists():
        saved = read_json(path)
        if not isinstance(saved, dict):
            raise DataError(f"{path}: expected a JSON object; delete it or use another -o")
        if saved != options:
            changed = sorted(k for k in options if saved.get(k) != options[k])
            raise DataError(
                f"{out_dir}: holds a sweep recorded with other options ({', '.join(changed)}); "
                f"use another -o or delete it"
            )
    write_json(path, options, indent=2)


def parse_rules(specs: tuple[str, ...]) -> tuple[HaltRule, ...]:
    """The sweep's halting rules; a bad spec, or two specs naming one cell label, is a DataError."""
    try:
        rules = tuple(HaltRule.parse(r) for r in specs)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    labels = [r.label for r in rules]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise DataError(f"halting rules {', '.join(twice)} are given twice (or differ below the label's 6 digits)")
    return rules


def seed_free_recording(opts: SweepOptions) -> bool:
    """Whether the seed leaves the recording unchanged (one start per view, or no noise, and every
    view): then the sweeps of further seeds rescore OUT's recording instead of recording again."""
    return (opts.breadth == 1 or opts.noise == 0) and opts.max_aug is None


@dataclass
class Recorded:
    """The largest cell, recorded (or resumed), and what scoring and the summary need of it."""

    rec: Recording
    depth: int
    halt_max: int
    nfe_step: int
    seconds: float  # recording time of this call (0-ish when every chunk was on disk)
    views_computed: int
    scored_from: float  # perf_counter() when scoring began


def record_largest(
    model: ACTModel,
    views: Views,
    encode: Callable[[Views], np.ndarray],
    out_dir: Path,
    opts: SweepOptions,
    checkpoint: Path,
    tasks_hash: str,
    device: torch.device,
    progress: Callable[[int, int], None] | None,
    recording_dir: Path | None,
) -> Recorded:
    """Check OUT's options, record every chunk not on disk yet (default: OUT/recording) and load them."""
    halt_max = model.config.halt_max_steps
    depth = opts.depth or 2 * halt_max
    # What the recording depends on; the batch size and the rules scored from it may change on a rerun.
    options = {k: v for k, v in asdict(opts).items() if k not in ("batch_size", "rules")}
    options |= {"depth": depth, "checkpoint": str(checkpoint)}
    ensure_dir(out_dir)
    check_options(out_dir, options | {"tasks_hash": tasks_hash})
    where = recording_dir or out_dir / rundir.SWEEP_RECORDING
    timing = record(
        model,
        views,
        encode,
        where,
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
    rec = load_all(where, len(views), opts.chunk_size)
    nfe_step = family_of(model.config).nfe_per_step(model.config)
    return Recorded(rec, depth, halt_max, nfe_step, timing["seconds"], int(timing["views_computed"]), start)


def write_sweep(
    out_dir: Path,
    run: Recorded,
    opts: SweepOptions,
    checkpoint: Path,
    manifest: dict[str, Any],
    device: torch.device,
    cells: pd.DataFrame,
    scores: CellScores,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """OUT/cells.csv, OUT/cell_scores.npz and OUT/sweep.json: the fields every sweep has, then the
    benchmark's own `fields` (tasks, views, NFE per task, headline, ...). Returns the summary."""
    summary: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "checkpoint_step": manifest.get("step"),
        "family": manifest.get("family", "trm"),
        **fields,
        "nfe_per_step": run.nfe_step,
        "halt_max_steps": run.halt_max,
        "depth": run.depth,
        "breadth": opts.breadth,
        "noise": opts.noise,
        "seed": opts.seed,
        "rows": len(run.rec),
        "cells": len(cells),
        "record_seconds": run.seconds,
        "views_computed": run.views_computed,
        "score_seconds": time.perf_counter() - run.scored_from,
        "device": str(device),
        "gpu_seconds": run.seconds if device.type == "cuda" else None,
        "predictions_bytes": stored_bytes(run.rec),
    }
    write_text(out_dir / rundir.SWEEP_CELLS, cells.to_csv(index=False))
    save_cell_scores(out_dir / rundir.SWEEP_CELL_SCORES, scores)
    write_json(out_dir / rundir.SWEEP_SUMMARY, summary, indent=2)
    return summary
