"""Rich tables for the terminal: how commands show their results to people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from harness.core.tasks import TaskSet
from submissions.report.format import pct


def progress_bar(console: Console, disable: bool = False) -> Progress:
    """The progress bar of long commands: description, bar, done/total, a free `info` field, times."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, disable=disable)


def score_table(s: dict[str, Any]) -> Table:
    """The `score` command's summary."""
    table = Table(title=f"Kaggle score of {s['submission']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    lo, hi = s["ci95"]
    table.add_row("data set", f"{s['dataset']} (sha256 {s['dataset_hash'][:12]})")
    table.add_row("score (mean over tasks)", f"{pct(s['score'])}  [95% CI {pct(lo)} .. {pct(hi)}]")
    table.add_row("test outputs solved", f"{s['outputs_solved']} / {s['outputs']} ({pct(s['output_score'])})")
    table.add_row("tasks fully solved", f"{s['tasks_fully_solved']} / {s['tasks']}")
    if s["tasks_missing"]:
        table.add_row("tasks missing (scored 0)", str(s["tasks_missing"]))
    if s.get("problems"):
        table.add_row("validation problems", str(s["problems"]))
    table.add_row("per-task CSV", s["csv"])
    return table


def vote_table(s: dict[str, Any]) -> Table:
    """The `vote` command's summary."""
    table = Table(title=f"Voted {s['views']} views for {s['tasks']}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("tasks / test inputs", f"{s['n_tasks']} / {s['test_inputs']}")
    table.add_row("distinct candidates", str(s["candidates"]))
    table.add_row("test inputs without predictions (fallback: copy input)", str(s["fallbacks"]))
    for k, v in s.get("pass_at_k", {}).items():
        label = f"pass@{k}" + (" (oracle, not submittable)" if int(k) > 2 else "")
        table.add_row(label, pct(v))
    if "score" in s:
        table.add_row("Kaggle score of the submission", pct(s["score"]["score"]))
    table.add_row("submission", s["submission"])
    return table


def baseline_table(results: list[dict[str, Any]], tasks: TaskSet) -> Table:
    """The `demo` command's comparison of baselines."""
    table = Table(title=f"Baselines on {tasks.name} ({len(tasks)} tasks, {tasks.n_test_outputs} test outputs)")
    for col in ("predictor", "views", "pass@1", "pass@2 (Kaggle score)", "outputs solved", "tasks solved"):
        table.add_column(col, justify="left" if col == "predictor" else "right")
    for r in results:
        s = r.get("score")
        table.add_row(
            r["baseline"],
            str(r["views"]),
            pct(r["pass_at_k"]["1"]) if s else "-",
            pct(s["score"]) if s else "-",
            f"{s['outputs_solved']} / {s['outputs']}" if s else "-",
            f"{s['tasks_fully_solved']} / {s['tasks']}" if s else "-",
        )
    return table


def demo_table(r: dict[str, Any]) -> Table:
    """The demo's summary: voted vs one view vs copy-input, in test outputs solved."""
    n = r["test_outputs"]
    table = Table(
        title=f"TRM demo: {r['tasks']} tasks, {n} held-out test outputs, {r['views_per_test_input']} views "
        f"each; trained {r['train_steps']} steps in {r['train_seconds'] / 60:.1f} min"
    )
    for col in ("predictions", "pass@1", "pass@2"):
        table.add_column(col, justify="left" if col == "predictions" else "right")
    labels = {
        "voted": "TRM, voted over all views",
        "single_view": "TRM, un-augmented view only",
        "copy_input": "copy the test input",
    }
    for key, label in labels.items():
        s = r["outputs_solved"][key]
        table.add_row(label, f"{s['pass@1']} / {n}", f"{s['pass@2']} / {n}")
    table.caption = (
        f"Kaggle score of the voted submission: {pct(r['kaggle_score_voted'])}; "
        f"total time {r['total_seconds'] / 60:.1f} min"
    )
    return table


def puzzle_score_table(s: Mapping[str, Any]) -> Table:
    """A Sudoku or maze score (`evaluate`, `score`): exact accuracy first, then what explains it."""
    table = Table(
        title=f"{s['benchmark'].capitalize()}: {s['tasks']} ({s['puzzles']:,} puzzles, sha256 {s['tasks_hash'][:12]})",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    lo, hi = s["exact_ci95"]
    table.add_row(
        "exact accuracy",
        f"{pct(s['exact_accuracy'])}  [95% CI {pct(lo)} .. {pct(hi)}]  ({s['exact']:,} / {s['puzzles']:,})",
    )
    table.add_row("cell accuracy (all / cells to fill)", f"{pct(s['cell_accuracy'])} / {pct(s['fill_accuracy'])}")
    if "valid_paths" in s:
        table.add_row(
            "valid S -> G paths (the label's or another)", f"{pct(s['valid_path_rate'])} ({s['valid_paths']:,})"
        )
    if s["predicted"] != s["puzzles"]:
        table.add_row("puzzles without a prediction (wrong)", f"{s['puzzles'] - s['predicted']:,}")
    for step, acc in s.get("exact_by_step", {}).items():
        table.add_row(f"exact after ACT step {step}", pct(acc))
    if "mean_steps" in s:
        together = f" ({s['restarts']} restarts, summed)" if s.get("restarts", 1) > 1 else ""
        table.add_row(f"mean ACT steps{together}", f"{s['mean_steps']:.2f}")
    for b in s["by_rating"]:
        span = str(b["low"]) if b["low"] == b["high"] else f"{b['low']}..{b['high']}"
        table.add_row(f"exact at rating {span}", f"{pct(b['exact_accuracy'])} of {b['puzzles']:,}")
    return table


def sudoku_demo_table(r: dict[str, Any]) -> Table:
    """The Sudoku demo's summary: exact accuracy on the held-out puzzles after each ACT step, and with q-halting."""
    table = Table(
        title=f"TRM-MLP on {r['side']}x{r['side']} Sudoku: {r['puzzles']:,} held-out puzzles "
        f"({r['blanks']}+ blanks each); trained {r['train_steps']} steps in "
        f"{r['train_seconds'] / 60:.1f} min"
    )
    for col in ("ACT steps", "exact accuracy"):
        table.add_column(col, justify="right")
    for step, acc in r["exact_by_step"].items():
        table.add_row(step, pct(acc))
    q = r["q_halt"]
    table.add_row(f"q-halt (mean {q['mean_steps']:.2f})", pct(q["exact_accuracy"]))
    lo, hi = r["exact_ci95"]
    table.caption = (
        f"95% interval after the last step: {pct(lo)} .. {pct(hi)}; total time {r['total_seconds'] / 60:.1f} min"
    )
    return table
