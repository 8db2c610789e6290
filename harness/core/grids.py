"""Validation of ARC grids and tasks read from JSON: every problem names file, task, example, field."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import DataError, shown, where

MAX_SIDE = 30


def grid_problem(value: Any) -> str | None:
    """Why `value` is not an ARC grid (list of equal-length lists of ints 0..9, sides 1..30), or None."""
    if not isinstance(value, list):
        return f"expected a list of rows, got {type(value).__name__}"
    if not value:
        return "empty grid (no rows)"
    if len(value) > MAX_SIDE:
        return f"{len(value)} rows, more than {MAX_SIDE}"
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list):
            return f"row {r} is {type(row).__name__}, not a list"
        if not row:
            return f"row {r} is empty"
        if width is None:
            width = len(row)
            if width > MAX_SIDE:
                return f"{width} columns, more than {MAX_SIDE}"
        elif len(row) != width:
            return f"ragged grid: row {r} has {len(row)} cells, row 0 has {width}"
        for c, cell in enumerate(row):
            if not _is_colour(cell):
                return f"cell [{r}][{c}] is {shown(cell)}, not an int 0..9"
    return None


def _is_colour(cell: Any) -> bool:
    """An int 0..9, or an integral float such as 3.0: JSON does not tell them apart, and neither do
    Python equality or Kaggle's scorer, so refusing one would score a right answer as wrong."""
    if isinstance(cell, float):
        return cell.is_integer() and 0 <= cell <= 9
    return isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell <= 9


def to_grid(value: Any, *location: object) -> np.ndarray:
    """Validate a JSON grid and return it as a uint8 array; DataError naming `location` if invalid."""
    problem = grid_problem(value)
    if problem is not None:
        raise DataError(where(*location, problem))
    return np.array(value, dtype=np.uint8)


def grid_to_list(grid: np.ndarray) -> list[list[int]]:
    """A grid as plain Python ints (what JSON and Kaggle expect)."""
    return np.asarray(grid, dtype=np.uint8).astype(int).tolist()
