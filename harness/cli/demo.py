"""`trm-eval demo`: the whole pipeline on a CPU, with one progress bar per stage."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console
from harness.core import rundir


@click.command()
@click.option("--config", "config_name", default="demo-cpu", show_default=True,
              help="Training preset or TOML file.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Config overrides.")
@click.option("--out", "out_dir", default="runs/demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--fresh", is_flag=True, help="Delete OUT first instead of reusing or resuming its training run.")
def demo(config_name: str, overrides: tuple[str, ...], out_dir: Path, fresh: bool) -> None:
    """The whole pipeline on a CPU: train a tiny TRM on small ARC-AGI-1 tasks (demonstration pairs
    only), then predict every held-out test input under 8 augmented views, vote, write a
    submission, score it, and compare with a single view and with copy-input in a report.

    A finished training run in OUT is reused and an interrupted one resumes; the run is seeded,
    so a --fresh rerun on the same machine prints the same numbers.
    """
    import shutil

    from harness.cli.tables import demo_table, progress_bar
    from harness.config import load_config
    from harness.demo import run_demo

    cfg = load_config(config_name, list(overrides))
    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
    with progress_bar(console) as bar:
        training = bar.add_task("train", total=cfg.train.max_steps or None, info="")
        evaluating = bar.add_task("predict", total=None, info="views", visible=False)

        def on_metrics(m: dict, total: int) -> None:
            bar.update(training, completed=m["step"], total=total,
                       info=f"loss {m['train/loss']:.3f} exact {m.get('train/exact_accuracy', 0):.2f} "
                            f"{m['steps_per_s']:.1f} step/s")

        def on_views(done: int, total: int) -> None:
            bar.update(evaluating, completed=done, total=total, visible=True)

        result = run_demo(cfg, out_dir, on_metrics, on_views)
    console.print(demo_table(result))
    console.print(f"Submission: {result['submission']}\nReport:     {result['report']}\n"
                  f"Checkpoint: {result['checkpoint']}\nSummary:    {out_dir / rundir.DEMO_SUMMARY}")
