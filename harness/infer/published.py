"""The registry of published checkpoints (published.toml beside this file): short names, Hub
addresses, layout recipes and the scores their authors published, read once and checked here so
that a malformed entry is one line, not a KeyError in the middle of a download."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.hub import parse_address

REGISTRY = Path(__file__).with_name("published.toml")


@dataclass(frozen=True)
class Recipe:
    """How a checkpoint's puzzle layout was built (harness.data.layout.build_layout's arguments);
    `puzzles` marks a Sudoku or maze checkpoint, whose only identifier is <blank>."""

    subsets: tuple[str, ...] = ()
    test_set: str = ""
    num_aug: int = 0
    seed: int = 42
    identifiers: int | None = None  # the count the published layout has, when known
    puzzles: bool = False

    def describe(self) -> str:
        if self.puzzles:
            return "one puzzle identifier (<blank>): a Sudoku or maze model"
        return f"subsets {', '.join(self.subsets)}; test set {self.test_set}; num_aug {self.num_aug}; seed {self.seed}"


@dataclass(frozen=True)
class Published:
    """One registry entry (see published.toml for the meaning of each field)."""

    name: str
    address: str
    family: str
    size: str
    tasks: str
    recipe: Recipe
    state_dict: str | None = None
    sha256: str | None = None
    dataset: dict[str, int] = field(default_factory=dict)
    scores: tuple[dict[str, Any], ...] = ()


def _entry(name: str, raw: Any) -> Published:
    where = f"{REGISTRY.name}: {name}"
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a table")
    try:
        layout = dict(raw.get("layout", {}))
        if "subsets" in layout:
            layout["subsets"] = tuple(layout["subsets"])
        scores = tuple(raw.get("scores", ()))
        for s in scores:
            if not (
                isinstance(s.get("score"), (int, float))
                and all(isinstance(s.get(k), str) for k in ("metric", "set", "source"))
            ):
                raise TypeError("each score needs score, metric, set and source")
        entry = Published(
            name=name,
            address=raw["address"],
            family=raw["family"],
            size=raw["size"],
            tasks=raw["tasks"],
            recipe=Recipe(**layout),
            state_dict=raw.get("state_dict"),
            sha256=raw.get("sha256") or None,
            dataset=dict(raw.get("dataset", {})),
            scores=scores,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{where}: malformed entry ({type(exc).__name__}: {exc})") from None
    parse_address(entry.address)
    return entry


@cache
def _load(path: Path) -> dict[str, Published]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: cannot read the checkpoint registry: {exc}") from None
    return {name: _entry(name, value) for name, value in raw.get("checkpoints", {}).items()}


def registry() -> dict[str, Published]:
    """Every known checkpoint by short name. $TRM_EVAL_REGISTRY names another file (tests, mirrors)."""
    return _load(Path(os.environ.get("TRM_EVAL_REGISTRY") or REGISTRY))


def lookup(spec: str) -> Published | None:
    """The entry `spec` names: a short name, or the Hub address of a known checkpoint."""
    known = registry()
    if spec in known:
        return known[spec]
    return next((e for e in known.values() if e.address.rstrip("/") == spec.rstrip("/")), None)
