"""Leaderboard reports: run directories -> tables, figures and per-task pictures -> HTML, Markdown, CSV.

`build_report` reads and computes; `write_report` renders and writes. A report reads only the run
directories' files and the task sets their score.json names (hash-checked, see report_runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.core.io import write_text
from submissions.report.runs import Run, load_runs
from submissions.report.tables import by_dataset, leaderboard, task_matrix


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
    board: pd.DataFrame  # report_tables.leaderboard
    figures: list[Figure]
    matrices: dict[str, pd.DataFrame]  # task-set hash -> report_tables.task_matrix
    price_per_gpu_hour: float | None

    def runs_of(self, digest: str) -> list[Run]:
        """The runs scored on the task set with this hash."""
        return [r for r in self.runs if r.tasks.hash == digest]


def views_figure(runs: list[Run], repeats: int, seed: int) -> Figure:
    from submissions.report.curves import views_curve
    from submissions.report.plots import views_plot

    curves, notes = {}, []
    for i, run in enumerate(runs):
        if run.predictions is None:
            notes.append(f"{run.name}: no predictions kept (predictions.jsonl or predictions/chunk-*.npz)")
        else:
            curves[i] = (run.name, views_curve(run.predictions.final, run.tasks.solutions(), repeats, seed))
    caption = (f"pass@2 when each test input's vote uses only k of the run's views, drawn at random "
               f"({repeats} draws per k; line: mean, band: min to max). The last point votes every view.")
    return Figure("views", "pass@2 against views voted", caption, views_plot(curves) if curves else None, notes)


def steps_figure(runs: list[Run]) -> Figure:
    from submissions.report.curves import steps_curve
    from submissions.report.plots import steps_plot

    curves, notes = {}, []
    for i, run in enumerate(runs):
        if run.predictions is None or not run.predictions.steps:
            notes.append(f"{run.name}: no per-step predictions (evaluate with --halt fixed --record-steps)")
        else:
            curves[i] = (run.name, steps_curve(run.predictions, run.tasks.solutions()))
    caption = "pass@2 of voting every view's prediction as it stood after each ACT step."
    return Figure("steps", "pass@2 against ACT step", caption, steps_plot(curves) if curves else None, notes)


def calibration_figure(runs: list[Run]) -> Figure:
    from submissions.report.curves import calibration
    from submissions.report.plots import calibration_plot

    tables, notes = {}, []
    for i, run in enumerate(runs):
        if run.predictions is None or not run.predictions.has_q:
            notes.append(f"{run.name}: no q_halt logits in its predictions")
        else:
            tables[i] = (run.name, *calibration(run.predictions.final, run.tasks.solutions()))
    caption = ("Per view: sigmoid(q_halt logit) against whether the view, mapped back to the original frame, "
               "equals the truth; 10 confidence bins, marker area ~ views in the bin; ECE = expected "
               "calibration error (up to 50,000 views per run, sampled at random).")
    return Figure("calibration", "q_halt calibration", caption,
                  calibration_plot(tables) if tables else None, notes)


def build_report(run_dirs: list[str | Path], published: bool = True, price_per_gpu_hour: float | None = None,
                 repeats: int = 3, seed: int = 0) -> Report:
    """Load the runs and compute every table and figure."""
    runs = load_runs(run_dirs)
    figures = [views_figure(runs, repeats, seed), steps_figure(runs), calibration_figure(runs)]
    matrices = {h: task_matrix(group) for h, group in by_dataset(runs).items()}
    return Report(runs, leaderboard(runs, price_per_gpu_hour, published), figures, matrices, price_per_gpu_hour)


def write_report(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """report.html (self-contained), report.md, leaderboard.csv, tasks-<hash>.csv, plots/*.svg."""
    from submissions.report.html import render_html
    from submissions.report.markdown import render_markdown

    out = Path(out_dir)
    paths = {
        "html": write_text(out / "report.html", render_html(report)),
        "markdown": write_text(out / "report.md", render_markdown(report)),
        "leaderboard": write_text(out / "leaderboard.csv", report.board.to_csv(index=False)),
    }
    for digest, matrix in report.matrices.items():
        paths[f"tasks-{digest[:12]}"] = write_text(out / f"tasks-{digest[:12]}.csv", matrix.to_csv())
    for fig in report.figures:
        if fig.svg is not None:
            paths[fig.key] = write_text(out / "plots" / f"{fig.key}.svg", fig.svg)
    return paths
