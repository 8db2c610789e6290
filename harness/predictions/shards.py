"""The inference engine's prediction shards: the one module that knows their keys.

`<run>/predictions/chunk-<c>.npz` holds chunk c of the views: the Predictions COLUMNS, the ACT
`steps` each view used, its puzzle `identifier` and, when evaluated with --record-steps, the grids
after every ACT step N as `step<N>_{shapes,offsets,cells}`. A shard is written atomically, so one
on disk is complete and an interrupted run resumes from them. Reports also take a run's final
predictions from `predictions.jsonl` (harness.predictions.jsonl) when it kept no shards.
Per-step predictions are read one step at a time, so their memory cost is that of one step.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core import rundir
from harness.core.errors import DataError
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


def save_chunk(path: Path, preds: Predictions, steps: np.ndarray, identifier: np.ndarray,
               step_preds: Sequence[Predictions] = ()) -> None:
    """Store one chunk atomically: its Predictions, each view's ACT steps and puzzle identifier, and,
    when recorded, the grids after every ACT step (`step_preds[s]`: after step s + 1)."""
    arrays = {c: getattr(preds, c) for c in COLUMNS} | {"steps": steps, "identifier": identifier}
    for step, at_step in enumerate(step_preds, start=1):
        arrays |= {key: getattr(at_step, c) for key, c in zip(step_keys(step), GRID_COLUMNS)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), mode="wb")


def _predictions(shard: np.lib.npyio.NpzFile, step: int | None = None) -> Predictions:
    """An open shard's Predictions: the final grids, or those after ACT `step` (q_halt: the final one)."""
    grids = GRID_COLUMNS if step is None else step_keys(step)
    columns = {c: shard[c] for c in COLUMNS if c not in GRID_COLUMNS}
    return Predictions(**columns, **{c: shard[key] for c, key in zip(GRID_COLUMNS, grids)})


def load_chunk(path: Path) -> tuple[Predictions, np.ndarray]:
    """A chunk's Predictions and the ACT steps each view used."""
    with np.load(path, allow_pickle=False) as shard:
        return _predictions(shard), shard["steps"]


def merge_chunks(out_dir: Path, n_views: int, chunk_size: int) -> tuple[Predictions, np.ndarray]:
    """All chunks in view order (every rank's), with the steps each view used."""
    n_chunks = -(-n_views // chunk_size)
    missing = [c for c in range(n_chunks) if not chunk_path(out_dir, c).exists()]
    if missing:
        raise FileNotFoundError(f"{out_dir}: {len(missing)} of {n_chunks} prediction chunks missing "
                                f"(first: {chunk_path(out_dir, missing[0]).name}); rerun predict to finish")
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
            with np.load(path, allow_pickle=False) as shard:
                parts.append(_predictions(shard, step))
        return Predictions.concat(parts)


def _recorded_steps(path: Path) -> set[int]:
    with np.load(path, allow_pickle=False) as shard:
        missing = [c for c in COLUMNS if c not in shard.files]
        if missing:
            raise DataError(f"{path}: not a predictions shard (no {', '.join(missing)})")
        return {int(m.group(1)) for k in shard.files if (m := _STEP_KEY.fullmatch(k))}


def _read_chunks(chunks: list[Path]) -> RunPredictions:
    steps = set.intersection(*(_recorded_steps(p) for p in chunks))
    parts = []
    for path in chunks:
        with np.load(path, allow_pickle=False) as shard:
            parts.append(_predictions(shard))
    return RunPredictions(Predictions.concat(parts), tuple(chunks), tuple(sorted(steps)))


def find_predictions(run_dir: Path, tasks: TaskSet) -> RunPredictions | None:
    """The run's predictions (engine shards preferred: they may hold per-step data), or None."""
    chunks = find_chunks(run_dir / rundir.PREDICTIONS)
    if chunks:
        return _read_chunks(chunks)
    jsonl = run_dir / rundir.PREDICTIONS_JSONL
    if jsonl.is_file():
        return RunPredictions(read_jsonl(jsonl, tasks))
    return None
