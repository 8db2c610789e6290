"""`trm-eval kaggle bundle`: everything the Kaggle kernel needs offline, as two folders ready for
`trm-eval kaggle push`.

    DIR/dataset/   a Kaggle dataset, flat (the client skips sub-folders unless it zips them):
        trm-kaggle.json          kernel settings: competition, hours, margin, fine-tuning split
        ttt.toml                 fine-tuning config; [model] is the checkpoint's architecture
        manifest.json, model.safetensors, identifiers.json     the checkpoint
        *.whl                    trm-eval, and the dependencies Kaggle's image lacks
        dataset-metadata.json
    DIR/kernel/
        kernel.py                harness/kaggle/script.py (standard library only)
        kernel-metadata.json     script kernel, GPU on, internet off, competition + dataset attached

Hidden tasks match no puzzle of the checkpoint, and a new puzzle starts at the mean embedding;
so by default the embedding table is replaced by that single mean row, which shrinks an
ARC-AGI-2 checkpoint from gigabytes to tens of megabytes without changing what the kernel
computes on hidden tasks (`full_embeddings` keeps every row).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import RunConfig, load_config
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import write_json, write_text
from harness.infer.checkpoints import (
    MANIFEST,
    WEIGHTS,
    find_identifiers,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
)
from harness.kaggle.script import MARKER, is_slug
from harness.kaggle.settings import CONFIG_FILE, KernelSettings
from harness.kaggle.wheels import BUNDLED_PACKAGES, build_own_wheel, download_wheels, pinned

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "configs" / "kaggle-ttt.toml"
MEAN_IDENTIFIER = "<mean>"
OWNER = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*")  # the client's owner-slug syntax, any case
DATASET_METADATA = "dataset-metadata.json"
KERNEL_METADATA = "kernel-metadata.json"
KERNEL_FILE = "kernel.py"


@dataclass
class BundleIds:
    owner: str
    dataset_slug: str
    kernel_slug: str

    @property
    def dataset(self) -> str:
        return f"{self.owner}/{self.dataset_slug}"

    @property
    def kernel(self) -> str:
        return f"{self.owner}/{self.kernel_slug}"


def check_id(ident: object, what: str, shortest: int) -> str:
    """`owner/slug` as Kaggle accepts it (the client checks the dataset slug for 6-50 characters,
    the kernel's for at least 5, its title for at most 50), else a DataError naming `what`."""
    owner, _, slug = ident.partition("/") if isinstance(ident, str) else ("", "", "")
    if not OWNER.fullmatch(owner) or len(owner) > 50:
        raise DataError(f"{what}: Kaggle user name {owner!r} is not valid (letters, digits, single - or _ between)")
    if not is_slug(slug, shortest, 50):
        raise DataError(
            f"{what}: slug {slug!r} is not valid ({shortest}-50 lower-case letters and digits, single "
            f"hyphens between them)"
        )
    return str(ident)


def default_ids(owner: str, competition: str, dataset_slug: str | None, kernel_slug: str | None) -> BundleIds:
    ids = BundleIds(owner, dataset_slug or f"trm-{competition}-bundle", kernel_slug or f"trm-{competition}")
    check_id(ids.dataset, "--owner/--dataset-slug", 6)
    check_id(ids.kernel, "--owner/--kernel-slug", 5)
    return ids


def checkpoint_files(checkpoint: Path) -> None:
    """Refuse symlinked checkpoint files: the bundle is uploaded, and a link could carry any file
    of this machine into it."""
    for name in (MANIFEST, WEIGHTS, rundir.IDENTIFIERS):
        if (checkpoint / name).is_symlink():
            raise DataError(f"{checkpoint / name}: is a symbolic link; copy the file itself into the checkpoint")


def names_only(value: Any) -> Any:
    """`value` with every path-like string cut to its last part: the bundle is uploaded, and this
    machine's folders are nobody's business (the kernel needs none of them)."""
    if isinstance(value, dict):
        return {k: names_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [names_only(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return Path(value.replace("\\", "/")).name
    return value


def write_checkpoint(checkpoint: Path, identifiers: list[str], dest: Path, full_embeddings: bool) -> dict[str, Any]:
    """The checkpoint into dest (manifest, weights, identifiers.json), read through the checkpoint
    loader (format, layout and weights checked) and saved anew; slimmed to one mean embedding
    row unless `full_embeddings`."""
    from models import family_of
    from models.trm import PUZZLE_EMBEDDING_KEY

    model, manifest = load_checkpoint(checkpoint, identifiers=identifiers)
    tensors = model.state_dict()  # the loaded tensors themselves, not copies
    if not full_embeddings and PUZZLE_EMBEDDING_KEY in tensors:
        table = tensors[PUZZLE_EMBEDDING_KEY]
        tensors[PUZZLE_EMBEDDING_KEY] = table.float().mean(0, keepdim=True).to(table.dtype)
        config = dataclasses.replace(model.config, num_puzzle_identifiers=1)
        model = family_of(config).model_class.from_state_dict(config, tensors)
        identifiers = [MEAN_IDENTIFIER]
    source = {
        "bundled_from": checkpoint.resolve().name,
        "puzzle_identifiers": manifest.get("puzzle_identifiers"),
        "source": names_only(manifest.get("source")),
    }
    save_checkpoint(
        dest, model, step=manifest.get("step"), ema=manifest.get("ema"), identifiers=identifiers, source=source
    )
    write_json(dest / rundir.IDENTIFIERS, identifiers)
    return {
        "step": manifest.get("step"),
        "embeddings": "full" if len(identifiers) > 1 else "mean",
        "puzzle_identifiers": len(identifiers),
    }


def fine_tuning_config(config: str | Path | None, overrides: tuple[str, ...], checkpoint: Path) -> RunConfig:
    """The fine-tuning RunConfig with [model] set to the checkpoint's architecture and the canvas
    it was trained on (the network has to fit the weights)."""
    cfg = load_config(config or DEFAULT_CONFIG, list(overrides))
    manifest, _ = read_manifest(checkpoint)
    arch = manifest["config"]
    canvas = round(arch["seq_len"] ** 0.5)
    if canvas * canvas != arch["seq_len"]:
        raise DataError(f"{checkpoint}: seq_len {arch['seq_len']} is not a square canvas")
    model = {k: v for k, v in arch.items() if k not in ("num_puzzle_identifiers", "seq_len")}
    if manifest.get("family", "trm") != "trm":
        model["family"] = manifest["family"]
    data = dataclasses.replace(cfg.data, canvas=canvas, max_side=min(cfg.data.max_side, canvas))
    return RunConfig(data, model, cfg.train, cfg.predict)


def kernel_metadata(ids: BundleIds, competition: str, accelerator: str | None) -> dict[str, Any]:
    """kernel-metadata.json: `enable_internet` must be false explicitly (the client defaults it to
    true, and code competitions reject kernels with internet)."""
    meta = {
        "id": ids.kernel,
        "title": ids.kernel_slug,
        "code_file": KERNEL_FILE,
        "language": "python",
        "kernel_type": "script",
        "is_private": True,
        "enable_gpu": True,
        "enable_tpu": False,
        "enable_internet": False,
        "dataset_sources": [ids.dataset],
        "competition_sources": [competition],
        "kernel_sources": [],
        "model_sources": [],
    }
    return meta | ({"machine_shape": accelerator} if accelerator else {})


def _staging(folder: Path, marker: str) -> Path:
    """An empty folder beside `folder` to build it in. `folder` itself may only be a bundle folder
    of ours (it holds `marker`), replaced when the build completes; anything else is refused."""
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: is a file, not a bundle folder; choose another -o")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).exists():
        raise DataError(f"{folder}: exists and is not a trm-eval bundle folder; choose another -o")
    staging = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise DataError(f"{folder.parent}: cannot create the bundle folder here ({exc.strerror or exc})") from None
    return staging


def _replace(staging: Path, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(staging, folder)


@contextlib.contextmanager
def _staged(out: Path) -> Iterator[tuple[Path, Path]]:
    """Staging folders for OUT/dataset and OUT/kernel, put in place when the build completes: a
    failed build leaves no half-written bundle, no staging folder, and no folder it created."""
    created = next((p for p in reversed([out, *out.parents]) if not p.exists()), None)
    staged: list[Path] = []
    try:
        staged.append(_staging(out / "dataset", MARKER))
        staged.append(_staging(out / "kernel", KERNEL_METADATA))
        yield staged[0], staged[1]
    except BaseException:
        for folder in [*staged, *([created] if created else [])]:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    _replace(staged[0], out / "dataset")
    _replace(staged[1], out / "kernel")


def build_bundle(
    checkpoint: Path,
    out: Path,
    settings: KernelSettings,
    ids: BundleIds,
    *,
    config: str | Path | None = None,
    overrides: tuple[str, ...] = (),
    identifiers: Path | None = None,
    build_wheel: bool = True,
    download: bool = True,
    packages: tuple[str, ...] = BUNDLED_PACKAGES,
    full_embeddings: bool = False,
    accelerator: str | None = None,
    license_name: str = "CC0-1.0",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Write DIR/dataset and DIR/kernel; returns what went in (and which wheels are missing)."""
    checkpoint = Path(checkpoint)
    if not is_slug(settings.competition):
        raise DataError(
            f"competition {settings.competition!r}: not a Kaggle slug (lower-case letters and digits, "
            f"single hyphens between them)"
        )
    checkpoint_files(checkpoint)
    cfg = fine_tuning_config(config, overrides, checkpoint)
    with _staged(out) as (dataset, kernel):
        info = write_checkpoint(checkpoint, find_identifiers(checkpoint, identifiers), dataset, full_embeddings)
        write_text(dataset / CONFIG_FILE, cfg.to_toml())
        if build_wheel:
            build_own_wheel(dataset)
        requested = [pinned(p) for p in packages]
        missing = download_wheels(requested, dataset) if download else requested
        if missing:
            log(
                f"not bundled (download {'skipped' if not download else 'failed'}): {', '.join(missing)}; "
                f"the kernel then relies on Kaggle's image for them"
            )
        wheels = sorted(p.name for p in dataset.glob("*.whl"))
        settings = dataclasses.replace(
            settings,
            config=CONFIG_FILE,
            contents={
                "checkpoint": info,
                "wheels": wheels,
                "missing_packages": missing,
                "source_checkpoint": checkpoint.resolve().name,
            },
        )
        settings.save(dataset)
        title = f"TRM bundle {settings.competition}"[:50]
        write_json(
            dataset / DATASET_METADATA,
            {"title": title, "id": ids.dataset, "licenses": [{"name": license_name}]},
            indent=2,
        )
        shutil.copy2(Path(__file__).with_name("script.py"), kernel / KERNEL_FILE)
        write_json(kernel / KERNEL_METADATA, kernel_metadata(ids, settings.competition, accelerator), indent=2)
    return {
        "dataset": str(out / "dataset"),
        "kernel": str(out / "kernel"),
        "dataset_id": ids.dataset,
        "kernel_id": ids.kernel,
        "wheels": wheels,
        "missing_packages": missing,
        **info,
    }
