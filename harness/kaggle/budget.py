"""How the Kaggle kernel spends its hours: prediction time is reserved first (from a measured
seconds-per-view and the number of views the test tasks need), what remains goes to
fine-tuning steps (from a measured seconds-per-step), and a safety margin is never touched.

A 240-task rerun needs about twice the prediction time of the 120-task placeholder; reserving
it from the measured rate rather than a fixed share keeps the rerun inside the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

PREDICT_SAFETY = 1.3  # measured per-view time x this: batches of uneven tasks, chunk writes, voting


@dataclass(frozen=True)
class Budget:
    """Seconds for fine-tuning and for prediction, and the optimiser steps that fit."""

    train_s: float
    predict_s: float
    embedding_steps: int  # stage 1: puzzle embeddings only
    full_steps: int  # stage 2: every weight

    @property
    def steps(self) -> int:
        return self.embedding_steps + self.full_steps


def plan_budget(
    remaining_s: float,
    step_s: float,
    view_s: float,
    n_views: int,
    max_steps: int,
    freeze_fraction: float,
    startup_s: float,
) -> Budget:
    """Split `remaining_s` (time left before the margin) into prediction and fine-tuning.

    `view_s` is the time per view on all prediction devices together, `step_s` per optimiser step
    on all training devices; `startup_s` is paid by each of the three child processes (two
    training stages, one prediction run).
    """
    predict_s = n_views * view_s * PREDICT_SAFETY + startup_s
    train_s = max(0.0, remaining_s - predict_s - 2 * startup_s)
    steps = steps_within(train_s, step_s, max_steps)
    embedding = min(steps, round(steps * freeze_fraction))
    return Budget(train_s, predict_s, embedding, steps - embedding)


def steps_within(seconds: float, step_s: float, cap: int) -> int:
    """Whole optimiser steps of `step_s` that fit in `seconds`, at most `cap`."""
    if seconds <= 0 or step_s <= 0:
        return 0
    return max(0, min(cap, int(seconds / step_s)))
