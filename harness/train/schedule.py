"""How the weights move: the optimiser, the learning-rate schedule and the EMA of the weights."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch

from harness.config import TrainConfig
from models.optim import AdamATan2


def make_optimizer(t: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamATan2 (the paper's) or AdamW over the trainable parameters (puzzle embeddings are buffers)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)
    return AdamATan2(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)


def learning_rate(base: float, step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to min_ratio * base (constant when min_ratio is 1)."""
    if step < warmup:
        return base * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return base * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))))


class EMA:
    """Exponential moving average of the network parameters (puzzle embeddings are buffers, not averaged)."""

    def __init__(self, model: torch.nn.Module, rate: float) -> None:
        self.rate = rate
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for name, p in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(p, 1 - self.rate)

    @contextlib.contextmanager
    def applied(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """Temporarily swap the averaged weights into `model` (no copy of the embedding table)."""
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in self.shadow.items():
                params[name].data, self.shadow[name] = value, params[name].data
        try:
            yield model
        finally:
            with torch.no_grad():
                for name, value in self.shadow.items():
                    params[name].data, self.shadow[name] = value, params[name].data


def evaluated_weights(model: torch.nn.Module, ema: EMA | None) -> contextlib.AbstractContextManager:
    """The weights that are evaluated and saved: the EMA copy when there is one, else the raw ones."""
    return ema.applied(model) if ema else contextlib.nullcontext(model)
