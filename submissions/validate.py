"""Check a submission against a task set: every problem Kaggle would reject, each on its own line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core.errors import shown
from harness.core.grids import grid_problem
from harness.core.tasks import task_id_problem

ATTEMPT_KEYS = ("attempt_1", "attempt_2")


def validate_submission(
    raw: dict[str, Any], test_counts: Mapping[str, int], set_name: str, source: str = "submission"
) -> list[str]:
    """All problems of `raw` (parsed submission.json) for a set whose task `t` has `test_counts[t]`
    test inputs; an empty list means valid."""
    problems = []
    for task_id, expected in test_counts.items():
        if task_id not in raw:
            problems.append(f"{source}: task {task_id}: missing")
            continue
        entries = raw[task_id]
        if not isinstance(entries, list):
            problems.append(
                f"{source}: task {task_id}: expected a list of {expected} entries, got {type(entries).__name__}"
            )
            continue
        if len(entries) != expected:
            problems.append(
                f"{source}: task {task_id}: {len(entries)} entries, expected {expected} (one per test input)"
            )
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                problems.append(
                    f"{source}: task {task_id}: entry {i}: expected an object with "
                    f"attempt_1 and attempt_2, got {type(entry).__name__}"
                )
                continue
            for key in ATTEMPT_KEYS:
                if key not in entry:
                    problems.append(f"{source}: task {task_id}: entry {i}: {key} missing")
                elif (why := grid_problem(entry[key])) is not None:
                    problems.append(f"{source}: task {task_id}: entry {i}: {key}: {why}")
            for key in sorted(set(entry) - set(ATTEMPT_KEYS)):
                problems.append(f"{source}: task {task_id}: entry {i}: unexpected key {shown(key)}")
    for task_id in raw:
        if task_id not in test_counts:
            why = task_id_problem(task_id)
            problems.append(f"{source}: {why}" if why else f"{source}: task {task_id}: not in {set_name}")
    return problems
