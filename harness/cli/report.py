"""`trm-eval report` and `trm-eval compare`: thin wrappers over submissions.report and submissions.compare."""

from __future__ import annotations

import json

import click
from rich.table import Table

from harness.cli.common import console


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
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Significance level of the McNemar test.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(run_a: str, run_b: str, alpha: float, as_json: bool) -> None:
    """Paired comparison of RUN_B against RUN_A on the same task set (same data set hash):
    exact McNemar test on test outputs solved, and a bootstrap interval over tasks for the
    score difference.

    \b
        trm-eval compare runs/baselines/colour-map runs/baselines/symmetry
    """
    from submissions.report.compare import compare_runs
    from submissions.report.runs import load_runs

    a, b = load_runs([run_a, run_b])
    result = compare_runs(a, b, alpha)
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
    table.add_row("test outputs solved only by", str(result.only_a), str(result.only_b))
    console.print(table)
    click.echo(result.verdict)
