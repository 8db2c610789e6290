"""`trm-eval sweep`: depth x breadth x views x halting rule x selector from one recorded run."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console, load_set


@click.command("sweep")
@click.argument("checkpoint", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--tasks", "tasks_spec", required=True, metavar="SET", help="ARC task set with solutions.")
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    help="ACT steps recorded (may exceed the model's halt_max_steps). Default: twice halt_max_steps.",
)
@click.option(
    "--breadth",
    default=1,
    show_default=True,
    type=click.IntRange(min=1, max=1024),
    help="Restarts per view; restart 0 is the reference start, the others add seeded noise.",
)
@click.option(
    "--noise",
    default=0.1,
    show_default=True,
    type=click.FloatRange(min=0.0),
    help="Std of the Gaussian noise added to H_init and L_init for restarts > 0.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="RULE",
    help="Halting rule (repeatable): fixed, q[:t], stable[:k], converged[:tol], entropy[:k[:tol]]. "
    "Default: a set of each.",
)
@click.option(
    "--identifiers",
    type=click.Path(exists=True, path_type=Path),
    help="identifiers.json of the checkpoint's layout (default: the one in CHECKPOINT).",
)
@click.option("--max-aug", type=click.IntRange(min=1), help="At most N views per task (seeded sample).")
@click.option("--seed", default=0, show_default=True, help="Restart noise, view sample and bootstrap seed.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--chunk-size",
    default=4096,
    show_default=True,
    type=click.IntRange(min=1),
    help="Views per recording chunk on disk.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Sweep directory (an interrupted recording continues from its chunks).",
)
def sweep(
    checkpoint: Path,
    tasks_spec: str,
    depth: int | None,
    breadth: int,
    noise: float,
    rules: tuple[str, ...],
    identifiers: Path | None,
    max_aug: int | None,
    seed: int,
    batch_size: int,
    chunk_size: int,
    out: Path,
) -> None:
    """Run CHECKPOINT once on every view x BREADTH restarts for DEPTH fixed ACT steps, recording
    every step, then score every (depth, breadth, views, halting rule, selector) cell from that
    recording: OUT/cells.csv (pass@2 with 95% bootstrap intervals, the paired difference to the
    reference protocol, NFE per task, the oracle), OUT/sweep.json and OUT/report/ (report.html,
    report.md, accuracy against NFE with the Pareto front and the reference's point).

    \b
        trm-eval sweep runs/demo/train/checkpoints/step_2750 --tasks runs/demo/tasks --breadth 4 -o runs/sweep
    """
    from harness.cli.tables import progress_bar
    from harness.core.dist import init_distributed
    from harness.infer.sweep import DEFAULT_RULES, REPORT, SweepOptions, run_sweep
    from submissions.report.sweep import ORACLE_NOTE, write_sweep_report

    tasks = load_set(tasks_spec)
    opts = SweepOptions(depth, breadth, noise, rules or DEFAULT_RULES, max_aug, seed, batch_size, chunk_size)
    device = init_distributed().device
    with progress_bar(console) as bar:
        task = bar.add_task(f"record on {device}", total=None, info="views")
        cells, summary = run_sweep(
            checkpoint,
            tasks,
            out,
            opts,
            identifiers,
            device,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    paths = write_sweep_report(cells, summary, out / REPORT)
    h = summary["headline"]
    console.print(
        f"{summary['cells']} cells from one recording of {summary['rows']} rows x {summary['depth']} steps "
        f"({summary['record_seconds']:.1f} s recording, {summary['score_seconds']:.1f} s scoring)"
    )
    if h:
        r, c, b = h["reference"], h["cheapest_reaching_reference"], h["best_at_reference_nfe"]
        console.print(f"reference protocol: pass@2 {100 * r['pass2']:.1f}% at {r['nfe_per_task']:.0f} NFE/task")
        console.print(
            f"cheapest reaching it: {c['rule']} / {c['selector']} (depth {c['depth']}, breadth "
            f"{c['breadth']}, views {c['views']}) at {h['nfe_fraction']:.3f} x the reference's NFE"
        )
        console.print(f"best at the reference's NFE: {b['rule']} / {b['selector']}: pass@2 {100 * b['pass2']:.1f}%")
    console.print(ORACLE_NOTE)
    console.print(f"Cells: {out / 'cells.csv'}\nReport: {paths['html']}")
