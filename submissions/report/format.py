"""Leaderboard cells and notes as people read them, shared by the HTML and Markdown renderers (the CSV keeps
raw numbers)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from submissions.report.tables import QUOTED, short_dataset

DASH = "—"
MEASURED_COLUMNS = [
    "run",
    "data set",
    "checkpoint",
    "model",
    "parameters",
    "views / input",
    "ACT steps",
    "pass@1 [95% CI]",
    "pass@2 [95% CI]",
    "tasks solved",
    "GPU-seconds",
    "$ / task",
]
QUOTED_COLUMNS = ["system", "data set", "pass@2", "$ / task", "source"]
NOTES = (  # printed under the leaderboard
    "pass@2 is the Kaggle score (per task, test outputs solved by either attempt / outputs; mean over "
    "tasks); pass@1 counts attempt 1 only. Intervals: 95% percentile bootstrap over tasks. "
    f"Published figures are {QUOTED} (REFERENCE.md section 6), often on other task sets "
    "(semi-private, or the paper's public evaluation): context, not a measurement of ours."
)


def known(value: Any) -> bool:
    """False for None, NaN and pandas' NA (blank cells of the board)."""
    return not pd.isna(value)


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def with_ci(x: float, lo: Any, hi: Any) -> str:
    return f"{pct(x)} [{100 * lo:.2f}, {100 * hi:.2f}]" if known(lo) else pct(x)


def number(x: Any) -> str:
    return f"{float(x):,.0f}" if known(x) else DASH


def count(n: int) -> str:
    """A weight count in 3 significant digits: 6.83M, 27.3M, 449M."""
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= 0.9995 * scale:  # 999,999 rounds to 1M, not 1e+03k
            return f"{n / scale:.3g}{unit}"
    return str(n)


def parameters(row: pd.Series) -> str:
    """Network weights, with the puzzle-embedding table apart (it grows with the layout, not the model)."""
    if not known(row["parameters"]):
        return DASH
    table = row["puzzle_emb_parameters"]
    extra = f" + {count(int(table))} puzzle emb." if known(table) and table else ""
    return count(int(row["parameters"])) + extra


def _steps(row: pd.Series) -> str:
    if not known(row["act_steps"]):
        return DASH if not known(row["mean_steps"]) else f"mean {row['mean_steps']:.2f}"
    mean = f" (mean {row['mean_steps']:.2f})" if known(row["mean_steps"]) else ""
    return f"{int(row['act_steps'])}{mean}"


def usd(x: Any) -> str:
    return f"${x:.2f}" if known(x) else DASH


def measured_row(row: pd.Series) -> list[str]:
    """One run in MEASURED_COLUMNS order."""
    views = f"{row['views_per_input']:g} ({int(row['views']):,} views)" if known(row["views_per_input"]) else DASH
    return [
        str(row["run"]),
        f"{short_dataset(row['dataset'])} · {row['dataset_hash'][:12]}",
        str(row["checkpoint"]) if known(row["checkpoint"]) else DASH,
        str(row["family"]).upper() if known(row["family"]) else DASH,
        parameters(row),
        views,
        _steps(row),
        with_ci(row["pass1"], row["pass1_low"], row["pass1_high"]),
        with_ci(row["pass2"], row["pass2_low"], row["pass2_high"]),
        f"{int(row['tasks_solved'])} / {int(row['tasks'])}",
        number(row["gpu_seconds"]),
        usd(row["usd_per_task"]),
    ]


def display_measured(board: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Our runs as strings, without the columns no run recorded (returned as the second item)."""
    rows = board[board["source"] == "measured"]
    shown = pd.DataFrame([measured_row(r) for _, r in rows.iterrows()], columns=MEASURED_COLUMNS)
    empty = [c for c in shown.columns if (shown[c] == DASH).all()]
    return shown.drop(columns=empty), empty


def display_quoted(board: pd.DataFrame) -> pd.DataFrame:
    """The quoted figures as strings."""
    rows = board[board["source"] != "measured"]
    return pd.DataFrame(
        [
            [r["run"], r["dataset"], pct(r["pass2"]), usd(r["usd_per_task"]), r["source"].split(": ", 1)[-1]]
            for _, r in rows.iterrows()
        ],
        columns=QUOTED_COLUMNS,
    )


def hidden_note(empty: list[str]) -> str:
    return f"Not recorded by any run (run.json): {', '.join(empty)}." if empty else ""


def solved_cell(solved: int, outputs: int) -> str:
    """A task's cell of the solved matrix: ✓ every test output solved, · none, else the fraction."""
    return "✓" if solved == outputs else "·" if solved == 0 else f"{solved}/{outputs}"
