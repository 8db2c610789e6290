"""The kernel's settings, fixed when the bundle is built and stored in it as trm-kaggle.json.

The bundle is read-only on Kaggle, so everything the kernel decides at run time (hours, margin,
how fine-tuning is split) is written here by `trm-eval kaggle bundle`; the kernel's own command
line can still override each value (tests do).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.io import read_json, write_json
from harness.core.schema import read_section, setting
from harness.kaggle.script import HARD_LIMIT_HOURS, MARKER

FORMAT = "trm-eval-kaggle-bundle"
FORMAT_VERSION = 1
CONFIG_FILE = "ttt.toml"


@dataclass
class KernelSettings:
    competition: str
    config: str = CONFIG_FILE  # the fine-tuning RunConfig, beside this file
    time_budget_hours: float = setting(11.0, low=0.0, high=HARD_LIMIT_HOURS)  # the whole run, pip install included
    placeholder_hours: float = setting(1.0, low=0.0, high=HARD_LIMIT_HOURS)  # the placeholder run (public tasks)
    margin_minutes: float = setting(30.0, low=0.0)  # never used: voting, writing, and slack for slow starts
    startup_seconds: float = setting(60.0, low=0.0)  # per child process: imports, layout, checkpoint loading
    freeze_fraction: float = setting(0.25, low=0.0, high=1.0)  # share of fine-tuning steps for embeddings only
    max_aug: int | None = setting(None, low=1)  # views per task at prediction (None: every augmentation trained)
    predict_batch_size: int = setting(256, low=1)
    hard_limit_hours: float = setting(HARD_LIMIT_HOURS, low=0.0)
    contents: dict[str, Any] = field(default_factory=dict)  # what the bundle holds (informational)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **dataclasses.asdict(self)}

    def save(self, directory: Path) -> Path:
        return write_json(directory / MARKER, self.to_json(), indent=2)


def read_settings(directory: Path) -> KernelSettings:
    path = Path(directory) / MARKER
    raw = read_json(path)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("format_version") != FORMAT_VERSION:
        raise DataError(f"{path}: not a {FORMAT} v{FORMAT_VERSION} file")
    values = {k: v for k, v in raw.items() if k not in ("format", "format_version")}
    return read_section(KernelSettings, values, str(path))
