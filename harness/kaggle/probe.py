"""Throughput on the machine the kernel landed on: seconds per fine-tuning step and per predicted
view, measured in this process before any child starts, so the budget rests on the actual GPUs.

Steps are timed at the real micro-batch (`train.plan` times 8 rows and scales up, which on a GPU
overstates a step several-fold and would leave hours unused); a micro-batch that does not fit in
GPU memory is halved here already, and the stages start from the size that fitted.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.config import EngineConfig, RunConfig
from harness.core import rundir
from harness.core.tasks import TaskSet
from harness.data.layout import load_layout
from harness.data.views import Views, build_views, encode_views
from harness.infer.checkpoints import load_checkpoint
from harness.infer.engine import run_chunk
from harness.kaggle.stages import smaller_micro_batch


@dataclass(frozen=True)
class Probe:
    step_s: float  # per optimiser step of the global batch, on the training devices together
    max_steps: int  # the config's own step count (epochs), a cap on what the budget may give
    micro_batch: int  # rows per forward that fitted in memory
    view_s: float  # per predicted view, on the prediction devices together
    n_views: int  # views the test tasks need


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _release() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def seconds_per_step(cfg: RunConfig, run_dir: Path, devices: int) -> tuple[float, int]:
    """Time two micro-batch steps of the real model (after a warm-up step) and scale to one
    optimiser step: global / devices / micro micro-batches on each device, in parallel. Also
    builds the layout into run_dir/layout. Returns (seconds per step, the config's step count)."""
    from harness.core.dist import init_distributed
    from harness.train.probe import time_train_step
    from harness.train.trainer import setup

    trainer = setup(cfg, run_dir, init_distributed())
    micro, total = trainer.micro, trainer.total_steps
    step_s = time_train_step(trainer, micro)
    del trainer
    _release()
    return step_s * cfg.train.global_batch_size / devices / micro, total


def seconds_per_view(checkpoint: Path, views: Views, tasks: TaskSet, batch_size: int) -> float:
    """Wall time of one full batch of views (every ACT step), divided by its size; a batch that
    does not fit in GPU memory is halved."""
    n = min(batch_size, len(views))
    if n == 0:
        return 0.0
    device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    model, _ = load_checkpoint(checkpoint)
    model = model.to(device).eval()
    canvas = int(round(model.config.seq_len**0.5))
    tokens = encode_views(views.subset(np.arange(n)), tasks, canvas)
    ids = np.zeros(n, np.int64)  # the cost does not depend on which embedding row is read
    while True:
        try:
            run_chunk(model, tokens[:1], ids[:1], EngineConfig(batch_size=1), device)  # warm-up
            start = time.perf_counter()
            run_chunk(model, tokens[:n], ids[:n], EngineConfig(batch_size=n), device)
            _sync(device)
            return (time.perf_counter() - start) / n
        except torch.cuda.OutOfMemoryError:
            if n == 1:
                raise
            n //= 2
        _release()


def measure(
    cfg: RunConfig,
    run_dir: Path,
    checkpoint: Path,
    tasks: TaskSet,
    max_aug: int | None,
    batch_size: int,
    train_devices: int,
    predict_devices: int,
) -> Probe:
    """Both rates and the number of views, for `plan_budget`."""
    local = cfg.train.global_batch_size // train_devices
    micro = cfg.train.micro_batch_size or local
    while True:
        _release()  # after an out-of-memory error, once its traceback is gone
        probe_cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, micro_batch_size=micro))
        try:
            step_s, max_steps = seconds_per_step(probe_cfg, run_dir, train_devices)
            break
        except torch.cuda.OutOfMemoryError:
            smaller = smaller_micro_batch(local, micro)
            if smaller is None:
                raise
            micro = smaller
    views = build_views(load_layout(run_dir / rundir.LAYOUT).identifiers, tasks, max_aug)
    view_s = seconds_per_view(checkpoint, views, tasks, batch_size) / max(1, predict_devices)
    _release()
    return Probe(step_s, max_steps, micro, view_s, len(views))
