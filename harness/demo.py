"""The README's first command: train a tiny TRM on a CPU, test-time augment, vote, score, report; and
`demo sudoku`: a TRM-MLP on generated 6x6 Sudoku, scored against ACT depth.

Everything lands in one folder (default runs/demo): train/ (the training run), voted/ (the
evaluation of its final checkpoint over every view of every held-out test input), single-view/
and copy-input/ (the same test inputs answered by the un-augmented view alone and by copying the
input: the bars voting must clear), report/ (all three side by side) and summary.json. `demo sudoku`
(default runs/demo-sudoku) writes train/, depth/ (the held-out puzzles scored after every ACT step),
q-halt/ (each puzzle stopped by its q_halt logit), report/ and summary.json. A finished training run
is reused; an interrupted one resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.baselines import copy_input, predict_views
from harness.config import RunConfig, load_config
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import write_json
from harness.core.puzzle_sources import load_puzzles
from harness.core.sources import load_tasks, save_kaggle
from harness.data.subsets import load_subset
from harness.infer.evaluate import run_evaluate
from harness.infer.puzzle_eval import run_puzzle_evaluate
from harness.pipeline import vote_to_submission
from harness.predictions.jsonl import write_jsonl
from harness.predictions.shards import merge_chunks
from harness.train.state import checkpoint_dirs
from harness.train.trainer import train
from submissions.report import build_report, write_report
from voting import Predictions, vote
from voting.vote import correct_ranks


def _outputs_solved(preds: Predictions, truth: dict, ks: tuple[int, ...] = (1, 2)) -> dict[str, int]:
    """Test outputs whose truth is among the top k voted candidates."""
    ranks = correct_ranks(vote(preds), truth)
    return {f"pass@{k}": sum(r < k for r in ranks.values()) for k in ks}


def _train(cfg: RunConfig, train_dir: Path, on_metrics: Callable[[dict, int], None] | None) -> Path:
    """Train into train_dir, or resume it, or reuse it when finished; its last checkpoint."""
    done = checkpoint_dirs(train_dir)
    saved = train_dir / rundir.TRAIN_CONFIG
    if done and saved.exists() and load_config(saved).to_toml() != cfg.to_toml():
        raise DataError(
            f"{train_dir}: holds a training run of another config; rerun with --fresh to retrain, "
            f"or choose another --out"
        )
    finished = bool(done) and saved.exists() and done[-1][0] >= (cfg.train.max_steps or 0)
    if not finished:
        train(None if done else cfg, train_dir, resume=bool(done), on_metrics=on_metrics)
    return checkpoint_dirs(train_dir)[-1][1]


def run_demo(
    cfg: RunConfig,
    out: Path,
    on_metrics: Callable[[dict, int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train (or reuse), evaluate with voting, and compare with one view and with copy-input."""
    start = time.perf_counter()
    checkpoint = _train(cfg, out / "train", on_metrics)
    train_seconds = time.perf_counter() - start

    # The held-out tasks, saved so that the run's score.json names a set anyone can reload.
    tasks = load_tasks(
        save_kaggle(load_subset(cfg.data.subsets[0], cfg.data.max_side), out / "tasks" / "demo_challenges.json")
    )
    truth = tasks.solutions()
    engine = cfg.predict
    summary = run_evaluate(checkpoint, tasks, out / "voted", engine, device=torch.device("cpu"), progress=progress)
    assert summary is not None  # a single process is rank 0
    preds, _ = merge_chunks(out / "voted" / rundir.PREDICTIONS, summary["views"], engine.chunk_size)
    identity = (preds.tids == 0) & (preds.colors == np.arange(10, dtype=np.uint8)).all(axis=1)
    bars = {"single-view": preds.subset(identity), "copy-input": predict_views(tasks, copy_input, n_views=1)}
    for name, bar in bars.items():
        write_jsonl(bar, out / name / rundir.PREDICTIONS_JSONL)
        write_json(out / name / rundir.SCORE, vote_to_submission(bar, tasks, out / name / rundir.SUBMISSION), indent=2)
    report = write_report(
        build_report([out / "voted", *(out / name for name in bars)], published=False), out / "report"
    )
    result = {
        "tasks": len(tasks),
        "test_outputs": sum(len(v) for v in truth.values()),
        "views_per_test_input": summary["views"] // max(1, tasks.n_test_inputs),
        "train_steps": int(checkpoint.name.split("_")[1]),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - start, 1),
        "outputs_solved": {
            "voted": _outputs_solved(preds, truth),
            "single_view": _outputs_solved(bars["single-view"], truth),
            "copy_input": _outputs_solved(bars["copy-input"], truth),
        },
        "kaggle_score_voted": summary["score"]["score"],
        "submission": str(out / "voted" / rundir.SUBMISSION),
        "report": str(report["html"]),
        "checkpoint": str(checkpoint),
    }
    write_json(out / rundir.DEMO_SUMMARY, result, indent=2)
    return result


def run_sudoku_demo(
    cfg: RunConfig,
    out: Path,
    on_metrics: Callable[[dict, int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train a small TRM-MLP on generated Sudoku (or reuse / resume it), then score the held-out puzzles
    after every ACT step (depth/, --record-steps) and with q-halting (q-halt/), and report both."""
    start = time.perf_counter()
    checkpoint = _train(cfg, out / "train", on_metrics)
    train_seconds = time.perf_counter() - start
    puzzles = load_puzzles(cfg.data.eval_set)
    cpu = torch.device("cpu")
    depth = run_puzzle_evaluate(
        checkpoint,
        puzzles,
        out / "depth",
        replace(cfg.predict, halt="fixed", record_steps=True),
        cpu,
        progress=progress,
    )
    q_halt = run_puzzle_evaluate(
        checkpoint,
        puzzles,
        out / "q-halt",
        replace(cfg.predict, halt="q", threshold=0.0, record_steps=False),
        cpu,
        progress=progress,
    )
    assert depth is not None and q_halt is not None  # a single process is rank 0
    report = write_report(build_report([out / "depth", out / "q-halt"], published=False), out / "report")
    result = {
        "puzzles": len(puzzles),
        "eval_set": puzzles.name,
        "blanks": int((puzzles.questions == 0).sum(axis=1).min()),
        "side": puzzles.side,
        "train_set": cfg.data.train_set,
        "train_steps": int(checkpoint.name.split("_")[1]),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - start, 1),
        "exact_by_step": depth["exact_by_step"],
        "exact_ci95": depth["exact_ci95"],
        "fill_accuracy": depth["fill_accuracy"],
        "q_halt": {
            "exact_accuracy": q_halt["exact_accuracy"],
            "mean_steps": q_halt.get("mean_steps", 0.0),
            "exact_ci95": q_halt["exact_ci95"],
        },
        "report": str(report["html"]),
        "checkpoint": str(checkpoint),
    }
    write_json(out / rundir.DEMO_SUMMARY, result, indent=2)
    return result
