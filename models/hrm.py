"""The Hierarchical Reasoning Model (reference `hrm_act_v1`), TRM's predecessor: two block stacks.

z_L is updated by L_level (injection z_H + x), z_H by H_level (injection z_L); only the very
last update of each runs with autograd (the 1-step gradient). Everything else is shared with TRM
(models/core.py).
"""

from __future__ import annotations

import torch

from models.config import HRMConfig
from models.core import ACTModel, BlockStack, CoreOutput, ReasoningCore


class HierarchicalCore(ReasoningCore):
    """One ACT step of HRM: H_cycles x (L_cycles z_L updates, then one z_H update), then read out."""

    config: HRMConfig
    H_level: BlockStack  # set by ReasoningCore from `levels`
    L_level: BlockStack

    def __init__(self, config: HRMConfig) -> None:
        super().__init__(config, {"H_level": config.H_layers, "L_level": config.L_layers})

    def forward(
        self, z_H: torch.Tensor, z_L: torch.Tensor, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor
    ) -> CoreOutput:
        """Return (z_H, z_L) detached for the next step, token logits, q_halt and q_continue logits."""
        cfg, rot = self.config, self.rotary_emb
        x = self.embed(inputs, puzzle_identifiers)
        with torch.no_grad():
            for h in range(cfg.H_cycles):
                last_h = h == cfg.H_cycles - 1
                z_H_x = z_H + x  # fixed during the L cycles; without autograd, sharing it changes no bits
                # The very last z_L and z_H updates are left to the differentiated pass below.
                for _ in range(cfg.L_cycles - 1 if last_h else cfg.L_cycles):
                    z_L = self.L_level(z_L, z_H_x, rot)
                if not last_h:
                    z_H = self.H_level(z_H, z_L, rot)
        z_L = self.L_level(z_L, z_H + x, rot)
        z_H = self.H_level(z_H, z_L, rot)
        return self.read_out(z_H, z_L)


class HRM(ACTModel):
    """HRM with adaptive computation time (see ACTModel). Training halts a row when
    q_halt > q_continue, and q_continue always learns the bootstrapped target."""

    core_class = HierarchicalCore
    config: HRMConfig

    def halt_signal(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        return q_halt > q_continue

    @property
    def learns_q_continue(self) -> bool:
        return True
