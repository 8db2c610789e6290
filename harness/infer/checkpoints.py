"""Model checkpoints on disk: our safe format, and import of the reference code's `.pt` files.

Our checkpoint is a directory:
  model.safetensors  every tensor of the model (network weights and the puzzle embedding table)
  manifest.json      config, puzzle-identifier layout (count + sha256), step, EMA flag, versions
The manifest is written last and removed first when overwriting, so a directory with a
manifest always holds a complete checkpoint. Nothing here unpickles code: reference files are
read with `torch.load(weights_only=True)` (harness.core.io) and safetensors holds only tensors.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from harness.core import rundir
from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write, load_reference_state_dict, read_json, sha256_file, write_json
from models import FAMILIES, ACTModel, ModelConfig, config_from_reference, family_of
from models.reference import from_reference
from models.trm import PUZZLE_EMBEDDING_KEY

MANIFEST = rundir.MANIFEST
WEIGHTS = rundir.WEIGHTS
FORMAT = "trm-eval-checkpoint"
FORMAT_VERSION = 1
RUN_BATCH_KEYS = ("logits", "q_halt_logits", "q_continue_logits", "preds")


def identifiers_layout(identifiers: list[str]) -> dict[str, Any]:
    """Count and sha256 of the identifiers as the reference writes identifiers.json (json.dump, defaults)."""
    digest = hashlib.sha256(json.dumps(identifiers).encode()).hexdigest()
    return {"count": len(identifiers), "sha256": digest}


def read_identifiers(path: str | Path) -> list[str]:
    """A reference identifiers.json: a JSON list of puzzle names, index = puzzle identifier."""
    data = read_json(path)
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise DataError(f"{path}: expected a JSON list of puzzle names (strings)")
    return data


def find_identifiers(checkpoint: Path, given: Path | None) -> list[str]:
    """The puzzle-identifier layout: a given identifiers.json (or a layout folder holding one), else
    the one saved beside the checkpoint."""
    for candidate in ([given] if given else []) + [checkpoint]:
        path = candidate / rundir.IDENTIFIERS if candidate.is_dir() else candidate
        if path.is_file():
            return read_identifiers(path)
        if given:
            raise DataError(f"{given}: no {rundir.IDENTIFIERS} there")
    raise DataError(
        f"{checkpoint}: no {rundir.IDENTIFIERS} beside the checkpoint; pass --identifiers FILE "
        f"(the layout it was trained on, e.g. from `trm-eval data build`)"
    )


def trm_eval_version() -> str:
    try:
        return importlib.metadata.version("trm-eval")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def save_checkpoint(
    directory: str | Path,
    model: ACTModel,
    *,
    step: int | None = None,
    ema: bool | None = None,
    identifiers: list[str] | None = None,
    source: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `model` as a checkpoint directory. `ema` None means unknown (e.g. imported weights)."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if manifest_path.exists():
        if not overwrite:
            raise DataError(f"{directory}: a checkpoint already exists there")
        manifest_path.unlink()
    config = model.config
    layout = None
    if identifiers is not None:
        _check_identifier_count(identifiers, config, directory)
        layout = identifiers_layout(identifiers)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(
        directory / WEIGHTS, lambda fh: fh.write(safetensors_bytes(tensors, metadata={"format": "pt"})), mode="wb"
    )
    manifest: rundir.Manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trm_eval_version": trm_eval_version(),
        "torch_version": torch.__version__,
        "family": family_of(config).name,
        "config": config.to_dict(),
        "puzzle_identifiers": layout,
        "step": step,
        "ema": ema,
        "source": source,
    }
    write_json(manifest_path, manifest, indent=2)
    return directory


def read_manifest(directory: str | Path) -> tuple[dict[str, Any], ModelConfig]:
    """The manifest of a checkpoint directory, checked for format, and its model config (parsed
    once here, by the class of the family the manifest names; no family means TRM)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise DataError(f"{directory}: not a checkpoint directory (no {MANIFEST})")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{path}: not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path}: format_version {manifest.get('format_version')!r} is not supported "
            f"(this trm-eval reads {FORMAT_VERSION})"
        )
    if not isinstance(manifest.get("config"), dict):
        raise DataError(f"{path}: no model config")
    family = manifest.get("family", "trm")
    if family not in FAMILIES:
        raise DataError(f"{path}: family {family!r} is not one of {', '.join(FAMILIES)}")
    try:
        config = FAMILIES[family].config_class.from_dict(manifest["config"])
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: config: {exc}") from None
    return manifest, config


def load_checkpoint(directory: str | Path, *, identifiers: list[str] | None = None) -> tuple[ACTModel, dict[str, Any]]:
    """Load a checkpoint (on CPU) and its manifest.

    When `identifiers` is given it must be the layout the checkpoint was trained with: the
    puzzle embedding rows mean nothing under another one.
    """
    directory = Path(directory)
    manifest, config = read_manifest(directory)
    if identifiers is not None:
        check_layout(manifest, config, identifiers, directory)
    weights = directory / WEIGHTS
    try:
        tensors = load_file(weights)
    except (OSError, SafetensorError) as exc:
        raise DataError(f"{weights}: cannot read weights: {exc}") from None
    try:
        model = family_of(config).model_class.from_state_dict(config, tensors)
    except RuntimeError as exc:
        raise DataError(f"{weights}: does not match the manifest's config: {first_line(exc)}") from None
    return model.eval(), manifest


def check_layout(manifest: dict[str, Any], config: ModelConfig, identifiers: list[str], where: str | Path) -> None:
    """DataError unless `identifiers` is the layout recorded in the manifest (or fits its config)."""
    _check_identifier_count(identifiers, config, where)
    recorded = manifest.get("puzzle_identifiers")
    if recorded is not None and recorded != identifiers_layout(identifiers):
        raise DataError(
            f"{where}: the puzzle identifiers supplied (sha256 {identifiers_layout(identifiers)['sha256']})"
            f" are not the layout of this checkpoint (sha256 {recorded.get('sha256')})"
        )


def import_reference(
    checkpoint: str | Path,
    config_paths: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    identifiers_path: str | Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Convert a reference `.pt` state dict (TRM or HRM) + its config into our checkpoint directory.

    Several config files (JSON or YAML) are merged, later ones winning: a reference run keeps the
    architecture in its run config (`all_config.yaml`, arch nested under `arch`) and seq_len /
    vocab_size / num_puzzle_identifiers in the data set's dataset.json. The family comes from the
    arch name; a config without one is TRM unless the weights hold HRM's second stack (H_level).
    The step is taken from a `step_N` file name, as the reference names checkpoints.
    """
    checkpoint = Path(checkpoint)
    paths = [config_paths] if isinstance(config_paths, (str, Path)) else list(config_paths)
    config_path = " + ".join(str(p) for p in paths)
    merged: dict[str, Any] = {}
    for path in paths:
        merged.update(read_reference_config(path))
    state = load_reference_state_dict(checkpoint)
    try:
        config = config_from_reference(merged, state)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{config_path}: {exc}") from None
    identifiers = read_identifiers(identifiers_path) if identifiers_path is not None else None
    try:
        model = family_of(config).model_class.from_state_dict(config, from_reference(state, config))
    except ValueError as exc:
        raise DataError(f"{checkpoint}: {exc} (config {config_path})") from None
    match = re.fullmatch(r"step_(\d+)(\.pt)?", checkpoint.name)
    source = {"reference_checkpoint": checkpoint.name, "sha256": sha256_file(checkpoint)}
    return save_checkpoint(
        out, model, step=int(match[1]) if match else None, identifiers=identifiers, source=source, overwrite=overwrite
    )


def read_reference_config(path: str | Path) -> dict[str, Any]:
    """A reference config file as a mapping: JSON, or YAML (`.yaml`/`.yml`, as the reference's
    pretrain.py dumps all_config.yaml). Errors name the file and line, never a value: run configs
    may hold tokens or paths nobody wants echoed."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # type: ignore[import-untyped, unused-ignore]  # stubs may or may not be installed

        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
            raise DataError(f"{path}: malformed YAML{at}") from None
        kind = "a YAML mapping"
    else:
        data, kind = read_json(path), "a JSON object"
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected {kind}")
    arch = data.get("arch")
    for key, value in [*data.items(), *(arch.items() if isinstance(arch, dict) else ())]:
        if isinstance(value, str) and "${" in value:
            raise DataError(
                f"{path}: {key} is an unresolved interpolation; pass the run's all_config.yaml "
                f"(written with every value resolved), not a hydra source file"
            )
    return data


def tensor_counts(directory: str | Path) -> dict[str, int]:
    """Element counts of network weights and of the puzzle embedding, read from the file header."""
    path = Path(directory) / WEIGHTS
    counts = {"network": 0, "puzzle_embedding": 0}
    try:
        with safe_open(path, framework="pt") as f:
            for key in f.keys():
                n = 1
                for d in f.get_slice(key).get_shape():
                    n *= d
                counts["puzzle_embedding" if key == PUZZLE_EMBEDDING_KEY else "network"] += n
    except (OSError, SafetensorError) as exc:
        raise DataError(f"{path}: cannot read weights: {exc}") from None
    return counts


def load_batch(path: str | Path) -> dict[str, torch.Tensor]:
    """A batch file: a dict with `inputs` (B, seq_len) and `puzzle_identifiers` (B,), tensors only."""
    batch = load_reference_state_dict(path)
    missing = [k for k in ("inputs", "puzzle_identifiers") if k not in batch]
    if missing:
        raise DataError(f"{path}: batch lacks {', '.join(missing)}")
    return batch


def run_batch(model: ACTModel, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Evaluate every ACT step; per key a tensor stacked over steps (steps first)."""
    cfg = model.config
    inputs, ids = batch.get("inputs"), batch.get("puzzle_identifiers")
    if inputs is None or ids is None:
        raise DataError("batch needs `inputs` and `puzzle_identifiers`")
    if inputs.ndim != 2 or inputs.shape[1] != cfg.seq_len or ids.shape != inputs.shape[:1]:
        raise DataError(
            f"batch shapes inputs {tuple(inputs.shape)}, puzzle_identifiers {tuple(ids.shape)} "
            f"do not fit seq_len {cfg.seq_len}"
        )
    if inputs.numel() and not (0 <= int(inputs.min()) and int(inputs.max()) < cfg.vocab_size):
        raise DataError(f"batch inputs hold tokens outside 0..{cfg.vocab_size - 1}")
    if ids.numel() and not (0 <= int(ids.min()) and int(ids.max()) < cfg.num_puzzle_identifiers):
        raise DataError(f"batch puzzle_identifiers outside 0..{cfg.num_puzzle_identifiers - 1}")
    device = next(model.parameters()).device
    steps = model.evaluate({k: v.to(device) for k, v in batch.items()})
    return {k: torch.stack([s[k] for s in steps]).cpu() for k in RUN_BATCH_KEYS}


def _check_identifier_count(identifiers: list[str], config: ModelConfig, where: str | Path) -> None:
    if len(identifiers) != config.num_puzzle_identifiers:
        raise DataError(
            f"{where}: {len(identifiers)} puzzle identifiers supplied, the model has "
            f"{config.num_puzzle_identifiers} puzzle embedding rows"
        )
