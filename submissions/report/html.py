"""The report as one self-contained HTML page: inline CSS, figures and grids as data URIs, no script,
nothing fetched, so it opens offline and can be mailed or attached as a single file."""

from __future__ import annotations

import base64
import html
import time

import numpy as np
import pandas as pd

from submissions.report.format import NOTES, display_measured, display_quoted, hidden_note, solved_cell
from submissions.report.model import Figure, Report
from submissions.report.pictures import MAX_PICTURE_PX, grid_img
from submissions.report.plots import colour
from submissions.report.puzzle_report import puzzle_html
from submissions.report.runs import Run, attempt_grid
from submissions.report.tables import QUOTED, short_dataset, solved_somewhere

NUMERIC = {
    "parameters",
    "views / input",
    "ACT steps",
    "pass@1 [95% CI]",
    "pass@2 [95% CI]",
    "pass@2",
    "tasks solved",
    "GPU-seconds",
    "$ / task",
}

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
 "Helvetica Neue",Arial,sans-serif}
header{background:#24292f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;color:#c9d1d9;font-size:13px}
nav{margin-top:8px}nav a{color:#9ecbff;margin-right:16px;text-decoration:none}
main{max-width:1280px;margin:0 auto;padding:20px 32px 48px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:0 0 20px}
h2{font-size:18px;margin:0 0 12px}h3{font-size:15px;margin:16px 0 8px}
.note{color:#57606a;font-size:12.5px;max-width:1100px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid #e6e9ec;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600;font-size:12.5px;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
table.board{width:100%;font-size:13px}table.board td,table.board th{padding:6px 8px}
table.quoted td{color:#57606a;background:#fafbfc}table.quoted{width:auto;min-width:60%}
.set{white-space:nowrap}
.scroll{overflow-x:auto}.hash{color:#57606a;font-size:11.5px}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:11.5px;font-style:normal;white-space:nowrap}
.measured,.solved{background:#dafbe1;color:#116329}.quoted-pill,.unsolved{background:#eaeef2;color:#57606a}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:0}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
.figs figure{margin:0;border:1px solid #e6e9ec;border-radius:6px;padding:10px}
.figs img{width:100%;height:auto}
figcaption{font-size:12.5px;color:#57606a;margin-top:6px}
.skipped{color:#9a6700;background:#fff8c5;border-radius:6px;padding:8px 10px;font-size:13px}
ul.notes{margin:6px 0 0;padding-left:18px;font-size:12.5px;color:#57606a}
table.matrix{font-size:12.5px}table.matrix td{padding:3px 10px}
td.full{background:#dafbe1;color:#116329;text-align:center;font-weight:600}
td.part{background:#fff8c5;color:#7d4e00;text-align:center}
td.none{background:#ffebe9;color:#a40e26;text-align:center}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
a{color:#0969da}
.task{border-top:1px solid #e6e9ec;padding:12px 0}
.task h3{margin:0 0 6px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.pair{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start;margin:6px 0}
.pair>.label{width:54px;color:#57606a;font-size:12px;padding-top:18px}
.group{display:flex;gap:8px;padding:4px 8px 6px;border-radius:6px;background:#f6f8fa}
.group>.name{writing-mode:vertical-rl;transform:rotate(180deg);font-size:11px;color:#57606a;text-align:center}
.pic{margin:0;display:flex;flex-direction:column;align-items:center;gap:3px}
.pic figcaption{margin:0;font-size:11.5px;white-space:nowrap}
.ok .g{outline:3px solid #1a7f37}.ok figcaption{color:#1a7f37;font-weight:600}
.g{position:relative;display:inline-block;outline:1px solid #8c959f;background:#000}
.g img{display:block;width:100%;height:100%;image-rendering:pixelated}
.g.lines::after{content:"";position:absolute;inset:0;pointer-events:none;background-size:var(--c) var(--c);
 background-image:linear-gradient(to right,rgba(140,140,140,.6) 1px,transparent 1px),
 linear-gradient(to bottom,rgba(140,140,140,.6) 1px,transparent 1px)}
.missing{display:inline-flex;width:60px;height:60px;align-items:center;justify-content:center;
 border:1px dashed #8c959f;color:#8c959f;font-size:11px}
"""


def e(text: object) -> str:
    return html.escape(str(text))


def swatch(index: int) -> str:
    return f'<span class="swatch" style="background:{colour(index)}"></span>'


def _table(shown: pd.DataFrame, rows: list[list[str]], css: str) -> str:
    head = "".join(f'<th class="{"num" if c in NUMERIC else ""}">{e(c)}</th>' for c in shown.columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"num" if c in NUMERIC else ""}">{v}</td>' for c, v in zip(shown.columns, row))
        + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def board_html(report: Report) -> str:
    shown, empty = display_measured(report.board)
    raw = report.board[report.board["source"] == "measured"]
    run_index = {r.name: i for i, r in enumerate(report.runs)}
    rows = []
    for (_, r), values in zip(raw.iterrows(), shown.itertuples(index=False)):
        cells = {c: e(v) for c, v in zip(shown.columns, values)}
        cells["run"] = f'<span class="set">{swatch(run_index[r["run"]])}{cells["run"]}</span>'
        for col in ("pass@1 [95% CI]", "pass@2 [95% CI]"):
            value, _, ci = cells[col].partition(" [")
            cells[col] = f'<b>{value}</b><br><span class="hash">[{ci}</span>' if ci else value
        cells["data set"] = (
            f'<span class="set">{e(short_dataset(r["dataset"]))}</span><br>'
            f'<span class="mono hash" title="sha256 {e(r["dataset_hash"])}">'
            f"{e(r['dataset_hash'][:12])}</span>"
        )
        rows.append([cells[c] for c in shown.columns])
    price = (
        f"$ / task = GPU-seconds / 3600 &times; ${report.price_per_gpu_hour:g} per GPU-hour / tasks."
        if report.price_per_gpu_hour is not None
        else "Pass --price-per-gpu-hour to see $ / task."
    )
    html_ = (
        f'<section id="leaderboard"><h2>Leaderboard <span class="pill measured">measured</span></h2>'
        f'{_table(shown, rows, "board")}<p class="note">{e(NOTES)} {price} {e(hidden_note(empty))}</p>'
    )
    quoted = display_quoted(report.board)
    if len(quoted):
        rows = [[e(v) for v in row] for row in quoted.itertuples(index=False)]
        html_ += (
            f'<h3>Published figures <span class="pill quoted-pill">{e(QUOTED)}</span></h3>'
            f"{_table(quoted, rows, 'board quoted')}"
        )
    return html_ + "</section>"


def figure_html(fig: Figure) -> str:
    notes = "".join(f"<li>{e(n)}</li>" for n in fig.notes)
    notes = f'<ul class="notes">{notes}</ul>' if notes else ""
    if fig.svg is None:
        return (
            f'<figure><h3>{e(fig.title)}</h3><div class="skipped">Not drawn: no run has the data it needs.'
            f"</div>{notes}</figure>"
        )
    data = base64.b64encode(fig.svg.encode()).decode()
    return (
        f'<figure><h3>{e(fig.title)}</h3><img alt="{e(fig.title)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{e(fig.caption)}</figcaption>{notes}</figure>"
    )


def _cell(solved: int, outputs: int) -> str:
    kind = "full" if solved == outputs else "none" if solved == 0 else "part"
    return f'<td class="{kind}">{e(solved_cell(solved, outputs))}</td>'


def matrix_html(runs: list[Run], matrix: pd.DataFrame, anchor: str) -> str:
    some = solved_somewhere(matrix)
    head = "<th>task</th><th class=num>outputs</th>" + "".join(f"<th>{e(r.name)}</th>" for r in runs)
    rows = "".join(
        f'<tr><td class="mono"><a href="#{anchor}-{e(task)}">{e(task)}</a></td><td class="num">{outputs}</td>'
        + "".join(_cell(int(v), outputs) for v in values)
        + "</tr>"
        for (task, outputs), values in zip(some.index, some.to_numpy())
    )
    if not rows:
        return f"<h3>Solved matrix</h3><p class=note>No run solves any test output of the {len(matrix)} tasks.</p>"
    table = f'<table class="matrix"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return (
        f"<h3>Solved matrix</h3><p class=note>Test outputs solved per task and run (✓ all, · none): the "
        f"{len(some)} of {len(matrix)} tasks some run solves, best-solved first; the other "
        f"{len(matrix) - len(some)} are solved by no run (all {len(matrix)} are pictured below).</p>{table}"
    )


def picture_px(n_runs: int) -> int:
    """Longest picture side so that a test input's row (input, truth, two attempts per run) fits 1280 px."""
    return int(np.clip((1030 - 60 * n_runs) / (2 + 2 * n_runs), 40, MAX_PICTURE_PX))


def picture(grid: np.ndarray | None, caption: str, px: int, ok: bool = False) -> str:
    body = grid_img(grid, caption, px) if grid is not None else '<span class="missing">none</span>'
    return f'<figure class="pic{" ok" if ok else ""}">{body}<figcaption>{e(caption)}</figcaption></figure>'


def task_html(runs: list[Run], run_index: dict[str, int], task_id: str, solved: np.ndarray, anchor: str) -> str:
    task = runs[0].tasks[task_id]
    assert task.test_outputs is not None  # reports are made against sets with solutions
    outputs, px = len(task.test_outputs), picture_px(len(runs))
    badges = [
        f'<span class="pill {"solved" if n == outputs else "unsolved"}">{swatch(run_index[run.name])}'
        f"{e(run.name)} {n}/{outputs}</span>"
        for run, n in zip(runs, solved.tolist())
    ]
    pairs = []
    for i, (test_input, truth) in enumerate(zip(task.test_inputs, task.test_outputs)):
        groups = []
        for run in runs:
            pics = []
            for n in (1, 2):
                grid = attempt_grid(run.submission, task_id, i, f"attempt_{n}")
                ok = grid is not None and np.array_equal(grid, truth)
                pics.append(picture(grid, f"attempt {n} {'✓' if ok else '✗'}", px, ok))
            groups.append(f'<div class="group"><span class="name">{e(run.name)}</span>{"".join(pics)}</div>')
        pairs.append(
            f'<div class="pair"><span class="label">test {i}</span>{picture(test_input, "input", px)}'
            f"{picture(truth, 'truth', px)}{''.join(groups)}</div>"
        )
    return (
        f'<div class="task" id="{anchor}-{e(task_id)}"><h3><span class="mono">{e(task_id)}</span>'
        f"{''.join(badges)}</h3>{''.join(pairs)}</div>"
    )


def tasks_html(report: Report, digest: str, matrix: pd.DataFrame, number: int) -> str:
    runs = report.runs_of(digest)
    index = {r.name: i for i, r in enumerate(report.runs)}
    anchor = f"s{number}"
    cards = "".join(
        task_html(runs, index, task, solved, anchor) for (task, _), solved in zip(matrix.index, matrix.to_numpy())
    )
    return (
        f'<section id="tasks-{number}"><h2>Tasks of {e(short_dataset(runs[0].tasks.name))} '
        f'<span class="note mono">sha256 {digest[:12]}</span></h2>{matrix_html(runs, matrix, anchor)}'
        f"<h3>Every task, failures first</h3><p class=note>Per test input: the input, the truth, then each "
        f"run's two attempts (outlined green when equal to the truth).</p>{cards}</section>"
    )


def render_html(report: Report) -> str:
    puzzle_runs = report.puzzles.runs if report.puzzles is not None else []
    names = ", ".join([r.name for r in report.runs] + [r.name for r in puzzle_runs])
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    figures = "".join(figure_html(f) for f in report.figures)
    sets = "".join(tasks_html(report, d, m, n) for n, (d, m) in enumerate(report.matrices.items()))
    links = "".join(
        f'<a href="#tasks-{n}">tasks of {e(short_dataset(report.runs_of(d)[0].tasks.name))}</a>'
        for n, d in enumerate(report.matrices)
    )
    arc = (
        f'{board_html(report)}<section id="figures"><h2>Figures</h2><div class="figs">{figures}</div></section>'
        if report.runs
        else ""
    )
    nav = '<a href="#leaderboard">leaderboard</a><a href="#figures">figures</a>' if report.runs else ""
    puzzles = ""
    if report.puzzles is not None:
        puzzles = puzzle_html(report.puzzles, "".join(figure_html(f) for f in report.puzzles.figures))
        nav += '<a href="#puzzles">Sudoku and maze</a>'
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>trm-eval report: {e(names)}'
        f'</title><meta name="viewport" content="width=device-width,initial-scale=1"><style>{CSS}</style></head>'
        f"<body><header><h1>trm-eval report</h1><p>{len(report.runs) + len(puzzle_runs)} run(s): {e(names)} · "
        f"{stamp}</p><nav>{nav}{links}</nav></header>"
        f"<main>{arc}{sets}{puzzles}</main></body></html>\n"
    )
