"""`trm-eval data ...` and `trm-eval train`: build layouts, train, resume."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console

EMBEDDING_FLOATS = 512  # puzzle_emb_ndim of the paper's model: what one puzzle identifier costs in training


def _check_build_options(num_aug: int, seed: int, max_side: int) -> None:
    """Bound the options by the [data] schema before any work starts (exit 2). num_aug's limit is
    explained: an absurd count would take all memory (and hours) before anything failed."""
    from harness.config import MAX_NUM_AUG, DataConfig
    from harness.core.errors import DataError
    from harness.core.schema import validate

    if num_aug > MAX_NUM_AUG:
        per_task = (num_aug + 1) * EMBEDDING_FLOATS * 4 / 1e9
        raise click.BadParameter(
            f"{num_aug:,} is above the limit of {MAX_NUM_AUG:,}: every task gets num_aug + 1 "
            f"puzzle identifiers, each a {EMBEDDING_FLOATS}-float embedding in training, "
            f"{per_task:,.1f} GB per task (the paper uses 1,000)",
            param_hint="'--num-aug'",
        )
    try:
        validate(DataConfig(num_aug=num_aug, seed=seed, max_side=max_side), "options")
    except DataError as exc:
        raise click.UsageError(str(exc)) from None


@click.group("data")
def data() -> None:
    """Puzzle layouts: which puzzles (tasks x augmentations) a model has embeddings for."""


@data.command("build")
@click.option(
    "--subset",
    "subsets",
    multiple=True,
    metavar="[NAME=]SET",
    help="A task set in processing order (repeat). Default: the paper's ARC-1 recipe minus ConceptARC.",
)
@click.option(
    "--test-set", default=None, help="Name of the subset whose test pairs are held out (default: the last subset)."
)
@click.option("--num-aug", default=1000, show_default=True, help="Augmentations per task.")
@click.option("--seed", default=42, show_default=True, help="The reference builder's seed.")
@click.option("--max-side", default=30, show_default=True, help="Keep tasks whose grids all fit.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path))
def build(subsets: tuple[str, ...], test_set: str | None, num_aug: int, seed: int, max_side: int, out: Path) -> None:
    """Build a layout (identifiers.json and test_puzzles.json in the reference format, plus a compact
    layout.npz). With the reference's subsets and seed it reproduces its identifiers exactly:

    \b
        trm-eval data build --subset training=arc-agi-1/training --subset evaluation=arc-agi-1/evaluation \\
            --subset concept=arc-agi_concept_challenges.json --test-set evaluation --num-aug 1000 -o data/arc1
    """
    import time

    from harness.data.layout import build_layout
    from harness.data.subsets import load_subset, subset_name

    _check_build_options(num_aug, seed, max_side)
    subsets = subsets or ("training=arc-agi-1/training", "evaluation=arc-agi-1/evaluation")
    names = [subset_name(s) for s in subsets]
    test_set = test_set or names[-1]
    start = time.perf_counter()
    raw = [(subset_name(s), {t.id: t.to_json() for t in load_subset(s, max_side)}) for s in subsets]
    layout = build_layout(raw, test_set, num_aug, seed)
    layout.save(out)
    console.print(
        f"{len(layout)} identifiers (sha256 {layout.hash[:16]}), {len(layout.test_puzzles)} held-out "
        f"tasks, built in {time.perf_counter() - start:.1f} s -> {out}"
    )


@click.command("train")
@click.argument("config", required=False)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override a config value, e.g. --set train.lr=3e-4 --set data.num_aug=100 (repeatable).",
)
@click.option(
    "-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (default: runs/<config name>)."
)
@click.option(
    "--resume",
    "resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Continue the run in this directory from its last checkpoint (its config is used).",
)
@click.option(
    "--stop-after", type=click.IntRange(min=1), help="Stop after this optimiser step (e.g. to fit a time budget)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (layout size, steps, batch) and the projected time on this hardware; train nothing.",
)
def train_cmd(
    config: str | None,
    overrides: tuple[str, ...],
    out: Path | None,
    resume: Path | None,
    stop_after: int | None,
    dry_run: bool,
) -> None:
    """Train a model (TRM or HRM, as the config's [model] family says) with CONFIG: a preset (arc1,
    arc2, demo-cpu, hrm-arc1, hrm-demo-cpu, sudoku-extreme-mlp, sudoku-extreme-attn, maze-hard,
    demo-sudoku-cpu) or a TOML file. Under torchrun the same command trains on every process
    (DDP; NCCL on GPUs, gloo on CPU).

    \b
        trm-eval train demo-cpu
        trm-eval train demo-cpu --set train.max_steps=500 --set model.hidden_size=64 -o runs/quick
        torchrun --nproc-per-node 4 -m harness.cli train arc1 -o runs/arc1
        trm-eval train --resume runs/arc1
    """
    from harness.cli.tables import progress_bar
    from harness.config import load_config
    from harness.train.trainer import train

    if resume is None and config is None:
        raise click.UsageError("give a CONFIG to start a run, or --resume RUN to continue one")
    cfg = load_config(config, list(overrides)) if config is not None and resume is None else None
    run_dir = resume or out or Path("runs") / Path(config or "run").stem
    if dry_run:
        if cfg is None:
            raise click.UsageError("--dry-run plans a new run: give its CONFIG, not --resume")
        import tempfile

        from harness.train.probe import plan

        with tempfile.TemporaryDirectory() as scratch:
            p = plan(cfg, Path(scratch))
        for key, value in p.items():
            console.print(f"{key:>20}: {value:,.3f}" if isinstance(value, float) else f"{key:>20}: {value}")
        return
    with progress_bar(console) as bar:
        task = bar.add_task(f"train {run_dir}", total=None, info="")

        def show(metrics: dict, total: int) -> None:
            info = (
                f"loss {metrics['train/loss']:.3f} acc {metrics.get('train/accuracy', 0):.3f} "
                f"exact {metrics.get('train/exact_accuracy', 0):.3f} {metrics['steps_per_s']:.1f} step/s"
            )
            bar.update(task, completed=metrics["step"], total=total, info=info)

        result = train(cfg, run_dir, resume=resume is not None, stop_after=stop_after, on_metrics=show)
    console.print(f"step {result['step']} of {result['total_steps']}; checkpoint {result['checkpoint']}")
