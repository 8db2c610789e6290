"""Duplicate detection: which augmentations of a task give a puzzle the reference has not seen yet.

Two transforms give the same puzzle iff the reference's puzzle hashes are equal iff the
multisets of (input, output) pairs are equal. A transform's effect depends only on its tid and
its colours at the colours the task uses (the "pre-key"), so equal pre-keys are duplicates for
free. Different pre-keys are told apart by a 64-bit fingerprint that is a function of the pair
multiset, so different fingerprints prove different puzzles; per pair it is linear in the colour
codes (10 multiply-adds per pair and transform). Only equal fingerprints of different pre-keys,
in practice symmetric tasks, are settled with the reference's sha256 puzzle hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from augment.dihedral import COMPOSE, DIHEDRAL_INVERSE, SWAPS_AXES, inverse_dihedral
from augment.transform import Transform
from harness.core.grids import MAX_SIDE

IDENTITY_COLORS = np.arange(10, dtype=np.uint8)  # the colour map of the untransformed puzzle
_FP_RNG = np.random.default_rng(0x5452_4D)
_CELL_WEIGHTS = _FP_RNG.integers(0, 2**64, size=(2, MAX_SIDE, MAX_SIDE), dtype=np.uint64)
_COLOR_CODES = _FP_RNG.integers(0, 2**64, size=10, dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@lru_cache(maxsize=4096)
def _cell_weights(slot: int, h: int, w: int) -> np.ndarray:
    """(h*w, 8): weight of each cell of an h x w grid once dihedral tid has moved it."""
    cols = []
    for tid in range(8):
        th, tw = (w, h) if SWAPS_AXES[tid] else (h, w)
        cols.append(inverse_dihedral(_CELL_WEIGHTS[slot, :th, :tw], tid).ravel())
    return np.stack(cols, axis=1)


def grid_digest(grid: np.ndarray) -> str:
    """The reference's grid hash: sha256 of the two shape bytes, then the uint8 cells."""
    return hashlib.sha256(bytes(grid.shape) + grid.tobytes()).hexdigest()


def puzzle_hash(pairs: Sequence[tuple[np.ndarray, np.ndarray]], transform: Transform | None = None) -> str:
    """The reference's puzzle hash of all (input, output) pairs, after `transform` if given."""
    if transform is not None:
        pairs = [(transform.apply(i), transform.apply(o)) for i, o in pairs]
    digests = sorted(f"{grid_digest(i)}|{grid_digest(o)}" for i, o in pairs)
    return hashlib.sha256("|".join(digests).encode()).hexdigest()


@dataclass
class Puzzle:
    """All (input, output) pairs of a task, train and test, as the reference hashes them."""

    pairs: list[tuple[np.ndarray, np.ndarray]]

    @cached_property
    def used_colors(self) -> np.ndarray:
        used = np.zeros(10, bool)
        for pair in self.pairs:
            for grid in pair:
                used[grid] = True
        return np.flatnonzero(used[1:]) + 1

    @cached_property
    def basis(self) -> np.ndarray:
        """(8, 10, pairs) uint64: pair e's fingerprint under (tid, m) is sum_c basis[tid, c, e] * code[m[c]].

        basis[tid, c, e] sums the weights of the cells of colour c in pair e after dihedral tid,
        summed for all pairs at once by sorting the cells by (pair, colour).
        """
        keys, weights = [], []
        for e, pair in enumerate(self.pairs):
            for slot, grid in enumerate(pair):
                keys.append(grid.ravel() + 10 * e)
                weights.append(_cell_weights(slot, *grid.shape))
        flat = np.concatenate(keys).astype(np.int64)
        order = np.argsort(flat, kind="stable")
        flat = flat[order]
        starts = np.flatnonzero(np.diff(flat, prepend=-1))
        basis = np.zeros((10 * len(self.pairs), 8), np.uint64)
        basis[flat[starts]] = np.add.reduceat(np.concatenate(weights)[order], starts, axis=0)
        return basis.reshape(len(self.pairs), 10, 8).transpose(2, 1, 0).copy()

    def fingerprints(self, tids: np.ndarray, colors: np.ndarray) -> np.ndarray:
        """A 64-bit function of the multiset of transformed pairs: the sum of their mixed fingerprints.

        Mixing each pair before the sum keeps cells of different pairs from trading places.
        """
        per_pair = np.einsum("tc,tce->te", _COLOR_CODES[colors], self.basis[tids])  # wraps mod 2**64
        return _mix(per_pair).sum(axis=1)

    def prekeys(self, tids: np.ndarray, colors: np.ndarray) -> np.ndarray:
        used = self.used_colors
        return tids.astype(np.int64) * 10 ** len(used) + colors[:, used].astype(np.int64) @ 10 ** np.arange(len(used))

    def choose(self, tids: np.ndarray, colors: np.ndarray, num_aug: int) -> tuple[np.ndarray, int]:
        """Indices of the transforms the reference keeps, and how many it tries before stopping.

        The reference keeps a transform iff its puzzle is new, i.e. differs from the original and
        from every earlier transform; it stops at `num_aug` kept or when the candidates run out.
        """
        tids = np.concatenate([[0], tids]).astype(np.uint8)
        colors = np.concatenate([IDENTITY_COLORS[None], colors])
        _, first, inverse = np.unique(self.prekeys(tids, colors), return_index=True, return_inverse=True)
        rep = self._merge_symmetric(first, tids[first], colors[first])
        cls = rep[inverse.ravel()]
        new = first[cls] == np.arange(len(tids))
        new &= cls != cls[0]
        kept = np.flatnonzero(new)[:num_aug]
        tried = int(kept[-1]) if len(kept) == num_aug else len(tids) - 1
        return kept - 1, tried

    @cached_property
    def hash(self) -> str:
        return puzzle_hash(self.pairs)

    def _merge_symmetric(self, first: np.ndarray, tids: np.ndarray, colors: np.ndarray) -> np.ndarray:
        """For each distinct pre-key (in `first` order), the earliest one giving the same puzzle.

        Pre-keys with equal fingerprints differ, but for a 2**-64 chance, by a symmetry of the
        task: a transform (d, c) with d(c(task)) == task. Few distinct symmetries occur, so each is
        checked once with the reference hash; a failed check (a fingerprint collision) sends its
        group back to comparing hashes member by member.
        """
        fingerprints = self.fingerprints(tids, colors)
        order = np.lexsort((first, fingerprints))
        ordered = fingerprints[order]
        starts = np.diff(ordered, prepend=~ordered[:1]) != 0
        rep = np.empty_like(order)
        rep[order] = order[np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))]
        members = np.flatnonzero(rep != np.arange(len(rep)))
        if not len(members):
            return rep
        leaders = rep[members]
        rel_tids = COMPOSE[np.asarray(DIHEDRAL_INVERSE)[tids[leaders]], tids[members]]
        rel_colors = np.take_along_axis(np.argsort(colors[leaders], axis=1), colors[members].astype(np.intp), axis=1)
        _, pick, which = np.unique(self.prekeys(rel_tids, rel_colors), return_index=True, return_inverse=True)
        checks = [
            puzzle_hash(self.pairs, Transform(int(rel_tids[p]), tuple(rel_colors[p].tolist()))) == self.hash
            for p in pick
        ]
        for leader in np.unique(leaders[~np.asarray(checks)[which.ravel()]]).tolist():
            group = np.flatnonzero(fingerprints == fingerprints[leader])
            seen: dict[str, int] = {}
            for u in group[np.argsort(first[group])].tolist():
                transform = Transform(int(tids[u]), tuple(colors[u].tolist()))
                rep[u] = seen.setdefault(puzzle_hash(self.pairs, transform), u)
        return rep
