"""Shared test data (plain functions and constants; fixtures live in conftest.py). Test modules
import from here, never from one another."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models import TRM, TRMConfig

# A tiny training run: the ARC-AGI-1 tasks whose grids fit in 3x3, on a 4x4 canvas; hidden size 32, 6 steps.
TINY = """
[data]
subsets = ["small=arc-agi-1/training+arc-agi-1/evaluation"]
test_set = "small"
num_aug = 3
seed = 42
canvas = 4
max_side = 3

[model]
hidden_size = 32
num_heads = 2
L_layers = 1
H_cycles = 2
L_cycles = 2
puzzle_emb_ndim = 32
puzzle_emb_len = 1
halt_max_steps = 3
halt_exploration_prob = 0.0
forward_dtype = "float32"

[train]
global_batch_size = 8
max_steps = 6
optimizer = "adam_atan2"
lr = 1e-3
lr_warmup_steps = 2
ema = true
ema_rate = 0.9
log_every = 1
checkpoint_every = 3
keep_last = 5
"""


def make_task(test_outputs: bool = True) -> dict:
    task = {
        "train": [
            {"input": [[1, 2], [1, 3]], "output": [[2, 1], [3, 1]]},
            {"input": [[5, 0, 6]], "output": [[6, 0, 5]]},
        ],
        "test": [{"input": [[7, 8, 9], [1, 1, 2]]}, {"input": [[3]]}],
    }
    if test_outputs:
        task["test"][0]["output"] = [[9, 8, 7], [2, 1, 1]]
        task["test"][1]["output"] = [[3]]
    return task


# Reference-parity checks shared by the TRM and HRM fixtures (../shared/fixtures/official-*/attn-tiny).
REF_PREFIX = "_orig_mod.model."
PUZZLE_ROWS_GRAD = "puzzle_emb.local_weights(rows in batch order)"


def assert_eval_steps_match(model, batch: dict, expected_steps: list, steps: int) -> None:
    """Every eval ACT step: logits and q logits within 1e-4 absolute, identical preds."""
    import torch

    ours_steps = model.evaluate(batch)
    assert len(ours_steps) == len(expected_steps) == steps
    for ours, ref in zip(ours_steps, expected_steps):
        for key in ("logits", "q_halt_logits", "q_continue_logits"):
            assert ours[key].shape == ref[key].shape
            assert (ours[key] - ref[key]).abs().max().item() <= 1e-4, key
        assert torch.equal(ours["preds"], ref["preds"])


def train_step_outputs(model, batch: dict):
    """One training-mode ACT step with gradients: (outputs, loss, metrics), the model left in eval mode."""
    from models import act_loss

    model.train()
    model.zero_grad()
    try:
        carry, outputs = model(model.initial_carry(batch), batch)
        loss, metrics = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps)
        loss.backward()
    finally:
        model.eval()
    return outputs, loss, metrics


def assert_loss_and_gradients_match(model, loss, expected: dict) -> None:
    """The training-step loss within 1e-6 relative; each gradient within 1e-4 of its largest entry."""
    ref_loss = expected["train_loss"].item()
    assert abs(loss.item() - ref_loss) <= 1e-6 * abs(ref_loss)
    grads = {REF_PREFIX + name: p.grad for name, p in model.named_parameters()}
    grads[PUZZLE_ROWS_GRAD] = model.inner.puzzle_emb.rows.grad
    assert grads.keys() == expected["train_grads"].keys()
    for name, ref in expected["train_grads"].items():
        ours = grads[name]
        assert ours.shape == ref.shape, name
        scale = ref.abs().max().item()
        assert scale > 0, name
        assert (ours - ref).abs().max().item() <= 1e-4 * scale, name


# A tiny Sudoku run: 64 of the generated 6x6 training puzzles with 10 augmentations each, a TRM-MLP of hidden size 32.
TINY_SUDOKU = """
[data]
benchmark = "sudoku"
train_set = "sudoku-6x6/train"
eval_set = "sudoku-6x6/test"
subsample = 64
canvas = 6
num_aug = 10
seed = 1

[model]
hidden_size = 32
num_heads = 2
expansion = 2.0
L_layers = 1
H_cycles = 1
L_cycles = 2
puzzle_emb_ndim = 32
puzzle_emb_len = 1
mlp_t = true
pos_encodings = "none"
halt_max_steps = 2
halt_exploration_prob = 0.0
forward_dtype = "float32"

[train]
global_batch_size = 16
max_steps = 6
optimizer = "adamw"
lr = 3e-3
lr_warmup_steps = 1
puzzle_emb_lr = 3e-3
ema = false
log_every = 1
checkpoint_every = 3
keep_last = 5
"""


def write_reference_split(puzzles, folder: Path, group_size: int = 1) -> Path:
    """A split as the reference builders write it (tokens = cells + 1), each group `group_size` puzzles."""
    folder.mkdir(parents=True)
    n = len(puzzles)
    arrays = {
        "inputs": puzzles.questions + 1,
        "labels": puzzles.answers + 1,
        "puzzle_indices": np.arange(n + 1),
        "group_indices": np.arange(0, n + 1, group_size),
        "puzzle_identifiers": np.zeros(n, np.int32),
    }
    for key, value in arrays.items():
        np.save(folder / f"all__{key}.npy", value)
    vocab = 6 if puzzles.kind == "maze" else puzzles.side + 2  # PAD + every cell value, as the builders write
    meta = {
        "seq_len": puzzles.side**2,
        "vocab_size": vocab,
        "pad_id": 0,
        "ignore_label_id": 0,
        "blank_identifier_id": 0,
        "num_puzzle_identifiers": 1,
    }
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


# A tiny TRM in the reference's config keys (architecture only): hidden 16, one layer, two ACT steps.
TINY_REFERENCE_ARCH = {
    "puzzle_emb_ndim": 16,
    "H_cycles": 1,
    "L_cycles": 1,
    "H_layers": 0,
    "L_layers": 1,
    "hidden_size": 16,
    "expansion": 2,
    "num_heads": 2,
    "pos_encodings": "rope",
    "halt_max_steps": 2,
    "halt_exploration_prob": 0.1,
    "forward_dtype": "float32",
    "puzzle_emb_len": 1,
}


def tiny_trm_config(n_ids: int = 1, seq_len: int = 16, halt_max_steps: int = 4, **changes: Any) -> TRMConfig:
    """The small float32 TRM the engine, sweep and halting tests run (hidden 32, H 2 x L 2, 1 layer)."""
    base = dict(
        num_puzzle_identifiers=n_ids,
        seq_len=seq_len,
        hidden_size=32,
        num_heads=2,
        H_cycles=2,
        L_cycles=2,
        L_layers=1,
        puzzle_emb_ndim=32,
        puzzle_emb_len=1,
        halt_max_steps=halt_max_steps,
        forward_dtype="float32",
    )
    return TRMConfig(**(base | changes))


def random_trm(config: TRMConfig, seed: int = 0, puzzle_embedding: bool = True) -> TRM:
    """A seeded random TRM in eval mode with non-zero puzzle embeddings (unless told not) and a q head
    loud enough that q_halt crosses 0 at various steps."""
    torch.manual_seed(seed)
    model = TRM(config)
    with torch.no_grad():
        if puzzle_embedding:
            model.inner.puzzle_emb.weights.normal_()
        model.inner.q_head.weight.normal_(std=0.5)
        model.inner.q_head.bias.zero_()
    return model.eval()
