"""`trm-eval checkpoint ...`: import reference checkpoints, inspect ours, run a batch through one."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from harness.cli.checkpoint_hub import list_cmd, pull_cmd, push_cmd
from harness.cli.common import console
from harness.core.io import atomic_write

_path = click.Path(dir_okay=False, path_type=Path)


def _echo(message: str) -> None:
    console.print(message, markup=False, highlight=False, soft_wrap=True)


@click.group("checkpoint")
def checkpoint() -> None:
    """Model checkpoints: import from the reference code or the Hugging Face Hub, inspect, run, push."""


@checkpoint.command("import")
@click.argument("reference")
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    type=_path,
    help="The reference run's config as JSON or YAML (architecture keys, optionally under `arch`, "
    "e.g. its all_config.yaml); repeat to merge files, e.g. the run config and the data set's "
    "dataset.json. Read from the folder for an hf:// address.",
)
@click.option(
    "--identifiers",
    "identifiers_path",
    type=_path,
    help="The data set's identifiers.json, recorded (count + sha256) as the layout. For an hf:// "
    "address: default, the layout its config names, rebuilt.",
)
@click.option(
    "--concept",
    type=_path,
    help="hf://: ConceptARC challenges file to rebuild the layout with (default: the copy shipped with trm-eval).",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoint directory to write.",
)
@click.option("--force", is_flag=True, help="Replace an existing checkpoint in OUT.")
def import_cmd(
    reference: str,
    config_paths: tuple[Path, ...],
    identifiers_path: Path | None,
    concept: Path | None,
    out: Path,
    force: bool,
) -> None:
    """Convert REFERENCE (a TRM or HRM .pt state dict, from the TRM reference code or sapientinc/HRM)
    into a checkpoint directory; the model family is read from the config's arch name. REFERENCE may
    be an hf://OWNER/REPO[/SUBFOLDER][@REVISION] folder or a known checkpoint's name (checkpoint list):
    it is downloaded and its layout rebuilt from its config.

    The .pt file is read with weights-only loading: a file that carries code is refused.

    \b
        trm-eval checkpoint import step_518071 --config all_config.yaml --config data/dataset.json \\
            --identifiers data/identifiers.json -o ckpt/arc1
        trm-eval checkpoint import hf://arcprize/trm_arc_prize_verification/arc_v1_public -o ckpt/arc1
    """
    from harness.infer.hub_checkpoint import import_pulled, is_remote, pull

    if is_remote(reference):
        if config_paths:
            raise click.UsageError("--config is read from the Hub folder; drop it for an hf:// address")
        import_pulled(pull(reference), _echo, concept=concept, identifiers=identifiers_path, out=out, overwrite=force)
        return
    if not config_paths:
        raise click.UsageError("Missing option '--config' (needed for a local reference state dict).")
    from harness.infer.checkpoints import import_reference

    import_reference(reference, config_paths, out, identifiers_path=identifiers_path, overwrite=force)
    click.echo(f"wrote {out}")


@checkpoint.command()
@click.argument("ckpt", type=click.Path(file_okay=False, path_type=Path))
def info(ckpt: Path) -> None:
    """Show the manifest of CKPT and its parameter counts (network and puzzle embedding apart)."""
    from harness.infer.checkpoints import read_manifest, tensor_counts

    manifest, _ = read_manifest(ckpt)
    counts = tensor_counts(ckpt)
    table = Table(title=f"checkpoint {ckpt}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    layout = manifest.get("puzzle_identifiers")
    source = manifest.get("source") or {}
    rows = [
        ("family", str(manifest.get("family", "trm"))),
        ("network weights", f"{counts['network']:,}"),
        ("puzzle embeddings", f"{counts['puzzle_embedding']:,}"),
        ("step", str(manifest.get("step"))),
        ("ema", str(manifest.get("ema"))),
        ("identifiers", "not recorded" if layout is None else f"{layout['count']:,} (sha256 {layout['sha256']})"),
        ("trm-eval version", str(manifest.get("trm_eval_version"))),
        ("imported from", f"{source.get('reference_checkpoint')} (sha256 {source.get('sha256')})" if source else "-"),
    ]
    rows += [(f"config.{k}", str(v)) for k, v in manifest["config"].items()]
    for row in rows:
        table.add_row(*row)
    console.print(table)


@checkpoint.command("run-batch")
@click.argument("ckpt", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--batch",
    "batch_path",
    required=True,
    type=_path,
    help="A torch file holding a dict with `inputs` and `puzzle_identifiers` tensors.",
)
@click.option("--out", required=True, type=_path, help="Where to write the per-step outputs (.pt).")
def run_batch_cmd(ckpt: Path, batch_path: Path, out: Path) -> None:
    """Evaluate a batch with CKPT; save per-step logits, q logits and preds (steps first)."""
    from harness.infer.checkpoints import load_batch, load_checkpoint, run_batch

    model, _ = load_checkpoint(ckpt)
    result = run_batch(model, load_batch(batch_path))
    import torch

    atomic_write(out, lambda fh: torch.save(result, fh), mode="wb")
    steps, size = result["preds"].shape[:2]
    click.echo(f"wrote {out}: {steps} steps x {size} sequences")


checkpoint.add_command(pull_cmd)
checkpoint.add_command(list_cmd)
checkpoint.add_command(push_cmd)
