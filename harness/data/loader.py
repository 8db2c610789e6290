"""Training batches built on the fly from a layout: no materialised dataset.

Sampling follows the reference: an epoch visits every group (task) once in a random order;
for each it picks one of the group's puzzles (the original or an augmentation) and takes all of
that puzzle's train-split examples, in random order, until the global batch is full; an epoch's
last, incomplete batch is dropped. Each example is encoded as the reference encodes it, with a
random translation on the canvas, except one example per puzzle that stays at the origin.

Everything random is drawn from generators keyed by (seed, epoch) and (seed, epoch, batch), so
batch g is the same on every rank, worker count and restart: resuming is skipping to g.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from augment import Transform
from harness.core.errors import DataError
from harness.core.tasks import TaskSet
from harness.data.encoding import PAD, encode_grid
from harness.data.layout import Layout

IGNORE_LABEL = -100


def train_pairs(layout: Layout, subsets: Mapping[str, TaskSet]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per layout task (in layout order) the grids of its train-split examples."""
    result = []
    for entry in layout.tasks:
        task = subsets[entry.subset][entry.task_id]
        pairs = []
        for part, i in entry.train_examples:
            if part == "train":
                pairs.append(task.train[i])
            else:
                if task.test_outputs is None:
                    raise DataError(f"task {task.id} of {entry.subset}: test outputs are needed to train on them")
                pairs.append((task.test_inputs[i], task.test_outputs[i]))
        result.append(pairs)
    return result


@dataclass(frozen=True)
class Example:
    row: int  # puzzle identifier
    task: int  # index into layout.tasks
    example: int  # index into that task's train pairs
    translate: bool


class BatchSampler:
    """Which examples make up global batch g (pure function of seed, epoch, position)."""

    def __init__(
        self, layout: Layout, pairs: list[list[tuple[np.ndarray, np.ndarray]]], global_batch: int, seed: int
    ) -> None:
        self.layout, self.pairs, self.global_batch, self.seed = layout, pairs, global_batch, seed
        self.groups = [k for k in range(len(layout.tasks)) if pairs[k]]
        if not self.groups:
            raise DataError("the layout has no training examples")
        self._plans: dict[int, list[list[Example]]] = {}
        # Epoch _first_epoch + i begins at global batch _starts[i]; the list grows as batches are asked for.
        self._first_epoch, self._starts = 0, [0]

    def epoch_plan(self, epoch: int) -> list[list[Example]]:
        """The full batches of an epoch."""
        if epoch not in self._plans:
            rng = np.random.default_rng([self.seed, epoch, 0])
            batches: list[list[Example]] = []
            current: list[Example] = []
            for k in rng.permutation(self.groups):
                rows = self.layout.group(int(k))
                row = int(rows[rng.integers(len(rows))])
                n = len(self.pairs[k])
                order = rng.permutation(n)[: self.global_batch - len(current)]
                origin = int(rng.integers(n))  # the example left untranslated
                current += [Example(row, int(k), int(i), int(i) != origin) for i in order]
                if len(current) == self.global_batch:
                    batches.append(current)
                    current = []
            if not batches:
                raise DataError(f"an epoch has fewer than {self.global_batch} examples: lower the global batch size")
            self._plans = {epoch: batches}  # keep one epoch: plans are cheap to redo
        return self._plans[epoch]

    def position(self, g: int) -> tuple[int, int]:
        """(epoch, batch within epoch) of global batch g.

        Epoch lengths vary, so each epoch is planned once, in order, and its start remembered: a
        lookup is a bisection, not a replay of every earlier epoch (which made long runs slow down).
        """
        if g < self._starts[0]:
            raise ValueError(f"batch {g} comes before epoch {self._first_epoch}, where this sampler was started")
        while self._starts[-1] <= g:
            self._starts.append(self._starts[-1] + len(self.epoch_plan(self._first_epoch + len(self._starts) - 1)))
        i = bisect.bisect_right(self._starts, g) - 1
        return self._first_epoch + i, g - self._starts[i]

    def epoch_start(self, g: int) -> tuple[int, int]:
        """(epoch of global batch g, global index of that epoch's first batch): saved in checkpoints."""
        epoch, index = self.position(g)
        return epoch, g - index

    def start_at(self, epoch: int, first_batch: int) -> None:
        """Continue from a checkpoint's `epoch_start` without planning the epochs before it again
        (the paper's run has ~100,000 epochs of ~15 ms each to plan)."""
        self._first_epoch, self._starts = epoch, [first_batch]

    def examples_per_epoch(self) -> float:
        """Groups x mean examples per puzzle, the mean taken over puzzles as the reference takes it
        (so the step count derived from epochs is the reference's)."""
        puzzles = np.array([len(self.layout.group(k)) for k in self.groups])
        examples = np.array([len(self.pairs[k]) for k in self.groups])
        return float((puzzles * examples).sum() / puzzles.sum() * len(self.groups))


def encode_examples(
    examples: list[Example],
    layout: Layout,
    pairs: list[list[tuple[np.ndarray, np.ndarray]]],
    canvas: int,
    rng: np.random.Generator,
    translate: bool,
) -> dict[str, np.ndarray]:
    """Encode examples in their puzzle's frame: inputs, labels (PAD -> ignored), identifiers."""
    n = len(examples)
    inputs = np.empty((n, canvas * canvas), np.int32)
    labels = np.empty((n, canvas * canvas), np.int32)
    for j, ex in enumerate(examples):
        transform = Transform(int(layout.tids[ex.row]), tuple(int(c) for c in layout.colors[ex.row]))
        inp, out = (transform.apply(g) for g in pairs[ex.task][ex.example])
        h, w = max(inp.shape[0], out.shape[0]), max(inp.shape[1], out.shape[1])
        r0 = int(rng.integers(0, canvas - h + 1)) if translate else 0
        c0 = int(rng.integers(0, canvas - w + 1)) if translate else 0
        if not (translate and ex.translate):
            r0 = c0 = 0
        inputs[j] = encode_grid(inp, canvas, (r0, c0))
        labels[j] = encode_grid(out, canvas, (r0, c0))
    labels[labels == PAD] = IGNORE_LABEL
    ids = np.array([ex.row for ex in examples], np.int32)
    return {"inputs": inputs, "labels": labels, "puzzle_identifiers": ids}


class TrainBatches(torch.utils.data.IterableDataset):
    """Endless stream of this rank's slices of global batches start, start+1, ... .

    With DataLoader workers, worker w builds batches g = w, w + W, ...; the DataLoader's
    round-robin then yields them in order.
    """

    def __init__(
        self, sampler: BatchSampler, canvas: int, rank: int, world_size: int, start: int = 0, translate: bool = True
    ) -> None:
        super().__init__()
        if sampler.global_batch % world_size:
            raise DataError(f"global batch {sampler.global_batch} is not divisible by {world_size} ranks")
        self.sampler, self.canvas, self.rank, self.world_size = sampler, canvas, rank, world_size
        self.start, self.translate = start, translate

    def batch(self, g: int) -> dict[str, torch.Tensor]:
        epoch, index = self.sampler.position(g)
        examples = self.sampler.epoch_plan(epoch)[index]
        local = len(examples) // self.world_size
        rng = np.random.default_rng([self.sampler.seed, epoch, index, 1])
        # Draw the whole batch's translations so that a rank's slice does not depend on the rank count.
        encoded = encode_examples(examples, self.sampler.layout, self.sampler.pairs, self.canvas, rng, self.translate)
        part = slice(self.rank * local, (self.rank + 1) * local)
        return {k: torch.from_numpy(v[part]) for k, v in encoded.items()} | {"index": torch.tensor(g)}

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return worker_batches(self.batch, self.start)


def worker_batches(batch: Callable[[int], dict[str, torch.Tensor]], start: int) -> Iterator[dict[str, torch.Tensor]]:
    """Batches start, start+1, ... split round-robin over DataLoader workers: batch g is the same
    whatever the worker count, which is what makes resuming exact."""
    info = torch.utils.data.get_worker_info()
    worker, workers = (info.id, info.num_workers) if info else (0, 1)
    g = start + worker
    while True:
        yield batch(g)
        g += workers
