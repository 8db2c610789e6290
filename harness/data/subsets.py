"""Training subsets: `name=SET` specs (joined with `+`) loaded as one TaskSet each, keeping only
tasks that fit the canvas. The order of subsets drives the layout RNG, so it is kept as given."""

from __future__ import annotations

from harness.core.errors import DataError
from harness.core.sources import load_tasks
from harness.core.tasks import TaskSet


def subset_name(spec: str) -> str:
    """`name=SET` -> name; `SET` -> SET."""
    return spec.split("=", 1)[0] if "=" in spec else spec


def subset_source(spec: str) -> str:
    """`name=SET` -> SET; `SET` -> SET."""
    return spec.split("=", 1)[1] if "=" in spec else spec


def load_subset(spec: str, max_side: int) -> TaskSet:
    """A subset spec (`SET` or `A+B`) as one TaskSet, keeping tasks whose grids fit max_side."""
    merged = TaskSet(subset_name(spec))
    for part in subset_source(spec).split("+"):
        for task in load_tasks(part):
            grids = [g for pair in task.train for g in pair] + task.test_inputs + (task.test_outputs or [])
            if all(max(g.shape) <= max_side for g in grids):
                merged.tasks.setdefault(task.id, task)
    if not merged.tasks:
        raise DataError(f"{spec}: no task has all grids within {max_side}x{max_side}")
    return merged
