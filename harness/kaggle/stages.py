"""The kernel's child processes: fine-tuning stages (`trm-eval train`) and prediction
(`trm-eval predict`), each under torchrun when several GPUs are present, each with a hard
deadline. A child that runs out of GPU memory is retried with smaller batches; one that is
stopped for time leaves its last checkpoint or its finished prediction chunks, which are used.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import RunConfig
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import write_text
from harness.core.tasks import TaskSet
from harness.kaggle.script import log, run_with_deadline

LOG_TAIL_LINES = 25


def launcher(devices: int) -> list[str]:
    """How to start a `harness.cli` command on `devices` GPUs (one plain process on 0 or 1)."""
    if devices > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={devices}"]
    return [sys.executable]


def usable_devices(available: int, global_batch: int) -> int:
    """The most devices (at most `available`) that split the global batch evenly."""
    return max([d for d in range(1, max(1, available) + 1) if global_batch % d == 0])


def fit_batch(cfg: RunConfig, epoch_examples: int, devices: int) -> RunConfig:
    """A global batch no larger than one epoch of the test tasks' demonstration pairs (the loader
    needs a full batch per epoch): the 120 placeholder tasks hold about 400 pairs, fewer than the
    paper's 768. Kept a multiple of devices x micro-batch where possible."""
    t = cfg.train
    if t.global_batch_size <= epoch_examples:
        return cfg
    step = devices * (t.micro_batch_size or 1)
    if epoch_examples >= step:
        size, micro = epoch_examples // step * step, t.micro_batch_size
    else:
        size, micro = max(devices, epoch_examples // devices * devices), 0
    return dataclasses.replace(cfg, train=dataclasses.replace(t, global_batch_size=size, micro_batch_size=micro))


def smaller_micro_batch(local: int, micro: int) -> int | None:
    """The largest divisor of this rank's rows that is at most half the current micro-batch."""
    for size in range(micro // 2, 0, -1):
        if local % size == 0:
            return size
    return None


def out_of_memory(log_path: Path) -> bool:
    try:
        return "out of memory" in log_path.read_text(errors="replace")[-20000:].lower()
    except OSError:
        return False


def show_tail(log_path: Path) -> None:
    try:
        lines = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    except OSError:
        return
    for line in lines:
        print(f"    | {line}", flush=True)


def stage_config(
    base: RunConfig, challenges: Path, init_from: Path, steps: int | None, freeze_steps: int, micro_batch: int
) -> RunConfig:
    """The fine-tuning config of one stage: the test tasks (their test pairs held out), weights
    from `init_from`, `steps` optimiser steps (None: the config's own count) of which the first
    `freeze_steps` train puzzle embeddings only."""
    log_every = max(1, (steps or 0) // 20)
    data = dataclasses.replace(base.data, subsets=[f"test={challenges}"], test_set="test")
    train = dataclasses.replace(
        base.train,
        max_steps=steps or base.train.max_steps,
        freeze_weights_steps=freeze_steps,
        init_from=str(init_from),
        micro_batch_size=micro_batch,
        log_every=log_every,
        checkpoint_every=log_every * 5,
        keep_last=2,
        eval_every=0,
    )
    return RunConfig(data, dict(base.model), train)


@dataclass
class StageResult:
    checkpoint: Path | None
    status: str  # "done", "stopped for time", "failed (exit N)"
    seconds: float
    steps_per_s: float | None  # measured by the trainer (excludes start-up)


def _rate(run_dir: Path) -> float | None:
    """The steps/s of the trainer's last complete metrics line (None when there is none)."""
    from harness.train.metrics import read_metrics

    path = run_dir / rundir.METRICS
    try:
        rows = read_metrics(path) if path.exists() else []
        return float(rows[-1]["steps_per_s"]) if rows else None
    except (DataError, ValueError, KeyError, TypeError):
        return None


def _status(code: int | None) -> str:
    return "done" if code == 0 else "stopped for time" if code is None else f"failed (exit {code})"


def train_stage(
    name: str,
    base: RunConfig,
    challenges: Path,
    init_from: Path,
    steps: int,
    freeze_steps: int,
    work: Path,
    layout_from: Path,
    devices: int,
    deadline: float,
) -> StageResult:
    """Run one fine-tuning stage in a child process; on a GPU out-of-memory error, retry with
    half the micro-batch (gradient accumulation keeps the global batch)."""
    from harness.train.state import checkpoint_dirs

    local = base.train.global_batch_size // devices
    micro = base.train.micro_batch_size or local
    spent = 0.0
    while True:
        run_dir = work / f"{name}-micro{micro}"
        if not (run_dir / rundir.LAYOUT).exists():
            shutil.copytree(layout_from, run_dir / rundir.LAYOUT)
        cfg = stage_config(base, challenges, init_from, steps, freeze_steps, micro)
        config_path = write_text(work / f"{run_dir.name}.toml", cfg.to_toml())
        log_path = work / f"{run_dir.name}.log"
        log(
            f"{name}: {steps} steps (micro-batch {micro}) on {devices} device(s), "
            f"{max(0.0, deadline - time.time()) / 60:.1f} min at most"
        )
        cmd = [*launcher(devices), "-m", "harness.cli", "train", str(config_path), "-o", str(run_dir)]
        code, seconds = run_with_deadline(cmd, deadline - time.time(), log_path)
        spent += seconds
        found = checkpoint_dirs(run_dir)
        if code not in (0, None):
            show_tail(log_path)
            smaller = smaller_micro_batch(local, micro)
            if not found and out_of_memory(log_path) and smaller:
                log(f"{name}: out of GPU memory; retrying with micro-batch {smaller}")
                micro = smaller
                continue
        result = StageResult(found[-1][1] if found else None, _status(code), spent, _rate(run_dir))
        log(f"{name}: {result.status} after {spent / 60:.1f} min; checkpoint {result.checkpoint}")
        return result


def predict_stage(
    checkpoint: Path,
    challenges: Path,
    out_dir: Path,
    work: Path,
    batch_size: int,
    chunk_size: int,
    max_aug: int | None,
    devices: int,
    deadline: float,
) -> str:
    """Predict every view in a child process; out of GPU memory, retry with half the batch (it
    resumes from the chunks already on disk). Returns the stage status."""
    log_path = work / "predict.log"
    while True:
        cmd = [
            *launcher(devices),
            "-m",
            "harness.cli",
            "predict",
            str(checkpoint),
            "--tasks",
            str(challenges),
            "--batch-size",
            str(batch_size),
            "--chunk-size",
            str(chunk_size),
            "-o",
            str(out_dir),
        ]
        cmd += ["--max-aug", str(max_aug)] if max_aug else []
        log(
            f"predict: batch {batch_size} on {devices} device(s), {max(0.0, deadline - time.time()) / 60:.1f} min "
            f"at most"
        )
        code, seconds = run_with_deadline(cmd, deadline - time.time(), log_path)
        if code not in (0, None):
            show_tail(log_path)
            if out_of_memory(log_path) and batch_size > 1:
                batch_size //= 2
                log(f"predict: out of GPU memory; retrying with batch {batch_size}")
                continue
        log(f"predict: {_status(code)} after {seconds / 60:.1f} min")
        return _status(code)


def vote_chunks(pred_dir: Path, tasks: TaskSet, out: Path) -> dict[str, Any] | None:
    """Vote over every finished prediction chunk (a stopped run leaves some) into a complete
    submission at `out`; test inputs without predictions get the fallback. None if no chunk."""
    from harness.pipeline import vote_to_submission
    from harness.predictions.shards import find_chunks, load_chunk
    from voting import Predictions

    parts = []
    for path in find_chunks(pred_dir / rundir.PREDICTIONS):
        try:
            parts.append(load_chunk(path)[0])
        except (OSError, ValueError, KeyError) as exc:
            log(f"skipping unreadable {path.name}: {exc}")
    if not parts:
        return None
    return vote_to_submission(Predictions.concat(parts), tasks, out)
