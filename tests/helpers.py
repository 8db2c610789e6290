"""Shared test data (plain functions and constants; fixtures live in conftest.py). Test modules
import from here, never from one another."""

from __future__ import annotations

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
