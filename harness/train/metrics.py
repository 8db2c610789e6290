"""What a training run reports: metric averages per log window, the metrics.jsonl file, external
sinks (TensorBoard, W&B) and the software environment recorded beside the run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.config import RunConfig
from harness.core.errors import DataError
from harness.core.io import parse_json, write_text

Sink = Callable[[dict[str, float]], None]


def summarise(totals: dict[str, float], steps: int, global_batch: int) -> dict[str, float]:
    """Average the metric sums of `steps` steps: losses per example, the rest per halted sequence
    (only sequences that halted are scored, as in the reference; a single step may have none)."""
    count = max(totals.get("count", 0.0), 1.0)
    out = {
        f"train/{k}": v / (global_batch * steps if k.endswith("loss") else count)
        for k, v in totals.items()
        if k != "count"
    }
    q_losses = sum(v for k, v in out.items() if k.startswith("train/q_") and k.endswith("_loss"))
    out["train/loss"] = out["train/lm_loss"] + 0.5 * q_losses
    out["train/halted"] = count
    return out


def environment() -> dict[str, Any]:
    """Commit and library versions, so a run can be traced to the code and stack that made it."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "git_commit": commit,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": torch.version.cuda,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
    }


def external_loggers(cfg: RunConfig, run_dir: Path) -> list[Sink]:
    """TensorBoard / W&B sinks when asked for and installed; a missing package is a warning only."""
    sinks: list[Sink] = []
    if cfg.train.tensorboard:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            print(
                "warning: train.tensorboard is on but tensorboard is not installed; logging to metrics.jsonl only",
                file=sys.stderr,
            )
        else:
            writer = SummaryWriter(str(run_dir / "tensorboard"))

            def to_tensorboard(m: dict[str, float]) -> None:
                for k, v in m.items():
                    if k != "step":
                        writer.add_scalar(k, v, int(m["step"]))
                writer.flush()

            sinks.append(to_tensorboard)
    if cfg.train.wandb_project:
        try:
            import wandb
        except ImportError:
            print(
                "warning: train.wandb_project is set but wandb is not installed; logging to metrics.jsonl only",
                file=sys.stderr,
            )
        else:
            wandb.init(
                project=cfg.train.wandb_project,
                name=run_dir.name,
                dir=str(run_dir),
                resume="allow",
                config={"data": vars(cfg.data), "model": cfg.model, "train": vars(cfg.train)},
            )
            sinks.append(lambda m: wandb.log({k: v for k, v in m.items() if k != "step"}, step=int(m["step"])))
    return sinks


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The logged lines of a metrics.jsonl. A torn last line, what a kill during a write leaves,
    is dropped; a bad line before it is a DataError (that file was not written by a run)."""
    try:
        lines = [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1) if line]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    rows = []
    for n, line in lines:
        try:
            row = parse_json(line, f"{path}:{n}")
            if not isinstance(row, dict):
                raise DataError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
        except DataError:
            if n == lines[-1][0]:
                break
            raise
        rows.append(row)
    return rows


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (the run redoes those steps),
    and a torn last line."""
    if not path.exists():
        return
    kept = [row for row in read_metrics(path) if row.get("step", 0) <= step]
    write_text(path, "".join(json.dumps(row) + "\n" for row in kept))
