"""`predict` and `evaluate`: checkpoint + tasks -> prediction chunks -> votes -> submission -> score;
and the held-out evaluation that training runs on a model in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.config import EngineConfig
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import write_json
from harness.core.tasks import TaskSet
from harness.data.views import build_views, encode_views
from harness.infer.checkpoints import find_identifiers, load_checkpoint, tensor_counts
from harness.infer.engine import chunk_predictions, predict, run_chunk
from harness.infer.nfe import nfe_record
from harness.pipeline import vote_to_submission
from harness.predictions.shards import merge_chunks
from models import ACTModel
from voting import pass_at_k, vote


def run_predict(
    checkpoint: Path,
    tasks: TaskSet,
    out_dir: Path,
    cfg: EngineConfig,
    identifiers_path: Path | None = None,
    max_aug: int | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Predict every view this rank owns (x cfg.restarts) into out_dir/predictions (resuming what is
    there); `seed` draws both the --max-aug view sample and the restart noise."""
    identifiers = find_identifiers(checkpoint, identifiers_path)
    model, manifest = load_checkpoint(checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks, max_aug, seed)
    if len(views) == 0:
        raise DataError(
            f"{checkpoint}: its layout has no puzzle of {tasks.name}; a TRM checkpoint can only "
            f"predict tasks it was trained on (fine-tune on new tasks first)"
        )
    device = device or torch.device("cpu")
    timing = predict(model, views, tasks, out_dir / rundir.PREDICTIONS, cfg, device, rank, world_size, progress, seed)
    return {"views": len(views), "manifest": manifest, **timing}


def evaluation_record(
    checkpoint: Path,
    manifest: dict[str, Any],
    tasks_name: str,
    tasks_hash: str,
    views: int,
    max_aug: int | None,
    cfg: EngineConfig,
    mean_steps: float,
    seconds: float,
    device: torch.device | None,
    world_size: int,
    nfe: dict[str, Any],
) -> rundir.EvaluationRecord:
    """run.json of an evaluation (ARC or puzzles): how its predictions were made, and their NFE."""
    rule = cfg.rule()
    on_gpu = device is not None and device.type == "cuda"
    return {
        "checkpoint": str(checkpoint),
        "checkpoint_step": manifest.get("step"),
        "family": manifest.get("family", "trm"),
        "parameters": tensor_counts(checkpoint),
        "tasks": tasks_name,
        "tasks_hash": tasks_hash,
        "views": views,
        "max_aug": max_aug,
        "halt": rule.name if rule.name in ("fixed", "q") else rule.label,
        "threshold": rule.params[0] if rule.name == "q" else None,
        "max_steps": cfg.steps or manifest["config"]["halt_max_steps"],
        "mean_steps": mean_steps,
        "seconds": seconds,
        "device": str(device or "cpu"),
        "world_size": world_size,
        "gpu_seconds": seconds * world_size if on_gpu else None,
        "nfe_per_step": nfe["nfe_per_step"],
        "nfe_per_task": nfe["nfe_per_task"],
        "nfe_reference_per_task": nfe["nfe_reference_per_task"],
        "restarts": cfg.restarts,
        "noise": cfg.noise if cfg.restarts > 1 else None,
    }


def run_evaluate(
    checkpoint: Path,
    tasks: TaskSet,
    run_dir: Path,
    cfg: EngineConfig,
    identifiers_path: Path | None = None,
    max_aug: int | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any] | None:
    """Predict, then (on rank 0) vote, write submission.json, score.json and run.json."""
    start = time.perf_counter()
    info = run_predict(
        checkpoint, tasks, run_dir, cfg, identifiers_path, max_aug, seed, device, rank, world_size, progress
    )
    if world_size > 1:
        torch.distributed.barrier()
    if rank != 0:
        return None
    preds, steps = merge_chunks(run_dir / rundir.PREDICTIONS, info["views"], cfg.chunk_size)
    summary = vote_to_submission(preds, tasks, run_dir / rundir.SUBMISSION, candidates_out=run_dir / rundir.CANDIDATES)
    nfe = nfe_record(info["manifest"], steps, len(tasks.tasks), info["views"])
    run = evaluation_record(
        checkpoint,
        info["manifest"],
        tasks.name,
        tasks.hash,
        info["views"],
        max_aug,
        cfg,
        float(np.mean(steps)),
        time.perf_counter() - start,
        device,
        world_size,
        nfe,
    )
    summary["mean_steps"] = run["mean_steps"]
    summary["nfe_per_task"] = run["nfe_per_task"]
    write_json(run_dir / rundir.SCORE, summary, indent=2)
    write_json(run_dir / rundir.EVALUATION_RECORD, run, indent=2)
    return summary


def evaluate_held_out(
    model: ACTModel,
    identifiers: list[str],
    tasks: TaskSet,
    canvas: int,
    batch_size: int,
    device: torch.device,
    max_aug: int | None,
) -> dict[str, float]:
    """pass@K of `model` (already in eval mode) on the test pairs of `tasks`, voting over up to
    max_aug views per task; nothing is written to disk."""
    views = build_views(identifiers, tasks, max_aug, seed=0)
    if len(views) == 0:
        return {}
    result = run_chunk(
        model, encode_views(views, tasks, canvas), views.identifier, EngineConfig(batch_size=batch_size), device
    )
    scores = pass_at_k(vote(chunk_predictions(views, result, canvas)), tasks.solutions(), (1, 2, 5, 10))
    return {f"eval/pass@{k}": v for k, v in scores.items()} | {"eval/views": float(len(views))}
