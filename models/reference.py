"""Translate state dicts between the reference code's key names and ours.

The reference saves `torch.compile(ACTLossHead(model)).state_dict()`, so its keys read
`_orig_mod.model.inner.<name>`; ours read `inner.<name>` with the same <name>. This holds for
every model family (TRM, HRM): which tensors to expect follows from the config's type.
"""

from __future__ import annotations

import torch

from models.core import ModelConfig
from models.families import family_of

COMPILED_PREFIX = "_orig_mod."
LOSS_HEAD_PREFIX = "model."
OURS_PREFIX = "inner."


def expected_tensors(config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our state-dict entries for `config` (TRM or HRM) as meta tensors (shapes and dtypes, no memory)."""
    with torch.device("meta"):
        return family_of(config).model_class(config).state_dict()


def from_reference(state_dict: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Rename a reference state dict to our keys, check it against `config`, cast to our dtypes.

    Accepts keys with or without the `_orig_mod.` (compiled) and `model.` (loss head) prefixes.
    Raises ValueError naming every missing, unexpected or wrongly shaped key.
    """
    expected = expected_tensors(config)
    renamed: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in state_dict.items():
        name = key.removeprefix(COMPILED_PREFIX).removeprefix(LOSS_HEAD_PREFIX)
        if name not in expected or not isinstance(value, torch.Tensor):
            unexpected.append(key)
        else:
            renamed[name] = value
    missing = [f"{COMPILED_PREFIX}{LOSS_HEAD_PREFIX}{k}" for k in expected if k not in renamed]
    wrong = [
        f"{k}: {tuple(v.shape)}, expected {tuple(expected[k].shape)}"
        for k, v in renamed.items()
        if v.shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_listing(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes: {_listing(wrong)}")
    if problems:
        raise ValueError("state dict does not match the config: " + "; ".join(problems))
    return {k: renamed[k].to(expected[k].dtype) for k in expected}


def to_reference(state_dict: dict[str, torch.Tensor], compiled: bool = True) -> dict[str, torch.Tensor]:
    """Our state dict under the reference's key names (as its checkpoints store them)."""
    prefix = (COMPILED_PREFIX if compiled else "") + LOSS_HEAD_PREFIX
    foreign = [k for k in state_dict if not k.startswith(OURS_PREFIX)]
    if foreign:
        raise ValueError(f"not a TRM/HRM state dict, unexpected keys: {_listing(foreign)}")
    return {prefix + k: v for k, v in state_dict.items()}


def _listing(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
