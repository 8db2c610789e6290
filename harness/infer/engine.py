"""The inference engine: batched eval-mode ACT over rows (view x restart), written to disk in resumable shards.

Rows are (view, restart) pairs, view-major, filled into batches as views are. Restart 0 starts from
H_init/L_init (the reference); restart r > 0 from harness.infer.record.start_states, seeded by (seed,
global view index, r), so a row's start does not depend on chunking, batching or world size. Each row
is one Predictions row in the shards: voting counts restarts as extra votes, like views.

Two schedules:
  fixed    every row runs `steps` ACT steps (the reference's evaluation: all halt_max_steps);
  live     any other halting rule (q, stable, converged, entropy; harness.infer.live_halt) in
           continuous batching: a row stops at the step the rule picks (at `steps` at the latest), and
           its batch slot takes the next row at once, so the batch stays full.
Work is cut into chunks of consecutive views; chunk c belongs to rank c % world_size and is
saved as a shard (harness.predictions.shards) when done, so an interrupted run (any world size)
resumes from the chunks on disk and ranks never exchange Python objects. A chunk on disk that is
damaged, holds other views, or was predicted with other settings (rule, steps, restarts, noise,
seed: `shard_settings`) is recomputed with a warning.
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
from harness.infer.live_halt import LiveHalt
from harness.infer.record import start_states
from harness.predictions.shards import chunk_path, has_step, load_chunk, load_chunk_settings, save_chunk
from models import ACTModel
from voting import Predictions
from voting.halting import HaltRule


@dataclass
class ChunkResult:
    """Raw outputs for a chunk's rows (view-major: row i is restart i % B of view i // B): final token
    predictions and their q/steps."""

    preds: np.ndarray  # (rows, seq_len) uint8
    q_halt: np.ndarray  # (rows,) float64, the q_halt logit at the step the row stopped
    steps: np.ndarray  # (rows,) int16, ACT steps used
    step_preds: np.ndarray | None = None  # (steps, rows, seq_len) uint8 when recorded


@dataclass(frozen=True)
class Rows:
    """A chunk's rows: row i is restart i % restarts of the chunk's view i // restarts (global index views[...])."""

    views: np.ndarray  # (n,) global index of each of the chunk's views (seeds the restart noise)
    restarts: int = 1
    noise: float = 0.0
    seed: int = 0

    def __len__(self) -> int:
        return len(self.views) * self.restarts

    def starts(self, model: ACTModel, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """z_H, z_L start states of `rows`; with one restart H_init/L_init, as the engine always did."""
        core = model.inner
        if self.restarts == 1:
            shape = (len(rows), model.config.total_len, -1)
            return core.H_init.expand(*shape).clone(), core.L_init.expand(*shape).clone()
        restart = rows % self.restarts
        return start_states(model, self.views[rows // self.restarts], restart, self.noise, self.seed, device)


def _run_fixed(
    model: ACTModel,
    inputs: torch.Tensor,
    ids: torch.Tensor,
    z_H: torch.Tensor,
    z_L: torch.Tensor,
    steps: int,
    record: bool,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    core = model.inner
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
    views: np.ndarray | None = None,
    seed: int = 0,
) -> ChunkResult:
    """Evaluate one chunk: each of its views (global indices `views`, default 0..n-1) x cfg.restarts,
    under cfg's halting rule; `on_done(k)` is told as rows finish (for progress bars)."""
    steps = cfg.steps or model.config.halt_max_steps
    rows = Rows(np.arange(len(tokens)) if views is None else np.asarray(views), cfg.restarts, cfg.noise, seed)
    n, restarts = len(rows), cfg.restarts
    preds = np.zeros((n, tokens.shape[1]), np.uint8)
    q_out = np.zeros(n, np.float64)
    used = np.zeros(n, np.int16)
    inputs_all = torch.from_numpy(tokens.astype(np.int32)).to(device)
    ids_all = torch.from_numpy(identifiers.astype(np.int32)).to(device)
    rule = cfg.rule()
    if rule.name != "fixed":
        _run_continuous(model, inputs_all, ids_all, rows, steps, rule, cfg.batch_size, preds, q_out, used, on_done)
        return ChunkResult(preds, q_out, used)
    recorded = []
    for start in range(0, n, cfg.batch_size):
        sl = slice(start, min(start + cfg.batch_size, n))
        z_H, z_L = rows.starts(model, np.arange(sl.start, sl.stop), device)
        view = slice(sl.start, sl.stop) if restarts == 1 else torch.arange(sl.start, sl.stop, device=device) // restarts
        p, q, per_step = _run_fixed(model, inputs_all[view], ids_all[view], z_H, z_L, steps, cfg.record_steps)
        preds[sl], q_out[sl], used[sl] = p.numpy(), q.numpy(), steps
        recorded.append(per_step)
        if on_done:
            on_done(sl.stop - sl.start)
    step_preds = None
    if cfg.record_steps:
        step_preds = np.stack([np.concatenate([r[s].numpy() for r in recorded]) for s in range(steps)])
    return ChunkResult(preds, q_out, used, step_preds)


def _run_continuous(
    model: ACTModel,
    inputs_all: torch.Tensor,
    ids_all: torch.Tensor,
    rows: Rows,
    steps: int,
    rule: HaltRule,
    batch_size: int,
    preds: np.ndarray,
    q_out: np.ndarray,
    used: np.ndarray,
    on_done: Callable[[int], None] | None,
) -> None:
    """Continuous batching: slots hold rows in flight; finished slots are refilled immediately."""
    core, n, device = model.inner, len(rows), inputs_all.device
    size = min(batch_size, n)
    shape = (size, model.config.total_len, model.config.hidden_size)
    z_H = torch.empty(shape, dtype=core.H_init.dtype, device=device)
    z_L = torch.empty_like(z_H)
    halt = LiveHalt(rule, steps, size, model.config.seq_len, device)
    slot_row = torch.full((size,), -1, dtype=torch.long, device=device)
    slot_steps = torch.zeros(size, dtype=torch.int32, device=device)
    next_row = 0
    while True:
        free = (slot_row < 0).nonzero().flatten()
        take = min(len(free), n - next_row)
        if take:
            slots = free[:take]
            slot_row[slots] = torch.arange(next_row, next_row + take, device=device)
            if rows.restarts == 1:
                z_H[slots], z_L[slots] = core.H_init, core.L_init
            else:
                z_H[slots], z_L[slots] = rows.starts(model, np.arange(next_row, next_row + take), device)
            slot_steps[slots] = 0
            halt.start(slots)
            next_row += take
        active = (slot_row >= 0).nonzero().flatten()
        if len(active) == 0:
            break
        row = slot_row[active]
        view = row if rows.restarts == 1 else row // rows.restarts
        z_old = z_H[active]
        zh, zl, logits, q_halt, _ = core(z_old, z_L[active], inputs_all[view], ids_all[view])
        z_H[active], z_L[active] = zh, zl
        slot_steps[active] += 1
        done = halt.stop(active, slot_steps[active], logits, q_halt, zh, z_old if halt.needs_previous_z else None)
        if done.any():
            finished = row[done].cpu().numpy()
            preds[finished] = logits[done].argmax(-1).to(torch.uint8).cpu().numpy()
            q_out[finished] = q_halt[done].double().cpu().numpy()
            used[finished] = slot_steps[active][done].cpu().numpy()
            slot_row[active[done]] = -1
            if on_done:
                on_done(len(finished))


def chunk_predictions(views: Views, result: ChunkResult, canvas: int, step: int | None = None) -> Predictions:
    """A chunk's tokens decoded to grids, one Predictions row per row of `views` (the chunk's views, each
    repeated once per restart): the final ones, or those after
    ACT `step` (needs record_steps; q_halt stays the final one, as shards store it)."""
    if step is not None and result.step_preds is None:
        raise ValueError("per-step predictions were not recorded (record_steps)")
    tokens = result.preds if step is None or result.step_preds is None else result.step_preds[step - 1]
    shapes, offsets, cells = decode(tokens, canvas)
    return Predictions(
        views.task_ids, views.test_index, views.tids, views.colors, shapes, offsets, cells, result.q_halt
    )


def shard_settings(cfg: EngineConfig, steps: int, halt_max_steps: int, seed: int) -> str | None:
    """What a shard is predicted with, or None for the reference protocol (fixed, halt_max_steps, one
    start): shards written before they recorded settings are read as that, and it writes them unchanged."""
    rule = cfg.rule()
    if rule.name == "fixed" and steps == halt_max_steps and cfg.restarts == 1:
        return None
    return f"halt={rule.key} steps={steps}{cfg.restart_key(seed)}"


def _reusable(path: Path, rows: Views, wanted: str | None, steps_needed: int = 0) -> bool:
    """Whether the chunk at `path` is complete, holds exactly `rows`, was predicted with `wanted`
    settings and (steps_needed > 0: record_steps) kept the predictions of every step up to
    steps_needed; when it exists but does not, say so on stderr (it is then recomputed)."""
    if not path.exists():
        return False
    try:
        saved, _ = load_chunk(path)
        settings = load_chunk_settings(path)
        stepped = not steps_needed or has_step(path, steps_needed)
    except DataError as exc:
        print(f"warning: {exc}; recomputing this chunk", file=sys.stderr)
        return False
    if not stepped:
        print(f"warning: {path}: kept no per-step predictions (--record-steps); recomputing it", file=sys.stderr)
        return False
    same_rows = len(saved) == len(rows) and all(
        np.array_equal(getattr(saved, k), getattr(rows, k)) for k in ("task_ids", "test_index", "tids", "colors")
    )
    if same_rows and settings == wanted:
        return True
    why = (
        f"was predicted with {settings or 'the reference settings'}, not {wanted or 'the reference settings'}"
        if same_rows
        else "holds other views than this run's (predicted with other options?)"
    )
    print(f"warning: {path}: {why}; recomputing it", file=sys.stderr)
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
    seed: int = 0,
) -> dict:
    """Evaluate this rank's chunks that are not on disk yet. Returns timing for the run record.

    `progress(done, total)` is called with row counts (views x restarts) of this rank, resumed chunks
    included; `seed` seeds the restart noise (restart r > 0 of global view v: (seed, v, r)).
    """
    canvas = int(round(model.config.seq_len**0.5))
    if canvas * canvas != model.config.seq_len:
        raise ValueError(f"seq_len {model.config.seq_len} is not a square canvas")
    ensure_dir(out_dir)  # an unwritable folder fails now, not after the first chunk's compute
    model = model.to(device).eval()
    if cfg.compile:
        model.compile_blocks()
    steps = cfg.steps or model.config.halt_max_steps
    wanted = shard_settings(cfg, steps, model.config.halt_max_steps, seed)
    n_chunks = -(-len(views) // cfg.chunk_size)
    mine = [c for c in range(n_chunks) if c % world_size == rank]
    total = cfg.restarts * sum(min(cfg.chunk_size, len(views) - c * cfg.chunk_size) for c in mine)
    done, computed, start = 0, 0, time.perf_counter()
    for c in mine:
        idx = np.arange(c * cfg.chunk_size, min((c + 1) * cfg.chunk_size, len(views)))
        path = chunk_path(out_dir, c)
        chunk_views = views.subset(idx)
        row_views = (
            chunk_views if cfg.restarts == 1 else chunk_views.subset(np.repeat(np.arange(len(idx)), cfg.restarts))
        )
        if _reusable(path, row_views, wanted, steps if cfg.record_steps else 0):
            done += len(row_views)
            if progress:
                progress(done, total)
            continue
        tokens = encode_views(chunk_views, tasks, canvas)

        def tick(k: int) -> None:
            nonlocal done
            done += k
            if progress:
                progress(done, total)

        result = run_chunk(model, tokens, chunk_views.identifier, cfg, device, tick, idx, seed)
        recorded = 0 if result.step_preds is None else len(result.step_preds)
        per_step = [chunk_predictions(row_views, result, canvas, s) for s in range(1, recorded + 1)]
        final = chunk_predictions(row_views, result, canvas)
        save_chunk(path, final, result.steps, row_views.identifier, per_step, wanted)
        computed += len(idx)
    return {"views_computed": computed, "seconds": time.perf_counter() - start}
