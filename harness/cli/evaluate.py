"""`trm-eval predict` and `trm-eval evaluate`: run a checkpoint over a task set, on one process or under torchrun."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from harness.cli.common import console, load_set


def _engine_options(f: Callable[..., None]) -> Callable[..., None]:
    """Options shared by `predict` and `evaluate`."""
    options = [
        click.argument("checkpoint", metavar="CHECKPOINT"),
        click.option(
            "--tasks",
            "tasks_spec",
            required=True,
            metavar="SET",
            help="Tasks to predict: an ARC set, or a Sudoku or maze set (built-in, CSV or reference .npy split).",
        ),
        click.option(
            "--identifiers",
            type=click.Path(exists=True, path_type=Path),
            help="identifiers.json of the checkpoint's layout (or a folder holding one); "
            "default: the one in CHECKPOINT.",
        ),
        click.option(
            "--concept",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="A hub checkpoint whose layout has ConceptARC: this arc-agi_concept_challenges.json "
            "(solutions beside it) instead of the copy shipped with trm-eval.",
        ),
        click.option(
            "--max-aug",
            type=click.IntRange(min=1),
            help="At most N views per task (seeded sample; "
            "the un-augmented view is always kept). Default: every view in the layout.",
        ),
        click.option(
            "--steps",
            type=click.IntRange(min=1),
            help="ACT steps (cap in q mode). Default: the model's halt_max_steps.",
        ),
        click.option(
            "--halt",
            default="fixed",
            show_default=True,
            metavar="RULE",
            help="Halting rule, run live: fixed (every row runs all steps, the reference), q[:t] (q_halt "
            "logit > t; bare q: > --threshold), stable[:k] (prediction unchanged for k steps, default 2), "
            "converged[:tol] (relative change of z_H < tol, default 0.01), entropy[:k[:tol]] (mean token "
            "entropy within tol for k steps, default 2, 0.01). A stopped row's batch slot takes the next row.",
        ),
        click.option("--threshold", default=0.0, show_default=True, help="Bare --halt q: q_halt logit to stop at."),
        click.option(
            "--restarts",
            default=1,
            show_default=True,
            type=click.IntRange(1, 1024),
            help="Starts per view: restart 0 from H_init/L_init, restart r > 0 adds --noise x N(0, 1) to both, "
            "seeded by (--seed, view, r). ARC: each restart is one more vote. Sudoku/maze: a puzzle's answer is "
            "the majority over its restarts (ties: the earliest); its steps and NFE count every restart.",
        ),
        click.option(
            "--noise", default=0.1, show_default=True, type=click.FloatRange(min=0.0), help="Restart noise scale."
        ),
        click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1)),
        click.option(
            "--chunk-size", default=4096, show_default=True, type=click.IntRange(min=1), help="Views per shard on disk."
        ),
        click.option("--record-steps", is_flag=True, help="fixed mode: keep every ACT step's prediction."),
        click.option("--compile", "compile_model", is_flag=True, help="torch.compile the model (GPU, long runs)."),
        click.option(
            "--seed", default=0, show_default=True, help="Seed of the --max-aug view sample and of the restart noise."
        ),
        click.option(
            "-o",
            "--out",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Run directory (an interrupted run continues from its chunks).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _engine_run(
    command: str,
    checkpoint: str,
    tasks_spec: str,
    identifiers: Path | None,
    concept: Path | None,
    max_aug: int | None,
    steps: int | None,
    halt: str,
    threshold: float,
    restarts: int,
    noise: float,
    batch_size: int,
    chunk_size: int,
    record_steps: bool,
    compile_model: bool,
    seed: int,
    out: Path,
) -> tuple[Any, int]:
    """Run `run_predict` or `run_evaluate` with a progress bar on rank 0; return its summary and this rank."""
    from harness.cli.tables import progress_bar
    from harness.config import EngineConfig
    from harness.core.benchmarks import is_puzzle_spec, load_any
    from harness.core.dist import init_distributed
    from harness.core.errors import DataError
    from harness.core.puzzles import PuzzleSet
    from harness.core.schema import validate
    from harness.infer.evaluate import run_evaluate, run_predict
    from harness.infer.hub_checkpoint import record_published, resolve_checkpoint
    from harness.infer.puzzle_eval import check_restarts, run_puzzle_evaluate, run_puzzle_predict

    cfg = EngineConfig(
        batch_size=batch_size,
        steps=steps,
        halt=halt,
        threshold=threshold,
        restarts=restarts,
        noise=noise,
        chunk_size=chunk_size,
        record_steps=record_steps,
        compile=compile_model,
    )
    try:
        validate(cfg, "options")
    except DataError as exc:
        raise click.UsageError(str(exc)) from None
    if record_steps and cfg.rule().name != "fixed":
        raise click.UsageError("--record-steps needs --halt fixed")
    puzzles = is_puzzle_spec(tasks_spec)
    if puzzles and (identifiers is not None or max_aug is not None):
        raise click.UsageError(
            "--identifiers and --max-aug are for ARC sets: a Sudoku or maze set has one view per puzzle (identifier 0)"
        )
    if puzzles:
        try:
            check_restarts(cfg)
        except DataError as exc:
            raise click.UsageError(str(exc)) from None
    resolved = resolve_checkpoint(
        checkpoint,
        lambda m: console.print(m, markup=False, highlight=False, soft_wrap=True),
        concept=concept,
        identifiers=identifiers,
    )
    tasks = load_any(tasks_spec) if puzzles else load_set(tasks_spec)
    d = init_distributed()
    rank, world, device = d.rank, d.world, d.device
    with progress_bar(console, disable=rank != 0) as bar:
        info = ("puzzles" if puzzles else "views") if restarts == 1 else "rows (input x restart)"
        task = bar.add_task(f"{command} on {device}", total=None, info=info)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if isinstance(tasks, PuzzleSet):
            run_puzzles = run_puzzle_evaluate if command == "evaluate" else run_puzzle_predict
            summary = run_puzzles(resolved.path, tasks, out, cfg, device, rank, world, progress, seed)
        else:
            run = run_evaluate if command == "evaluate" else run_predict
            summary = run(resolved.path, tasks, out, cfg, identifiers, max_aug, seed, device, rank, world, progress)
    if command == "evaluate" and rank == 0 and resolved.published is not None:
        record_published(out, resolved.published)
        summary = dict(summary or {}, published=resolved.published)
    return summary, rank


@click.command("predict")
@_engine_options
def predict_cmd(**kwargs: Any) -> None:
    """Run CHECKPOINT on every test input of SET under every view its layout has (test-time
    augmentation), writing prediction chunks to OUT/predictions/. Under torchrun each rank takes
    its share of the chunks.

    \b
        trm-eval predict ckpt/arc1 --tasks arc-agi-1/evaluation --max-aug 64 -o runs/arc1-eval
    """
    info, rank = _engine_run("predict", **kwargs)
    if rank == 0:
        console.print(
            f"{info['views_computed']} views predicted in {info['seconds']:.1f} s "
            f"({info['views']} in the task set) -> {kwargs['out']}/predictions"
        )


@click.command("evaluate")
@_engine_options
def evaluate_cmd(**kwargs: Any) -> None:
    """predict -> vote -> submission.json -> score, all in OUT (submission.json, candidates.jsonl,
    score.json, run.json, predictions/). A Sudoku or maze set is predicted once per puzzle and scored
    directly (exact accuracy with its interval, per cell, per difficulty; maze path validity).

    \b
        trm-eval evaluate ckpt/arc1 --tasks arc-agi-1/evaluation -o runs/arc1-eval
        torchrun --nproc-per-node 4 -m harness.cli evaluate ckpt/arc1 --tasks arc-agi-1/evaluation -o runs/x

    CHECKPOINT is a checkpoint folder, an hf://OWNER/REPO[/SUBFOLDER][@REVISION] address of a reference
    checkpoint, or a known checkpoint's short name (trm-eval checkpoint list): it is downloaded, its
    layout rebuilt and imported (both cached), and the published score is shown beside ours.

    \b
        trm-eval evaluate arcprize/arc-agi-1 --tasks arc-agi-1/evaluation -o runs/arcprize-arc1
    """
    from harness.cli.hub_views import published_lines
    from harness.cli.tables import vote_table

    summary, rank = _engine_run("evaluate", **kwargs)
    if rank == 0 and "benchmark" in summary:
        from harness.cli.tables import puzzle_score_table

        console.print(puzzle_score_table(summary))
    elif rank == 0:
        console.print(vote_table(summary))
        per = "view" if kwargs["restarts"] == 1 else "row (view x restart)"
        console.print(f"mean ACT steps per {per}: {summary['mean_steps']:.2f}")
    if rank == 0 and "published" in summary:
        for line in published_lines(summary):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
