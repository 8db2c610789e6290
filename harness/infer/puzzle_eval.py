"""Sudoku and maze evaluation: checkpoint + puzzle set -> prediction shards -> score.json and run.json,
and the held-out exact accuracy a training run logs.

Each puzzle is one view (identifier 0; no test-time augmentation: the paper scores the test set as it
is), run through the engine's `run_chunk`, so batching and every live halting rule are the engine's.
One start per puzzle: a shard stores one prediction per puzzle, so restarts are `trm-eval sweep`'s
(its single-answer selectors pick among them).
Chunks of `chunk_size` puzzles go to ranks round-robin and are saved as shards
(harness.predictions.puzzle_shards); a rerun skips the chunks on disk, so the 423,168 puzzles of
Sudoku-Extreme's test set can be evaluated across interruptions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.config import EngineConfig
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import ensure_dir, write_json
from harness.core.puzzles import PuzzleSet
from harness.data.puzzle_encoding import decode_tokens, encode_cells, vocab_size
from harness.infer.checkpoints import load_checkpoint
from harness.infer.engine import run_chunk
from harness.infer.evaluate import evaluation_record
from harness.infer.nfe import nfe_record
from harness.pipeline import score_puzzle_predictions
from harness.predictions.puzzle_shards import load_puzzle_chunk, puzzle_chunk_path, save_puzzle_chunk
from models import ACTModel, ModelConfig
from voting.selectors import select_single


def check_fits(config: ModelConfig, puzzles: PuzzleSet, where: str | Path) -> None:
    """DataError unless the model reads this set's sequences: seq_len = side^2, the kind's vocabulary."""
    want = (puzzles.side**2, vocab_size(puzzles.kind, puzzles.side))
    if (config.seq_len, config.vocab_size) != want:
        raise DataError(
            f"{where}: a model of seq_len {config.seq_len} and vocab_size {config.vocab_size} cannot "
            f"read {puzzles.name} ({puzzles.side}x{puzzles.side} {puzzles.kind}: seq_len {want[0]}, "
            f"vocab_size {want[1]})"
        )


def settings(cfg: EngineConfig, steps: int, seed: int = 0) -> str:
    """What a shard was predicted with; chunks predicted otherwise are recomputed, not mixed in.
    fixed and q keep the strings they had before the other rules ran live, so older shards stay valid."""
    rule = cfg.rule()
    halt = f"q>{rule.params[0]:g}" if rule.name == "q" else rule.key
    return f"halt={halt} steps={steps} record={int(cfg.record_steps and rule.name == 'fixed')}{cfg.restart_key(seed)}"


def check_restarts(cfg: EngineConfig) -> None:
    """DataError for restarts > 1 with record_steps: a puzzle shard keeps per-step grids of one answer."""
    if cfg.restarts > 1 and cfg.record_steps:
        raise DataError(
            f"restarts = {cfg.restarts} with record_steps: a Sudoku or maze shard keeps the per-step grids of one "
            f"answer per puzzle; use `trm-eval sweep --breadth {cfg.restarts}` to see every restart's steps"
        )


def majority(cells: np.ndarray, q_halt: np.ndarray, steps: np.ndarray, restarts: int) -> tuple[np.ndarray, ...]:
    """Rows (puzzle, restart), puzzle-major -> one row per puzzle: the most frequent answer among its
    restarts (ties: the earliest restart, so restart 0, the reference start, wins a split), that
    answer's q_halt, and the ACT steps run summed over the restarts (what the puzzle cost)."""
    if restarts == 1:
        return cells, q_halt, steps
    n = len(cells) // restarts
    chosen = select_single(cells, np.repeat(np.arange(n), restarts), "majority")
    return cells[chosen], q_halt[chosen], steps.astype(np.int32).reshape(n, restarts).sum(axis=1)


def _reusable(path: Path, index: np.ndarray, set_hash: str, wanted: str) -> bool:
    if not path.exists():
        return False
    try:
        chunk = load_puzzle_chunk(path)
    except DataError as exc:
        print(f"warning: {exc}; recomputing this chunk", file=sys.stderr)
        return False
    if np.array_equal(chunk.index, index) and chunk.set_hash == set_hash and chunk.settings == wanted:
        return True
    print(f"warning: {path}: predicted for other puzzles or with other settings; recomputing it", file=sys.stderr)
    return False


def predict_puzzles(
    model: ACTModel,
    puzzles: PuzzleSet,
    out_dir: Path,
    cfg: EngineConfig,
    device: torch.device,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Predict this rank's chunks that are not on disk yet; `progress(done, total)` counts rows (puzzles
    x restarts). With restarts > 1 each puzzle runs from cfg.restarts starts (seeded by (seed, puzzle,
    r), as the ARC engine's) and its shard row is their majority answer (`majority`)."""
    check_fits(model.config, puzzles, puzzles.name)
    check_restarts(cfg)
    ensure_dir(out_dir)
    model = model.to(device).eval()
    if cfg.compile:
        model.compile_blocks()
    steps = cfg.steps or model.config.halt_max_steps
    wanted = settings(cfg, steps, seed)
    n_chunks = -(-len(puzzles) // cfg.chunk_size)
    mine = [c for c in range(n_chunks) if c % world_size == rank]
    total = cfg.restarts * sum(min(cfg.chunk_size, len(puzzles) - c * cfg.chunk_size) for c in mine)
    done, computed, start = 0, 0, time.perf_counter()

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress(done, total)

    for c in mine:
        index = np.arange(c * cfg.chunk_size, min((c + 1) * cfg.chunk_size, len(puzzles)))
        path = puzzle_chunk_path(out_dir, c)
        if _reusable(path, index, puzzles.hash, wanted):
            tick(len(index) * cfg.restarts)
            continue
        tokens = encode_cells(puzzles.questions[index])
        result = run_chunk(model, tokens, np.zeros(len(index), np.int64), cfg, device, tick, views=index, seed=seed)
        cells, q_halt, used = majority(
            decode_tokens(result.preds, puzzles.kind, puzzles.side), result.q_halt, result.steps, cfg.restarts
        )
        per_step = (
            []
            if result.step_preds is None
            else [decode_tokens(p, puzzles.kind, puzzles.side) for p in result.step_preds]
        )
        save_puzzle_chunk(
            path,
            index,
            cells,
            q_halt,
            used,
            puzzles.hash,
            wanted,
            per_step,
        )
        computed += len(index)
    return {"views": len(puzzles), "views_computed": computed, "seconds": time.perf_counter() - start}


def run_puzzle_predict(
    checkpoint: Path,
    puzzles: PuzzleSet,
    out_dir: Path,
    cfg: EngineConfig,
    device: torch.device | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Load the checkpoint (no identifiers needed: every puzzle is identifier 0) and predict into out_dir."""
    model, manifest = load_checkpoint(checkpoint)
    check_fits(model.config, puzzles, checkpoint)
    info = predict_puzzles(
        model,
        puzzles,
        out_dir / rundir.PREDICTIONS,
        cfg,
        device or torch.device("cpu"),
        rank,
        world_size,
        progress,
        seed,
    )
    return info | {"manifest": manifest}


def run_puzzle_evaluate(
    checkpoint: Path,
    puzzles: PuzzleSet,
    run_dir: Path,
    cfg: EngineConfig,
    device: torch.device | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> rundir.PuzzleScoreRecord | None:
    """Predict, then (on rank 0) score: score.json (PuzzleScoreRecord) and run.json (EvaluationRecord)."""
    start = time.perf_counter()
    info = run_puzzle_predict(checkpoint, puzzles, run_dir, cfg, device, rank, world_size, progress, seed)
    if world_size > 1:
        torch.distributed.barrier()
    if rank != 0:
        return None
    summary = score_puzzle_predictions(puzzles, run_dir / rundir.PREDICTIONS)
    if summary["predicted"] != len(puzzles):
        raise DataError(f"{run_dir}: {len(puzzles) - summary['predicted']} puzzles have no prediction; rerun to finish")
    if cfg.restarts > 1:
        summary["restarts"] = cfg.restarts
    # Per puzzle (a puzzle is a task): the steps run (the shards' mean, summed over restarts) and the reference's.
    total_steps = np.array([summary.get("mean_steps", 0.0) * len(puzzles)])
    nfe = nfe_record(info["manifest"], total_steps, len(puzzles), len(puzzles))
    run = evaluation_record(
        checkpoint,
        info["manifest"],
        puzzles.name,
        puzzles.hash,
        len(puzzles),
        None,
        cfg,
        summary.get("mean_steps", 0.0) / cfg.restarts,
        time.perf_counter() - start,
        device,
        world_size,
        nfe,
    )
    write_json(run_dir / rundir.SCORE, summary, indent=2)
    write_json(run_dir / rundir.EVALUATION_RECORD, run, indent=2)
    return summary


def evaluate_puzzles_held_out(
    model: ACTModel, puzzles: PuzzleSet, batch_size: int, device: torch.device
) -> dict[str, float]:
    """Exact accuracy of `model` (in eval mode) on `puzzles` after all ACT steps; nothing is written."""
    result = run_chunk(
        model,
        encode_cells(puzzles.questions),
        np.zeros(len(puzzles), np.int64),
        EngineConfig(batch_size=batch_size),
        device,
    )
    exact = (decode_tokens(result.preds, puzzles.kind, puzzles.side) == puzzles.answers).all(axis=1)
    return {"eval/exact_accuracy": float(exact.mean()), "eval/puzzles": float(len(puzzles))}
