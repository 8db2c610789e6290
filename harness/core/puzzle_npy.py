"""The reference builders' .npy data sets (`dataset/build_sudoku_dataset.py`, `build_maze_dataset.py`):
a split folder (`data/sudoku-extreme-1k-aug-1000/train`) holding dataset.json and
`all__{inputs,labels,puzzle_indices,group_indices,puzzle_identifiers}.npy`.

Reading them lets a run train and evaluate on exactly the puzzles a reference run used: the reference
draws its subsample and augmentations from the unseeded global numpy RNG, so no seed rebuilds them.
Its tokens are cell + 1 (PAD 0), one example per puzzle, and a group is an original puzzle followed
by its augmentations (the train split's groups; every test group holds one puzzle).
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from harness.core.errors import DataError, where
from harness.core.io import read_json
from harness.core.puzzles import MAZE_CHARS, SUDOKU_SIDES, Kind, PuzzleSet, problem

ARRAYS = ("inputs", "labels", "puzzle_indices", "group_indices", "puzzle_identifiers")


def is_reference_split(path: str | Path) -> bool:
    """Whether `path` is a folder the reference builders wrote (one split)."""
    path = Path(path)
    return path.is_dir() and (path / "dataset.json").is_file() and (path / "all__inputs.npy").is_file()


def _load(path: Path, name: str) -> np.ndarray:
    file = path / f"all__{name}.npy"
    try:
        return np.load(file, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(
            f"{file}: missing (a reference split holds {', '.join(f'all__{a}.npy' for a in ARRAYS)})"
        ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{file}: not a readable .npy array: {exc}") from None


def _kind(path: Path, meta: dict) -> tuple[Kind, int]:
    """Kind and side from dataset.json: vocab 6 is a maze (PAD + '# SGo'), side + 2 a Sudoku."""
    seq_len, vocab = meta.get("seq_len"), meta.get("vocab_size")
    if not isinstance(seq_len, int) or not isinstance(vocab, int):
        raise DataError(f"{path / 'dataset.json'}: needs integer seq_len and vocab_size")
    side = math.isqrt(seq_len)
    if side * side != seq_len:
        raise DataError(f"{path / 'dataset.json'}: seq_len {seq_len} is not a square grid")
    if vocab == len(MAZE_CHARS) + 1 and side != 4:  # a 4x4 Sudoku has vocab 6 too; mazes are 5x5 or more
        return "maze", side
    if vocab == side + 2 and side in SUDOKU_SIDES:
        return "sudoku", side
    raise DataError(
        f"{path / 'dataset.json'}: vocab_size {vocab} with seq_len {seq_len} is neither a Sudoku "
        f"(vocab side + 2) nor a maze (vocab {len(MAZE_CHARS) + 1})"
    )


def read_reference_split(path: str | Path, kind: Kind | None = None) -> tuple[PuzzleSet, np.ndarray]:
    """The split's puzzles in file order (ratings unknown) and its group offsets ((groups + 1,) int64:
    group k = puzzles offsets[k]..offsets[k+1]). Every rule of the kind is checked, as for a CSV."""
    path = Path(path)
    meta = read_json(path / "dataset.json")
    if not isinstance(meta, dict):
        raise DataError(f"{path / 'dataset.json'}: expected a JSON object")
    found, side = _kind(path, meta)
    if kind is not None and kind != found:
        raise DataError(f"{path}: a {found} split ({side}x{side}), expected a {kind}")
    inputs, labels, puzzles, groups = (_load(path, a) for a in ARRAYS[:4])
    n = len(inputs)
    if (
        inputs.shape != (n, side * side)
        or labels.shape != inputs.shape
        or inputs.dtype.kind not in "iu"
        or labels.dtype.kind not in "iu"
    ):
        raise DataError(
            f"{path}: inputs {inputs.dtype} {inputs.shape} and labels {labels.dtype} {labels.shape} "
            f"must be integer arrays of shape ({n}, {side * side})"
        )
    if not np.array_equal(puzzles, np.arange(n + 1)):
        raise DataError(
            f"{path}: all__puzzle_indices.npy must be 0..{n} (one example per puzzle, as the "
            f"Sudoku and maze builders write)"
        )
    if groups.ndim != 1 or len(groups) < 2 or groups[0] != 0 or groups[-1] != n or (np.diff(groups) < 1).any():
        raise DataError(f"{path}: all__group_indices.npy must rise from 0 to {n}")
    top = len(MAZE_CHARS) if found == "maze" else side + 1
    for label, tokens in (("inputs", inputs), ("labels", labels)):
        bad = np.argwhere((tokens < 1) | (tokens > top))
        if len(bad):
            row, cell = (int(x) for x in bad[0])
            raise DataError(
                where(
                    path,
                    f"all__{label}.npy",
                    f"row {row}, cell {cell}: token {tokens[row, cell]} is not a {found} cell (1..{top})",
                )
            )
    questions, answers = (np.asarray(t - 1, dtype=np.uint8) for t in (inputs, labels))
    bad_puzzle = problem(found, questions, answers, side)
    if bad_puzzle is not None:
        raise DataError(where(path, f"row {bad_puzzle.puzzle}", bad_puzzle.column, bad_puzzle.message))
    puzzle_set = PuzzleSet(str(path), found, side, questions, answers, source_names=(f"reference-npy:{path.name}",))
    return puzzle_set, groups.astype(np.int64)
