"""`trm-eval report` and `trm-eval compare`: thin wrappers over submissions.report and submissions.compare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from harness.cli.common import console

if TYPE_CHECKING:
    from submissions.report.compare import Comparison


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for report.html, report.md, leaderboard.csv, tasks-<hash>.csv and plots/.",
)
@click.option(
    "--baseline",
    type=click.Choice(["published", "none"]),
    default="published",
    show_default=True,
    help="published: list the published pass@2 figures (quoted, not measured by us) beside the runs.",
)
@click.option(
    "--price-per-gpu-hour",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="Show $ / task for runs whose run.json records gpu_seconds.",
)
@click.option(
    "--repeats",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Random draws per point of the pass@2-against-views curve.",
)
def report(runs: tuple[str, ...], out_dir: str, baseline: str, price_per_gpu_hour: float | None, repeats: int) -> None:
    """Leaderboard report of RUNS (run directories: submission.json, score.json, and optionally
    run.json and predictions; or Sudoku and maze evaluations): a self-contained HTML page, Markdown
    and CSV.

    \b
        trm-eval report runs/baselines/* -o reports/baselines
        trm-eval report runs/arc1-eval --price-per-gpu-hour 2.5 -o reports/arc1
    """
    from submissions.report import build_report, write_report

    built = build_report(list(runs), baseline == "published", price_per_gpu_hour, repeats)
    paths = write_report(built, out_dir)
    puzzle_runs = built.puzzles.runs if built.puzzles is not None else []
    for fig in built.figures + (built.puzzles.figures if built.puzzles is not None else []):
        for note in fig.notes:
            console.print(f"[dim]{fig.title}: {note}[/dim]")
    csvs = ["leaderboard.csv"] * bool(built.runs or not puzzle_runs) + ["puzzle_leaderboard.csv"] * bool(puzzle_runs)
    console.print(
        f"Report of {len(built.runs) + len(puzzle_runs)} run(s) -> {paths['html']} (also report.md, {', '.join(csvs)})"
    )


@click.command()
@click.argument("sides", nargs=-1, required=True, metavar="A B | A... --vs B...")
@click.option(
    "--vs",
    "versus",
    multiple=True,
    metavar="RUN",
    help="Repeatable: B's runs. Then every positional argument is one of A's runs (repeats, e.g. other "
    "seeds of one model), and both sides are averaged over their repeats.",
)
@click.option(
    "--nfe",
    type=click.FloatRange(min=0, min_open=True),
    help="Matched compute: every sweep side without its own nfe= takes its best cell at <= N network "
    "applications per task.",
)
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Significance level of the McNemar (runs) or sign (sweep cells, repeats) test.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(sides: tuple[str, ...], versus: tuple[str, ...], nfe: float | None, alpha: float, as_json: bool) -> None:
    """Paired comparison of B against A on the same task set (same data set hash).

    A and B are evaluation run folders, or sweep cells: SWEEP[@key=value,...] with keys depth,
    breadth, views, rule, selector (the others: the reference protocol's cell) or nfe=N (the best
    cell at <= N NFE per task; a choice made on these tasks, so optimistic). A sweep run with --seeds
    counts as repeats. Two runs: exact McNemar test on test outputs. Sweep cells or repeats: exact
    sign test over tasks, a bootstrap interval over tasks and, with as many repeats on both sides, a
    t interval over repeats. NFE per task is shown for both.

    \b
        trm-eval compare runs/baselines/colour-map runs/baselines/symmetry
        trm-eval compare runs/sweep runs/sweep@rule=q:0,depth=2
        trm-eval compare runs/trm-sweep runs/hrm-sweep --nfe 600
        trm-eval compare runs/a-seed0 runs/a-seed1 --vs runs/b-seed0 --vs runs/b-seed1
    """
    from submissions.report.compare import compare_runs, compare_sides
    from submissions.report.puzzle_runs import is_puzzle_run, load_puzzle_runs
    from submissions.report.runs import load_runs
    from submissions.report.sides import Side, is_sweep, puzzle_side, runs_side, sweep_side

    group_a, group_b = (list(sides), list(versus)) if versus else (list(sides[:1]), list(sides[1:]))
    if not versus and len(sides) != 2:
        raise click.UsageError("give two runs A B, or A's runs followed by --vs for each of B's")
    for group in (group_a, group_b):
        if len(group) > 1 and any(is_sweep(g) for g in group):
            raise click.UsageError(f"{group[0]}: a sweep is one side (its --seeds are its repeats)")
        for g in group:
            if not is_sweep(g) and not Path(g).is_dir():
                raise click.UsageError(f"{g}: no such run directory or sweep")
    if nfe is not None and not any(is_sweep(g) for g in (*group_a, *group_b)):
        raise click.UsageError("--nfe picks cells of sweeps, and neither side is a sweep")
    if not versus and not any(is_sweep(g) or is_puzzle_run(Path(g)) for g in sides):
        a, b = load_runs(list(sides))
        _print_runs(compare_runs(a, b, alpha), as_json)
        return

    def side(group: list[str]) -> Side:
        if is_sweep(group[0]):
            return sweep_side(group[0], nfe)
        puzzles = [is_puzzle_run(Path(g)) for g in group]
        if any(puzzles) and not all(puzzles):
            raise click.UsageError(f"{group[0]}: repeats mix Sudoku/maze runs with ARC runs")
        if all(puzzles):
            return puzzle_side(load_puzzle_runs([Path(g) for g in group], [Path(g).name for g in group]))
        return runs_side(load_runs(group))

    result = compare_sides(side(group_a), side(group_b), alpha)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(f"A: {result.a}\nB: {result.b}")
    table = Table(title=f"B vs A on {result.dataset} (sha256 {result.dataset_hash[:12]})")
    for col in ("", "A", "B"):
        table.add_column(col, justify="right")
    table.add_row("repeats", str(result.repeats_a), str(result.repeats_b))
    metric = {"pass2": "pass@2 (Kaggle score)", "exact": "exact accuracy"}.get(result.metric, result.metric)
    table.add_row(metric, f"{100 * result.score_a:.2f}%", f"{100 * result.score_b:.2f}%")
    table.add_row("NFE per task", *(f"{n:,.0f}" if n is not None else "-" for n in (result.nfe_a, result.nfe_b)))
    table.add_row("tasks scored higher by", str(result.better_a), str(result.better_b))
    console.print(table)
    if result.ci95_repeats:
        lo, hi = result.ci95_repeats
        click.echo(f"Over paired repeats: B - A 95% t interval {100 * lo:+.2f} to {100 * hi:+.2f} points.")
    click.echo(result.verdict)


def _print_runs(result: Comparison, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(title=f"{result.b} vs {result.a} on {result.dataset} (sha256 {result.dataset_hash[:12]})")
    for col in ("", result.a, result.b):
        table.add_column(col, justify="right")
    table.add_row("model family", *((f or "-").upper() for f in (result.family_a, result.family_b)))
    for label, key in (("network parameters", "network"), ("puzzle-embedding parameters", "puzzle_embedding")):
        table.add_row(label, *(f"{p[key]:,}" if p else "-" for p in (result.parameters_a, result.parameters_b)))
    table.add_row("pass@2 (Kaggle score)", f"{100 * result.score_a:.2f}%", f"{100 * result.score_b:.2f}%")
    table.add_row("NFE per task", *(f"{n:,.0f}" if n is not None else "-" for n in (result.nfe_a, result.nfe_b)))
    table.add_row("test outputs solved only by", str(result.only_a), str(result.only_b))
    console.print(table)
    click.echo(result.verdict)
