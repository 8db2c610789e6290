"""Training loss of TRM and HRM (the reference ACTLossHead): per-sequence token CE + halting BCE, metrics."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

IGNORE_LABEL = -100


def _stablemax_s(x: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    """s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0: a softmax substitute that grows linearly.

    The reciprocal branch sees min(x, 0) so that it stays finite (and so does its gradient)
    where it is not selected; the selected values are unchanged.
    """
    return torch.where(x < 0, 1 / (1 - torch.clamp(x, max=0) + eps), x + 1)


def stablemax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-token -log stablemax(logits)[label], in float64; 0 where the label is ignored."""
    if valid is None:
        valid = labels != IGNORE_LABEL
    s = _stablemax_s(logits.to(torch.float64))
    logp = torch.log(s / s.sum(-1, keepdim=True))
    picked = logp.gather(-1, torch.where(valid, labels, 0).long().unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, 0)


def softmax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-token softmax cross-entropy in float32; 0 where the label is ignored."""
    labels = labels.long()
    if valid is not None:
        labels = torch.where(valid, labels, IGNORE_LABEL)
    flat = F.cross_entropy(
        logits.to(torch.float32).flatten(0, -2), labels.flatten(), ignore_index=IGNORE_LABEL, reduction="none"
    )
    return flat.view(labels.shape)


LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "stablemax_cross_entropy": stablemax_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
}


def act_loss(
    outputs: dict[str, torch.Tensor],
    labels: torch.Tensor,
    halted: torch.Tensor,
    steps: torch.Tensor,
    loss_type: str = "stablemax_cross_entropy",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss of one ACT step, summed over the batch (the caller divides by the global batch size).

    loss = sum_b mean_{tokens of b} CE + 0.5 * (BCE(q_halt, b entirely correct)
           [+ BCE(q_continue, target_q_continue) when the model produced that target]).
    `labels`, `halted`, `steps` come from the carry returned with `outputs`. Metrics are sums
    over rows that halted this step and have at least one label, as in the reference.
    """
    if loss_type not in LOSSES:
        raise ValueError(f"unknown loss_type {loss_type!r}; expected one of {sorted(LOSSES)}")
    logits, q_halt = outputs["logits"], outputs["q_halt_logits"]
    with torch.no_grad():
        valid = labels != IGNORE_LABEL
        counts = valid.sum(-1)
        divisor = counts.clamp_min(1).unsqueeze(-1)
        correct = valid & (logits.argmax(-1) == labels)
        seq_correct = correct.sum(-1) == counts
        done = halted & (counts > 0)
        metrics = {
            "count": done.sum(),
            "accuracy": torch.where(done, (correct.to(torch.float32) / divisor).sum(-1), 0).sum(),
            "exact_accuracy": (done & seq_correct).sum(),
            "q_halt_accuracy": (done & ((q_halt >= 0) == seq_correct)).sum(),
            "steps": torch.where(done, steps, 0).sum(),
        }
    lm_loss = (LOSSES[loss_type](logits, labels, valid) / divisor).sum()
    q_halt_loss = F.binary_cross_entropy_with_logits(q_halt, seq_correct.to(q_halt.dtype), reduction="sum")
    metrics["lm_loss"] = lm_loss.detach()
    metrics["q_halt_loss"] = q_halt_loss.detach()
    q_loss = q_halt_loss
    if "target_q_continue" in outputs:
        q_continue_loss = F.binary_cross_entropy_with_logits(
            outputs["q_continue_logits"], outputs["target_q_continue"], reduction="sum"
        )
        metrics["q_continue_loss"] = q_continue_loss.detach()
        q_loss = q_halt_loss + q_continue_loss
    return lm_loss + 0.5 * q_loss, metrics
