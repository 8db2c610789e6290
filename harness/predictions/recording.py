"""The sweep's recording: every (view, restart) row run for `depth` ACT steps, with what each step
produced, so any depth <= D, breadth, view subset and halting rule is scored without rerunning.

`<run>/recording/chunk-<c>.npz` holds one engine chunk of views x all restarts (rows view-major):
per row its view's columns (task, test input, transform, puzzle identifier, global view index) and
restart; per (step, row) the q_halt and q_continue logits, `dz` (the relative change of z_H from
the previous step; step 1: from the start state) and the mean token entropy of the output, as
float32; and the predicted tokens (uint8) only where they changed: (row, step, tokens) triples,
every row's step 1 included, sorted by (row, step). A shard is written atomically; reads are
checked and a damaged or foreign file is a DataError naming it.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write

ROW_COLUMNS = ("view", "restart", "identifier", "task_ids", "test_index", "tids", "colors")
STEP_COLUMNS = ("q_halt", "q_continue", "dz", "entropy")  # (depth, rows) float32 each
CHANGE_COLUMNS = ("change_row", "change_step", "change_tokens")


@dataclass
class Recording:
    """Rows = (view, restart); steps 1..depth. Predictions are stored where they changed."""

    view: np.ndarray  # (N,) int64, index of the row's view in the run's view order
    restart: np.ndarray  # (N,) int16, 0 = the unperturbed reference start
    identifier: np.ndarray  # (N,) int64, puzzle-embedding row
    task_ids: np.ndarray  # (N,) str
    test_index: np.ndarray  # (N,) int64
    tids: np.ndarray  # (N,) int8
    colors: np.ndarray  # (N, 10) uint8
    q_halt: np.ndarray  # (D, N) float32
    q_continue: np.ndarray  # (D, N) float32
    dz: np.ndarray  # (D, N) float32, |z_H(s) - z_H(s-1)| / |z_H(s-1)|
    entropy: np.ndarray  # (D, N) float32, mean over positions of the output's token entropy (nats)
    change_row: np.ndarray  # (M,) int32
    change_step: np.ndarray  # (M,) int16, 1-based
    change_tokens: np.ndarray  # (M, seq_len) uint8

    def __len__(self) -> int:
        return len(self.view)

    @property
    def depth(self) -> int:
        return int(self.q_halt.shape[0])

    @classmethod
    def from_dense(cls, rows: dict[str, np.ndarray], preds: np.ndarray, signals: dict[str, np.ndarray]) -> Recording:
        """From every step's predictions `preds` (D, N, seq_len), keeping only the changed ones."""
        changed = np.ones(preds.shape[:2], bool)
        changed[1:] = (preds[1:] != preds[:-1]).any(axis=2)
        row, step = np.nonzero(changed.T)  # row-major: sorted by (row, step)
        return cls(
            **rows,
            **{k: signals[k].astype(np.float32) for k in STEP_COLUMNS},
            change_row=row.astype(np.int32),
            change_step=(step + 1).astype(np.int16),
            change_tokens=preds[step, row].astype(np.uint8),
        )

    def changed(self) -> np.ndarray:
        """(D, N) bool: the prediction after step s differs from the one before (step 1: True)."""
        out = np.zeros((self.depth, len(self)), bool)
        out[self.change_step.astype(np.int64) - 1, self.change_row.astype(np.int64)] = True
        return out

    def change_index(self, exit_steps: np.ndarray) -> np.ndarray:
        """(N,) index into the change arrays of each row's prediction after ACT step exit_steps[row]."""
        key = self.change_row.astype(np.int64) * (self.depth + 1) + self.change_step
        query = np.arange(len(self)) * (self.depth + 1) + np.asarray(exit_steps, np.int64)
        return np.searchsorted(key, query, side="right") - 1

    def tokens_at(self, exit_steps: np.ndarray) -> np.ndarray:
        """(N, seq_len) tokens each row predicted after its exit step."""
        return self.change_tokens[self.change_index(exit_steps)]

    def at_exit(self, name: str, exit_steps: np.ndarray) -> np.ndarray:
        """(N,) per-step signal `name` read at each row's exit step."""
        return getattr(self, name)[np.asarray(exit_steps, np.int64) - 1, np.arange(len(self))]

    @classmethod
    def concat(cls, parts: list[Recording]) -> Recording:
        """Chunks in order (their rows renumbered); every part must have the same depth."""
        if len({p.depth for p in parts}) > 1:
            raise DataError(f"recording chunks of different depths: {sorted({p.depth for p in parts})}")
        shift = np.cumsum([0, *[len(p) for p in parts[:-1]]])
        columns = {c: np.concatenate([getattr(p, c) for p in parts]) for c in ROW_COLUMNS}
        columns |= {c: np.concatenate([getattr(p, c) for p in parts], axis=1) for c in STEP_COLUMNS}
        columns |= {
            "change_row": np.concatenate([p.change_row + np.int32(s) for p, s in zip(parts, shift)]),
            "change_step": np.concatenate([p.change_step for p in parts]),
            "change_tokens": np.concatenate([p.change_tokens for p in parts]),
        }
        return cls(**columns)


def recording_path(out_dir: Path, chunk: int) -> Path:
    return Path(out_dir) / f"chunk-{chunk:06d}.npz"


def save_recording(path: Path, rec: Recording) -> None:
    """Write one chunk atomically (compressed npz)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{f.name: getattr(rec, f.name) for f in fields(rec)})
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), mode="wb")


def load_recording(path: Path) -> Recording:
    """One chunk, checked (shapes, dtypes, change order); a damaged file is a DataError."""
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [f.name for f in fields(Recording) if f.name not in z.files]
            if missing:
                raise DataError(f"{path}: not a recording chunk (no {', '.join(missing)})")
            rec = Recording(**{f.name: z[f.name] for f in fields(Recording)})
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: damaged recording chunk: {first_line(exc)}") from None
    problem = _problem(rec)
    if problem:
        raise DataError(f"{path}: {problem}")
    return rec


def _problem(rec: Recording) -> str | None:
    n, d = len(rec), rec.depth
    if any(len(getattr(rec, c)) != n for c in ROW_COLUMNS) or any(
        getattr(rec, c).shape != (d, n) for c in STEP_COLUMNS
    ):
        return "row or step columns of different lengths"
    if (
        rec.change_tokens.dtype != np.uint8
        or rec.change_tokens.ndim != 2
        or not len(rec.change_row) == len(rec.change_step) == len(rec.change_tokens)
    ):
        return "change columns malformed"
    key = rec.change_row.astype(np.int64) * (d + 1) + rec.change_step
    firsts = rec.change_row[rec.change_step == 1]
    if n and (
        (np.diff(key) <= 0).any()
        or rec.change_step.min() < 1
        or rec.change_step.max() > d
        or not np.array_equal(firsts, np.arange(n))
        or rec.change_row.max() >= n
    ):
        return "changes not sorted by (row, step), out of range, or a row without its step 1"
    return None


def stored_bytes(rec: Recording) -> dict[str, int]:
    """Bytes of predicted tokens as stored (sparse) and as a dense (depth, rows, seq_len) uint8 array."""
    return {
        "sparse": int(rec.change_tokens.nbytes + rec.change_row.nbytes + rec.change_step.nbytes),
        "dense": int(rec.depth * len(rec) * rec.change_tokens.shape[1]),
    }
