"""Training batches for Sudoku and maze runs, built on the fly: the paper's recipe (a seeded subsample
of the train set, each puzzle with `num_aug` augmentations) without writing the ~1M augmented puzzles
the reference builder materialises.

As in the reference's data sets, a group is one original puzzle with its augmentations (index 0 = the
original): an epoch visits every group once in a random order and takes one of its puzzles at random,
one example each; an epoch's last incomplete batch is dropped. Augmentation a of group k is drawn from
default_rng([seed, k, a]), so the pool is fixed (as the reference's file) without being stored, and
batch g depends only on (train seed, g): resuming is skipping to g, on any number of ranks.

Sudoku augments with its group (augment.sudoku); mazes with the 8 dihedral transforms (num_aug 7:
augmentation a is dihedral a, the reference builder's --aug) or not at all (num_aug 0, its default).
A reference .npy train split already holds its groups and augmentations: its puzzles are used as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augment import dihedral, random_sudoku_transform
from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import atomic_write, read_json, write_json
from harness.core.puzzle_npy import is_reference_split, read_reference_split
from harness.core.puzzle_sources import load_puzzles
from harness.core.puzzles import Kind, PuzzleSet
from harness.data.loader import worker_batches
from harness.data.puzzle_encoding import IDENTIFIERS, encode_cells

FORMAT = "trm-eval-puzzle-layout/1"
RECORD = "puzzles.json"  # inside the run's layout folder


@dataclass(frozen=True, eq=False)
class PuzzleLayout:
    """What a Sudoku or maze run trains on, and the one puzzle identifier its checkpoints carry."""

    kind: Kind
    train: PuzzleSet  # the puzzles trained on (the subsample, or a reference split's every row), group by group
    group_offsets: np.ndarray  # (groups + 1,) int64: group k = train puzzles offsets[k]..offsets[k+1]
    num_aug: int  # augmentations per group drawn on the fly (0: none)
    seed: int
    eval_set: PuzzleSet
    record: dict[str, Any] = field(repr=False)  # layout/puzzles.json: what a resumed run must find again

    identifiers = IDENTIFIERS

    def __len__(self) -> int:
        return len(self.identifiers)

    @property
    def groups(self) -> int:
        return len(self.group_offsets) - 1

    @cached_property
    def identifiers_json(self) -> bytes:
        """identifiers.json as the reference's Sudoku and maze builders write it."""
        return json.dumps(self.identifiers).encode()

    @cached_property
    def hash(self) -> str:
        """sha256 of identifiers.json, as for ARC layouts: checkpoints record it."""
        return hashlib.sha256(self.identifiers_json).hexdigest()

    def augmented(self, puzzle: int, group: int, aug: int) -> tuple[np.ndarray, np.ndarray]:
        """(question, answer) of train puzzle `puzzle` under augmentation `aug` of its group (0: as it is)."""
        question, answer = self.train.questions[puzzle], self.train.answers[puzzle]
        if aug == 0:
            return question, answer
        if self.kind == "maze":
            side = self.train.side
            q, a = (dihedral(g.reshape(side, side), aug).ravel() for g in (question, answer))
            return q, a
        box = self.train.box
        assert box is not None
        transform = random_sudoku_transform(np.random.default_rng([self.seed, group, aug]), box)
        return transform.apply(question), transform.apply(answer)

    def save(self, directory: Path) -> None:
        atomic_write(directory / rundir.IDENTIFIERS, lambda fh: fh.write(self.identifiers_json), mode="wb")
        write_json(directory / RECORD, self.record, indent=1)


def _subsample(puzzles: PuzzleSet, size: int, seed: int) -> np.ndarray:
    """The puzzles a run trains on, in set order: `size` drawn without replacement (0: all)."""
    if not size:
        return np.arange(len(puzzles))
    if size > len(puzzles):
        raise DataError(f"{puzzles.name}: subsample {size} is more than its {len(puzzles)} puzzles")
    return np.sort(np.random.default_rng([seed, 0]).choice(len(puzzles), size=size, replace=False))


def build_puzzle_layout(
    kind: Kind, train_spec: str, eval_spec: str, side: int, subsample: int, num_aug: int, seed: int, directory: Path
) -> PuzzleLayout:
    """Load the sets, draw the subsample and write directory/puzzles.json; a run resumed into the same
    folder must find the same data (set hashes, subsample), else a DataError says what changed."""
    if is_reference_split(train_spec):
        full, offsets = read_reference_split(train_spec, kind)
        if (subsample or num_aug) and len(full) != len(offsets) - 1:
            raise DataError(
                f"{train_spec}: a reference split, already subsampled and augmented "
                f"({len(offsets) - 1} groups of {len(full)} puzzles); set data.subsample = 0 and "
                f"data.num_aug = 0 to train on it as the reference did"
            )
    else:
        full, offsets = load_puzzles(train_spec, kind), None
    eval_set = load_puzzles(eval_spec, kind)
    for role, puzzles in (("train_set", full), ("eval_set", eval_set)):
        if puzzles.side != side:
            raise DataError(
                f"{puzzles.name}: {side}x{side} is the run's canvas, but this {role} is "
                f"{puzzles.side}x{puzzles.side}; set data.canvas = {puzzles.side}"
            )
    chosen = _subsample(full, subsample, seed)
    train = full.subset(chosen, name=full.name) if subsample else full
    if offsets is None or subsample:
        offsets = np.arange(len(train) + 1, dtype=np.int64)
    record = {
        "format": FORMAT,
        "benchmark": kind,
        "train_set": train_spec,
        "train_hash": full.hash,
        "subsample": subsample,
        "subsample_sha256": hashlib.sha256(chosen.astype(np.int64).tobytes()).hexdigest(),
        "groups": len(offsets) - 1,
        "puzzles": len(train),
        "num_aug": num_aug,
        "seed": seed,
        "augmentation": "none" if not num_aug else "dihedral (all 8)" if kind == "maze" else "sudoku group",
        "eval_set": eval_spec,
        "eval_hash": eval_set.hash,
    }
    saved = directory / RECORD
    if saved.is_file():
        before = read_json(saved)
        changed = [k for k in record if not isinstance(before, dict) or before.get(k) != record[k]]
        if changed:
            raise DataError(
                f"{saved}: this run was started on other data ({', '.join(changed)} differ); "
                f"resume it with the data it started on, or start a new run"
            )
    layout = PuzzleLayout(kind, train, offsets, num_aug, seed, eval_set, record)
    layout.save(directory)
    return layout


class PuzzleSampler:
    """Which (puzzle, augmentation) pairs make up global batch g: a pure function of seed and g.

    Every epoch has the same number of batches (groups // global batch), so position is arithmetic."""

    def __init__(self, layout: PuzzleLayout, global_batch: int, seed: int) -> None:
        self.layout, self.global_batch, self.seed = layout, global_batch, seed
        self.per_epoch = layout.groups // global_batch
        if not self.per_epoch:
            raise DataError(
                f"{layout.train.name}: {layout.groups} puzzles (groups) are fewer than one global batch "
                f"of {global_batch}: lower train.global_batch_size"
            )

    def epoch_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(group, puzzle, augmentation) of every example the epoch's full batches take, in order."""
        rng = np.random.default_rng([self.seed, epoch, 0])
        offsets = self.layout.group_offsets
        groups = rng.permutation(self.layout.groups)[: self.per_epoch * self.global_batch]
        sizes = offsets[groups + 1] - offsets[groups]
        puzzles = offsets[groups] + (rng.random(len(groups)) * sizes).astype(np.int64)
        augs = rng.integers(0, self.layout.num_aug + 1, len(groups))
        return groups, puzzles, augs

    def position(self, g: int) -> tuple[int, int]:
        return divmod(g, self.per_epoch)

    def epoch_start(self, g: int) -> tuple[int, int]:
        """(epoch of global batch g, global index of that epoch's first batch): saved in checkpoints."""
        epoch = g // self.per_epoch
        return epoch, epoch * self.per_epoch

    def start_at(self, epoch: int, first_batch: int) -> None:
        """A checkpoint's data position: nothing to restore (positions are arithmetic), only checked."""
        if first_batch != epoch * self.per_epoch:
            raise DataError(
                f"the checkpoint's data position (epoch {epoch} at batch {first_batch}) does not fit "
                f"{self.per_epoch} batches per epoch: it was saved with another batch size or data"
            )

    def examples_per_epoch(self) -> float:
        """One example per group, as the reference counts (its epoch = total_groups x mean_puzzle_examples)."""
        return float(self.layout.groups)


class PuzzleBatches(torch.utils.data.IterableDataset):
    """Endless stream of this rank's slices of global batches start, start+1, ... (worker w of W builds
    batches w, w + W, ...; the DataLoader's round-robin yields them in order)."""

    def __init__(self, sampler: PuzzleSampler, rank: int, world_size: int, start: int = 0) -> None:
        super().__init__()
        if sampler.global_batch % world_size:
            raise DataError(f"global batch {sampler.global_batch} is not divisible by {world_size} ranks")
        self.sampler, self.rank, self.world_size, self.start = sampler, rank, world_size, start

    def batch(self, g: int) -> dict[str, torch.Tensor]:
        epoch, index = self.sampler.position(g)
        local = self.sampler.global_batch // self.world_size
        first = index * self.sampler.global_batch + self.rank * local
        groups, puzzles, augs = (a[first : first + local] for a in self.sampler.epoch_plan(epoch))
        pairs = [self.sampler.layout.augmented(int(p), int(k), int(a)) for k, p, a in zip(groups, puzzles, augs)]
        inputs = encode_cells(np.stack([q for q, _ in pairs])).astype(np.int32)
        labels = encode_cells(np.stack([a for _, a in pairs])).astype(np.int32)  # no PAD: every cell is scored
        return {
            "inputs": torch.from_numpy(inputs),
            "labels": torch.from_numpy(labels),
            "puzzle_identifiers": torch.zeros(local, dtype=torch.int32),
            "index": torch.tensor(g),
        }

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return worker_batches(self.batch, self.start)
