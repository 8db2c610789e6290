"""Single-answer puzzle sets (Sudoku, Maze): one question grid and its one answer per puzzle.

Unlike an ARC task there are no demonstrations and exactly one answer, so a set is two uint8
arrays, row-aligned, plus a rating per puzzle. The rule checks here are vectorised over whole
arrays: they run over the 3.8M rows of Sudoku-Extreme's train.csv without a per-row Python loop.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import numpy as np

Kind = Literal["sudoku", "maze"]
KINDS: tuple[Kind, ...] = ("sudoku", "maze")
SUDOKU_SIDES = (4, 6, 8, 9)  # sides with a box of at least 2 x 2 whose digits are one character each
MAZE_CHARS = "# SGo"  # cell value = index here: wall, open, start, goal, path (as in Maze-Hard's CSV)
WALL, OPEN, START, GOAL, PATH = range(5)
_UNSET = np.empty(0, dtype=np.int64)


class Problem(NamedTuple):
    """What is wrong with one puzzle: its index in the arrays, the column (question/answer), the fault."""

    puzzle: int
    column: str
    message: str


def problem(kind: Kind, questions: np.ndarray, answers: np.ndarray, side: int) -> Problem | None:
    """The first puzzle that breaks its kind's rules (None when all keep them)."""
    check = sudoku_problem if kind == "sudoku" else maze_problem
    return check(questions, answers, side)


def box_shape(side: int) -> tuple[int, int]:
    """(rows, columns) of a Sudoku box: 4 -> 2x2, 6 -> 2x3, 8 -> 2x4, 9 -> 3x3 (rows <= columns)."""
    if side not in SUDOKU_SIDES:
        raise ValueError(f"Sudoku side must be one of {SUDOKU_SIDES}, got {side}")
    rows = max(d for d in range(1, math.isqrt(side) + 1) if side % d == 0)
    return rows, side // rows


@dataclass(frozen=True, eq=False)
class PuzzleSet:
    """Puzzles in a fixed order, each a flattened n x n question and its answer (row-major).

    Sudoku cells are 0..n (0 = blank in a question; an answer has no blanks); maze cells are
    0..4 = index in MAZE_CHARS. `ratings` is the difficulty the source gives (-1 unknown).
    `source` indexes `source_names` (the CSV's `source` column; generated sets name their generator).
    The arrays are made read-only in place (the set owns them), so the hash, computed once, stays true.
    Construction checks shapes only; the rules are checked by `problem` (the CSV reader does).
    """

    name: str
    kind: Kind
    side: int
    questions: np.ndarray
    answers: np.ndarray
    ratings: np.ndarray = field(default_factory=lambda: _UNSET)  # unset: -1 (unknown) for every puzzle
    source: np.ndarray = field(default_factory=lambda: _UNSET)  # unset: 0 for every puzzle
    source_names: tuple[str, ...] = ("",)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "sudoku":
            box_shape(self.side)
        cells = self.side * self.side
        n = len(self.questions)
        for label, arr in (("questions", self.questions), ("answers", self.answers)):
            if arr.dtype != np.uint8 or arr.shape != (n, cells):
                raise ValueError(f"{label} must be uint8 of shape ({n}, {cells}), got {arr.dtype} {arr.shape}")
        defaults: dict[str, np.ndarray] = {"ratings": np.full(n, -1, np.int64), "source": np.zeros(n, np.int32)}
        for label, default in defaults.items():
            given = getattr(self, label)
            column = default if given is _UNSET else np.asarray(given, dtype=default.dtype)
            if column.shape != (n,):
                raise ValueError(f"{label} must have shape ({n},), got {column.shape}")
            object.__setattr__(self, label, column)
        if n and not 0 <= int(self.source.max()) < len(self.source_names):
            raise ValueError("source indexes past source_names")
        for arr in (self.questions, self.answers, self.ratings, self.source):
            arr.setflags(write=False)

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def n_test_inputs(self) -> int:
        """Each puzzle is one test input (the count `trm-eval datasets` shows beside ARC's)."""
        return len(self)

    @property
    def n_test_outputs(self) -> int:
        """Every puzzle carries its one answer."""
        return len(self)

    @property
    def box(self) -> tuple[int, int] | None:
        """The Sudoku box shape (None for a maze)."""
        return box_shape(self.side) if self.kind == "sudoku" else None

    @cached_property
    def hash(self) -> str:
        """sha256 of what is scored: kind, side, count, then every question and answer in order.

        Name, ratings and sources stay out: renaming a set or re-rating it does not change its hash.
        """
        digest = hashlib.sha256(f"{self.kind}:{self.side}:{len(self)}\n".encode())
        digest.update(np.ascontiguousarray(self.questions).tobytes())
        digest.update(np.ascontiguousarray(self.answers).tobytes())
        return digest.hexdigest()

    def grids(self, which: Literal["questions", "answers"] = "questions") -> np.ndarray:
        """Questions or answers as (N, n, n) grids (a view)."""
        return getattr(self, which).reshape(len(self), self.side, self.side)

    def subset(self, indices: np.ndarray | list[int] | slice, name: str | None = None) -> PuzzleSet:
        """The puzzles at `indices`, in that order (a new set with its own hash)."""
        idx = np.arange(len(self))[indices] if isinstance(indices, slice) else np.asarray(indices, dtype=np.int64)
        return PuzzleSet(
            name or f"{self.name}[{len(idx)} of {len(self)}]",
            self.kind,
            self.side,
            self.questions[idx],
            self.answers[idx],
            self.ratings[idx],
            self.source[idx],
            self.source_names,
        )

    def to_strings(self, index: int) -> tuple[str, str]:
        """One puzzle's question and answer in the CSV's characters ('.' for a Sudoku blank)."""
        return cells_to_string(self.kind, self.questions[index]), cells_to_string(self.kind, self.answers[index])


def cells_to_string(kind: Kind, cells: np.ndarray) -> str:
    """Cell values as the CSV writes them: Sudoku digits with '.' for blank, maze characters."""
    alphabet = MAZE_CHARS if kind == "maze" else ".123456789"
    return "".join(alphabet[int(v)] for v in cells)


def sudoku_problem(questions: np.ndarray, answers: np.ndarray, side: int) -> Problem | None:
    """The first bad puzzle of flattened Sudoku questions and answers (None when all are right).

    Checks, all vectorised: question cells 0..n, answer cells 1..n, the answer keeps every given,
    and every row, column and box of the answer holds each digit once.
    """
    n = side
    r, c = box_shape(n)
    q = questions.reshape(-1, n, n)
    a = answers.reshape(-1, n, n)
    full = (1 << (n + 1)) - 2  # bits 1..n
    checks = [
        ("question", (q > n).any(axis=(1, 2)), lambda i: _cell_msg(q[i] > n, f"digit above {n}")),
        (
            "answer",
            ((a < 1) | (a > n)).any(axis=(1, 2)),
            lambda i: _cell_msg((a[i] < 1) | (a[i] > n), f"not a digit 1..{n} (an answer has no blanks)"),
        ),
        (
            "answer",
            ((q != 0) & (q != a)).any(axis=(1, 2)),
            lambda i: _cell_msg((q[i] != 0) & (q[i] != a[i]), "contradicts the given in the question"),
        ),
    ]
    bad = np.zeros(len(a), dtype=bool)
    for _, mask, _ in checks:
        bad |= mask
    bits = np.left_shift(np.uint16(1), np.minimum(a, 15).astype(np.uint16))
    rows_ok = np.bitwise_or.reduce(bits, axis=2) == full
    cols_ok = np.bitwise_or.reduce(bits, axis=1) == full
    boxes_ok = np.bitwise_or.reduce(bits.reshape(-1, n // r, r, n // c, c), axis=(2, 4)).reshape(-1, n) == full
    rules = ~(rows_ok.all(1) & cols_ok.all(1) & boxes_ok.all(1))
    first = _first(bad | rules)
    if first < 0:
        return None
    for column, mask, message in checks:
        if mask[first]:
            return Problem(first, column, message(first))
    unit = _broken_unit(rows_ok[first], cols_ok[first], boxes_ok[first], (r, c), n)
    return Problem(first, "answer", f"breaks the Sudoku rule: {unit} does not hold each digit 1..{n} once")


def _broken_unit(rows_ok: np.ndarray, cols_ok: np.ndarray, boxes_ok: np.ndarray, box: tuple[int, int], n: int) -> str:
    """The first row, column or box (1-based) that repeats a digit."""
    if not rows_ok.all():
        return f"grid row {int(np.argmin(rows_ok)) + 1}"
    if not cols_ok.all():
        return f"grid column {int(np.argmin(cols_ok)) + 1}"
    b = int(np.argmin(boxes_ok))
    stacks = n // box[1]
    return f"the box at grid row {b // stacks * box[0] + 1}, column {b % stacks * box[1] + 1}"


def maze_problem(questions: np.ndarray, answers: np.ndarray, side: int) -> Problem | None:
    """The first bad puzzle of flattened maze questions and answers (None when all are right).

    A question holds walls, open cells, one S and one G (no path); its answer keeps every wall, S
    and G, may mark open cells 'o', and the marked cells with S and G form one simple S -> G path.
    """
    q = questions.reshape(-1, side, side)
    a = answers.reshape(-1, side, side)
    onpath = (a == PATH) | (a == START) | (a == GOAL)
    padded = np.pad(onpath, ((0, 0), (1, 1), (1, 1)))
    degree = padded[:, :-2, 1:-1].astype(np.int8) + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
    ends = (a == START) | (a == GOAL)
    checks = [
        ("question", (q > GOAL).any(axis=(1, 2)), lambda i: _cell_msg(q[i] > GOAL, "a path mark 'o' in a question")),
        (
            "question",
            ((q == START).sum((1, 2)) != 1) | ((q == GOAL).sum((1, 2)) != 1),
            lambda i: f"needs exactly one S and one G, has {(q[i] == START).sum()} and {(q[i] == GOAL).sum()}",
        ),
        ("answer", (a > PATH).any(axis=(1, 2)), lambda i: _cell_msg(a[i] > PATH, "not a maze character")),
        (
            "answer",
            ((q != OPEN) & (a != q)).any(axis=(1, 2)) | ((q == OPEN) & (a != OPEN) & (a != PATH)).any((1, 2)),
            lambda i: _cell_msg(
                ((q[i] != OPEN) & (a[i] != q[i])) | ((q[i] == OPEN) & (a[i] != OPEN) & (a[i] != PATH)),
                "changes the question's wall, start or goal (only open cells may become 'o')",
            ),
        ),
        (
            "answer",
            (onpath & ends & (degree != 1)).any(axis=(1, 2)),
            lambda i: _cell_msg(onpath[i] & ends[i] & (degree[i] != 1), "S or G must touch exactly one path cell"),
        ),
        (
            "answer",
            ((a == PATH) & (degree != 2)).any(axis=(1, 2)),
            lambda i: _cell_msg((a[i] == PATH) & (degree[i] != 2), "the path branches or ends here"),
        ),
    ]
    bad = np.zeros(len(a), dtype=bool)
    for _, mask, _ in checks:
        bad |= mask
    first = _first(bad)
    if first >= 0:
        column, _, message = next(check for check in checks if check[1][first])
        return Problem(first, column, message(first))
    # Degrees right: S..G is one path plus possibly closed loops of 'o'; a flood from S finds the loops.
    reached = _flood(a == START, onpath)
    loops = (onpath & ~reached).any(axis=(1, 2))
    first = _first(loops)
    if first >= 0:
        return Problem(first, "answer", _cell_msg(onpath[first] & ~reached[first], "a path cell not connected to S"))
    return None


def _flood(seed: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Cells of `allowed` 4-connected to `seed`, for a stack of grids at once."""
    reached = seed & allowed
    while True:
        grown = reached.copy()
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown[:, :, 1:] |= reached[:, :, :-1]
        grown[:, :, :-1] |= reached[:, :, 1:]
        grown &= allowed
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def _first(mask: np.ndarray) -> int:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else -1


def _cell_msg(mask: np.ndarray, what: str) -> str:
    """`grid row 2, column 5: what` for the first True cell of a 2-D mask (1-based)."""
    row, col = (int(x) + 1 for x in np.argwhere(mask)[0])
    return f"grid row {row}, column {col}: {what}"
