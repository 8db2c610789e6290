"""A transform = dihedral id + colour map, with the reference's puzzle-name codec.

Applying it to a grid g gives dihedral(m[g], tid); colour maps act per cell, so they commute
with the dihedral part, which makes composition and inversion exact and cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from augment.dihedral import COMPOSE, DIHEDRAL_INVERSE, dihedral

SEPARATOR = "|||"
_HRM_NAME = re.compile(r"(.+)_t([0-7])_([0-9]{10})", re.ASCII)
BLANK = "<blank>"  # identifier 0: the padding puzzle, no task behind it
_IDENTITY_COLORS = tuple(range(10))


@dataclass(frozen=True)
class Transform:
    """`tid` in 0..7 (reference numbering); `colors[c]` is the new colour of colour c, colors[0] == 0."""

    tid: int = 0
    colors: tuple[int, ...] = _IDENTITY_COLORS

    def __post_init__(self) -> None:
        if not 0 <= self.tid <= 7:
            raise ValueError(f"dihedral id must be 0..7, got {self.tid}")
        if len(self.colors) != 10 or sorted(self.colors) != list(range(10)) or self.colors[0] != 0:
            raise ValueError(f"colour map must permute 0..9 and keep 0 fixed, got {self.colors}")

    @property
    def color_array(self) -> np.ndarray:
        return np.asarray(self.colors, dtype=np.uint8)

    @property
    def is_identity(self) -> bool:
        return self.tid == 0 and self.colors == _IDENTITY_COLORS

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """Map a grid from the original frame into this transform's frame."""
        return np.ascontiguousarray(dihedral(self.color_array[grid], self.tid))

    def inverse(self) -> Transform:
        """The transform that undoes this one."""
        inv_colors = np.argsort(self.color_array)
        return Transform(DIHEDRAL_INVERSE[self.tid], tuple(int(c) for c in inv_colors))

    def invert(self, grid: np.ndarray) -> np.ndarray:
        """Map a grid from this transform's frame back to the original frame."""
        return self.inverse().apply(grid)

    def then(self, other: Transform) -> Transform:
        """The transform that applies `self` first, then `other`."""
        colors = other.color_array[self.color_array]
        return Transform(int(COMPOSE[other.tid, self.tid]), tuple(int(c) for c in colors))

    @property
    def suffix(self) -> str:
        """The reference's augmentation suffix, e.g. `t3|||0213456789`."""
        return f"t{self.tid}{SEPARATOR}{''.join(map(str, self.colors))}"

    @classmethod
    def from_suffix(cls, suffix: str | None) -> Transform:
        """Parse `t{tid}|||{colours}`; None or "" is the identity. Raises ValueError."""
        if not suffix:
            return IDENTITY
        parts = suffix.split(SEPARATOR)
        if len(parts) != 2 or not parts[0].startswith("t") or not _ascii_digits(parts[0][1:]):
            raise ValueError(f"augmentation must look like 't3|||0213456789', got {suffix[:40]!r}")
        colors = parts[1]
        if len(colors) != 10 or not _ascii_digits(colors):
            raise ValueError(f"colour map must be 10 digits 0-9, got {colors[:40]!r}")
        return cls(int(parts[0][1:]), tuple(int(c) for c in colors))


def _ascii_digits(text: str) -> bool:
    """Only 0-9: str.isdigit also takes other scripts' digits ('٣'), which int() reads as 3."""
    return text.isascii() and text.isdigit()


IDENTITY = Transform()


def format_name(task_id: str, transform: Transform) -> str:
    """Puzzle name as the reference writes it: the bare id for the identity original."""
    return f"{task_id}{SEPARATOR}{transform.suffix}"


def parse_name(name: str) -> tuple[str, Transform]:
    """Split a puzzle name into (task id, transform); a bare id is the identity.

    Two spellings: the TRM reference's `task|||t3|||0213456789`, and sapientinc/HRM's builder's
    `task_t3_0213456789` (same transform, same colour-map convention), so HRM layouts evaluate too.
    """
    if SEPARATOR not in name:
        hrm = _HRM_NAME.fullmatch(name)
        if hrm:
            return hrm[1], Transform.from_suffix(f"t{hrm[2]}{SEPARATOR}{hrm[3]}")
        return name, IDENTITY
    task_id, rest = name.split(SEPARATOR, 1)
    return task_id, Transform.from_suffix(rest)


def random_transform(rng: np.random.Generator) -> Transform:
    """A uniformly random group element (8 x 9! choices)."""
    tid = int(rng.integers(0, 8))
    colors = (0, *(int(c) for c in rng.permutation(np.arange(1, 10))))
    return Transform(tid, colors)
