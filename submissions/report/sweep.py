"""The sweep's report page: accuracy against NFE per selector and halting rule, the Pareto front,
the reference protocol's point marked; as report.html (self-contained), report.md, cells.csv and
plots/accuracy_vs_nfe.svg. The accuracy is the summary's `metric`: ARC's pass@2 (the default) or a
Sudoku or Maze set's exact accuracy."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.core.io import ensure_dir, write_text
from submissions.report.plots import _figure, _svg, colour

MARKERS = "osD^v<>p*hX"
ORACLE_NOTE = (
    "oracle = a test output counts as solved when ANY candidate of any view x restart equals the truth; "
    "it looks at the truth, so it is an upper bound for selectors, never a score"
)
PUZZLE_ORACLE_NOTE = (
    "oracle = a puzzle counts as solved when ANY restart's answer is correct; "
    "it looks at the truth, so it is an upper bound for selectors, never a score"
)
# Per metric column: its name on the page, what NFE is counted per, and the reference's selector.
METRICS = {"pass2": ("pass@2", "task", "votes-q"), "exact": ("exact accuracy", "puzzle", "majority")}


def oracle_note(metric: str = "pass2") -> str:
    """What the oracle column means for this metric's benchmark."""
    return PUZZLE_ORACLE_NOTE if metric == "exact" else ORACLE_NOTE


def accuracy_plot(cells: pd.DataFrame, reference: dict[str, Any] | None, metric: str = "pass2") -> str:
    """`metric` against NFE per task (puzzle): colour = selector, marker = halting rule; the front as a line."""
    label, per, _ = METRICS[metric]
    fig, ax = _figure()
    rules = list(dict.fromkeys(cells["rule"]))
    for i, selector in enumerate(dict.fromkeys(cells["selector"])):
        for j, rule in enumerate(rules):
            c = cells[(cells["selector"] == selector) & (cells["rule"] == rule)]
            ax.scatter(
                c["nfe_per_task"],
                100 * c[metric],
                s=12,
                alpha=0.55,
                color=colour(i),
                marker=MARKERS[j % len(MARKERS)],
                label=selector if j == 0 else None,
                linewidths=0,
            )
    for j, rule in enumerate(rules):
        ax.scatter([], [], color="grey", marker=MARKERS[j % len(MARKERS)], label=rule, s=12)
    front = cells[cells["pareto"]].sort_values("nfe_per_task")
    ax.step(front["nfe_per_task"], 100 * front[metric], where="post", color="black", linewidth=1, label="Pareto front")
    if reference:
        ax.scatter(
            [reference["nfe_per_task"]],
            [100 * reference[metric]],
            marker="*",
            s=160,
            color="black",
            zorder=5,
            label="reference protocol",
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"network applications (NFE) per {per}")
    ax.set_ylabel(f"{label} (%)")
    ax.set_ylim(0, max(ax.get_ylim()[1], 1))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=7, ncol=2, loc="lower right")
    return _svg(fig)


def _table(cells: pd.DataFrame, metric: str = "pass2") -> pd.DataFrame:
    columns = ["depth", "breadth", "views", "rule", "selector", "nfe_per_task", metric, "low", "high", "oracle"]
    shown = cells[[c for c in columns if c in cells]]
    shown = shown.assign(**{c: (100 * shown[c]).round(1) for c in (metric, "low", "high", "oracle")})
    names = {metric: f"{METRICS[metric][0]} %", "low": "low %", "high": "high %", "oracle": "oracle % (not a score)"}
    return shown.assign(nfe_per_task=shown["nfe_per_task"].round(0).astype(int)).rename(columns=names)


def _markdown_table(frame: pd.DataFrame) -> str:
    rows = [[str(v) for v in r] for r in frame.itertuples(index=False)]
    return "\n".join("| " + " | ".join(r) + " |" for r in [list(frame.columns), ["---"] * frame.shape[1], *rows])


def _markdown(summary: dict[str, Any], front: pd.DataFrame, svg_name: str) -> str:
    metric = summary.get("metric", "pass2")
    label, _, selector = METRICS[metric]
    puzzles = metric == "exact"
    inputs = f"{summary['views']} puzzles" if puzzles else f"{summary['views_per_input']} views"
    lines = [
        f"# Inference-compute sweep: {summary['tasks']}",
        "",
        f"Checkpoint `{summary['checkpoint']}` ({summary['family']}, {summary['nfe_per_step']} network "
        f"applications per ACT step); recorded {summary['depth']} steps x {summary['breadth']} restarts x "
        f"{inputs}; {summary['cells']} cells scored from that one run.",
        "",
        f"![accuracy against NFE]({svg_name})",
        "",
    ]
    h = summary.get("headline") or {}
    if h:
        r, c, b = h["reference"], h["cheapest_reaching_reference"], h["best_at_reference_nfe"]
        every = "" if puzzles else "every view, "
        lines += [
            f"- reference protocol (fixed, {r['depth']} steps, 1 start, {every}{selector}): {label} "
            f"{100 * r[metric]:.1f}% ({100 * r['low']:.1f} to {100 * r['high']:.1f}), NFE/{METRICS[metric][1]} "
            f"{r['nfe_per_task']:.0f}",
            f"- cheapest cell reaching it: {c['rule']} / {c['selector']}, depth {c['depth']}, breadth "
            f"{c['breadth']}{_views(c)}: {100 * c[metric]:.1f}% at {h['nfe_fraction']:.3f} of the "
            f"reference's NFE",
            f"- best at the reference's NFE: {b['rule']} / {b['selector']}, depth {b['depth']}, breadth "
            f"{b['breadth']}{_views(b)}: {100 * b[metric]:.1f}% ({100 * b['low']:.1f} to "
            f"{100 * b['high']:.1f})",
            "",
        ]
    else:
        lines += ["- the reference protocol's cell is not in this sweep (depth below halt_max_steps?)", ""]
    lines += [f"_{oracle_note(metric)}._", "", "## Pareto front", "", _markdown_table(_table(front, metric)), ""]
    return "\n".join(lines)


def seeds_table(table: pd.DataFrame, summary: dict[str, Any], top: int = 10) -> pd.DataFrame:
    """The reference cell, then the `top` cells by their mean over seeds: mean, sd and 95% t interval."""
    metric = summary["repeats"]["metric"]
    ref = summary["repeats"]["headline"].get("reference")
    keys = [k for k in ("depth", "breadth", "views", "rule", "selector") if k in table]
    is_ref = np.ones(len(table), bool) if ref else np.zeros(len(table), bool)
    for k in keys if ref else ():
        is_ref &= (table[k] == ref[k]).to_numpy()
    best = table[~is_ref].sort_values([f"{metric}_mean", "nfe_per_task_mean"], ascending=[False, True]).head(top)
    shown = pd.concat([table[is_ref], best])
    stats = {f"{metric}_{s}": f"{s} %" for s in ("mean", "sd", "low", "high")}
    out = shown[keys].assign(
        nfe_per_task=shown["nfe_per_task_mean"].round(0).astype(int),
        **{v: (100 * shown[k]).round(2) for k, v in stats.items()},
    )
    return out.assign(cell=np.where(is_ref[shown.index], "reference", "")).reset_index(drop=True)


def _views(cell: dict[str, Any]) -> str:
    return f", {cell['views']} views" if "views" in cell else ""


def write_sweep_report(
    cells: pd.DataFrame, summary: dict[str, Any], out_dir: Path, seeds: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write the page and its parts under out_dir; returns their paths. `seeds`: the sweep's
    cells_seeds.csv when it ran over several seeds (a section of means and intervals over seeds)."""
    out = ensure_dir(out_dir)
    metric = summary.get("metric", "pass2")
    h = summary.get("headline") or {}
    svg = accuracy_plot(cells, h.get("reference"), metric)
    paths = {
        "figure": write_text(ensure_dir(out / "plots") / "accuracy_vs_nfe.svg", svg),
        "csv": write_text(out / "cells.csv", cells.to_csv(index=False)),
    }
    front = cells[cells["pareto"]].sort_values("nfe_per_task")
    markdown = _markdown(summary, front, "plots/accuracy_vs_nfe.svg")
    repeats = ""
    if seeds is not None and summary.get("repeats"):
        shown = seeds_table(seeds, summary)
        title = f"Over {len(summary['repeats']['seeds'])} seeds (mean, sd and 95% t interval over seeds)"
        markdown += f"\n## {title}\n\n{_markdown_table(shown)}\n"
        repeats = f"<h2>{html.escape(title)}</h2>{shown.to_html(index=False)}"
    paths["markdown"] = write_text(out / "report.md", markdown)
    body = html.escape(markdown.split("![", 1)[0]).replace("\n", "<br>\n")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>sweep {html.escape(summary['tasks'])}</title>"
        f"</head><body style='font-family:sans-serif;max-width:60em'>{body}{svg}"
        f"<p><em>{html.escape(oracle_note(metric))}</em></p><h2>Pareto front</h2>"
        f"{_table(front, metric).to_html(index=False)}{repeats}</body></html>"
    )
    paths["html"] = write_text(out / "report.html", page)
    return paths
