"""The Sudoku and maze leaderboard: our runs by exact accuracy, then the published numbers, quoted, for
the published test sets the runs were scored on (never beside a generated set: other puzzles)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.core.puzzle_sources import PUZZLE_SETS
from submissions.report.format import DASH, count, known, pct
from submissions.report.puzzle_runs import PuzzleRun
from submissions.report.tables import QUOTED


@dataclass(frozen=True)
class PublishedPuzzle:
    """An exact-accuracy figure from the literature (REFERENCE.md section 6)."""

    system: str
    shown_with: str  # the published set whose runs this row is shown beside
    dataset: str  # the set the figure is on (EqR's maze number is on its own maze set)
    exact: float
    source: str
    family: str | None = None


_PAPER = "TRM paper, arXiv 2510.04871"
_OWN = "their own paper"
SUDOKU_EXTREME, MAZE_HARD = "sudoku-extreme/test", "maze-30x30-hard-1k/test"
PUBLISHED = (
    PublishedPuzzle("TRM-MLP (mlp_t)", SUDOKU_EXTREME, SUDOKU_EXTREME, 0.874, _PAPER, "trm"),
    PublishedPuzzle("HRM 27M", SUDOKU_EXTREME, SUDOKU_EXTREME, 0.550, _PAPER, "hrm"),
    PublishedPuzzle("EqR (depth 64 x 128 restarts)", SUDOKU_EXTREME, SUDOKU_EXTREME, 0.998, _OWN),
    PublishedPuzzle("GRAM", SUDOKU_EXTREME, SUDOKU_EXTREME, 0.970, _OWN),
    PublishedPuzzle(
        "TRM at 128 inference steps", SUDOKU_EXTREME, SUDOKU_EXTREME, 0.96, "a user's run (approximate)", "trm"
    ),
    PublishedPuzzle("TRM-Att", MAZE_HARD, MAZE_HARD, 0.853, _PAPER, "trm"),
    PublishedPuzzle("HRM 27M", MAZE_HARD, MAZE_HARD, 0.745, _PAPER, "hrm"),
    PublishedPuzzle("EqR", MAZE_HARD, "EqR's unique-path maze set (not Maze-Hard)", 0.930, _OWN),
)

COLUMNS = [
    "run",
    "source",
    "benchmark",
    "dataset",
    "dataset_hash",
    "published_set",
    "checkpoint",
    "family",
    "parameters",
    "device",
    "act_steps",
    "halt",
    "mean_steps",
    "exact",
    "exact_low",
    "exact_high",
    "puzzles",
    "puzzles_exact",
    "cell_accuracy",
    "fill_accuracy",
    "valid_path_rate",
    "nfe_per_task",
    "nfe_reference_per_task",
    "gpu_seconds",
]
SHOWN = [
    "run",
    "data set",
    "checkpoint",
    "model",
    "parameters",
    "ACT steps",
    "exact [95% CI]",
    "cells (all / to fill)",
    "valid paths",
    "NFE/puzzle (reference)",
    "puzzles solved",
]


def set_label(name: str) -> str:
    """A built-in set's name as it is; a file or folder by its last two parts (`sudoku-extreme/test.csv`)."""
    return name if name in PUZZLE_SETS else "/".join(Path(name).parts[-2:])


def run_row(run: PuzzleRun) -> dict:
    s, meta = run.summary, run.meta
    checkpoint = meta.get("checkpoint")
    if checkpoint is not None and meta.get("checkpoint_step") is not None:
        checkpoint = f"{checkpoint} (step {meta['checkpoint_step']})"
    parameters = meta.get("parameters")
    lo, hi = s["exact_ci95"]
    return {
        "run": run.name,
        "source": "measured",
        "benchmark": s["benchmark"],
        "dataset": run.puzzles.name,
        "dataset_hash": run.puzzles.hash,
        "published_set": s.get("published_set"),
        "checkpoint": checkpoint,
        "family": run.family,
        "parameters": parameters.get("network") if isinstance(parameters, dict) else None,
        "device": meta.get("device"),
        "act_steps": meta.get("max_steps"),
        "halt": meta.get("halt"),
        "mean_steps": s.get("mean_steps"),
        "exact": s["exact_accuracy"],
        "exact_low": lo,
        "exact_high": hi,
        "puzzles": s["puzzles"],
        "puzzles_exact": s["exact"],
        "cell_accuracy": s["cell_accuracy"],
        "fill_accuracy": s["fill_accuracy"],
        "valid_path_rate": s.get("valid_path_rate"),
        "nfe_per_task": meta.get("nfe_per_task"),
        "nfe_reference_per_task": meta.get("nfe_reference_per_task"),
        "gpu_seconds": meta.get("gpu_seconds"),
    }


def puzzle_leaderboard(runs: list[PuzzleRun], published: bool) -> pd.DataFrame:
    """Measured rows best first, then the quoted rows of the published sets among the runs."""
    measured = sorted((run_row(r) for r in runs), key=lambda row: -row["exact"])
    sets = {r.summary.get("published_set") for r in runs}
    quoted = [
        {
            "run": p.system,
            "source": f"{QUOTED}: {p.source}",
            "benchmark": p.shown_with.split("-")[0],
            "dataset": p.dataset,
            "family": p.family,
            "exact": p.exact,
        }
        for p in PUBLISHED
        if published and p.shown_with in sets
    ]
    return pd.DataFrame(measured + quoted, columns=COLUMNS).astype({"parameters": "Int64", "puzzles": "Int64"})


def _steps(row: pd.Series) -> str:
    if not known(row["act_steps"]):
        return DASH
    mean = f", mean {row['mean_steps']:.2f}" if known(row["mean_steps"]) else ""
    return f"{int(row['act_steps'])} ({row['halt']}{mean})"


def display_puzzles(board: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(measured rows as strings in SHOWN order, quoted rows as strings)."""
    measured = board[board["source"] == "measured"]
    rows = [
        [
            r["run"],
            f"{set_label(r['dataset'])} · {r['dataset_hash'][:12]}",
            r["checkpoint"] if known(r["checkpoint"]) else DASH,
            str(r["family"]).upper() if known(r["family"]) else DASH,
            count(int(r["parameters"])) if known(r["parameters"]) else DASH,
            _steps(r),
            f"{pct(r['exact'])} [{100 * r['exact_low']:.2f}, {100 * r['exact_high']:.2f}]",
            f"{pct(r['cell_accuracy'])} / {pct(r['fill_accuracy'])}",
            pct(r["valid_path_rate"]) if known(r["valid_path_rate"]) else DASH,
            f"{r['nfe_per_task']:,.0f} ({r['nfe_reference_per_task']:,.0f})" if known(r["nfe_per_task"]) else DASH,
            f"{int(r['puzzles_exact']):,} / {int(r['puzzles']):,}",
        ]
        for _, r in measured.iterrows()
    ]
    shown = pd.DataFrame(rows, columns=SHOWN)
    shown = shown.drop(columns=[c for c in shown.columns if len(shown) and (shown[c] == DASH).all()])
    quoted = board[board["source"] != "measured"]
    quoted_rows = [
        [r["run"], r["dataset"], pct(r["exact"]), r["source"].split(": ", 1)[-1]] for _, r in quoted.iterrows()
    ]
    return shown, pd.DataFrame(quoted_rows, columns=["system", "data set", "exact accuracy", "source"])
