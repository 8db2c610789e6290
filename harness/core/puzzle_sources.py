"""Where puzzle sets come from: built-in sets generated from fixed seeds, and CSV files in the
format of the Hugging Face sets `sapientinc/sudoku-extreme` and `sapientinc/maze-30x30-hard-1k`
(header `source,question,answer,rating`; one puzzle per line).

A set spec is a built-in name (`sudoku-6x6/test`), a CSV file, or a CSV path without its `.csv`
(`data/sudoku-extreme/test` for `data/sudoku-extreme/test.csv`, the built-in names' style), or a
split folder the reference builders wrote (`data/sudoku-extreme-full/test`, .npy files). Any other
folder is refused: it holds two splits, so the spec must name one.

The file is read in chunks and each chunk checked with whole-array numpy operations, so the
3.8M-row Sudoku-Extreme train.csv needs about its final arrays in memory (2 x 81 bytes a row)
plus one chunk. A line number in an error is the file's line (header = line 1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from harness.core.errors import DataError, where
from harness.core.hub import download_file, is_hub_spec
from harness.core.io import atomic_write
from harness.core.maze import generate_mazes
from harness.core.puzzle_npy import is_reference_split, read_reference_split
from harness.core.puzzles import MAZE_CHARS, SUDOKU_SIDES, Kind, PuzzleSet, cells_to_string, problem
from harness.core.sudoku import generate_sudoku

COLUMNS = ("source", "question", "answer", "rating")
CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class GeneratedSet:
    """A built-in set: made on first use from a fixed seed, so its hash never changes."""

    name: str
    kind: Kind
    side: int
    count: int
    seed: int
    difficulty: float  # Sudoku: blanks per puzzle; maze: `loops` (share of inner walls tried for removal)
    description: str

    def generate(self) -> PuzzleSet:
        if self.kind == "sudoku":
            return generate_sudoku(self.name, self.side, self.count, int(self.difficulty), self.seed)
        return generate_mazes(self.name, self.side, self.count, self.difficulty, self.seed)


PUZZLE_SETS = {
    s.name: s
    for s in (
        GeneratedSet("sudoku-6x6/train", "sudoku", 6, 1000, 6001, 22, "6x6 Sudoku (2x3 boxes), 22 blanks, unique"),
        GeneratedSet("sudoku-6x6/test", "sudoku", 6, 200, 6002, 22, "6x6 Sudoku (2x3 boxes), 22 blanks, unique"),
        GeneratedSet(
            "sudoku-6x6/test-1k", "sudoku", 6, 1000, 6003, 22, "6x6 Sudoku, 22 blanks, unique (the CPU demo's test set)"
        ),
        GeneratedSet("sudoku-9x9/test", "sudoku", 9, 100, 9002, 50, "9x9 Sudoku, 50 blanks, unique solution"),
        GeneratedSet(
            "maze-unique-15x15/train", "maze", 15, 1000, 15001, 0.3, "15x15 mazes with loops, unique shortest path"
        ),
        GeneratedSet(
            "maze-unique-15x15/test", "maze", 15, 200, 15002, 0.3, "15x15 mazes with loops, unique shortest path"
        ),
        GeneratedSet(
            "maze-unique-30x30/test",
            "maze",
            30,
            100,
            30002,
            0.3,
            "30x30 (Maze-Hard's size) mazes with loops, unique shortest path",
        ),
    )
}


@lru_cache(maxsize=8)
def load_generated(name: str) -> PuzzleSet:
    """A built-in set, generated once per process (PuzzleSet is read-only, so sharing is safe)."""
    return PUZZLE_SETS[name].generate()


def load_puzzles(spec: str | Path, kind: Kind | None = None) -> PuzzleSet:
    """Resolve a puzzle-set spec: a built-in name, a CSV file, a CSV path without `.csv`, or a split
    folder of the reference builders' .npy files (harness.core.puzzle_npy).

    `kind` ("sudoku" or "maze") refuses a set of the other kind; None takes the kind the set has.
    """
    spec_str = str(spec)
    if spec_str in PUZZLE_SETS:
        puzzles = load_generated(spec_str)
        if kind is not None and puzzles.kind != kind:
            raise DataError(f"{spec_str}: a {puzzles.kind} set, not {kind}")
        return puzzles
    if is_hub_spec(spec_str):  # hf://datasets/sapientinc/sudoku-extreme/test.csv: huggingface_hub's cached copy
        return read_csv(download_file(spec_str), kind, name=spec_str)
    path = Path(spec)
    if is_reference_split(path):
        return read_reference_split(path, kind)[0]
    if path.is_dir():
        splits = " or ".join(str(path / p.stem) for p in sorted(path.glob("*.csv"))) or f"{path}/<split>"
        raise DataError(f"{path}: a folder; name the split's CSV: {splits}")
    if not path.is_file() and Path(f"{spec_str}.csv").is_file():
        path = Path(f"{spec_str}.csv")
    if path.is_file():
        return read_csv(path, kind)
    known = ", ".join(PUZZLE_SETS)
    raise DataError(f"{spec_str}: not a built-in puzzle set ({known}), nor an existing CSV file")


def read_csv(path: str | Path, kind: Kind | None = None, name: str | None = None) -> PuzzleSet:
    """A validated PuzzleSet from a CSV with `question` and `answer` columns (`source`, `rating`
    optional). Kind and side come from the first row unless `kind` is given; every row must match."""
    path = Path(path)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    sources: dict[str, int] = {}
    shape: tuple[Kind, int] | None = None
    line = 2  # of the chunk's first row: the header is line 1, and blank lines are kept as (empty) rows
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops data) when the first row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                path, dtype=str, keep_default_na=False, skip_blank_lines=False, index_col=False, chunksize=CHUNK_ROWS
            )
            for chunk in reader:
                if not parts and not {"question", "answer"} <= set(chunk.columns):
                    raise DataError(
                        f"{path}: line 1: the header needs columns question and answer "
                        f"(as {','.join(COLUMNS)}), got {','.join(map(str, chunk.columns))}"
                    )
                if shape is None:
                    shape = _shape_of(path, chunk, kind)
                parts.append(_parse_chunk(path, chunk, line, *shape, sources))
                line += len(chunk)
    except pd.errors.ParserWarning:
        raise DataError(f"{path}: line 2: more fields than the header has") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: not a readable CSV: {_pandas_reason(exc)}") from None
    if not parts or shape is None or not sum(len(p[0]) for p in parts):
        raise DataError(f"{path}: no puzzles (only a header, or empty)")
    questions, answers, ratings, source = (np.concatenate(arrays) for arrays in zip(*parts))
    return PuzzleSet(name or str(path), shape[0], shape[1], questions, answers, ratings, source, tuple(sources))


def write_csv(puzzles: PuzzleSet, path: str | Path) -> Path:
    """Write a set in the sapientinc CSV format (atomically), so a generated set can be shared,
    edited or named by its path like a downloaded one."""
    frame = pd.DataFrame(
        {
            "source": np.asarray(puzzles.source_names, dtype=object)[puzzles.source],
            "question": [cells_to_string(puzzles.kind, q) for q in puzzles.questions],
            "answer": [cells_to_string(puzzles.kind, a) for a in puzzles.answers],
            "rating": puzzles.ratings,
        }
    )
    return atomic_write(path, lambda fh: frame.to_csv(fh, index=False, lineterminator="\n"))


def _shape_of(path: Path, chunk: pd.DataFrame, kind: Kind | None) -> tuple[Kind, int]:
    """Kind and side from the first row: its question's length and characters."""
    if not len(chunk):
        raise DataError(f"{path}: no puzzles (only a header, or empty)")
    first = chunk["question"].iloc[0]
    side = math.isqrt(len(first))
    fail = f"{path}: line 2: question"
    if side * side != len(first) or not first:
        raise DataError(f"{fail}: {len(first)} characters, not a square grid")
    found: Kind = "maze" if set(first) <= set(MAZE_CHARS) else "sudoku"
    if kind is not None and kind != found:
        raise DataError(f"{fail}: looks like a {found} ({side}x{side}), expected a {kind}")
    kind = found
    if kind == "sudoku" and side not in SUDOKU_SIDES:
        raise DataError(f"{fail}: {len(first)} characters: a {side}x{side} Sudoku (sides {SUDOKU_SIDES} only)")
    return kind, side


def _lookup(kind: Kind, side: int) -> np.ndarray:
    """Byte -> cell value (255 = not allowed): Sudoku '.'/'0' blank, '1'..str(n); maze '# SGo'."""
    table = np.full(256, 255, dtype=np.uint8)
    if kind == "maze":
        table[np.frombuffer(MAZE_CHARS.encode(), np.uint8)] = np.arange(len(MAZE_CHARS))
    else:
        table[ord(".")] = table[ord("0")] = 0
        table[ord("1") : ord("1") + side] = np.arange(1, side + 1)
    return table


def _parse_chunk(
    path: Path, chunk: pd.DataFrame, first_line: int, kind: Kind, side: int, sources: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Questions, answers, ratings and source codes of one chunk, every rule checked."""
    lines = np.arange(first_line, first_line + len(chunk))
    cells = side * side
    table = _lookup(kind, side)
    grids = []
    for column in ("question", "answer"):
        text = chunk[column]
        lengths = text.str.len().to_numpy()
        bad = np.flatnonzero(lengths != cells)
        if len(bad):
            i = int(bad[0])
            raise DataError(
                where(
                    path,
                    f"line {lines[i]}",
                    column,
                    f"{lengths[i]} characters, expected {cells} (a {side}x{side} {kind}, as line 2)",
                )
            )
        raw = "".join(text.tolist()).encode("utf-8", errors="replace")
        if len(raw) != cells * len(text):  # a multi-byte character: find its row the slow way
            i = int(np.flatnonzero(text.map(lambda s: not s.isascii()).to_numpy())[0])
            raise DataError(where(path, f"line {lines[i]}", column, "a non-ASCII character"))
        values = table[np.frombuffer(raw, dtype=np.uint8)].reshape(-1, cells)
        wrong = np.argwhere(values == 255)
        if len(wrong):
            i, pos = (int(x) for x in wrong[0])
            allowed = repr(MAZE_CHARS) if kind == "maze" else f"'.', '0' and 1..{side}"
            raise DataError(
                where(
                    path,
                    f"line {lines[i]}",
                    column,
                    f"character {pos + 1} is {text.iloc[i][pos]!r}; allowed: {allowed}",
                )
            )
        grids.append(values)
    found = problem(kind, grids[0], grids[1], side)
    if found is not None:
        raise DataError(where(path, f"line {lines[found.puzzle]}", found.column, found.message))
    return grids[0], grids[1], _ratings(path, chunk, lines), _sources(chunk, sources)


def _ratings(path: Path, chunk: pd.DataFrame, lines: np.ndarray) -> np.ndarray:
    """The rating column as integers; empty or absent = -1 (unknown)."""
    if "rating" not in chunk:
        return np.full(len(chunk), -1, dtype=np.int64)
    text = chunk["rating"].str.strip()
    numbers = pd.to_numeric(text.where(text != "", "-1"), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(numbers) | (numbers != np.round(numbers)))
    if len(bad):
        i = int(bad[0])
        raise DataError(where(path, f"line {lines[i]}", "rating", f"{chunk['rating'].iloc[i]!r} is not an integer"))
    return numbers.astype(np.int64)


def _sources(chunk: pd.DataFrame, sources: dict[str, int]) -> np.ndarray:
    """Codes of the source column into `sources` (names in order of first appearance, grown here)."""
    if "source" not in chunk:
        sources.setdefault("", len(sources))
        return np.full(len(chunk), sources[""], dtype=np.int32)
    codes, uniques = pd.factorize(chunk["source"])
    remap = np.array([sources.setdefault(str(u), len(sources)) for u in uniques], dtype=np.int32)
    return remap[codes] if len(remap) else np.zeros(0, dtype=np.int32)


def _pandas_reason(exc: BaseException) -> str:
    """pandas' tokenizer message without its 'C error:' prefix (it names the line)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split("C error: ", 1)[-1]
