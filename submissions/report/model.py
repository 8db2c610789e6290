"""What a report holds, apart from how it is drawn: the types build.py fills and the renderers read.

Kept below both, so that html.py and markdown.py import this and never build.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from submissions.report.runs import Run

if TYPE_CHECKING:  # puzzle_report builds on Figure, so it sits above this module
    from submissions.report.puzzle_report import PuzzleSection


@dataclass
class Figure:
    """A plot (SVG text) or, when no run has the data it needs, only the reason it is missing."""

    key: str  # file stem under plots/
    title: str
    caption: str
    svg: str | None
    notes: list[str] = field(default_factory=list)  # runs left out, and why


@dataclass
class Report:
    runs: list[Run]
    board: pd.DataFrame  # tables.leaderboard
    figures: list[Figure]
    matrices: dict[str, pd.DataFrame]  # task-set hash -> tables.task_matrix
    price_per_gpu_hour: float | None
    puzzles: PuzzleSection | None = None  # the Sudoku and maze runs, when there are any

    def runs_of(self, digest: str) -> list[Run]:
        """The runs scored on the task set with this hash."""
        return [r for r in self.runs if r.tasks.hash == digest]
