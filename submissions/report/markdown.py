"""The report as Markdown: leaderboard, figures (linked SVG files) and the solved matrix; the
per-task pictures are in report.html only."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from submissions.report.format import NOTES, display_measured, display_quoted, hidden_note, solved_cell
from submissions.report.model import Report
from submissions.report.puzzle_report import puzzle_markdown
from submissions.report.tables import QUOTED, short_dataset, solved_somewhere


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] = ()) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    align = ["---:" if r else "---" for r in right] + ["---"] * (len(header) - len(right))
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def matrix_section(report: Report, digest: str, matrix: pd.DataFrame) -> list[str]:
    name = short_dataset(report.runs_of(digest)[0].tasks.name)
    some = solved_somewhere(matrix)
    rows = [
        [task, str(outputs)] + [solved_cell(int(v), outputs) for v in values]
        for (task, outputs), values in zip(some.index, some.to_numpy())
    ]
    lines = [
        f"## Tasks of {name} (sha256 {digest[:12]})",
        "",
        f"Test outputs solved per task and run (✓ all, · none); {len(some)} of {len(matrix)} tasks are "
        f"solved at least in part by some run, {len(matrix) - len(some)} by none. Every task is in "
        f"`tasks-{digest[:12]}.csv`; pictures of every task are in report.html.",
        "",
    ]
    if rows:
        lines += [md_table(["task", "outputs", *matrix.columns], rows), ""]
    return lines


def render_markdown(report: Report) -> str:
    names = [r.name for r in report.runs] + [r.name for r in (report.puzzles.runs if report.puzzles else [])]
    lines = ["# trm-eval report", "", f"{len(names)} run(s): " + ", ".join(names), ""]
    if not report.runs and report.puzzles is not None:  # Sudoku and maze runs only
        return "\n".join(lines + puzzle_markdown(report.puzzles, md_table)).rstrip() + "\n"
    board, empty = display_measured(report.board)
    quoted = display_quoted(report.board)
    lines += ["## Leaderboard", "", md_table(board.columns, board.to_numpy().tolist()), "", NOTES, ""]
    lines += [hidden_note(empty), ""] if empty else []
    if len(quoted):
        lines += [f"### Published figures ({QUOTED})", "", md_table(quoted.columns, quoted.to_numpy().tolist()), ""]
    if report.price_per_gpu_hour is not None:
        lines += [f"$ / task = GPU-seconds / 3600 x ${report.price_per_gpu_hour:g} per GPU-hour / tasks.", ""]
    for fig in report.figures:
        lines += [f"## {fig.title}", ""]
        lines += (
            [f"![{fig.title}](plots/{fig.key}.svg)", "", fig.caption, ""]
            if fig.svg
            else ["Not drawn: no run has the data it needs.", ""]
        )
        lines += [f"- {note}" for note in fig.notes] + ([""] if fig.notes else [])
    for digest, matrix in report.matrices.items():
        lines += matrix_section(report, digest, matrix)
    if report.puzzles is not None:
        lines += puzzle_markdown(report.puzzles, md_table)
    return "\n".join(lines).rstrip() + "\n"
