"""The Sudoku and maze part of a report: their leaderboard (quoted numbers only beside the published
sets), exact accuracy against difficulty rating and against ACT depth, and pictures of puzzles (each
run's answer to the same puzzles, the ones the first run got wrong first), for report.html and report.md."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from submissions.report.boards import maze_svg, sudoku_svg
from submissions.report.model import Figure
from submissions.report.plots import depth_plot, rating_plot
from submissions.report.puzzle_runs import PuzzleRun
from submissions.report.puzzle_tables import display_puzzles, puzzle_leaderboard, set_label
from submissions.report.tables import QUOTED

WRONG_SHOWN, RIGHT_SHOWN = 4, 2  # puzzles pictured per set
NOTES = (
    "Exact accuracy: every cell of the prediction equals the answer (the paper's metric); interval: 95% "
    f"Wilson. Cells to fill: Sudoku blanks, maze open cells. Published figures are {QUOTED}, shown only "
    "beside runs on the published test sets (Sudoku-Extreme's 423,168, Maze-Hard's 1,000)."
)


@dataclass
class PuzzleSection:
    runs: list[PuzzleRun]
    board: pd.DataFrame  # puzzle_tables.puzzle_leaderboard
    figures: list[Figure]
    pictures: dict[str, str] = field(default_factory=dict)  # set name -> HTML of its pictured puzzles


def _by_set(runs: list[PuzzleRun]) -> dict[str, list[tuple[int, PuzzleRun]]]:
    groups: dict[str, list[tuple[int, PuzzleRun]]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(run.puzzles.hash, []).append((i, run))
    return groups


def _rating_figure(digest: str, group: list[tuple[int, PuzzleRun]]) -> Figure:
    name = set_label(group[0][1].puzzles.name)
    curves, notes = {}, []
    for i, run in group:
        buckets = pd.DataFrame(run.summary.get("by_rating", []))
        if len(buckets):
            span = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in zip(buckets["low"], buckets["high"])]
            curves[i] = (run.name, buckets.assign(label=span))
        else:
            notes.append(f"{run.name}: {name} has no difficulty ratings")
    caption = (
        "Exact accuracy per difficulty bucket of the set's ratings (one bucket per rating when there are "
        "few, else quintiles; generated Sudoku: the solver's dead ends, generated mazes: path length)."
    )
    return Figure(
        f"puzzle-rating-{digest[:12]}",
        f"Exact accuracy against difficulty: {name}",
        caption,
        rating_plot(curves) if curves else None,
        notes,
    )


def _depth_figure(runs: list[PuzzleRun]) -> Figure:
    curves, halted, notes = {}, {}, []
    for i, run in enumerate(runs):
        by_step = run.summary.get("exact_by_step")
        if by_step:
            curves[i] = (run.name, pd.DataFrame({"step": [int(k) for k in by_step], "exact": list(by_step.values())}))
        elif run.meta.get("halt") == "q" and "mean_steps" in run.summary:
            halted[i] = (run.name, run.summary["mean_steps"], run.summary["exact_accuracy"])
        else:
            notes.append(f"{run.name}: no per-step predictions (evaluate with --record-steps, or --halt q)")
    caption = (
        "Exact accuracy of the predictions after each ACT step (--record-steps); a diamond is a run that "
        "stopped each puzzle on its q_halt logit, at its mean number of steps."
    )
    svg = depth_plot(curves, halted) if curves or halted else None
    return Figure("puzzle-depth", "Exact accuracy against ACT depth", caption, svg, notes)


def _picture(run: PuzzleRun, index: int) -> str:
    puzzles, preds = run.puzzles, run.predictions
    assert preds is not None
    row = np.flatnonzero(preds.index == index)
    if not len(row):
        return '<span class="missing">none</span>'
    q, a, p = puzzles.questions[index], puzzles.answers[index], preds.cells[row[0]]
    right = bool((p == a).all())
    title = f"{run.name}: puzzle {index} {'right' if right else 'wrong'}"
    if puzzles.kind == "maze":
        return maze_svg(q, a, p, puzzles.side, title)
    assert puzzles.box is not None
    return sudoku_svg(q, a, p, puzzles.box, title)


def _pictures(group: list[tuple[int, PuzzleRun]]) -> str:
    runs = [run for _, run in group if run.predictions is not None]
    if not runs:
        return "<p class=note>No run kept its predictions (predictions/puzzles-*.npz): nothing to picture.</p>"
    first, preds = runs[0], runs[0].predictions
    assert preds is not None
    right = (preds.cells == first.puzzles.answers[preds.index]).all(axis=1)
    chosen = [*preds.index[~right][:WRONG_SHOWN], *preds.index[right][:RIGHT_SHOWN]]
    rows = []
    for index in chosen:
        rating = int(first.puzzles.ratings[index])
        label = f"puzzle {index}" + (f" · rating {rating}" if rating >= 0 else "")
        cells = "".join(
            f'<figure class="pic">{_picture(run, int(index))}<figcaption>{html.escape(run.name)}</figcaption></figure>'
            for run in runs
        )
        rows.append(f'<div class="pair"><span class="label">{html.escape(label)}</span>{cells}</div>')
    kind = first.puzzles.kind
    legend = (
        "Givens bold on grey, the model's digits blue; a wrong cell is red with the right digit small in its corner."
        if kind == "sudoku"
        else "Walls dark, S green, G red; the label's path shaded blue, the model's path as orange dots."
    )
    return (
        f"<p class=note>{legend} Up to {WRONG_SHOWN} puzzles {html.escape(first.name)} got wrong, then "
        f"{RIGHT_SHOWN} it got right.</p>" + "".join(rows)
    )


def build_puzzle_section(runs: list[PuzzleRun], published: bool) -> PuzzleSection | None:
    if not runs:
        return None
    groups = _by_set(runs)
    figures = [_rating_figure(d, g) for d, g in groups.items()] + [_depth_figure(runs)]
    pictures = {g[0][1].puzzles.name: _pictures(g) for g in groups.values()}
    return PuzzleSection(runs, puzzle_leaderboard(runs, published), figures, pictures)


def _html_table(frame: pd.DataFrame, css: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def puzzle_html(section: PuzzleSection, figure_html: str) -> str:
    """The section's HTML; `figure_html` is its figures, rendered as the rest of the report's."""
    shown, quoted = display_puzzles(section.board)
    parts = [
        f'<section id="puzzles"><h2>Sudoku and maze <span class="pill measured">measured</span></h2>'
        f'{_html_table(shown, "board")}<p class="note">{html.escape(NOTES)}</p>'
    ]
    if len(quoted):
        parts.append(
            f'<h3>Published figures <span class="pill quoted-pill">{html.escape(QUOTED)}</span></h3>'
            f"{_html_table(quoted, 'board quoted')}"
        )
    parts.append(f'<div class="figs">{figure_html}</div>')
    for name, pictures in section.pictures.items():
        parts.append(f"<h3>Puzzles of {html.escape(set_label(name))}</h3>{pictures}")
    return "".join(parts) + "</section>"


def puzzle_markdown(section: PuzzleSection, md_table: Callable[..., str]) -> list[str]:
    """The section's Markdown lines (leaderboard, quoted figures, figure links; pictures: report.html only),
    tables drawn by markdown.md_table."""
    shown, quoted = display_puzzles(section.board)
    lines = ["## Sudoku and maze", "", md_table(shown.columns, shown.to_numpy().tolist()), "", NOTES, ""]
    if len(quoted):
        lines += [f"### Published figures ({QUOTED})", "", md_table(quoted.columns, quoted.to_numpy().tolist()), ""]
    for fig in section.figures:
        lines += [f"### {fig.title}", ""]
        lines += (
            [f"![{fig.title}](plots/{fig.key}.svg)", "", fig.caption, ""]
            if fig.svg
            else ["Not drawn: no run has the data it needs.", ""]
        )
        lines += [f"- {note}" for note in fig.notes] + ([""] if fig.notes else [])
    return lines + ["Pictures of puzzles (givens, answers, wrong cells, paths) are in report.html.", ""]
