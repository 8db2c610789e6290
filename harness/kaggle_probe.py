"""Throughput on the machine the kernel landed on: seconds per fine-tuning step and per predicted
view, measured in this process before any child starts, so the budget rests on numbers from the
actual GPUs rather than on guesses."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.checkpoints import load_checkpoint
from harness.engine import EngineConfig, run_chunk
from harness.layout import load_layout
from harness.run_config import RunConfig
from harness.tasks import TaskSet
from harness.views import Views, build_views, encode_views


@dataclass(frozen=True)
class Probe:
    step_s: float  # per optimiser step of the global batch, on the training devices together
    max_steps: int  # the config's own step count (epochs), a cap on what the budget may give
    view_s: float  # per predicted view, on the prediction devices together
    n_views: int  # views the test tasks need


def measure(cfg: RunConfig, run_dir: Path, checkpoint: Path, tasks: TaskSet, max_aug: int | None,
            batch_size: int, train_devices: int, predict_devices: int) -> Probe:
    """Time a few training steps (`train.plan`, which also builds the layout in run_dir/layout)
    and one prediction batch of the checkpoint on this process's device."""
    from harness.train import plan

    p = plan(cfg, run_dir)
    step_s = p["seconds_per_step"] * p["devices"] / max(1, train_devices)
    views = build_views(load_layout(run_dir / "layout").identifiers, tasks, max_aug)
    view_s = seconds_per_view(checkpoint, views, tasks, batch_size) / max(1, predict_devices)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return Probe(step_s, p["total_steps"], view_s, len(views))


def seconds_per_view(checkpoint: Path, views: Views, tasks: TaskSet, batch_size: int) -> float:
    """Wall time of one full batch of views (every ACT step), divided by its size."""
    n = min(batch_size, len(views))
    if n == 0:
        return 0.0
    device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    model, _ = load_checkpoint(checkpoint)
    model = model.to(device).eval()
    canvas = int(round(model.config.seq_len ** 0.5))
    tokens = encode_views(views.subset(np.arange(n)), tasks, canvas)
    ids = np.zeros(n, np.int64)  # the cost does not depend on which embedding row is read
    cfg = EngineConfig(batch_size=n)
    run_chunk(model, tokens[:1], ids[:1], cfg, device)  # warm-up: kernels, allocator
    start = time.perf_counter()
    run_chunk(model, tokens, ids, cfg, device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / n
