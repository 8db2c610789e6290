"""Recording runs for the sweep: every view x B restarts, `depth` fixed ACT steps (past the model's
halt_max_steps if asked), with per-step signals, in resumable chunks (harness.predictions.recording).

Restarts are a batch dimension: rows are (view, restart) pairs, view-major, filled into batches
as views are. Restart r > 0 starts from H_init + noise * randn and L_init + noise * randn (one
(positions, hidden) draw each), seeded by (seed, global view index, r), so a row's start does not
depend on chunking, batching or world size; restart 0 is the unperturbed reference start, and a
breadth-1 recording reproduces `evaluate --halt fixed` exactly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from harness.core.errors import DataError
from harness.core.io import ensure_dir
from harness.data.views import Views
from harness.infer.live_halt import mean_entropy, relative_change
from harness.predictions.recording import Recording, load_recording, recording_path, save_recording
from models import ACTModel


def start_states(
    model: ACTModel, views: np.ndarray, restarts: np.ndarray, noise: float, seed: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """z_H, z_L start states of rows (global view index, restart); restart 0 is exactly H_init/L_init."""
    core, n = model.inner, len(views)
    shape = (model.config.total_len, model.config.hidden_size)
    z_H = core.H_init.expand(n, *shape).clone()
    z_L = core.L_init.expand(n, *shape).clone()
    for i in np.flatnonzero(restarts > 0):
        g = torch.Generator().manual_seed(
            int(np.random.SeedSequence([seed, int(views[i]), int(restarts[i])]).generate_state(1)[0])
        )
        draw = torch.randn((2, *shape), generator=g).to(device=device, dtype=z_H.dtype)
        z_H[i] += noise * draw[0]
        z_L[i] += noise * draw[1]
    return z_H, z_L


@torch.inference_mode()
def record_rows(
    model: ACTModel,
    inputs: torch.Tensor,
    ids: torch.Tensor,
    z_H: torch.Tensor,
    z_L: torch.Tensor,
    depth: int,
    record: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run `depth` steps on one batch; (D, n, seq_len) uint8 predictions and the (D, n) step signals.
    With record=False only the final predictions are kept (the cost of a plain fixed run)."""
    core = model.inner
    preds: list[torch.Tensor] = []
    signals: dict[str, list[torch.Tensor]] = {k: [] for k in ("q_halt", "q_continue", "dz", "entropy")}
    for _ in range(depth):
        previous = z_H
        z_H, z_L, logits, q_halt, q_continue = core(z_H, z_L, inputs, ids)
        if not record:
            continue
        preds.append(logits.argmax(-1).to(torch.uint8).cpu())
        signals["entropy"].append(mean_entropy(logits).cpu())
        signals["dz"].append(relative_change(z_H, previous).cpu())
        signals["q_halt"].append(q_halt.float().cpu())
        signals["q_continue"].append(q_continue.float().cpu())
    if not record:
        return logits.argmax(-1).to(torch.uint8).cpu().numpy()[None], {}
    return torch.stack(preds).numpy(), {k: torch.stack(v).numpy() for k, v in signals.items()}


def record_chunk(
    model: ACTModel,
    views: Views,
    first_view: int,
    tokens: np.ndarray,
    depth: int,
    breadth: int,
    noise: float,
    seed: int,
    batch_size: int,
    device: torch.device,
    on_done: Callable[[int], None] | None = None,
) -> Recording:
    """One chunk's rows (views [first_view, first_view + len(views)) x restarts 0..breadth-1)."""
    n = len(views)
    view = np.repeat(np.arange(first_view, first_view + n), breadth)
    restart = np.tile(np.arange(breadth, dtype=np.int16), n)
    local = np.repeat(np.arange(n), breadth)
    inputs_all = torch.from_numpy(tokens.astype(np.int32)).to(device)
    ids_all = torch.from_numpy(views.identifier.astype(np.int32)).to(device)
    preds, signals = [], []
    for start in range(0, len(view), batch_size):
        sl = slice(start, min(start + batch_size, len(view)))
        z_H, z_L = start_states(model, view[sl], restart[sl], noise, seed, device)
        rows = torch.from_numpy(local[sl]).to(device)
        p, s = record_rows(model, inputs_all[rows], ids_all[rows], z_H, z_L, depth)
        preds.append(p)
        signals.append(s)
        if on_done:
            on_done((sl.stop - sl.start) // breadth)
    meta: dict[str, np.ndarray] = {
        "view": view,
        "restart": restart,
        "identifier": views.identifier[local],
        "task_ids": views.task_ids[local],
        "test_index": views.test_index[local],
        "tids": views.tids[local],
        "colors": views.colors[local],
    }
    return Recording.from_dense(
        meta, np.concatenate(preds, axis=1), {k: np.concatenate([s[k] for s in signals], axis=1) for k in signals[0]}
    )


def _reusable(path: Path, first_view: int, n: int, depth: int, breadth: int) -> bool:
    if not path.exists():
        return False
    try:
        rec = load_recording(path)
    except DataError as exc:
        print(f"warning: {exc}; recomputing this chunk", file=sys.stderr)
        return False
    if (
        rec.depth == depth
        and np.array_equal(rec.view, np.repeat(np.arange(first_view, first_view + n), breadth))
        and np.array_equal(rec.restart, np.tile(np.arange(breadth), n))
    ):
        return True
    print(f"warning: {path}: recorded with other options; recomputing it", file=sys.stderr)
    return False


def record(
    model: ACTModel,
    views: Views,
    encode: Callable[[Views], np.ndarray],
    out_dir: Path,
    depth: int,
    breadth: int,
    noise: float,
    seed: int,
    batch_size: int,
    chunk_size: int,
    device: torch.device,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Record every chunk not on disk yet (a rerun with the same options resumes); `encode` gives a
    chunk's views as the model's input tokens (ARC grids on a canvas, puzzle cells). Returns timing."""
    ensure_dir(out_dir)
    model = model.to(device).eval()
    done, computed, start = 0, 0, time.perf_counter()
    for c, first in enumerate(range(0, len(views), chunk_size)):
        idx = np.arange(first, min(first + chunk_size, len(views)))
        path = recording_path(out_dir, c)
        if not _reusable(path, first, len(idx), depth, breadth):
            chunk_views = views.subset(idx)
            base = done

            def tick(k: int) -> None:
                nonlocal base
                base += k
                if progress:
                    progress(base, len(views))

            rec = record_chunk(
                model,
                chunk_views,
                first,
                encode(chunk_views),
                depth,
                breadth,
                noise,
                seed,
                batch_size,
                device,
                tick,
            )
            save_recording(path, rec)
            computed += len(idx)
        done += len(idx)
        if progress:
            progress(done, len(views))
    return {"views_computed": computed, "seconds": time.perf_counter() - start}


def load_all(out_dir: Path, n_views: int, chunk_size: int) -> Recording:
    """Every chunk of a finished recording, in view order."""
    n_chunks = -(-n_views // chunk_size)
    missing = [c for c in range(n_chunks) if not recording_path(out_dir, c).exists()]
    if missing:
        raise DataError(f"{out_dir}: {len(missing)} of {n_chunks} recording chunks missing; rerun the sweep")
    return Recording.concat([load_recording(recording_path(out_dir, c)) for c in range(n_chunks)])
