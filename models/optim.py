"""Optimisers of the paper's recipe, in plain torch (no compiled extension).

AdamATan2 as the reference uses it (PyPI adam-atan2 0.0.3), per element at step t:
    p *= 1 - lr * wd
    m += (1 - b1) (g - m);  v += (1 - b2) (g^2 - v)
    p -= (lr / (1 - b1^t)) * atan2(m, sqrt(v) / sqrt(1 - b2^t))
atan2 needs no epsilon and bounds every update by lr * pi / 2 / (1 - b1^t).

Puzzle embeddings are a buffer trained by sign-SGD on the rows a batch touched, with decoupled
weight decay: rows -= lr * (wd * rows + sign(sum of their gradients)).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class AdamATan2(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.95),
        weight_decay: float = 0.1,
    ) -> None:
        if lr < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid AdamATan2 settings lr={lr} betas={betas} weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch's signature)
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float64)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = float(state["step"])
                m, v, g = state["exp_avg"], state["exp_avg_sq"], p.grad
                p.mul_(1 - lr * wd)
                m.lerp_(g, 1 - beta1)
                v.lerp_(g.square(), 1 - beta2)
                step_size = lr / (1 - beta1**t)
                denominator = v.sqrt() / (1 - beta2**t) ** 0.5
                p.add_(torch.atan2(m, denominator), alpha=-step_size)
        return None


@torch.no_grad()
def sign_sgd_rows_(
    weights: torch.Tensor, ids: torch.Tensor, grads: torch.Tensor, lr: float, weight_decay: float
) -> None:
    """Update `weights[ids]` in place from per-lookup gradients (ids may repeat: they are summed)."""
    unique, inverse = ids.long().unique(return_inverse=True)
    summed = torch.zeros((len(unique), grads.shape[-1]), dtype=grads.dtype, device=grads.device)
    summed.index_add_(0, inverse, grads)
    rows = weights[unique]
    rows.mul_(1 - lr * weight_decay).add_(summed.sign().to(rows.dtype), alpha=-lr)
    weights[unique] = rows
