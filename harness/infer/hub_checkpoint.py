"""A published checkpoint in one step: `hf://OWNER/REPO[/SUBFOLDER][@REV]` or a registry short name ->
download (harness.core.hub) -> the state dict and config found in the folder -> the puzzle layout
its config names, rebuilt with the reference builder's RNG -> our checkpoint, layout hash recorded.

Both the rebuilt layout and the imported checkpoint are kept in trm-eval's cache (hub.cache_dir()),
keyed by the recipe and by the state dict's sha256, so a second evaluation starts at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.hub import HubAddress, cache_dir, download_folder, is_hub_spec, parse_address, snapshot_commit, verify
from harness.core.io import read_json, write_json
from harness.infer.checkpoints import import_reference, read_reference_config
from harness.infer.published import Published, Recipe, lookup

Echo = Callable[[str], None]
CONFIG_NAMES = ("all_config.yaml", "all_config.yml", "all_config.json", "config.yaml", "config.json")
DATASET_JSON = "dataset.json"  # the reference data set's seq_len / vocab_size / num_puzzle_identifiers
_STATE_DICT = re.compile(r"step_(\d+)(\.pt)?|checkpoint|.+\.(pt|pth|bin)")
_ARC_DATA = re.compile(r"arc(?P<version>[12])(?P<concept>concept)?-aug-(?P<num_aug>\d+)")
ARC_SUBSETS = {
    "1": ("training=arc-agi-1/training", "evaluation=arc-agi-1/evaluation"),
    "2": ("training2=arc-agi-2-kaggle/training", "evaluation2=arc-agi-2-kaggle/evaluation"),
}
PUZZLE_DATASETS = {"sudoku": {"seq_len": 81, "vocab_size": 11}, "maze": {"seq_len": 900, "vocab_size": 6}}


@dataclass(frozen=True)
class Pulled:
    """A downloaded, verified checkpoint folder."""

    address: HubAddress
    entry: Published | None
    folder: Path
    state_dict: Path | None  # None when the folder is already our checkpoint format
    configs: tuple[Path, ...]
    sha256: str
    commit: str | None


def is_remote(spec: str) -> bool:
    """Whether a CHECKPOINT argument is a Hub address or a registry short name (not a local folder)."""
    return is_hub_spec(spec) or (not Path(spec).exists() and lookup(spec) is not None)


def pull(spec: str) -> Pulled:
    """Download the checkpoint folder `spec` names and check the state dict's hash."""
    entry = lookup(spec)
    address = parse_address(entry.address if entry else spec)
    folder = download_folder(address)
    key = f"{address.repo_type}:{address.repo_id}/{address.path}".rstrip("/")
    if (folder / rundir.MANIFEST).is_file():  # pushed by `trm-eval checkpoint push`: our format already
        weights = folder / rundir.WEIGHTS
        digest = verify(weights, f"{key}/{rundir.WEIGHTS}", entry.sha256 if entry else None)
        return Pulled(address, entry, folder, None, (), digest, snapshot_commit(weights))
    state = _find_state_dict(folder, entry.state_dict if entry else None, address)
    configs = [folder / n for n in CONFIG_NAMES if (folder / n).is_file()][:1]
    if not configs:
        raise DataError(f"{address}: no run config ({' or '.join(CONFIG_NAMES[:3])}) beside {state.name}")
    if (folder / DATASET_JSON).is_file():
        configs.append(folder / DATASET_JSON)
    digest = verify(state, f"{key}/{state.name}", entry.sha256 if entry else None)
    return Pulled(address, entry, folder, state, tuple(configs), digest, snapshot_commit(state))


def _find_state_dict(folder: Path, named: str | None, address: HubAddress) -> Path:
    if named:
        if not (folder / named).is_file():
            raise DataError(f"{address}: the registry's state dict {named} is not in the folder")
        return folder / named
    found = sorted(p for p in folder.iterdir() if p.is_file() and _STATE_DICT.fullmatch(p.name))
    steps = [p for p in found if p.name.startswith("step_")]
    if steps:
        return max(steps, key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise DataError(f"{address}: expected one state dict (step_N, checkpoint or *.pt) in the folder, found {names}")
    return found[0]


def infer_recipe(config: dict[str, Any], entry: Published | None, where: str, echo: Echo) -> Recipe:
    """The layout recipe: the registry's when it states one, else read from the config's data path
    (`data/arc1concept-aug-1000` -> ARC-AGI-1 training + evaluation + ConceptARC, num_aug 1000, seed 42,
    the reference builder's default). Printed either way: a wrong layout silently scores near zero."""
    paths = config.get("data_paths") or config.get("data_path") or []
    paths = [paths] if isinstance(paths, str) else [str(p) for p in paths]
    inferred = None
    for path in paths:
        name = Path(path).name
        match = _ARC_DATA.fullmatch(name)
        if match:
            concept = ("concept=conceptarc",) if match["concept"] else ()
            inferred = Recipe(
                subsets=ARC_SUBSETS[match["version"]] + concept,
                test_set="evaluation" if match["version"] == "1" else "evaluation2",
                num_aug=int(match["num_aug"]),
            )
        elif any(kind in name for kind in PUZZLE_DATASETS):
            inferred = Recipe(puzzles=True)
    if entry is not None and entry.recipe != Recipe():
        if inferred is not None and replace(entry.recipe, identifiers=None) != inferred:
            echo(f"note: {where} names data {', '.join(paths)}; using the registry's recipe for {entry.name}")
        echo(f"layout of {entry.name} (registry): {entry.recipe.describe()}")
        return entry.recipe
    if inferred is None:
        raise DataError(
            f"{where}: cannot tell the puzzle layout from data_paths {paths or 'absent'}; "
            f"pass --identifiers (the identifiers.json it was trained with)"
        )
    echo(f"layout inferred from data_paths {', '.join(paths)}: {inferred.describe()}")
    return inferred


def build_recipe_layout(recipe: Recipe, concept: Path | None, echo: Echo) -> Path:
    """The folder of the layout `recipe` describes (identifiers.json inside), built once and cached."""
    from harness.data.conceptarc import concept_challenges
    from harness.data.layout import build_layout, load_layout
    from harness.data.subsets import load_subset, subset_name, subset_source

    subsets = [
        f"{subset_name(s)}={concept_challenges(concept)}" if subset_source(s) == "conceptarc" else s
        for s in recipe.subsets
    ]
    sources = [
        hashlib.sha256(Path(subset_source(s)).read_bytes()).hexdigest()
        if Path(subset_source(s)).is_file()
        else subset_source(s)
        for s in subsets
    ]
    key = hashlib.sha256(json.dumps([sources, recipe.test_set, recipe.num_aug, recipe.seed]).encode()).hexdigest()
    folder = cache_dir() / "layouts" / key[:24]
    if (folder / rundir.LAYOUT_MANIFEST).is_file():
        layout = load_layout(folder)
        echo(f"layout: {len(layout):,} identifiers (sha256 {layout.hash[:16]}), cached in {folder}")
    else:
        start = time.perf_counter()
        raw = [(subset_name(s), {t.id: t.to_json() for t in load_subset(s, 30)}) for s in subsets]
        layout = build_layout(raw, recipe.test_set, recipe.num_aug, recipe.seed)
        layout.save(folder)
        echo(
            f"layout: {len(layout):,} identifiers (sha256 {layout.hash[:16]}), built in "
            f"{time.perf_counter() - start:.1f} s -> {folder}"
        )
    if recipe.identifiers is not None and len(layout) != recipe.identifiers:
        raise DataError(
            f"{folder}: the rebuilt layout has {len(layout):,} identifiers, the published one "
            f"{recipe.identifiers:,}: the inputs differ from the reference's"
        )
    return folder


def import_pulled(
    pulled: Pulled,
    echo: Echo,
    *,
    concept: Path | None = None,
    identifiers: Path | None = None,
    out: Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Our checkpoint of a pulled folder, with its layout recorded: written to `out`, or to the cache
    (reused when there already)."""
    if pulled.state_dict is None:
        return pulled.folder
    config: dict[str, Any] = {}
    for path in pulled.configs:
        config.update(read_reference_config(path))
    arch = config.get("arch")
    nested = arch if isinstance(arch, dict) else {}
    layout_dir: Path | None = None
    extra = dict(pulled.entry.dataset) if pulled.entry else {}
    if identifiers is None:
        recipe = infer_recipe(config, pulled.entry, str(pulled.configs[0]), echo)
        if not recipe.puzzles:
            layout_dir = build_recipe_layout(recipe, concept, echo)
            identifiers = layout_dir / rundir.IDENTIFIERS
        else:
            named = json.dumps([config.get("data_path"), config.get("data_paths")])
            kind = next((k for k in PUZZLE_DATASETS if k in named), None)
            extra = {**PUZZLE_DATASETS.get(kind or "", {}), "num_puzzle_identifiers": 1, **extra}
    elif identifiers.is_dir():
        identifiers = identifiers / rundir.IDENTIFIERS
    if identifiers is not None and not any(k in config or k in nested for k in ("seq_len", "vocab_size")):
        count = len(read_json(identifiers))
        extra = {"seq_len": 900, "vocab_size": 12, "num_puzzle_identifiers": count, **extra}
    if out is None:
        tag = hashlib.sha256(identifiers.read_bytes()).hexdigest()[:12] if identifiers else "no-layout"
        out = cache_dir() / "checkpoints" / f"{pulled.sha256[:16]}-{tag}"
        if (out / rundir.MANIFEST).is_file() and (identifiers is None or (out / rundir.IDENTIFIERS).is_file()):
            echo(f"checkpoint: imported before, {out}")
            return out
        overwrite = True
    with tempfile.TemporaryDirectory() as scratch:
        paths = list(pulled.configs[:1])
        if extra:  # what the repository's dataset.json would hold; the repository's own file wins
            paths.append(write_json(Path(scratch) / DATASET_JSON, extra))
        paths += list(pulled.configs[1:])
        import_reference(pulled.state_dict, paths, out, identifiers_path=identifiers, overwrite=overwrite)
    if identifiers is not None:  # beside the weights, so the folder evaluates on its own
        shutil.copyfile(identifiers, out / rundir.IDENTIFIERS)
    echo(f"checkpoint: {pulled.address} ({pulled.state_dict.name}, sha256 {pulled.sha256[:16]}) imported -> {out}")
    return out


@dataclass(frozen=True)
class Resolved:
    """A CHECKPOINT argument made local: the folder to evaluate and what run.json should say of it."""

    path: Path
    published: rundir.PublishedRecord | None = None


def resolve_checkpoint(
    spec: str, echo: Echo, *, concept: Path | None = None, identifiers: Path | None = None
) -> Resolved:
    """A local checkpoint folder as it is; a Hub address or registry name pulled and imported."""
    if not is_remote(spec):
        if not Path(spec).is_dir():
            raise DataError(
                f"{spec}: not a checkpoint folder, an hf:// address or a known checkpoint (trm-eval checkpoint list)"
            )
        return Resolved(Path(spec))
    pulled = pull(spec)
    path = import_pulled(pulled, echo, concept=concept, identifiers=identifiers)
    entry = pulled.entry
    record: rundir.PublishedRecord = {
        "name": entry.name if entry else None,
        "address": str(pulled.address),
        "commit": pulled.commit,
        "sha256": pulled.sha256,
        "scores": [dict(s) for s in entry.scores] if entry else [],  # type: ignore[misc]
    }
    return Resolved(path, record)


def record_published(run_dir: Path, published: rundir.PublishedRecord) -> None:
    """Add what the checkpoint's authors published (and where it came from) to the run's run.json."""
    path = run_dir / rundir.EVALUATION_RECORD
    record = read_json(path)
    record["published"] = published
    write_json(path, record, indent=2)
