"""Halting rules run live in the engine's continuous batching: the per-slot state each rule needs,
kept on the device, so a slot stops at exactly the step `voting.halting.exit_steps` picks from a
recording of the same rows (record_rows records the signals with this module's mean_entropy and
relative_change).

  fixed, q        no state: q compares this step's q_halt logit (the cost of the engine before)
  stable:k        the previous prediction and the count of consecutive unchanged steps (step 1 is
                  always a change), stop when the count reaches k
  converged:tol   nothing beyond z_H itself: dz = |z_H(s) - z_H(s-1)| / |z_H(s-1)|, step 1 measured
                  from the start state, stop when dz < tol
  entropy:k:tol   the previous mean token entropy and the count of consecutive steps within tol of
                  the step before, stop when the count reaches k
Every rule stops at `steps` at the latest and looks at nothing past the step it stops at.
"""

from __future__ import annotations

import torch

from voting.halting import HaltRule


def mean_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(n,) float32 mean over positions of the token entropy (nats), as the sweep records it."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1).mean(-1)


def relative_change(z_new: torch.Tensor, z_old: torch.Tensor) -> torch.Tensor:
    """(n,) float32 |z_new - z_old| / |z_old| per row, as the sweep records dz."""
    change = (z_new.float() - z_old.float()).flatten(1).norm(dim=1)
    return change / z_old.float().flatten(1).norm(dim=1).clamp_min(1e-12)


class LiveHalt:
    """One halting rule over `slots` batch slots; `start` when a slot takes a new row, `stop` after each step."""

    def __init__(self, rule: HaltRule, steps: int, slots: int, seq_len: int, device: torch.device) -> None:
        self.rule, self.steps = rule, steps
        self.count = torch.zeros(slots, dtype=torch.int32, device=device)  # stable / entropy: steps in a row
        self.previous: torch.Tensor | None = None  # stable: last prediction; entropy: last mean entropy
        if rule.name == "stable":
            self.previous = torch.zeros((slots, seq_len), dtype=torch.uint8, device=device)
        elif rule.name == "entropy":
            self.previous = torch.zeros(slots, dtype=torch.float32, device=device)

    @property
    def needs_previous_z(self) -> bool:
        """Whether `stop` wants z_H from before the step (converged only)."""
        return self.rule.name == "converged"

    def start(self, slots: torch.Tensor) -> None:
        """New rows in `slots`: forget the old rows' runs (step 1 always restarts them anyway)."""
        self.count[slots] = 0

    def stop(
        self,
        active: torch.Tensor,
        step: torch.Tensor,
        logits: torch.Tensor,
        q_halt: torch.Tensor,
        z_new: torch.Tensor,
        z_old: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(len(active),) bool: which of the `active` slots stop after this step (`step`: 1-based, per slot)."""
        name, params = self.rule.name, self.rule.params
        first = step == 1
        if name == "fixed":
            hit = torch.zeros_like(first)
        elif name == "q":
            hit = q_halt > params[0]
        elif name == "converged":
            if z_old is None:
                raise ValueError("converged needs z_H from before the step")
            hit = relative_change(z_new, z_old) < params[0]
        else:
            assert self.previous is not None
            if name == "stable":
                now = logits.argmax(-1).to(torch.uint8)
                moved = first | (now != self.previous[active]).any(-1)
            else:
                now = mean_entropy(logits)
                moved = first | ((now - self.previous[active]).abs() > params[1])
            self.previous[active] = now
            count = torch.where(moved, 0, self.count[active] + 1)
            self.count[active] = count
            hit = count >= int(params[0])
        return hit | (step >= self.steps)
