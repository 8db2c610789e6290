"""The `trm-eval` root group: turns DataError into one line, and registers every command of the package."""

from __future__ import annotations

from typing import Any

import click

from harness.cli.checkpoint import checkpoint
from harness.cli.demo import demo
from harness.cli.evaluate import evaluate_cmd, predict_cmd
from harness.cli.kaggle import kaggle_group
from harness.cli.report import compare, report
from harness.cli.submission import baselines, datasets, predictions, score, validate, vote_cmd
from harness.cli.sweep import sweep
from harness.cli.train import data, train_cmd
from harness.core.errors import DataError


class UserFacingGroup(click.Group):
    """Turns DataError into a one-line `Error: ...` and exit code 1 (click uses 2 for usage errors)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DataError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=UserFacingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trm-eval")
def cli() -> None:
    """trm-eval: train, evaluate, vote, score and compare Tiny Recursive Models (TRM) and HRM on
    ARC-AGI, Sudoku and Maze; sweep inference compute; score published checkpoints (hf://...).

    Task sets (SET) are a built-in name (see `trm-eval datasets`), a Kaggle
    `*_challenges.json` file (its `*_solutions.json` beside it is used when present), a
    folder of one-JSON-per-task files, or a Sudoku/Maze CSV.
    """


# In README order; `--help` lists them alphabetically.
cli.add_command(demo)
cli.add_command(datasets)
cli.add_command(vote_cmd)
cli.add_command(validate)
cli.add_command(score)
cli.add_command(baselines)
cli.add_command(predictions)
cli.add_command(data)
cli.add_command(train_cmd)
cli.add_command(evaluate_cmd)
cli.add_command(predict_cmd)
cli.add_command(checkpoint)
cli.add_command(kaggle_group)
cli.add_command(report)
cli.add_command(compare)
cli.add_command(sweep)


def main() -> None:
    """The console script `trm-eval`."""
    cli(prog_name="trm-eval")
