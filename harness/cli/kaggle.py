"""`trm-eval kaggle ...`: bundle a checkpoint for the ARC Prize, push it, submit it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.core.errors import DataError

if TYPE_CHECKING:
    from harness.kaggle.api import KaggleClient


def _competition(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A Kaggle slug: the kernel joins it to /kaggle/input, so never a path."""
    from harness.kaggle.script import LONGEST_SLUG, is_slug

    if not is_slug(value):
        raise click.BadParameter(
            f"{value!r} is not a Kaggle competition slug (1-{LONGEST_SLUG} lower-case letters "
            f"and digits, single hyphens between them, e.g. arc-prize-2025)"
        )
    return value


def _kernel(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from harness.kaggle.bundle import check_id

    try:
        return check_id(value, "expected USER/SLUG", 5)
    except DataError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("kaggle")
def kaggle_group() -> None:
    """Kaggle ARC Prize: an offline bundle with test-time training, pushed and submitted from here.

    \b
        trm-eval kaggle bundle --checkpoint CKPT --competition arc-prize-2025 -o kaggle-out
        trm-eval kaggle push kaggle-out
        trm-eval kaggle submit --competition arc-prize-2025 --kernel USER/trm-arc-prize-2025
    """


@kaggle_group.command("bundle")
@click.option(
    "--checkpoint",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Checkpoint to fine-tune on the hidden tasks (identifiers.json beside it, or --identifiers).",
)
@click.option("--competition", required=True, callback=_competition, help="Competition slug, e.g. arc-prize-2025.")
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: OUT/dataset and OUT/kernel.",
)
@click.option("--config", help="Fine-tuning config (TOML file or preset). Default: configs/kaggle-ttt.toml.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Config override (repeatable).")
@click.option(
    "--identifiers",
    type=click.Path(exists=True, path_type=Path),
    help="The checkpoint's identifiers.json when it is not beside the checkpoint.",
)
@click.option(
    "--owner",
    help="Kaggle user name owning the dataset and kernel (default: KAGGLE_USERNAME or "
    "the username in ~/.kaggle/kaggle.json).",
)
@click.option("--dataset-slug", help="Default: trm-<competition>-bundle.")
@click.option("--kernel-slug", help="Default: trm-<competition>.")
@click.option(
    "--time-budget-hours",
    default=11.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Hours the kernel may use in the scoring rerun (Kaggle stops it at 12).",
)
@click.option(
    "--placeholder-hours",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Hours for the run on the placeholder (public) tasks that every push triggers.",
)
@click.option(
    "--margin-minutes",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Safety margin kept free at the end of the budget.",
)
@click.option(
    "--freeze-fraction",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of fine-tuning steps that train the puzzle embeddings only.",
)
@click.option("--max-aug", type=click.IntRange(min=1), help="Views per task at prediction (default: all).")
@click.option(
    "--package",
    "packages",
    multiple=True,
    help="Another package to bundle as a wheel (repeatable), if Kaggle's image lacks it.",
)
@click.option("--no-deps-download", is_flag=True, help="Do not download dependency wheels (offline builds).")
@click.option("--no-wheel", is_flag=True, help="Do not build trm-eval's own wheel.")
@click.option(
    "--full-embeddings",
    is_flag=True,
    help="Keep every puzzle-embedding row (default: the mean row only; hidden tasks start there).",
)
@click.option(
    "--accelerator", help="Kernel machine_shape (e.g. the 4 x L4 shape Kaggle lists); default: Kaggle's default GPU."
)
@click.option("--license", "license_name", default="CC0-1.0", show_default=True, help="Dataset licence name.")
def bundle_cmd(
    checkpoint: Path,
    competition: str,
    out: Path,
    config: str | None,
    overrides: tuple[str, ...],
    identifiers: Path | None,
    owner: str | None,
    dataset_slug: str | None,
    kernel_slug: str | None,
    time_budget_hours: float,
    placeholder_hours: float,
    margin_minutes: float,
    freeze_fraction: float,
    max_aug: int | None,
    packages: tuple[str, ...],
    no_deps_download: bool,
    no_wheel: bool,
    full_embeddings: bool,
    accelerator: str | None,
    license_name: str,
) -> None:
    """Write OUT/dataset (checkpoint, config, wheels, settings) and OUT/kernel (kernel.py and its
    metadata: GPU on, internet off) for an offline code-competition entry with test-time training."""
    from harness.core.schema import validate
    from harness.kaggle import api as kaggle_api
    from harness.kaggle.bundle import build_bundle, default_ids
    from harness.kaggle.settings import KernelSettings
    from harness.kaggle.wheels import BUNDLED_PACKAGES

    owner = owner or kaggle_api.username()
    if not owner:
        raise DataError("no Kaggle user name: pass --owner (or set KAGGLE_USERNAME)")
    ids = default_ids(owner, competition, dataset_slug, kernel_slug)
    settings = KernelSettings(
        competition,
        time_budget_hours=time_budget_hours,
        placeholder_hours=placeholder_hours,
        margin_minutes=margin_minutes,
        freeze_fraction=freeze_fraction,
        max_aug=max_aug,
    )
    validate(settings, "options")
    info = build_bundle(
        checkpoint,
        out,
        settings,
        ids,
        config=config,
        overrides=overrides,
        identifiers=identifiers,
        build_wheel=not no_wheel,
        download=not no_deps_download,
        packages=BUNDLED_PACKAGES + packages,
        full_embeddings=full_embeddings,
        accelerator=accelerator,
        license_name=license_name,
        log=click.echo,
    )
    click.echo(
        f"dataset {info['dataset_id']} -> {info['dataset']} ({len(info['wheels'])} wheels, "
        f"{info['puzzle_identifiers']} embedding row(s))"
    )
    click.echo(f"kernel  {info['kernel_id']} -> {info['kernel']}")
    click.echo(f"next: trm-eval kaggle push {out}")


def _client() -> KaggleClient:
    """A client on an authenticated KaggleApi (DataError without credentials)."""
    from harness.kaggle import api as kaggle_api

    return kaggle_api.KaggleClient(kaggle_api.load_api())


@kaggle_group.command("push")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--notes", default="trm-eval bundle", show_default=True, help="Dataset version notes.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow the kernel's run on the placeholder tasks until it ends.",
)
@click.option("--poll-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1))
@click.option("--dry-run", is_flag=True, help="Print the files, metadata and API calls; send nothing.")
def push_cmd(directory: Path, notes: str, wait: bool, poll_seconds: float, dry_run: bool) -> None:
    """Upload DIRECTORY/dataset (new dataset or new version) and push DIRECTORY/kernel; Kaggle
    then runs the kernel once on the placeholder tasks (needed before it can be submitted)."""
    from harness.kaggle.publish import describe_push, push, read_bundle

    bundle = read_bundle(directory)
    if dry_run:
        click.echo("\n".join(describe_push(bundle, notes)))
        return
    result = push(_client(), bundle, notes, wait, click.echo, poll_s=poll_seconds)
    if result["version"] is not None:
        click.echo(
            f"next: trm-eval kaggle submit --competition {bundle.kernel_meta['competition_sources'][0]} "
            f"--kernel {bundle.kernel_id} --version {result['version']}"
        )


@kaggle_group.command("submit")
@click.option("--competition", required=True, callback=_competition, help="Competition slug, e.g. arc-prize-2025.")
@click.option("--kernel", required=True, metavar="USER/SLUG", callback=_kernel, help="The pushed kernel.")
@click.option("--version", type=click.IntRange(min=1), help="Kernel version (default: the latest).")
@click.option("--message", default="trm-eval TRM with test-time training", show_default=True)
@click.option("--file-name", default="submission.json", show_default=True, help="The kernel's output file.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the scoring rerun to its end.")
@click.option("--poll-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1))
@click.option("--dry-run", is_flag=True, help="Print the API calls; send nothing.")
def submit_cmd(
    competition: str,
    kernel: str,
    version: int | None,
    message: str,
    file_name: str,
    wait: bool,
    poll_seconds: float,
    dry_run: bool,
) -> None:
    """Enter a pushed kernel in a code competition (KaggleApi.competition_submit_code) and show
    the submission's status and public score."""
    from harness.kaggle.publish import submit, submit_calls

    if dry_run:
        calls = submit_calls(competition, kernel, version, message, file_name)
        click.echo(f"1. {calls['submit'].describe()}")
        click.echo(
            f"2. {calls['submissions'].describe()}  (every {poll_seconds:.0f} s until complete or error, "
            f"unless --no-wait)"
        )
        return
    submit(_client(), competition, kernel, version, message, wait, click.echo, file_name=file_name, poll_s=poll_seconds)
