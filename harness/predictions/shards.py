"""A run's kept views, from whichever form the run wrote them in.

- `predictions.jsonl`: the interchange format (harness.predictions); final predictions only.
- `predictions/chunk-*.npz`: the inference engine's shards: Predictions columns, the ACT steps each
  view used, and, when evaluated with --record-steps, `step<N>_{shapes,offsets,cells}` per step.
Per-step predictions are read one step at a time, so their memory cost is that of one step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.core.errors import DataError
from harness.core.tasks import TaskSet
from voting import Predictions

COLUMNS = ("task_ids", "test_index", "tids", "colors", "shapes", "offsets", "cells", "q_halt")
_STEP_KEY = re.compile(r"step(\d+)_shapes")


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
            with np.load(path, allow_pickle=False) as z:
                cols = {c: z[c] for c in COLUMNS}
                cols.update(shapes=z[f"step{step}_shapes"], offsets=z[f"step{step}_offsets"],
                            cells=z[f"step{step}_cells"])
                parts.append(Predictions(**cols))
        return Predictions.concat(parts)


def _chunk_steps(path: Path) -> set[int]:
    with np.load(path, allow_pickle=False) as z:
        missing = [c for c in COLUMNS if c not in z.files]
        if missing:
            raise DataError(f"{path}: not a predictions shard (no {', '.join(missing)})")
        return {int(m.group(1)) for k in z.files if (m := _STEP_KEY.fullmatch(k))}


def _read_chunks(chunks: list[Path]) -> RunPredictions:
    steps = set.intersection(*(_chunk_steps(p) for p in chunks))
    parts = []
    for path in chunks:
        with np.load(path, allow_pickle=False) as z:
            parts.append(Predictions(**{c: z[c] for c in COLUMNS}))
    return RunPredictions(Predictions.concat(parts), tuple(chunks), tuple(sorted(steps)))


def find_predictions(run_dir: Path, tasks: TaskSet) -> RunPredictions | None:
    """The run's predictions (engine shards preferred: they may hold per-step data), or None."""
    chunks = sorted((run_dir / "predictions").glob("chunk-*.npz"))
    if chunks:
        return _read_chunks(chunks)
    jsonl = run_dir / "predictions.jsonl"
    if jsonl.is_file():
        from harness.predictions.jsonl import read_jsonl

        return RunPredictions(read_jsonl(jsonl, tasks))
    return None
