"""What the sweep benchmarks share: the demo run's held-out ARC tasks, and the time of a sweep's
largest cell run alone (every row for `depth` steps through the recorder's kernels, nothing kept but
the final predictions), the baseline a sweep's cost is measured against."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from harness.config import load_config
from harness.core.sources import load_tasks, save_kaggle
from harness.core.tasks import TaskSet
from harness.data.subsets import load_subset, subset_name
from harness.infer.record import record_rows, start_states
from harness.infer.sweep_common import SweepOptions
from models import ACTModel


def demo_held_out(checkpoint: Path, folder: Path) -> TaskSet:
    """The held-out tasks of the training run `checkpoint` belongs to, written to `folder`."""
    cfg = load_config(checkpoint.parents[1] / "config.toml")
    held_out = next(spec for spec in cfg.data.subsets if subset_name(spec) == cfg.data.test_set)
    return load_tasks(save_kaggle(load_subset(held_out, cfg.data.max_side), folder / "demo_challenges.json"))


def time_largest_cell(model: ACTModel, tokens: np.ndarray, ids: np.ndarray, opts: SweepOptions, depth: int) -> float:
    """Seconds to run every (view, restart) row of `tokens` (one row of tokens per view) for `depth` steps."""
    model.eval()
    inputs = torch.from_numpy(tokens.astype(np.int32))
    identifiers = torch.from_numpy(ids.astype(np.int32))
    view = np.repeat(np.arange(len(tokens)), opts.breadth)
    restart = np.tile(np.arange(opts.breadth), len(tokens))
    start = time.perf_counter()
    for s in range(0, len(view), opts.batch_size):
        rows = view[s : s + opts.batch_size]
        z_H, z_L = start_states(
            model, rows, restart[s : s + opts.batch_size], opts.noise, opts.seed, torch.device("cpu")
        )
        record_rows(model, inputs[rows], identifiers[rows], z_H, z_L, depth, record=False)
    return time.perf_counter() - start
