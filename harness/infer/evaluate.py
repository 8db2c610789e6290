"""`predict` and `evaluate`: checkpoint + tasks -> prediction chunks -> votes -> submission -> score."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.core.errors import DataError
from harness.core.io import write_json
from harness.core.tasks import TaskSet
from harness.data.views import build_views
from harness.infer.checkpoints import load_checkpoint, read_identifiers
from harness.infer.engine import EngineConfig, merge_chunks, predict
from harness.pipeline import vote_to_submission

IDENTIFIERS = "identifiers.json"


def find_identifiers(checkpoint: Path, given: Path | None) -> list[str]:
    """The puzzle-identifier layout: a given identifiers.json (or a layout folder holding one), else
    the one saved beside the checkpoint."""
    for candidate in ([given] if given else []) + [checkpoint]:
        path = candidate / IDENTIFIERS if candidate.is_dir() else candidate
        if path.is_file():
            return read_identifiers(path)
        if given:
            raise DataError(f"{given}: no identifiers.json there")
    raise DataError(f"{checkpoint}: no {IDENTIFIERS} beside the checkpoint; pass --identifiers FILE "
                    f"(the layout it was trained on, e.g. from `trm-eval data build`)")


def distributed_context() -> tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment; a plain process is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def run_predict(checkpoint: Path, tasks: TaskSet, out_dir: Path, cfg: EngineConfig,
                identifiers_path: Path | None = None, max_aug: int | None = None, seed: int = 0,
                device: torch.device | None = None, rank: int = 0, world_size: int = 1,
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Predict every view this rank owns into out_dir/predictions (resuming what is there)."""
    identifiers = find_identifiers(checkpoint, identifiers_path)
    model, manifest = load_checkpoint(checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks, max_aug, seed)
    if len(views) == 0:
        raise DataError(f"{checkpoint}: its layout has no puzzle of {tasks.name}; a TRM checkpoint can only "
                        f"predict tasks it was trained on (fine-tune on new tasks first)")
    device = device or torch.device("cpu")
    timing = predict(model, views, tasks, out_dir / "predictions", cfg, device, rank, world_size, progress)
    return {"views": len(views), "manifest": manifest, **timing}


def run_evaluate(checkpoint: Path, tasks: TaskSet, run_dir: Path, cfg: EngineConfig,
                 identifiers_path: Path | None = None, max_aug: int | None = None, seed: int = 0,
                 device: torch.device | None = None, rank: int = 0, world_size: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any] | None:
    """Predict, then (on rank 0) vote, write submission.json, score.json and run.json."""
    start = time.perf_counter()
    info = run_predict(checkpoint, tasks, run_dir, cfg, identifiers_path, max_aug, seed, device, rank,
                       world_size, progress)
    if world_size > 1:
        torch.distributed.barrier()
    if rank != 0:
        return None
    preds, steps = merge_chunks(run_dir / "predictions", info["views"], cfg.chunk_size)
    summary = vote_to_submission(preds, tasks, run_dir / "submission.json", candidates_out=run_dir /
                                 "candidates.jsonl")
    seconds = time.perf_counter() - start
    on_gpu = device is not None and device.type == "cuda"
    run = {
        "checkpoint": str(checkpoint),
        "checkpoint_step": info["manifest"].get("step"),
        "tasks": tasks.name,
        "tasks_hash": tasks.hash,
        "views": info["views"],
        "max_aug": max_aug,
        "halt": cfg.halt,
        "threshold": cfg.threshold if cfg.halt == "q" else None,
        "max_steps": cfg.steps or info["manifest"]["config"]["halt_max_steps"],
        "mean_steps": float(np.mean(steps)),
        "seconds": seconds,
        "device": str(device or "cpu"),
        "world_size": world_size,
        "gpu_seconds": seconds * world_size if on_gpu else None,
    }
    summary["mean_steps"] = run["mean_steps"]
    write_json(run_dir / "score.json", summary, indent=2)
    write_json(run_dir / "run.json", run, indent=2)
    return summary
