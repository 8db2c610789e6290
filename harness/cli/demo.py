"""`trm-eval demo` (ARC) and `trm-eval demo sudoku`: the whole pipeline on a CPU, one progress bar per stage."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console
from harness.core import rundir

DEMOS = {"arc": ("demo-cpu", "runs/demo"), "sudoku": ("demo-sudoku-cpu", "runs/demo-sudoku")}  # config, out


@click.command()
@click.argument("which", required=False, default="arc", type=click.Choice(list(DEMOS)))
@click.option("--config", "config_name", help="Training preset or TOML file [default: demo-cpu, or demo-sudoku-cpu].")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Config overrides.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder [default: runs/demo, or runs/demo-sudoku].",
)
@click.option("--fresh", is_flag=True, help="Delete OUT first instead of reusing or resuming its training run.")
def demo(which: str, config_name: str | None, overrides: tuple[str, ...], out_dir: Path | None, fresh: bool) -> None:
    """The whole pipeline on a CPU: train a tiny TRM on small ARC-AGI-1 tasks (demonstration pairs
    only), then predict every held-out test input under 8 augmented views, vote, write a
    submission, score it, and compare with a single view and with copy-input in a report.

    `trm-eval demo sudoku`: train a small TRM-MLP on generated 6x6 Sudoku (about 8 minutes on 2
    cores), then score 1,000 held-out puzzles after each ACT step and with q-halting, and report.

    A finished training run in OUT is reused and an interrupted one resumes; the run is seeded,
    so a --fresh rerun on the same machine prints the same numbers.
    """
    import shutil

    from harness.cli.tables import demo_table, progress_bar, sudoku_demo_table
    from harness.config import load_config
    from harness.demo import run_demo, run_sudoku_demo

    cfg = load_config(config_name or DEMOS[which][0], list(overrides))
    if cfg.data.benchmark != which:
        raise click.UsageError(
            f"demo {which} needs a config of [data] benchmark = {which!r}, not {cfg.data.benchmark!r}"
        )
    out_dir = out_dir or Path(DEMOS[which][1])
    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
    with progress_bar(console) as bar:
        training = bar.add_task("train", total=cfg.train.max_steps or None, info="")
        evaluating = bar.add_task("predict", total=None, info="views", visible=False)

        def on_metrics(m: dict, total: int) -> None:
            bar.update(
                training,
                completed=m["step"],
                total=total,
                info=f"loss {m['train/loss']:.3f} exact {m.get('train/exact_accuracy', 0):.2f} "
                f"{m['steps_per_s']:.1f} step/s",
            )

        def on_views(done: int, total: int) -> None:
            bar.update(evaluating, completed=done, total=total, visible=True)

        run = run_sudoku_demo if which == "sudoku" else run_demo
        result = run(cfg, out_dir, on_metrics, on_views)
    if which == "sudoku":
        console.print(sudoku_demo_table(result))
        console.print(
            f"Report:     {result['report']}\nCheckpoint: {result['checkpoint']}\n"
            f"Summary:    {out_dir / rundir.DEMO_SUMMARY}"
        )
        return
    console.print(demo_table(result))
    console.print(
        f"Submission: {result['submission']}\nReport:     {result['report']}\n"
        f"Checkpoint: {result['checkpoint']}\nSummary:    {out_dir / rundir.DEMO_SUMMARY}"
    )
