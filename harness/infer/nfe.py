"""NFE accounting: network (block) applications actually run, per task, beside what the reference
protocol (every view, one start, halt_max_steps fixed steps) runs on the same views."""

from __future__ import annotations

from typing import Any

import numpy as np

from models import FAMILIES


def nfe_record(manifest: dict[str, Any], steps: np.ndarray, n_tasks: int, n_views: int | None = None) -> dict[str, Any]:
    """run.json fields from a checkpoint manifest and the ACT steps each row (view x restart) ran;
    the reference runs `n_views` (default: one per row) once each."""
    family = FAMILIES[manifest.get("family", "trm")]
    config = family.config_class.from_dict(manifest["config"])
    per_step = family.nfe_per_step(config)
    tasks = max(n_tasks, 1)
    views = len(steps) if n_views is None else n_views
    return {
        "nfe_per_step": per_step,
        "nfe_per_task": float(np.sum(steps)) * per_step / tasks,
        "nfe_reference_per_task": float(views * config.halt_max_steps * per_step / tasks),
    }
