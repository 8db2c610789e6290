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
# Transforms that swap height and width.
SWAPS_AXES = (False, True, False, True, False, False, True, True)


def dihedral(grid: np.ndarray, tid: int, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Apply dihedral transform `tid` to the two `axes` of `grid` (a view where numpy allows).

    `axes` lets one call transform a whole stack of same-shaped grids, e.g. axes=(1, 2).
    """
    a0, a1 = axes
    if tid == 0:
        return grid
    if tid in (1, 2, 3):
        return np.rot90(grid, k=tid, axes=axes)
    if tid == 4:
        return np.flip(grid, axis=a1)
    if tid == 5:
        return np.flip(grid, axis=a0)
    if tid == 6:
        return np.swapaxes(grid, a0, a1)
    if tid == 7:
        return np.flip(np.rot90(grid, k=1, axes=axes), axis=a1)
    raise ValueError(f"dihedral transform id must be 0..7, got {tid}")


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
                c for c, img in enumerate(images)
                if img.shape == composed.shape and np.array_equal(img, composed)
            )
    return table


COMPOSE = _composition_table()
