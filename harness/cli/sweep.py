"""`trm-eval sweep`: depth x breadth x views x halting rule x selector from one recorded run (a Sudoku or
maze set: no views axis, single-answer selectors; harness.infer.puzzle_sweep)."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console, load_set


@click.command("sweep")
@click.argument("checkpoint", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--tasks", "tasks_spec", required=True, metavar="SET", help="ARC task set with solutions, or a Sudoku or maze set."
)
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
@click.option(
    "--seeds",
    default=1,
    show_default=True,
    type=click.IntRange(min=1, max=100),
    help="Repeat the sweep with seeds SEED..SEED+N-1 (OUT/seeds/seed-S/) and write every cell's mean "
    "with a 95% t interval over seeds to OUT/cells_seeds.csv. On ARC sets, seeds that cannot change the "
    "recording (breadth 1 or noise 0, every view) rescore OUT's recording instead of recording again; on "
    "Sudoku and maze sets only restart noise depends on the seed, so there --seeds needs --breadth > 1.",
)
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
    seeds: int,
    batch_size: int,
    chunk_size: int,
    out: Path,
) -> None:
    """Run CHECKPOINT once on every view x BREADTH restarts for DEPTH fixed ACT steps, recording
    every step, then score every (depth, breadth, views, halting rule, selector) cell from that
    recording: OUT/cells.csv (pass@2 with 95% bootstrap intervals, the paired difference to the
    reference protocol, NFE per task, the oracle), OUT/sweep.json and OUT/report/ (report.html,
    report.md, accuracy against NFE with the Pareto front and the reference's point). A Sudoku or maze
    set has no views axis: every puzzle once, exact accuracy, selectors majority, q-max, convergence, entropy.

    \b
        trm-eval sweep runs/demo/train/checkpoints/step_2750 --tasks runs/demo/tasks --breadth 4 -o runs/sweep
    """
    import pandas as pd

    from harness.cli.tables import progress_bar
    from harness.core import rundir
    from harness.core.benchmarks import is_puzzle_spec, load_any
    from harness.core.dist import init_distributed
    from harness.core.errors import DataError
    from harness.core.puzzles import PuzzleSet
    from harness.infer.puzzle_sweep import run_puzzle_sweep_seeds
    from harness.infer.sweep import REPORT, run_sweep_seeds
    from harness.infer.sweep_common import DEFAULT_RULES, SweepOptions, parse_rules
    from submissions.report.sweep import METRICS, oracle_note, write_sweep_report

    puzzles = is_puzzle_spec(tasks_spec)
    if puzzles and (identifiers is not None or max_aug is not None):
        raise click.UsageError(
            "--identifiers and --max-aug are for ARC sets: a Sudoku or maze set has one view per puzzle (identifier 0)"
        )
    if puzzles and seeds > 1 and (breadth == 1 or noise == 0):
        raise click.UsageError(
            "--seeds: on a Sudoku or maze set only the restart noise depends on the seed, so with --breadth 1 "
            "or --noise 0 every seed gives the same sweep"
        )
    try:
        parse_rules(rules or DEFAULT_RULES)  # a bad --rule is refused before anything loads
    except DataError as exc:
        raise click.UsageError(str(exc)) from None
    tasks = load_any(tasks_spec) if puzzles else load_set(tasks_spec)
    opts = SweepOptions(depth, breadth, noise, rules or DEFAULT_RULES, max_aug, seed, batch_size, chunk_size)
    device = init_distributed().device
    with progress_bar(console) as bar:
        task = bar.add_task(f"record on {device}", total=None, info="puzzles" if puzzles else "views")

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if isinstance(tasks, PuzzleSet):
            cells, summary = run_puzzle_sweep_seeds(checkpoint, tasks, out, opts, seeds, device, update)
        else:
            cells, summary = run_sweep_seeds(checkpoint, tasks, out, opts, seeds, identifiers, device, update)
    seeds_csv = out / rundir.SWEEP_SEED_CELLS
    by_seed = pd.read_csv(seeds_csv) if summary.get("repeats") and seeds_csv.is_file() else None
    paths = write_sweep_report(cells, summary, out / REPORT, by_seed)
    h, metric = summary["headline"], summary.get("metric", "pass2")
    name, per, _ = METRICS[metric]
    console.print(
        f"{summary['cells']} cells from one recording of {summary['rows']} rows x {summary['depth']} steps "
        f"({summary['record_seconds']:.1f} s recording, {summary['score_seconds']:.1f} s scoring)"
    )
    if h:
        r, c, b = h["reference"], h["cheapest_reaching_reference"], h["best_at_reference_nfe"]
        console.print(f"reference protocol: {name} {100 * r[metric]:.1f}% at {r['nfe_per_task']:.0f} NFE/{per}")
        views = f", views {c['views']}" if "views" in c else ""
        console.print(
            f"cheapest reaching it: {c['rule']} / {c['selector']} (depth {c['depth']}, breadth "
            f"{c['breadth']}{views}) at {h['nfe_fraction']:.3f} x the reference's NFE"
        )
        console.print(f"best at the reference's NFE: {b['rule']} / {b['selector']}: {name} {100 * b[metric]:.1f}%")
    repeats = summary.get("repeats", {}).get("headline")
    if repeats:
        r, c = repeats["reference"], repeats["cheapest_reaching_reference"]
        m = summary["repeats"]["metric"]
        console.print(
            f"over {r['seeds']} seeds: reference {100 * r[m + '_mean']:.1f}% (95% t interval "
            f"{100 * r[m + '_low']:.1f} to {100 * r[m + '_high']:.1f}); cheapest reaching it on average: "
            f"{c['rule']} / {c['selector']} (depth {c['depth']}, breadth {c['breadth']}) at "
            f"{c['nfe_per_task_mean'] / r['nfe_per_task_mean']:.3f} x its NFE ({out / 'cells_seeds.csv'})"
        )
    console.print(oracle_note(metric))
    console.print(f"Cells: {out / 'cells.csv'}\nReport: {paths['html']}")
