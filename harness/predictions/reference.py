"""Predictions saved by the reference code's evaluation, turned into our Predictions.

The reference (`eval_save_outputs=[inputs,puzzle_identifiers,preds,q_halt_logits]`) saves, per
rank, a torch file of token tensors; puzzle identifiers index its identifiers.json, whose names
carry each view's transform. The test input a row belongs to is found by inverting its input
grid and matching it against the task's test inputs (a row counts for every equal test input).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from augment import parse_name
from augment.transform import BLANK
from harness.core.errors import DataError
from harness.core.io import load_reference_state_dict
from harness.core.tasks import TaskSet
from harness.data.encoding import decode
from voting import Predictions

REQUIRED = ("inputs", "puzzle_identifiers", "preds")


def _grid(shapes: np.ndarray, offsets: np.ndarray, cells: np.ndarray, i: int) -> np.ndarray:
    h, w = shapes[i]
    return cells[offsets[i] : offsets[i] + h * w].reshape(h, w)


def _canvas(data: dict, rows: int, path: Path) -> int:
    """The side of the square canvas the token tensors were encoded on (30 for ARC)."""
    shapes = {k: tuple(data[k].shape) for k in ("inputs", "preds", "puzzle_identifiers", "q_halt_logits") if k in data}
    seq = shapes["inputs"][-1] if len(shapes["inputs"]) == 2 else 0
    canvas = math.isqrt(seq)
    want = {"inputs": (rows, seq), "preds": (rows, seq), "puzzle_identifiers": (rows,), "q_halt_logits": (rows,)}
    wrong = [k for k, shape in shapes.items() if shape != want[k]]
    if canvas == 0 or canvas * canvas != seq or wrong:
        raise DataError(
            f"{path}: tensor shapes {shapes} do not fit: inputs and preds (rows, side * side), "
            f"puzzle_identifiers and q_halt_logits (rows,)"
        )
    return canvas


def read_reference_outputs(paths: Sequence[Path], identifiers: list[str], tasks: TaskSet) -> Predictions:
    """Views from one or more `step_N_all_preds.<rank>` files, in file then row order."""
    test_index = {
        t.id: {
            (g.shape, g.tobytes()): [i for i, h in enumerate(t.test_inputs) if np.array_equal(g, h)]
            for g in t.test_inputs
        }
        for t in tasks
    }
    names = [parse_name(n) if n != BLANK else None for n in identifiers]
    rows: tuple[list, ...] = ([], [], [], [], [])
    for path in paths:
        data = load_reference_state_dict(path)
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise DataError(f"{path}: lacks {', '.join(missing)} (save them with eval_save_outputs)")
        ids = data["puzzle_identifiers"].numpy().astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(identifiers)):
            raise DataError(f"{path}: puzzle identifier {ids.max()} beyond the {len(identifiers)} identifiers given")
        q = data["q_halt_logits"].double().numpy() if "q_halt_logits" in data else np.full(len(ids), np.nan)
        canvas = _canvas(data, len(ids), path)
        inputs = decode(data["inputs"].numpy().astype(np.uint8), canvas)
        preds = decode(data["preds"].numpy().astype(np.uint8), canvas)
        for row, ident in enumerate(ids.tolist()):
            if names[ident] is None:
                continue
            task_id, transform = names[ident]
            if task_id not in test_index:
                raise DataError(f"{path}: row {row}: puzzle {identifiers[ident]}: task not in {tasks.name}")
            original = transform.invert(_grid(*inputs, row))
            matches = test_index[task_id].get((original.shape, original.tobytes()))
            if not matches:
                raise DataError(
                    f"{path}: row {row}: puzzle {identifiers[ident]}: input matches no test input "
                    f"of task {task_id} in {tasks.name}"
                )
            grid = _grid(*preds, row)
            for index in matches:
                for column, value in zip(rows, (task_id, index, transform, grid, q[row])):
                    column.append(value)
    if not rows[0]:
        raise DataError(f"{', '.join(map(str, paths))}: no predictions (only blank padding rows)")
    return Predictions.from_rows(*rows)
