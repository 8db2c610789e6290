"""The reference's .npy dataset for a layout, byte for byte: the files the reference's own training reads.

Translations continue the reference's np.random stream where the layout's draws stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from augment.dihedral import SWAPS_AXES, dihedral
from harness.core import rundir
from harness.core.errors import DataError, where
from harness.core.grids import MAX_SIDE
from harness.data.encoding import COLOR_OFFSET, EOS, PAD, VOCAB_SIZE
from harness.data.layout import Layout, read_task
from harness.data.reference_rng import LegacyDraws


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
        pairs, read, _ = read_task(entry.subset, entry.task_id, raw)
        if replace(read, held_out=entry.held_out) != entry:
            raise DataError(where(f"subset {entry.subset}", f"task {entry.task_id}", "differs from the layout's"))
        examples["train"].append([pairs[part][i] for part, i in entry.train_examples])
        examples["test"].append([pairs[part][i] for part, i in entry.test_examples])
    draws = LegacyDraws(layout.seed, skip=layout.words_used)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for split in ("train", "test"):
            tasks = [k for k, entry in enumerate(layout.tasks) if split == "train" or entry.held_out]
            _export_split(layout, tasks, examples[split], draws, split == "train", tmp / split)
        (tmp / rundir.IDENTIFIERS).write_bytes(layout.identifiers_json)
        (tmp / "test_puzzles.json").write_bytes(layout.test_puzzles_json)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _export_split(
    layout: Layout, tasks: list[int], examples: list[list], draws: LegacyDraws, translate: bool, directory: Path
) -> None:
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
        "pad_id": PAD,
        "ignore_label_id": PAD,
        "blank_identifier_id": 0,
        "vocab_size": VOCAB_SIZE,
        "seq_len": MAX_SIDE * MAX_SIDE,
        "num_puzzle_identifiers": len(layout),
        "total_groups": len(groups),
        "mean_puzzle_examples": total / int(n_puzzles.sum()),
        "total_puzzles": int(n_puzzles.sum()),
        "sets": ["all"],
    }
    (directory / "dataset.json").write_text(json.dumps(metadata))


def _draw_offsets(pairs: list, tids: np.ndarray, draws: LegacyDraws, translate: bool) -> np.ndarray:
    """(puzzles, examples, 2) top-left offsets: per puzzle one untranslated example is drawn, then
    (row, column) for each other example, bounded by the larger of its input and output."""
    heights = [max(i.shape[0], o.shape[0]) for i, o in pairs]
    widths = [max(i.shape[1], o.shape[1]) for i, o in pairs]
    offsets = []
    for tid in tids.tolist():
        fixed = draws.interval(len(pairs) - 1)
        rows, cols = (widths, heights) if SWAPS_AXES[tid] else (heights, widths)
        offsets.append(
            [
                (draws.interval(MAX_SIDE - h), draws.interval(MAX_SIDE - w)) if translate and e != fixed else (0, 0)
                for e, (h, w) in enumerate(zip(rows, cols))
            ]
        )
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
