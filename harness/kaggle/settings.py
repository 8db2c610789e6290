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
from harness.core.io import write_json
from harness.core.sources import read_json
from harness.kaggle.script import MARKER

FORMAT = "trm-eval-kaggle-bundle"
FORMAT_VERSION = 1
CONFIG_FILE = "ttt.toml"


@dataclass
class KernelSettings:
    competition: str
    config: str = CONFIG_FILE  # the fine-tuning RunConfig, beside this file
    time_budget_hours: float = 11.0  # the whole run, pip install included (Kaggle stops it at 12)
    placeholder_hours: float = 1.0  # budget of the placeholder run (public tasks, before the rerun)
    margin_minutes: float = 30.0  # never used: voting, writing, and slack for slow starts
    startup_seconds: float = 60.0  # per child process: imports, layout, checkpoint loading
    freeze_fraction: float = 0.25  # share of fine-tuning steps that train puzzle embeddings only
    max_aug: int | None = None  # views per task at prediction (None: every augmentation trained)
    predict_batch_size: int = 256
    hard_limit_hours: float = 12.0
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
    known = {f.name for f in dataclasses.fields(KernelSettings)}
    return KernelSettings(**{k: v for k, v in raw.items() if k in known})
