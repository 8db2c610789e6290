"""Prediction shards of Sudoku and maze evaluations: the one module that knows their keys.

`<run>/predictions/puzzles-<c>.npz` holds chunk c of a puzzle set: `index` (each row's puzzle in the
set), `cells` (the predicted grid, uint8 cell values; 255 where the model wrote a token no cell has),
the `q_halt` logit at the step the row stopped, the ACT `steps` it used, the `set_hash` it was
predicted for, the engine `settings` it was predicted with (a rerun with others recomputes it) and,
with --record-steps, `step<N>_cells` after every ACT step N. Written atomically:
a shard on disk is complete, so an interrupted evaluation resumes from them. Every read is checked
(keys, dtypes, shapes, values); a damaged or foreign file is a DataError naming it, never a wrong score.
A one-column CSV (`prediction`: one grid per puzzle in the set's order, in the set's characters) is
read too, for predictions made elsewhere.
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
from typing import Any

import numpy as np
import pandas as pd

from harness.core import rundir
from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write
from harness.core.puzzles import MAZE_CHARS, PuzzleSet
from harness.data.puzzle_encoding import INVALID

KEYS = ("index", "cells", "q_halt", "steps", "set_hash", "settings")
_STEP_KEY = re.compile(r"step(\d+)_cells")


def puzzle_chunk_path(out_dir: Path, chunk: int) -> Path:
    return Path(out_dir) / f"puzzles-{chunk:06d}.npz"


def find_puzzle_chunks(out_dir: Path) -> list[Path]:
    return sorted(Path(out_dir).glob("puzzles-*.npz"))


def save_puzzle_chunk(
    path: Path,
    index: np.ndarray,
    cells: np.ndarray,
    q_halt: np.ndarray,
    steps: np.ndarray,
    set_hash: str,
    settings: str,
    step_cells: Sequence[np.ndarray] = (),
) -> None:
    """Store one chunk atomically (`step_cells[s]`: the grids after ACT step s + 1, when recorded)."""
    arrays: dict[str, Any] = {
        "index": index.astype(np.int64),
        "cells": cells.astype(np.uint8),
        "q_halt": q_halt.astype(np.float64),
        "steps": steps.astype(np.int16),
        "set_hash": np.array(set_hash),
        "settings": np.array(settings),
    }
    arrays |= {f"step{s}_cells": c.astype(np.uint8) for s, c in enumerate(step_cells, start=1)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), mode="wb")


@dataclass
class PuzzleChunk:
    index: np.ndarray  # (n,) int64
    cells: np.ndarray  # (n, side*side) uint8
    q_halt: np.ndarray  # (n,) float64
    steps: np.ndarray  # (n,) int16
    set_hash: str
    settings: str
    recorded: tuple[int, ...]  # ACT steps with their own cells in the file


@contextmanager
def _open(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    try:
        with np.load(path, allow_pickle=False) as shard:
            missing = [k for k in KEYS if k not in shard.files]
            if missing:
                raise DataError(f"{path}: not a puzzle predictions shard (no {', '.join(missing)})")
            yield shard
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: damaged puzzle predictions shard: {first_line(exc)}") from None


def _check_cells(path: Path, key: str, cells: np.ndarray, n: int, width: int | None) -> None:
    if cells.dtype != np.uint8 or cells.ndim != 2 or len(cells) != n or (width is not None and cells.shape[1] != width):
        raise DataError(
            f"{path}: {key}: a {cells.dtype} array of shape {cells.shape}, expected uint8 ({n}, {width or 'cells'})"
        )


def load_puzzle_chunk(path: Path, step: int | None = None) -> PuzzleChunk:
    """A shard, checked; with `step`, its cells are those after that ACT step (needs --record-steps)."""
    with _open(path) as shard:
        index, q_halt, steps = shard["index"], shard["q_halt"], shard["steps"]
        n = len(index)
        recorded = tuple(sorted(int(m.group(1)) for k in shard.files if (m := _STEP_KEY.fullmatch(k))))
        key = "cells" if step is None else f"step{step}_cells"
        if key not in shard.files:
            raise DataError(f"{path}: no predictions after ACT step {step} (evaluate with --record-steps)")
        cells, set_hash, settings = shard[key], shard["set_hash"], shard["settings"]
    if index.dtype.kind not in "iu" or index.ndim != 1 or (n and index.min() < 0):
        raise DataError(f"{path}: index: a {index.dtype} array of shape {index.shape}, expected puzzle numbers")
    _check_cells(path, key, cells, n, None)
    for name, arr, kinds in (("q_halt", q_halt, "f"), ("steps", steps, "iu")):
        if arr.dtype.kind not in kinds or arr.shape != (n,):
            raise DataError(f"{path}: {name}: a {arr.dtype} array of shape {arr.shape}, expected ({n},)")
    for name, text in (("set_hash", set_hash), ("settings", settings)):
        if text.dtype.kind != "U" or text.shape != ():
            raise DataError(f"{path}: {name}: expected one string")
    return PuzzleChunk(index.astype(np.int64), cells, q_halt, steps, str(set_hash), str(settings), recorded)


@dataclass
class PuzzlePredictions:
    """Predictions for some or all puzzles of a set: row i predicts puzzle index[i]."""

    index: np.ndarray  # (n,) int64, distinct
    cells: np.ndarray  # (n, side*side) uint8
    q_halt: np.ndarray  # (n,) float64; NaN when unknown (a CSV)
    steps: np.ndarray  # (n,) int16; 0 when unknown
    chunks: tuple[Path, ...] = ()
    recorded: tuple[int, ...] = ()  # ACT steps every shard recorded

    def at_step(self, step: int) -> np.ndarray:
        """Cells after ACT `step`, row-aligned with `cells`."""
        return np.concatenate([load_puzzle_chunk(p, step).cells for p in self.chunks])


def _checked(parts: list[PuzzleChunk], paths: list[Path], puzzles: PuzzleSet) -> PuzzlePredictions:
    for path, part in zip(paths, parts):
        if part.set_hash != puzzles.hash:
            raise DataError(
                f"{path}: predicted for another set (sha256 {part.set_hash[:12]}), not {puzzles.name} "
                f"({puzzles.hash[:12]})"
            )
        _check_cells(path, "cells", part.cells, len(part.index), puzzles.side**2)
        if len(part.index) and part.index.max() >= len(puzzles):
            raise DataError(f"{path}: index {part.index.max()} is past the set's {len(puzzles)} puzzles")
    index = np.concatenate([p.index for p in parts])
    if len(np.unique(index)) != len(index):
        raise DataError(f"{paths[0].parent}: a puzzle is predicted twice")
    recorded = set.intersection(*(set(p.recorded) for p in parts))
    return PuzzlePredictions(
        index,
        np.concatenate([p.cells for p in parts]),
        np.concatenate([p.q_halt for p in parts]),
        np.concatenate([p.steps for p in parts]),
        tuple(paths),
        tuple(sorted(recorded)),
    )


def _read_csv(path: Path, puzzles: PuzzleSet) -> PuzzlePredictions:
    """A `prediction` column (optionally `index`), one grid string per puzzle, in the set's characters."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: not a readable CSV: {first_line(exc)}") from None
    if "prediction" not in frame:
        raise DataError(f"{path}: needs a prediction column (one grid per puzzle, as the set's answer column)")
    alphabet = MAZE_CHARS if puzzles.kind == "maze" else ".123456789"[: puzzles.side + 1]
    table = np.full(256, INVALID, dtype=np.uint8)
    table[np.frombuffer(alphabet.encode(), np.uint8)] = np.arange(len(alphabet))
    cells = np.full((len(frame), puzzles.side**2), INVALID, dtype=np.uint8)
    for row, text in enumerate(frame["prediction"]):
        if len(text) != puzzles.side**2 or not text.isascii():
            raise DataError(
                f"{path}: line {row + 2}: prediction has {len(text)} characters, expected {puzzles.side**2} ASCII ones"
            )
        cells[row] = table[np.frombuffer(text.encode(), np.uint8)]
    index = pd.to_numeric(frame["index"], errors="coerce").to_numpy() if "index" in frame else np.arange(len(frame))
    if np.isnan(index.astype(float)).any() or (index < 0).any() or (index >= len(puzzles)).any():
        raise DataError(f"{path}: index must be puzzle numbers 0..{len(puzzles) - 1}")
    index = index.astype(np.int64)
    if len(np.unique(index)) != len(index):
        raise DataError(f"{path}: a puzzle is predicted twice")
    return PuzzlePredictions(index, cells, np.full(len(frame), np.nan), np.zeros(len(frame), np.int16))


def read_puzzle_predictions(source: str | Path, puzzles: PuzzleSet) -> PuzzlePredictions:
    """Predictions for `puzzles` from a run folder, its predictions/ folder, one shard, or a CSV."""
    path = Path(source)
    if path.is_dir():
        folder = path / rundir.PREDICTIONS if (path / rundir.PREDICTIONS).is_dir() else path
        paths = find_puzzle_chunks(folder)
        if not paths:
            raise DataError(f"{path}: no puzzle prediction shards (puzzles-*.npz) there")
    elif path.suffix == ".csv":
        return _read_csv(path, puzzles)
    elif path.is_file() and path.suffix == ".npz":
        paths = [path]
    elif path.is_file():
        raise DataError(f"{path}: Sudoku and maze predictions are a run folder, a puzzles-*.npz shard or a CSV")
    else:
        raise DataError(f"{path}: no such predictions file or folder")
    return _checked([load_puzzle_chunk(p) for p in paths], paths, puzzles)
