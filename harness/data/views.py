"""Test-time views: which (puzzle identifier, test input) pairs to evaluate, and their tokens.

A checkpoint can only be asked about puzzles it has an embedding for, so the views of a task are
the identifiers of its augmentations in the checkpoint's layout (the original + up to ~1000 in the
paper's). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augment import Transform, parse_name
from augment.transform import BLANK
from harness.core.errors import DataError
from harness.core.tasks import TaskSet
from harness.data.encoding import encode_grid


@dataclass
class Views:
    """One row per view to evaluate, in a fixed order (the order shards and votes follow)."""

    identifier: np.ndarray  # (N,) int64, puzzle-embedding row
    task_ids: np.ndarray  # (N,) str
    test_index: np.ndarray  # (N,) int64
    tids: np.ndarray  # (N,) int8
    colors: np.ndarray  # (N, 10) uint8

    def __len__(self) -> int:
        return len(self.identifier)

    def subset(self, idx: np.ndarray) -> Views:
        return Views(self.identifier[idx], self.task_ids[idx], self.test_index[idx], self.tids[idx], self.colors[idx])


def build_views(identifiers: list[str], tasks: TaskSet, max_aug: int | None = None, seed: int = 0) -> Views:
    """Every test input of every task in `tasks` under every view of it in `identifiers`.

    With `max_aug`, each task keeps at most that many views: its un-augmented puzzle when the
    layout has it, then a seeded random sample of the rest.
    """
    rng = np.random.default_rng(seed)
    per_task: dict[str, list[tuple[int, Transform]]] = {}
    for row, name in enumerate(identifiers):
        if name == BLANK:
            continue
        try:
            task_id, transform = parse_name(name)
        except ValueError as exc:
            raise DataError(f"puzzle identifier {row} ({name[:60]!r}) of the layout: {exc}") from None
        if task_id in tasks.tasks:
            per_task.setdefault(task_id, []).append((row, transform))
    rows: list[tuple] = []
    for task in tasks:
        chosen = per_task.get(task.id, [])
        if max_aug is not None and len(chosen) > max_aug:
            identity = [c for c in chosen if c[1].is_identity]
            rest = [c for c in chosen if not c[1].is_identity]
            keep = rng.choice(len(rest), size=max_aug - len(identity[:1]), replace=False)
            chosen = identity[:1] + [rest[i] for i in sorted(keep)]
        for row, transform in chosen:
            for i in range(len(task.test_inputs)):
                rows.append((row, task.id, i, transform.tid, transform.colors))
    if not rows:
        return Views(
            np.zeros(0, np.int64),
            np.zeros(0, str),
            np.zeros(0, np.int64),
            np.zeros(0, np.int8),
            np.zeros((0, 10), np.uint8),
        )
    ident, task_ids, index, tids, colors = zip(*rows)
    return Views(
        np.array(ident, np.int64),
        np.array(task_ids),
        np.array(index, np.int64),
        np.array(tids, np.int8),
        np.array(colors, np.uint8),
    )


def encode_views(views: Views, tasks: TaskSet, canvas: int) -> np.ndarray:
    """(N, canvas*canvas) input tokens: each test input in its view's frame, untranslated."""
    out = np.empty((len(views), canvas * canvas), dtype=np.uint8)
    for n in range(len(views)):
        grid = tasks[str(views.task_ids[n])].test_inputs[int(views.test_index[n])]
        transform = Transform(int(views.tids[n]), tuple(int(c) for c in views.colors[n]))
        out[n] = encode_grid(transform.apply(grid), canvas)
    return out
