"""What a sweep is run with (ARC and puzzle sweeps alike), and the rule that a sweep folder is only
resumed, or rescored, with the options its recording was made with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import read_json, write_json

DEFAULT_RULES = ("fixed", "q:0", "stable:1", "stable:2", "converged:0.01", "converged:0.001", "entropy:2:0.01")


@dataclass(frozen=True)
class SweepOptions:
    depth: int | None = None  # None: twice the model's halt_max_steps
    breadth: int = 1
    noise: float = 0.1  # restart noise scale (std of the Gaussian added to H_init and L_init)
    rules: tuple[str, ...] = DEFAULT_RULES
    max_aug: int | None = None
    seed: int = 0
    batch_size: int = 256
    chunk_size: int = 4096


def check_options(out_dir: Path, options: dict[str, Any]) -> None:
    """Refuse a folder holding a sweep made with other options; else record these ones."""
    path = out_dir / rundir.SWEEP_OPTIONS
    if path.exists():
        saved = read_json(path)
        if saved != options:
            changed = sorted(k for k in options if saved.get(k) != options[k])
            raise DataError(
                f"{out_dir}: holds a sweep recorded with other options ({', '.join(changed)}); "
                f"use another -o or delete it"
            )
    write_json(path, options, indent=2)


def seed_free_recording(opts: SweepOptions) -> bool:
    """Whether the seed leaves the recording unchanged (one start per view, or no noise, and every
    view): then the sweeps of further seeds rescore OUT's recording instead of recording again."""
    return (opts.breadth == 1 or opts.noise == 0) and opts.max_aug is None
