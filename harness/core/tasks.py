"""Core task types: an ARC task and an ordered, hashed set of tasks."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from harness.core.errors import shown
from harness.core.grids import grid_to_list

# Public ARC and Kaggle ids are 8 hex digits, ConceptARC's words such as AboveBelow1: this rule takes
# them all and keeps an id safe as a file name (no `/`, NUL, leading dot) and inside a puzzle name
# (no `|||`, the separator of augmentation suffixes).
TASK_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
TASK_ID_RULE = "1 to 64 of A-Z a-z 0-9 _ . - and not starting with '.'"


def task_id_problem(task_id: object) -> str | None:
    """Why `task_id` cannot name a task (see TASK_ID), or None."""
    if not isinstance(task_id, str):
        return f"task id {task_id!r} is not a string"
    if TASK_ID.fullmatch(task_id) is None:
        return f"task id {shown(task_id)} is not valid (task ids are {TASK_ID_RULE})"
    return None


@dataclass(frozen=True)
class Task:
    """One ARC task: demonstration pairs, test inputs and (when known) test outputs."""

    id: str
    train: list[tuple[np.ndarray, np.ndarray]]
    test_inputs: list[np.ndarray]
    test_outputs: list[np.ndarray] | None = None

    def to_json(self) -> dict:
        """The task in ARC JSON form, test outputs included when known."""
        test = [{"input": grid_to_list(g)} for g in self.test_inputs]
        if self.test_outputs is not None:
            for entry, out in zip(test, self.test_outputs):
                entry["output"] = grid_to_list(out)
        return {
            "train": [{"input": grid_to_list(i), "output": grid_to_list(o)} for i, o in self.train],
            "test": test,
        }


@dataclass
class TaskSet:
    """Tasks in a fixed order (order matters: it drives the reference's RNG and layouts)."""

    name: str
    tasks: dict[str, Task] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks.values())

    def __getitem__(self, task_id: str) -> Task:
        return self.tasks[task_id]

    @property
    def has_solutions(self) -> bool:
        return bool(self.tasks) and all(t.test_outputs is not None for t in self)

    @property
    def n_test_inputs(self) -> int:
        return sum(len(t.test_inputs) for t in self)

    @property
    def n_test_outputs(self) -> int:
        return sum(len(t.test_outputs) for t in self if t.test_outputs is not None)

    @cached_property
    def hash(self) -> str:
        """sha256 of the set's compact JSON ({id: task} in order), so two sets of equal content match."""
        digest = hashlib.sha256()
        digest.update(b"{")
        for n, task in enumerate(self):
            prefix = b"," if n else b""
            body = json.dumps({task.id: task.to_json()}, separators=(",", ":"))[1:-1]
            digest.update(prefix + body.encode())
        digest.update(b"}")
        return digest.hexdigest()

    def test_counts(self) -> dict[str, int]:
        """Test inputs per task: the shape a submission for this set must have."""
        return {t.id: len(t.test_inputs) for t in self}

    def solutions(self) -> dict[str, list[np.ndarray]]:
        """Truth per task: the test outputs in order (only for tasks that have them)."""
        return {t.id: t.test_outputs for t in self if t.test_outputs is not None}
