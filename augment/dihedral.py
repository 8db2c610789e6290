"""The 8 symmetries of the square, numbered as the reference code numbers them.

Ids must never change: they are baked into puzzle names, hence into the puzzle-embedding rows of
every published checkpoint.
"""

from __future__ import annotations

import numpy as np

DIHEDRAL_NAMES = (
    "identity",
    "rot90",  # numpy rot90(k=1): counter-clockwise
    "rot180",
    "rot270",
    "fliplr",
    "flipud",
    "transpose",
    "antitranspose",  # fliplr(rot90(k=1))
)
DIHEDRAL_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)

# Each transform as (swap the two axes first?, then reverse axis a0?, reverse axis a1?).
_AS_SWAP_AND_FLIPS = (
    (False, False, False),  # identity
    (True, True, False),  # rot90 (counter-clockwise) = transpose, then reverse rows
    (False, True, True),  # rot180
    (True, False, True),  # rot270 = transpose, then reverse columns
    (False, False, True),  # fliplr
    (False, True, False),  # flipud
    (True, False, False),  # transpose
    (True, True, True),  # fliplr(rot90)
)
_REVERSED = slice(None, None, -1)
# Transforms that swap height and width.
SWAPS_AXES = tuple(swap for swap, _, _ in _AS_SWAP_AND_FLIPS)


def dihedral(grid: np.ndarray, tid: int, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Apply dihedral transform `tid` to the two `axes` of `grid`, as a view (no copy).

    `axes` lets one call transform a whole stack of same-shaped grids, e.g. axes=(1, 2).
    """
    if not 0 <= tid <= 7:
        raise ValueError(f"dihedral transform id must be 0..7, got {tid}")
    swap, flip0, flip1 = _AS_SWAP_AND_FLIPS[tid]
    a0, a1 = axes
    if swap:
        grid = np.swapaxes(grid, a0, a1)
    if flip0 or flip1:
        index = [slice(None)] * grid.ndim
        if flip0:
            index[a0] = _REVERSED
        if flip1:
            index[a1] = _REVERSED
        grid = grid[tuple(index)]
    return grid


def inverse_dihedral(grid: np.ndarray, tid: int, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Undo `dihedral(grid, tid)`."""
    return dihedral(grid, DIHEDRAL_INVERSE[tid], axes)


def _composition_table() -> np.ndarray:
    """table[a, b] = c such that dihedral(dihedral(g, b), a) == dihedral(g, c) for every g."""
    probe = np.arange(6).reshape(2, 3)
    images = [dihedral(probe, t) for t in range(8)]
    table = np.zeros((8, 8), dtype=np.int64)
    for a in range(8):
        for b in range(8):
            composed = dihedral(dihedral(probe, b), a)
            table[a, b] = next(
                c for c, img in enumerate(images) if img.shape == composed.shape and np.array_equal(img, composed)
            )
    return table


COMPOSE = _composition_table()
