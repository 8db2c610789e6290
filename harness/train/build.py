"""What a run starts from: its data and layout (ARC tasks or Sudoku/Maze puzzles, rebuilt or reloaded
from the run folder), and the model of the config's family, fresh or initialised from a checkpoint
for fine-tuning."""

from __future__ import annotations

from pathlib import Path

import torch

from harness.config import RunConfig, puzzle_vocab
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.puzzles import Kind
from harness.core.tasks import TaskSet
from harness.data.layout import Layout, build_layout, load_layout
from harness.data.puzzle_loader import PuzzleLayout, build_puzzle_layout
from harness.data.subsets import load_subset, subset_name
from harness.infer.checkpoints import find_identifiers, load_checkpoint
from models import FAMILIES, ACTModel


def prepare_data(cfg: RunConfig, run_dir: Path) -> tuple[dict[str, TaskSet], Layout]:
    """Load the subsets and build (or reload) the run's layout, saved in run_dir/layout."""
    subsets = {subset_name(s): load_subset(s, cfg.data.max_side) for s in cfg.data.subsets}
    saved = run_dir / rundir.LAYOUT
    if (saved / rundir.LAYOUT_MANIFEST).exists():
        layout = load_layout(saved)
    else:
        raw = [(name, {t.id: t.to_json() for t in tasks}) for name, tasks in subsets.items()]
        layout = build_layout(raw, cfg.data.test_set, cfg.data.num_aug, cfg.data.seed)
        layout.save(saved)
    return subsets, layout


def prepare_puzzles(cfg: RunConfig, run_dir: Path) -> PuzzleLayout:
    """A Sudoku or maze run's data: its sets and subsample, recorded in (and checked against) run_dir/layout."""
    d = cfg.data
    kind: Kind = "maze" if d.benchmark == "maze" else "sudoku"
    return build_puzzle_layout(
        kind, d.train_set, d.eval_set, d.canvas, d.subsample, d.num_aug, d.seed, run_dir / rundir.LAYOUT
    )


def build_model(cfg: RunConfig, layout: Layout | PuzzleLayout, device: torch.device) -> ACTModel:
    """The [model] family's network for this layout and canvas, seeded identically on every rank."""
    fields = dict(cfg.model)
    family = FAMILIES[fields.pop("family", "trm")]
    fields["num_puzzle_identifiers"] = len(layout)
    fields["seq_len"] = cfg.data.canvas**2
    fields |= puzzle_vocab(cfg.data)
    torch.manual_seed(cfg.train.seed)  # every rank builds the same initial weights
    with torch.device(device):
        return family.build(family.config_class(**fields))


def init_from_checkpoint(model: ACTModel, path: Path, layout: Layout | PuzzleLayout) -> int:
    """Fine-tuning: network weights from `path`; puzzle rows by name where the old layout has them,
    the mean old embedding elsewhere. Returns how many rows were new."""
    old_ids = find_identifiers(path, None)
    old, _ = load_checkpoint(path, identifiers=old_ids)
    state = old.state_dict()
    table_key = "inner.puzzle_emb.weights"
    old_table = state.pop(table_key)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {table_key}:
        raise DataError(f"{path}: its network does not fit this config (missing {missing}, unexpected {unexpected})")
    row_of = {name: i for i, name in enumerate(old_ids)}
    new = model.inner.puzzle_emb.weights
    with torch.no_grad():
        new.copy_(old_table.mean(0, keepdim=True).expand_as(new))
        hits = [(i, row_of[n]) for i, n in enumerate(layout.identifiers) if n in row_of]
        if hits:
            dst, src = (torch.tensor(x) for x in zip(*hits))
            new[dst] = old_table[src].to(new)
    return len(layout) - len(hits)
