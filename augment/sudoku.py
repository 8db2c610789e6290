"""The Sudoku group: transforms that map every valid Sudoku grid to a valid one.

Digits 1..n permuted (0, the blank, fixed); bands (horizontal strips of boxes) shuffled and the
rows within each band; stacks (vertical strips) shuffled and the columns within each; and the
transpose, only where the box is square (a 2x3 box would become 3x2). Applied as the reference
applies them: transpose, then the cell mapping (rows, then columns), then the digit map.

Mazes need no type of their own: their group is the 8 dihedral transforms, `Transform(tid)` with
the identity colour map (it leaves cell values 0..4 alone).

Pure numpy; nothing here knows about torch, files or models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augment.transform import SEPARATOR


@dataclass(frozen=True)
class SudokuTransform:
    """One group element for boxes of `box` = (rows, columns); n = rows * columns.

    Output cell (i, j) takes input cell (rows[i], cols[j]) of the (transposed, if `transpose`)
    grid; `digits[d]` is the new digit of digit d, digits[0] == 0.
    """

    box: tuple[int, int]
    transpose: bool
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    digits: tuple[int, ...]

    def __post_init__(self) -> None:
        r, c = self.box
        n = r * c
        if r < 1 or c < 1 or n > 9:
            raise ValueError(f"box must be rows x columns with at most 9 cells, got {self.box}")
        if self.transpose and r != c:
            raise ValueError(f"transpose needs a square box, got {r}x{c}")
        for label, perm, size in (("rows", self.rows, r), ("cols", self.cols, c)):
            if not _keeps_blocks(perm, n, size):
                raise ValueError(f"{label} must permute 0..{n - 1} keeping blocks of {size} together, got {perm}")
        if len(self.digits) != n + 1 or sorted(self.digits) != list(range(n + 1)) or self.digits[0] != 0:
            raise ValueError(f"digits must permute 0..{n} and keep 0 fixed, got {self.digits}")

    @classmethod
    def identity(cls, box: tuple[int, int]) -> SudokuTransform:
        n = box[0] * box[1]
        return cls(box, False, tuple(range(n)), tuple(range(n)), tuple(range(n + 1)))

    @property
    def side(self) -> int:
        return self.box[0] * self.box[1]

    @property
    def is_identity(self) -> bool:
        return self == SudokuTransform.identity(self.box)

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """Map grids (..., n, n), or flattened (..., n*n), from the original frame into this one."""
        n = self.side
        flat = grid.shape[-1] == n * n and n > 1
        cells = grid.reshape(*grid.shape[:-1], n, n) if flat else grid
        if cells.shape[-2:] != (n, n):
            raise ValueError(f"expected grids of {n}x{n} (or {n * n} cells), got shape {grid.shape}")
        if self.transpose:
            cells = np.swapaxes(cells, -1, -2)
        cells = cells[..., list(self.rows), :][..., :, list(self.cols)]
        out = np.asarray(self.digits, dtype=np.uint8)[cells]
        return out.reshape(grid.shape) if flat else out

    def inverse(self) -> SudokuTransform:
        """The transform that undoes this one (no composition needed: digit maps commute with
        cell maps, and undoing a transpose swaps the roles of the row and column orders)."""
        inv_rows = tuple(int(i) for i in np.argsort(self.rows))
        inv_cols = tuple(int(i) for i in np.argsort(self.cols))
        inv_digits = tuple(int(d) for d in np.argsort(self.digits))
        if self.transpose:
            return SudokuTransform(self.box, True, inv_cols, inv_rows, inv_digits)
        return SudokuTransform(self.box, False, inv_rows, inv_cols, inv_digits)

    def invert(self, grid: np.ndarray) -> np.ndarray:
        """Map grids from this transform's frame back to the original frame."""
        return self.inverse().apply(grid)

    @property
    def suffix(self) -> str:
        """The name codec, e.g. `b3x3|||t1|||r201345876|||c012345678|||d0213456789` (n <= 9: one
        character per index), recorded beside a prediction so it can be inverted later."""
        r, c = self.box
        parts = (
            f"b{r}x{c}",
            f"t{int(self.transpose)}",
            "r" + _digits(self.rows),
            "c" + _digits(self.cols),
            "d" + _digits(self.digits),
        )
        return SEPARATOR.join(parts)

    @classmethod
    def from_suffix(cls, suffix: str) -> SudokuTransform:
        """Parse `suffix`'s codec; raises ValueError on anything else."""
        parts = suffix.split(SEPARATOR)
        heads = ("b", "t", "r", "c", "d")
        if len(parts) != 5 or any(not p.startswith(h) or not p[1:] for p, h in zip(parts, heads)):
            raise ValueError(f"Sudoku transform must look like 'b3x3|||t0|||r...|||c...|||d...', got {suffix!r}")
        box = parts[0][1:].split("x")
        body = [p[1:] for p in parts[1:]]
        if len(box) != 2 or not all(b.isdigit() for b in box) or not all(p.isdigit() for p in body):
            raise ValueError(f"Sudoku transform has a non-numeric field: {suffix!r}")
        if body[0] not in ("0", "1"):
            raise ValueError(f"transpose flag must be t0 or t1, got {parts[1]!r}")
        rows, cols, digits = (tuple(int(ch) for ch in p) for p in body[1:])
        return cls((int(box[0]), int(box[1])), body[0] == "1", rows, cols, digits)


def random_sudoku_transform(rng: np.random.Generator, box: tuple[int, int]) -> SudokuTransform:
    """A uniformly random group element, drawn in the reference's order: digit map, transpose
    (p = 1/2, square boxes only), bands, rows within each band, stacks, columns within each."""
    r, c = box
    n = r * c
    digits = (0, *(int(d) for d in rng.permutation(np.arange(1, n + 1))))
    transpose = bool(rng.random() < 0.5) if r == c else False
    rows = _block_perm(rng, n // r, r)
    cols = _block_perm(rng, n // c, c)
    return SudokuTransform(box, transpose, rows, cols, digits)


def _block_perm(rng: np.random.Generator, blocks: int, size: int) -> tuple[int, ...]:
    """Blocks shuffled, then the lines inside each block: the band (or stack) part of the group."""
    order = rng.permutation(blocks)
    return tuple(int(b) * size + int(i) for b in order for i in rng.permutation(size))


def _keeps_blocks(perm: tuple[int, ...], n: int, size: int) -> bool:
    """perm permutes 0..n-1 and maps each block of `size` consecutive positions onto one block."""
    if sorted(perm) != list(range(n)) or n % size:
        return False
    return all(len({p // size for p in perm[k : k + size]}) == 1 for k in range(0, n, size))


def _digits(values: tuple[int, ...]) -> str:
    return "".join(str(v) for v in values)
