"""`trm-eval checkpoint pull|list|push`: checkpoints through the Hugging Face Hub (registered on the
`checkpoint` group). huggingface_hub is imported only by a pull or a real push."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import console


def _echo(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


@click.command("pull")
@click.argument("address")
def pull_cmd(address: str) -> None:
    """Download ADDRESS (hf://OWNER/REPO[/SUBFOLDER][@REVISION], or a name from `checkpoint list`) into
    huggingface_hub's cache (resumable; HF_TOKEN for private repos; HF_HUB_OFFLINE reads the cache only)
    and check its sha256; print where the files are.

    \b
        trm-eval checkpoint pull arcprize/arc-agi-1
    """
    from harness.infer.hub_checkpoint import pull

    pulled = pull(address)
    for path in sorted(pulled.folder.iterdir()):
        if path.is_file():
            _echo(f"{path.name:>24}  {path.stat().st_size:,} bytes")
    _echo(f"{pulled.address} at commit {pulled.commit or 'unknown'}: {pulled.folder}")
    _echo(f"sha256 {pulled.sha256} ({(pulled.state_dict or pulled.folder).name})")


@click.command("list")
def list_cmd() -> None:
    """The published checkpoints trm-eval knows by name: Hub address, download size, layout recipe,
    the scores their authors published (theirs, not ours) and the recorded sha256."""
    from harness.cli.hub_views import registry_lines
    from harness.core.hub import HASHES, cache_dir, parse_address
    from harness.core.io import read_json
    from harness.infer.published import registry

    record_path = cache_dir() / HASHES
    records = read_json(record_path) if record_path.is_file() else {}
    recorded = {}
    for entry in registry().values():
        a = parse_address(entry.address)
        key = f"{a.repo_type}:{a.repo_id}/{a.path}".rstrip("/") + f"/{entry.state_dict}"
        if isinstance(records, dict) and key in records:
            recorded[entry.name] = records[key]
    for line in registry_lines(list(registry().values()), recorded):
        _echo(line)


@click.command("push")
@click.argument("ckpt", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("repo_id", metavar="OWNER/REPO")
@click.option(
    "--run",
    "runs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An evaluation folder of this checkpoint (its score.json goes into the model card); repeat.",
)
@click.option("--private", is_flag=True, help="Create the repository private.")
@click.option("--dry-run", is_flag=True, help="Print every file and API call; upload nothing, import no client.")
def push_cmd(ckpt: Path, repo_id: str, runs: tuple[Path, ...], private: bool, dry_run: bool) -> None:
    """Upload CKPT (model.safetensors, manifest.json, identifiers.json) to OWNER/REPO with a model card
    whose metadata (model-index) carries the scores of each --run, with its task set and hash. The
    token is huggingface_hub's (HF_TOKEN or `hf auth login`); trm-eval never reads or prints it.

    \b
        trm-eval checkpoint push runs/arc1/checkpoints/step_518226 me/trm-arc1 --run runs/arc1/eval --dry-run
    """
    import tempfile

    from harness.core.errors import DataError
    from harness.infer.hub_push import CARD, describe, plan_push

    plan = plan_push(ckpt, repo_id, list(runs), private)
    if dry_run:
        for line in describe(plan):
            _echo(line)
        return
    try:
        from huggingface_hub import HfApi
    except ImportError:
        from harness.core.hub import HF_INSTALL

        raise DataError(HF_INSTALL) from None
    api = HfApi()
    with tempfile.TemporaryDirectory() as staging:
        for name, path in plan.files.items():
            (Path(staging) / name).symlink_to(path.resolve())
        (Path(staging) / CARD).write_text(plan.card)
        try:
            api.create_repo(repo_id=repo_id, repo_type="model", private=private, exist_ok=True)
            info = api.upload_folder(
                repo_id=repo_id, repo_type="model", folder_path=staging, commit_message="trm-eval checkpoint push"
            )
        except Exception as exc:  # noqa: BLE001  # the client's failures become one line (never the token)
            from harness.core.errors import first_line

            raise DataError(f"{repo_id}: push failed: {type(exc).__name__}: {first_line(exc)}") from None
    _echo(f"pushed {len(plan.files) + 1} files to {repo_id}: {getattr(info, 'commit_url', info)}")
