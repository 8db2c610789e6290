"""Timing probes: how long one optimiser step takes on this hardware, and what a whole run would
cost (`train --dry-run`, the Kaggle kernel's budget)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from harness.config import RunConfig
from harness.core.dist import init_distributed
from harness.data.puzzle_loader import PuzzleLayout
from harness.train.trainer import Trainer, setup


def time_train_step(trainer: Trainer, rows: int, steps: int = 2) -> float:
    """Seconds of one optimiser step on `rows` rows of the run's own batches: the best of `steps`
    timed steps after a warm-up step, the device synchronised around each."""

    def sync() -> None:
        if trainer.d.device.type == "cuda":
            torch.cuda.synchronize(trainer.d.device)

    batches = trainer.batches(0, 1, 0)
    trainer.accum, trainer.carries = 1, [None]
    timings = []
    for g in range(steps + 1):
        batch = {k: v[:rows] for k, v in batches.batch(g).items() if k != "index"}
        sync()
        start = time.perf_counter()
        trainer.train_step(batch)
        sync()
        timings.append(time.perf_counter() - start)
    return min(timings[1:])


def plan(cfg: RunConfig, run_dir: Path, probe_steps: int = 2) -> dict[str, Any]:
    """What a run would do on the hardware found, with a projected duration from timed probe steps.

    The probe runs `probe_steps` optimiser steps of the real model on this process's device, on a
    slice of at most 8 rows, and scales linearly to the full run (a lower bound on small
    slices: larger batches use the device better, so real steps are often faster per row).
    """
    d = init_distributed()
    trainer = setup(cfg, run_dir, d)
    rows, layout = min(trainer.micro, 8), trainer.layout
    per_row = time_train_step(trainer, rows, probe_steps) / rows
    devices = max(1, torch.cuda.device_count()) if d.device.type == "cuda" else 1
    step_s = per_row * cfg.train.global_batch_size / devices
    return {
        "device": torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else "cpu",
        "devices": devices,
        "identifiers": len(trainer.layout),
        "held_out_tasks": len(layout.eval_set if isinstance(layout, PuzzleLayout) else layout.test_puzzles),
        "examples_per_epoch": trainer.sampler.examples_per_epoch(),
        "global_batch_size": cfg.train.global_batch_size,
        "micro_batch_size": rows,
        "total_steps": trainer.total_steps,
        "seconds_per_step": step_s,
        "projected_hours": step_s * trainer.total_steps / 3600,
    }
