"""The inference engine: batched eval-mode ACT over views, written to disk in resumable shards.

Two schedules:
  fixed    every view runs `steps` ACT steps (the reference's evaluation: all halt_max_steps);
  q        continuous batching: a view stops once q_halt > threshold (or at `steps`), and its
           batch slot takes the next view at once, so the batch stays full.
Work is cut into chunks of consecutive views; chunk c belongs to rank c % world_size and is
saved as a shard (harness.predictions.shards) when done, so an interrupted run (any world size)
resumes from the chunks on disk and ranks never exchange Python objects. A chunk on disk that is
damaged, or holds other views (a rerun with other options into the same folder), is recomputed
with a warning.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.config import EngineConfig
from harness.core.errors import DataError
from harness.core.io import ensure_dir
from harness.core.tasks import TaskSet
from harness.data.encoding import decode
from harness.data.views import Views, encode_views
from harness.predictions.shards import chunk_path, load_chunk, save_chunk
from models import ACTModel
from voting import Predictions


@dataclass
class ChunkResult:
    """Raw outputs for a chunk's views, in view order: final token predictions and their q/steps."""

    preds: np.ndarray  # (n, seq_len) uint8
    q_halt: np.ndarray  # (n,) float64, the q_halt logit at the step the view stopped
    steps: np.ndarray  # (n,) int16, ACT steps used
    step_preds: np.ndarray | None = None  # (steps, n, seq_len) uint8 when recorded


def _run_fixed(
    model: ACTModel, inputs: torch.Tensor, ids: torch.Tensor, steps: int, record: bool
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    core = model.inner
    n = inputs.shape[0]
    z_H = core.H_init.expand(n, model.config.total_len, -1).clone()
    z_L = core.L_init.expand(n, model.config.total_len, -1).clone()
    per_step = []
    for _ in range(steps):
        z_H, z_L, logits, q_halt, _ = core(z_H, z_L, inputs, ids)
        if record:
            per_step.append(logits.argmax(-1).to(torch.uint8).cpu())
    preds = logits.argmax(-1).to(torch.uint8).cpu()
    return preds, q_halt.double().cpu(), per_step


@torch.inference_mode()
def run_chunk(
    model: ACTModel,
    tokens: np.ndarray,
    identifiers: np.ndarray,
    cfg: EngineConfig,
    device: torch.device,
    on_done: Callable[[int], None] | None = None,
) -> ChunkResult:
    """Evaluate one chunk of views; `on_done(k)` is told as views finish (for progress bars)."""
    steps = cfg.steps or model.config.halt_max_steps
    n = len(tokens)
    preds = np.zeros((n, tokens.shape[1]), np.uint8)
    q_out = np.zeros(n, np.float64)
    used = np.zeros(n, np.int16)
    inputs_all = torch.from_numpy(tokens.astype(np.int32)).to(device)
    ids_all = torch.from_numpy(identifiers.astype(np.int32)).to(device)
    if cfg.halt == "fixed":
        recorded = []
        for start in range(0, n, cfg.batch_size):
            sl = slice(start, min(start + cfg.batch_size, n))
            p, q, per_step = _run_fixed(model, inputs_all[sl], ids_all[sl], steps, cfg.record_steps)
            preds[sl], q_out[sl], used[sl] = p.numpy(), q.numpy(), steps
            recorded.append(per_step)
            if on_done:
                on_done(sl.stop - sl.start)
        step_preds = None
        if cfg.record_steps:
            step_preds = np.stack([np.concatenate([r[s].numpy() for r in recorded]) for s in range(steps)])
        return ChunkResult(preds, q_out, used, step_preds)
    if cfg.halt != "q":
        raise ValueError(f"halt must be 'fixed' or 'q', got {cfg.halt!r}")
    _run_continuous(model, inputs_all, ids_all, steps, cfg, preds, q_out, used, on_done)
    return ChunkResult(preds, q_out, used)


def _run_continuous(
    model: ACTModel,
    inputs_all: torch.Tensor,
    ids_all: torch.Tensor,
    steps: int,
    cfg: EngineConfig,
    preds: np.ndarray,
    q_out: np.ndarray,
    used: np.ndarray,
    on_done: Callable[[int], None] | None,
) -> None:
    """Continuous batching: slots hold views in flight; finished slots are refilled immediately."""
    core, n = model.inner, len(inputs_all)
    size = min(cfg.batch_size, n)
    shape = (size, model.config.total_len, model.config.hidden_size)
    z_H = torch.empty(shape, dtype=core.H_init.dtype, device=inputs_all.device)
    z_L = torch.empty_like(z_H)
    slot_view = torch.full((size,), -1, dtype=torch.long, device=inputs_all.device)
    slot_steps = torch.zeros(size, dtype=torch.int32, device=inputs_all.device)
    next_view = 0
    while True:
        free = (slot_view < 0).nonzero().flatten()
        take = min(len(free), n - next_view)
        if take:
            slots = free[:take]
            slot_view[slots] = torch.arange(next_view, next_view + take, device=slot_view.device)
            z_H[slots], z_L[slots], slot_steps[slots] = core.H_init, core.L_init, 0
            next_view += take
        active = (slot_view >= 0).nonzero().flatten()
        if len(active) == 0:
            break
        views = slot_view[active]
        zh, zl, logits, q_halt, _ = core(z_H[active], z_L[active], inputs_all[views], ids_all[views])
        z_H[active], z_L[active] = zh, zl
        slot_steps[active] += 1
        done = (q_halt > cfg.threshold) | (slot_steps[active] >= steps)
        if done.any():
            finished = views[done].cpu().numpy()
            preds[finished] = logits[done].argmax(-1).to(torch.uint8).cpu().numpy()
            q_out[finished] = q_halt[done].double().cpu().numpy()
            used[finished] = slot_steps[active][done].cpu().numpy()
            slot_view[active[done]] = -1
            if on_done:
                on_done(len(finished))


def chunk_predictions(views: Views, result: ChunkResult, canvas: int, step: int | None = None) -> Predictions:
    """A chunk's tokens decoded to grids, one Predictions row per view: the final ones, or those after
    ACT `step` (needs record_steps; q_halt stays the final one, as shards store it)."""
    if step is not None and result.step_preds is None:
        raise ValueError("per-step predictions were not recorded (record_steps)")
    tokens = result.preds if step is None or result.step_preds is None else result.step_preds[step - 1]
    shapes, offsets, cells = decode(tokens, canvas)
    return Predictions(
        views.task_ids, views.test_index, views.tids, views.colors, shapes, offsets, cells, result.q_halt
    )


def _reusable(path: Path, views: Views) -> bool:
    """Whether the chunk at `path` is complete and holds exactly `views`; when it exists but does
    not, say so on stderr (it is then recomputed)."""
    if not path.exists():
        return False
    try:
        saved, _ = load_chunk(path)
    except DataError as exc:
        print(f"warning: {exc}; recomputing this chunk", file=sys.stderr)
        return False
    if len(saved) == len(views) and all(
        np.array_equal(getattr(saved, k), getattr(views, k)) for k in ("task_ids", "test_index", "tids", "colors")
    ):
        return True
    print(
        f"warning: {path}: holds other views than this run's (predicted with other options?); recomputing it",
        file=sys.stderr,
    )
    return False


def predict(
    model: ACTModel,
    views: Views,
    tasks: TaskSet,
    out_dir: Path,
    cfg: EngineConfig,
    device: torch.device,
    rank: int = 0,
    world_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Evaluate this rank's chunks that are not on disk yet. Returns timing for the run record.

    `progress(done, total)` is called with view counts of this rank (resumed chunks included).
    """
    canvas = int(round(model.config.seq_len**0.5))
    if canvas * canvas != model.config.seq_len:
        raise ValueError(f"seq_len {model.config.seq_len} is not a square canvas")
    ensure_dir(out_dir)  # an unwritable folder fails now, not after the first chunk's compute
    model = model.to(device).eval()
    if cfg.compile:
        model.compile_blocks()
    n_chunks = -(-len(views) // cfg.chunk_size)
    mine = [c for c in range(n_chunks) if c % world_size == rank]
    total = sum(min(cfg.chunk_size, len(views) - c * cfg.chunk_size) for c in mine)
    done, computed, start = 0, 0, time.perf_counter()
    for c in mine:
        idx = np.arange(c * cfg.chunk_size, min((c + 1) * cfg.chunk_size, len(views)))
        path = chunk_path(out_dir, c)
        chunk_views = views.subset(idx)
        if _reusable(path, chunk_views):
            done += len(idx)
            if progress:
                progress(done, total)
            continue
        tokens = encode_views(chunk_views, tasks, canvas)

        def tick(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress(done, total)

        result = run_chunk(model, tokens, chunk_views.identifier, cfg, device, tick)
        recorded = 0 if result.step_preds is None else len(result.step_preds)
        per_step = [chunk_predictions(chunk_views, result, canvas, s) for s in range(1, recorded + 1)]
        save_chunk(path, chunk_predictions(chunk_views, result, canvas), result.steps, chunk_views.identifier, per_step)
        computed += len(idx)
    return {"views_computed": computed, "seconds": time.perf_counter() - start}
