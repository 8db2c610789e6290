"""The inference engine's prediction shards: the one module that knows their keys.

`<run>/predictions/chunk-<c>.npz` holds chunk c of the views, one row per (view, restart), view-major:
the Predictions COLUMNS, the ACT `steps` each row used, its puzzle `identifier`, the engine `settings`
when not the reference protocol's (rule, steps, restarts, noise, seed) and, when evaluated with
--record-steps, the grids after every ACT step N as `step<N>_{shapes,offsets,cells}`. A shard is
written atomically, so one on disk is complete and an interrupted run resumes from them. Reports also
take a run's final predictions from `predictions.jsonl` (harness.predictions.jsonl) when it kept no shards.
Per-step predictions are read one step at a time, so their memory cost is that of one step.
Every shard read is checked (keys, dtypes, shapes, cells 0..9, grids inside the cell buffer, task
ids): a damaged or foreign file is a DataError naming it, never a wrong report.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core import rundir
from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write
from harness.core.tasks import TaskSet
from harness.predictions.jsonl import read_jsonl
from voting import Predictions

COLUMNS = ("task_ids", "test_index", "tids", "colors", "shapes", "offsets", "cells", "q_halt")  # Predictions'
GRID_COLUMNS = ("shapes", "offsets", "cells")  # the columns a recorded ACT step has its own copy of
_STEP_KEY = re.compile(r"step(\d+)_shapes")  # the first of step_keys


def step_keys(step: int) -> tuple[str, ...]:
    """The keys of the grids after ACT `step`, in GRID_COLUMNS order."""
    return tuple(f"step{step}_{c}" for c in GRID_COLUMNS)


def chunk_path(out_dir: Path, chunk: int) -> Path:
    return Path(out_dir) / f"chunk-{chunk:06d}.npz"


def find_chunks(out_dir: Path) -> list[Path]:
    """The shards on disk under `out_dir`, in chunk (= view) order."""
    return sorted(Path(out_dir).glob("chunk-*.npz"))


def save_chunk(
    path: Path,
    preds: Predictions,
    steps: np.ndarray,
    identifier: np.ndarray,
    step_preds: Sequence[Predictions] = (),
    settings: str | None = None,
) -> None:
    """Store one chunk atomically: its Predictions, each row's ACT steps and puzzle identifier, when
    recorded the grids after every ACT step (`step_preds[s]`: after step s + 1), and the engine
    settings it was predicted with (None, no key: the reference protocol, as every older shard)."""
    arrays = {c: getattr(preds, c) for c in COLUMNS} | {"steps": steps, "identifier": identifier}
    if settings is not None:
        arrays["settings"] = np.array(settings)
    for step, at_step in enumerate(step_preds, start=1):
        arrays |= {key: getattr(at_step, c) for key, c in zip(step_keys(step), GRID_COLUMNS)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), mode="wb")


@contextmanager
def _open_shard(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    """A shard opened for reading; a truncated or foreign file, an object array (never unpickled)
    or a missing key, met while the caller reads it, is a DataError naming the file."""
    try:
        with np.load(path, allow_pickle=False) as shard:
            missing = [c for c in COLUMNS if c not in shard.files]
            if missing:
                raise DataError(f"{path}: not a predictions shard (no {', '.join(missing)})")
            yield shard
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: damaged predictions shard: {first_line(exc)}") from None


def _predictions(
    shard: np.lib.npyio.NpzFile, path: Path, step: int | None = None, tasks: TaskSet | None = None
) -> Predictions:
    """An open shard's Predictions, checked: the final grids, or those after ACT `step` (q_halt: the final one)."""
    grids = GRID_COLUMNS if step is None else step_keys(step)
    columns = {c: shard[c] for c in COLUMNS if c not in GRID_COLUMNS}
    columns |= {c: shard[key] for c, key in zip(GRID_COLUMNS, grids)}
    problem = _problem(columns, tasks)
    if problem is not None:
        raise DataError(f"{path}: {problem}")
    return Predictions(**columns)


_KINDS = {
    "task_ids": "U",
    "test_index": "iu",
    "tids": "iu",
    "colors": "iu",
    "shapes": "iu",
    "offsets": "iu",
    "cells": "iu",
    "q_halt": "f",
}  # numpy dtype kinds the engine writes


def _problem(c: dict[str, np.ndarray], tasks: TaskSet | None) -> str | None:
    """What is wrong with a shard's columns (first problem found), or None."""
    n = len(c["task_ids"]) if c["task_ids"].ndim == 1 else -1
    for key, kinds in _KINDS.items():
        want = (n, 10) if key == "colors" else (n, 2) if key == "shapes" else None if key == "cells" else (n,)
        if c[key].dtype.kind not in kinds or (c[key].shape != want if want else c[key].ndim != 1):
            return f"{key}: a {c[key].dtype} array of shape {c[key].shape}, expected {want or 'one dimension'}"
    cells, shapes = c["cells"], c["shapes"].astype(np.int64)
    offsets = c["offsets"].astype(np.int64)
    if cells.size and not 0 <= cells.min() <= cells.max() <= 9:
        return f"cells: values {cells.min()}..{cells.max()}, expected colours 0..9"
    if n and (
        shapes.min() < 0
        or shapes.max() > len(cells)
        or offsets.min() < 0
        or (offsets + shapes[:, 0] * shapes[:, 1]).max() > len(cells)
    ):
        return "shapes and offsets point outside the cells"
    if n and not (
        0 <= c["tids"].min() <= c["tids"].max() <= 7
        and (c["colors"][:, 0] == 0).all()
        and (np.sort(c["colors"], axis=1) == np.arange(10)).all()
    ):
        return "tids or colors are not transforms (dihedral id 0..7, a colour permutation keeping 0)"
    if n and c["test_index"].min() < 0:
        return "test_index: negative"
    if tasks is None:
        return None
    for task_id in np.unique(c["task_ids"]):
        index = c["test_index"][c["task_ids"] == task_id]
        if task_id not in tasks.tasks:
            return f"task {task_id}: not in {tasks.name}"
        if index.max() >= len(tasks[task_id].test_inputs):
            return f"task {task_id}: test_index {index.max()} out of range"
    return None


def load_chunk(path: Path) -> tuple[Predictions, np.ndarray]:
    """A chunk's Predictions and the ACT steps each view used (checked; DataError when damaged)."""
    with _open_shard(path) as shard:
        preds, steps = _predictions(shard, path), shard["steps"]
    if steps.dtype.kind not in "iu" or steps.shape != (len(preds),):
        raise DataError(f"{path}: steps: a {steps.dtype} array of shape {steps.shape}, expected ({len(preds)},)")
    return preds, steps


def load_chunk_settings(path: Path) -> str | None:
    """The engine settings a chunk was predicted with (harness.infer.engine.shard_settings); None when
    it has none (the reference protocol)."""
    with _open_shard(path) as shard:
        if "settings" not in shard.files:
            return None
        text = shard["settings"]
    if text.dtype.kind != "U" or text.shape != ():
        raise DataError(f"{path}: settings: expected one string")
    return str(text)


def has_step(path: Path, step: int) -> bool:
    """Whether the chunk at `path` kept the predictions after ACT `step` (record_steps)."""
    with _open_shard(path) as shard:
        return step_keys(step)[0] in shard.files


def merge_chunks(out_dir: Path, n_views: int, chunk_size: int) -> tuple[Predictions, np.ndarray]:
    """All chunks in view order (every rank's), with the steps each view used."""
    n_chunks = -(-n_views // chunk_size)
    missing = [c for c in range(n_chunks) if not chunk_path(out_dir, c).exists()]
    if missing:
        raise DataError(
            f"{out_dir}: {len(missing)} of {n_chunks} prediction chunks missing "
            f"(first: {chunk_path(out_dir, missing[0]).name}); rerun predict to finish"
        )
    parts = [load_chunk(chunk_path(out_dir, c)) for c in range(n_chunks)]
    return Predictions.concat([p for p, _ in parts]), np.concatenate([s for _, s in parts])


@dataclass
class RunPredictions:
    """The final predictions of a run and, when recorded, those after each ACT step."""

    final: Predictions
    chunks: tuple[Path, ...] = ()  # engine shards (empty for JSON Lines)
    steps: tuple[int, ...] = ()  # ACT steps with recorded predictions, ascending

    @property
    def has_q(self) -> bool:
        return bool(np.isfinite(self.final.q_halt).any())

    def at_step(self, step: int) -> Predictions:
        """Every view's prediction as it stood after ACT `step` (q_halt: the final one)."""
        parts = []
        for path in self.chunks:
            with _open_shard(path) as shard:
                parts.append(_predictions(shard, path, step))
        return Predictions.concat(parts)


def _read_chunks(chunks: list[Path], tasks: TaskSet) -> RunPredictions:
    """The final predictions of every shard (checked against `tasks`) and the ACT steps all of them recorded."""
    parts, steps = [], []
    for path in chunks:
        with _open_shard(path) as shard:
            parts.append(_predictions(shard, path, tasks=tasks))
            steps.append({int(m.group(1)) for k in shard.files if (m := _STEP_KEY.fullmatch(k))})
    return RunPredictions(Predictions.concat(parts), tuple(chunks), tuple(sorted(set.intersection(*steps))))


def find_predictions(run_dir: Path, tasks: TaskSet) -> RunPredictions | None:
    """The run's predictions (engine shards preferred: they may hold per-step data), or None."""
    chunks = find_chunks(run_dir / rundir.PREDICTIONS)
    if chunks:
        return _read_chunks(chunks, tasks)
    jsonl = run_dir / rundir.PREDICTIONS_JSONL
    if jsonl.is_file():
        return RunPredictions(read_jsonl(jsonl, tasks))
    return None
