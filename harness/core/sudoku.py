"""Sudoku puzzles with exactly one solution, made from a seed: the built-in sets and the tests'
data, since Sudoku-Extreme cannot be downloaded here.

A small exact solver: bitmask candidates per row, column and box, always branching on the empty
cell with the fewest candidates (so forced cells cost no guess), counting solutions up to a cap.
Pure Python over ints beats numpy at this size (81 cells, thousands of tiny searches); the
checks over whole sets are the vectorised ones in `puzzles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from harness.core.puzzles import PuzzleSet, box_shape


@dataclass(frozen=True)
class Solved:
    """A search's outcome: solutions found (up to the cap), the first one, and its dead ends."""

    count: int
    solution: list[int] | None
    backtracks: int  # dead ends (an empty cell with no candidate left) met by the search


@lru_cache(maxsize=8)
def _units(side: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Row, column and box index of every cell."""
    r, c = box_shape(side)
    cells = range(side * side)
    return (
        tuple(i // side for i in cells),
        tuple(i % side for i in cells),
        tuple((i // side) // r * (side // c) + (i % side) // c for i in cells),
    )


class _Search:
    """Depth-first search over one grid; digit d is bit d-1 of a candidate mask."""

    def __init__(self, cells: list[int], side: int, ban: dict[int, int] | None, order: list[list[int]] | None):
        self.side, self.cells, self.ban, self.order = side, cells, ban or {}, order
        self.row, self.col, self.box = _units(side)
        self.masks = [[0] * side for _ in range(3)]
        self.consistent = True
        for i, v in enumerate(cells):
            if v:
                bit = 1 << (v - 1)
                units = (self.row[i], self.col[i], self.box[i])
                if any(m[u] & bit for m, u in zip(self.masks, units)):
                    self.consistent = False
                for m, u in zip(self.masks, units):
                    m[u] |= bit
        self.empty = [i for i, v in enumerate(cells) if not v]
        self.count = self.backtracks = 0
        self.first: list[int] | None = None

    def run(self, limit: int) -> Solved:
        if self.consistent:
            self.limit = limit
            self._dfs()
        return Solved(self.count, self.first, self.backtracks)

    def _dfs(self) -> None:
        empty = self.empty
        if not empty:
            self.count += 1
            if self.first is None:
                self.first = list(self.cells)
            return
        rows, cols, boxes = self.masks
        full = (1 << self.side) - 1
        best, best_free, best_n = 0, 0, self.side + 1
        for k, i in enumerate(empty):
            free = full & ~(rows[self.row[i]] | cols[self.col[i]] | boxes[self.box[i]] | self.ban.get(i, 0))
            n = free.bit_count()
            if n < best_n:
                best, best_free, best_n = k, free, n
                if n <= 1:
                    break
        if best_n == 0:
            self.backtracks += 1
            return
        empty[best], empty[-1] = empty[-1], empty[best]
        cell = empty.pop()
        r, c, b = self.row[cell], self.col[cell], self.box[cell]
        digits = self.order[cell] if self.order is not None else range(1, self.side + 1)
        for d in digits:
            bit = 1 << (d - 1)
            if not best_free & bit:
                continue
            self.cells[cell] = d
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            self._dfs()
            rows[r] &= ~bit
            cols[c] &= ~bit
            boxes[b] &= ~bit
            if self.count >= self.limit:
                break
        self.cells[cell] = 0
        empty.append(cell)
        empty[best], empty[-1] = empty[-1], empty[best]


def solve(cells: list[int] | np.ndarray, side: int, limit: int = 2) -> Solved:
    """Count the solutions of a flattened puzzle (0 = blank) up to `limit`, digits tried in order.

    `limit=2` answers "unique?" (count == 1); `backtracks` with `limit=1` is the puzzle's rating.
    """
    return _Search([int(v) for v in cells], side, None, None).run(limit)


def random_solution(rng: np.random.Generator, side: int) -> list[int]:
    """A random complete grid: the search from an empty grid, digits in a random order per cell."""
    keys = rng.random((side * side, side))
    order = [[int(d) + 1 for d in np.argsort(row)] for row in keys]
    search = _Search([0] * (side * side), side, None, order)
    rng.shuffle(search.empty)  # random tie-breaks between equally constrained cells
    solved = search.run(1)
    assert solved.solution is not None  # an empty grid always has a solution
    return solved.solution


def make_sudoku(rng: np.random.Generator, side: int, blanks: int, attempts: int = 3) -> tuple[list[int], list[int]]:
    """(question, solution): a puzzle with a unique solution and `blanks` blank cells where reachable.

    Cells are blanked in a random order; a blank that would admit a second solution is put back.
    When every cell has been tried short of the target (the puzzle is minimal: no given can go),
    a fresh grid is tried, `attempts` in all, and the puzzle with the most blanks is kept.
    """
    if not 0 <= blanks <= side * side:
        raise ValueError(f"blanks must be 0..{side * side}, got {blanks}")
    best: tuple[list[int], list[int]] | None = None
    best_blanks = -1
    for _ in range(attempts):
        solution = random_solution(rng, side)
        puzzle = list(solution)
        removed = 0
        for cell in rng.permutation(side * side):
            if removed == blanks:
                break
            value, puzzle[cell] = puzzle[cell], 0
            # The puzzle was unique with `solution`; a second solution must differ here, so ban `value`.
            other = _Search(puzzle, side, {int(cell): 1 << (value - 1)}, None).run(1)
            if other.count:
                puzzle[cell] = value
            else:
                removed += 1
        if removed > best_blanks:
            best, best_blanks = (puzzle, solution), removed
        if removed == blanks:
            break
    assert best is not None
    return best


def generate_sudoku(name: str, side: int, count: int, blanks: int, seed: int) -> PuzzleSet:
    """`count` distinct puzzles; puzzle i comes from its own stream (seed, i), so a smaller count
    with the same seed gives a prefix of this set. Rating = the solver's dead ends on the puzzle."""
    box_shape(side)  # rejects unsupported sides before any work
    questions: list[list[int]] = []
    answers: list[list[int]] = []
    ratings: list[int] = []
    seen: set[bytes] = set()
    i = 0
    while len(questions) < count:
        question, solution = make_sudoku(np.random.default_rng([seed, i]), side, blanks)
        i += 1
        key = bytes(question)
        if key in seen:
            continue
        seen.add(key)
        questions.append(question)
        answers.append(solution)
        ratings.append(solve(question, side, limit=1).backtracks)
    shape = (count, side * side)
    return PuzzleSet(
        name,
        "sudoku",
        side,
        np.array(questions, dtype=np.uint8).reshape(shape),
        np.array(answers, dtype=np.uint8).reshape(shape),
        np.array(ratings, dtype=np.int64),
        source_names=(f"generated:sudoku:{side}x{side}:blanks={blanks}:seed={seed}",),
    )
