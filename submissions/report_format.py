"""Leaderboard cells as people read them, shared by the HTML and Markdown renderers (the CSV keeps raw numbers)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from submissions.report_tables import short_dataset

DASH = "—"
DISPLAY_COLUMNS = ["run", "data set", "checkpoint", "views / input", "ACT steps", "pass@1 [95% CI]",
                   "pass@2 [95% CI]", "tasks solved", "GPU-seconds", "$ / task", "source"]


def known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def with_ci(x: float, lo: Any, hi: Any) -> str:
    return f"{pct(x)} [{100 * lo:.2f}, {100 * hi:.2f}]" if known(lo) else pct(x)


def number(x: Any) -> str:
    return f"{float(x):,.0f}" if known(x) else DASH


def _steps(row: pd.Series) -> str:
    if not known(row["act_steps"]):
        return DASH if not known(row["mean_steps"]) else f"mean {row['mean_steps']:.2f}"
    mean = f" (mean {row['mean_steps']:.2f})" if known(row["mean_steps"]) else ""
    return f"{int(row['act_steps'])}{mean}"


def display_row(row: pd.Series) -> list[str]:
    """One leaderboard row in DISPLAY_COLUMNS order."""
    measured = row["source"] == "measured"
    dataset = f"{short_dataset(row['dataset'])} · {row['dataset_hash'][:12]}" if measured else row["dataset"]
    views = f"{row['views_per_input']:g} ({int(row['views']):,} views)" if known(row["views_per_input"]) else DASH
    return [
        str(row["run"]), dataset, str(row["checkpoint"]) if known(row["checkpoint"]) else DASH,
        views, _steps(row),
        with_ci(row["pass1"], row["pass1_low"], row["pass1_high"]) if known(row["pass1"]) else DASH,
        with_ci(row["pass2"], row["pass2_low"], row["pass2_high"]),
        f"{int(row['tasks_solved'])} / {int(row['tasks'])}" if known(row["tasks_solved"]) else DASH,
        number(row["gpu_seconds"]),
        f"${row['usd_per_task']:.2f}" if known(row["usd_per_task"]) else DASH,
        str(row["source"]),
    ]


def display_board(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as strings, one row per run or quoted figure."""
    return pd.DataFrame([display_row(r) for _, r in board.iterrows()], columns=DISPLAY_COLUMNS)


def drop_empty(shown: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Leave out the columns no row has a value for; return the frame and the names left out."""
    empty = [c for c in shown.columns if (shown[c] == DASH).all()]
    return shown.drop(columns=empty), empty


def hidden_note(empty: list[str]) -> str:
    return f"Not recorded by any run (run.json): {', '.join(empty)}." if empty else ""
