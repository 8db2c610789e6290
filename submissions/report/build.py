"""Leaderboard reports: run directories -> tables, figures and per-task pictures -> HTML, Markdown, CSV.

`build_report` reads and computes; `write_report` renders and writes. A report reads only the run
directories' files and the task sets their score.json names (hash-checked, see runs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.io import write_text
from harness.predictions.shards import RunPredictions
from submissions.report.curves import calibration, steps_curve, views_curve
from submissions.report.html import render_html
from submissions.report.markdown import render_markdown
from submissions.report.model import Figure, Report
from submissions.report.plots import calibration_plot, steps_plot, views_plot
from submissions.report.puzzle_report import build_puzzle_section
from submissions.report.puzzle_runs import is_puzzle_run, load_puzzle_runs
from submissions.report.runs import Run, _run_names, load_runs
from submissions.report.tables import by_dataset, leaderboard, task_matrix


def _figure(
    runs: list[Run],
    key: str,
    title: str,
    caption: str,
    *,
    usable: Callable[[Run], bool],
    data: Callable[[Run], tuple[Any, ...]],
    missing: str,
    plot: Callable[[dict], str],
) -> Figure:
    """Plot `data` of every usable run (keyed by run index, which picks its colour); each other run
    gets a note saying what it is `missing`. No usable run: the figure is only its notes."""
    drawn, notes = {}, []
    for i, run in enumerate(runs):
        if usable(run):
            drawn[i] = (run.name, *data(run))
        else:
            notes.append(f"{run.name}: {missing}")
    return Figure(key, title, caption, plot(drawn) if drawn else None, notes)


def views_figure(runs: list[Run], repeats: int, seed: int) -> Figure:
    caption = (
        f"pass@2 when each test input's vote uses only k of the run's views, drawn at random "
        f"({repeats} draws per k; line: mean, band: min to max). The last point votes every view."
    )
    return _figure(
        runs,
        "views",
        "pass@2 against views voted",
        caption,
        usable=lambda run: run.predictions is not None,
        data=lambda run: (views_curve(_kept(run).final, run.tasks.solutions(), repeats, seed),),
        missing="no predictions kept (predictions.jsonl or predictions/chunk-*.npz)",
        plot=views_plot,
    )


def _kept(run: Run) -> RunPredictions:
    """The run's predictions, for figures whose `usable` test already checked they exist."""
    assert run.predictions is not None
    return run.predictions


def steps_figure(runs: list[Run]) -> Figure:
    caption = "pass@2 of voting every view's prediction as it stood after each ACT step."
    return _figure(
        runs,
        "steps",
        "pass@2 against ACT step",
        caption,
        usable=lambda run: run.predictions is not None and bool(run.predictions.steps),
        data=lambda run: (steps_curve(_kept(run), run.tasks.solutions()),),
        missing="no per-step predictions (evaluate with --halt fixed --record-steps)",
        plot=steps_plot,
    )


def calibration_figure(runs: list[Run]) -> Figure:
    caption = (
        "Per view: sigmoid(q_halt logit) against whether the view, mapped back to the original frame, "
        "equals the truth; 10 confidence bins, marker area ~ views in the bin; ECE = expected "
        "calibration error (up to 50,000 views per run, sampled at random)."
    )
    return _figure(
        runs,
        "calibration",
        "q_halt calibration",
        caption,
        usable=lambda run: run.predictions is not None and run.predictions.has_q,
        data=lambda run: calibration(_kept(run).final, run.tasks.solutions()),
        missing="no q_halt logits in its predictions",
        plot=calibration_plot,
    )


def build_report(
    run_dirs: list[str | Path],
    published: bool = True,
    price_per_gpu_hour: float | None = None,
    repeats: int = 3,
    seed: int = 0,
) -> Report:
    """Load the runs (ARC evaluations, and Sudoku or maze ones) and compute every table and figure."""
    paths = [Path(p).resolve() for p in run_dirs]
    puzzle_paths = [p for p in paths if is_puzzle_run(p)]
    if len(set(paths)) != len(paths):
        raise DataError("the same run directory is given twice")
    runs = load_runs([p for p in paths if p not in puzzle_paths]) if len(puzzle_paths) < len(paths) else []
    puzzles = (
        build_puzzle_section(load_puzzle_runs(puzzle_paths, _run_names(puzzle_paths)), published)
        if puzzle_paths
        else None
    )
    figures = [views_figure(runs, repeats, seed), steps_figure(runs), calibration_figure(runs)] if runs else []
    matrices = {h: task_matrix(group) for h, group in by_dataset(runs).items()}
    board = leaderboard(runs, price_per_gpu_hour, published and bool(runs))
    return Report(runs, board, figures, matrices, price_per_gpu_hour, puzzles)


def write_report(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """report.html (self-contained), report.md, leaderboard.csv, tasks-<hash>.csv, plots/*.svg (and
    puzzle_leaderboard.csv for Sudoku and maze runs)."""
    out = Path(out_dir)
    paths = {
        "html": write_text(out / "report.html", render_html(report)),
        "markdown": write_text(out / "report.md", render_markdown(report)),
    }
    if report.runs or report.puzzles is None:
        paths["leaderboard"] = write_text(out / "leaderboard.csv", report.board.to_csv(index=False))
    for digest, matrix in report.matrices.items():
        paths[f"tasks-{digest[:12]}"] = write_text(out / f"tasks-{digest[:12]}.csv", matrix.to_csv())
    if report.puzzles is not None:
        paths["puzzle_leaderboard"] = write_text(
            out / "puzzle_leaderboard.csv", report.puzzles.board.to_csv(index=False)
        )
    for fig in report.figures + (report.puzzles.figures if report.puzzles is not None else []):
        if fig.svg is not None:
            paths[fig.key] = write_text(out / "plots" / f"{fig.key}.svg", fig.svg)
    return paths
