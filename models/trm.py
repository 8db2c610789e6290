"""The Tiny Recursive Model: one block stack applied to both z_L and z_H.

The shared pieces (blocks, embedding, read-out, ACT wrapper) live in models/core.py; this is
TRM's recursion and halting rule.
"""

from __future__ import annotations

import torch

from models.config import TRMConfig
from models.core import PUZZLE_EMBEDDING_KEY, ACTModel, Block, BlockStack, Carry, CoreOutput, ReasoningCore

__all__ = ["PUZZLE_EMBEDDING_KEY", "TRM", "Block", "BlockStack", "Carry", "RecursiveCore"]


class RecursiveCore(ReasoningCore):
    """One ACT step of TRM: embed, recurse H_cycles x (L_cycles z_L updates + 1 z_H update), read out."""

    config: TRMConfig
    L_level: BlockStack  # set by ReasoningCore from `levels`

    def __init__(self, config: TRMConfig) -> None:
        super().__init__(config, {"L_level": config.L_layers})

    def forward(
        self, z_H: torch.Tensor, z_L: torch.Tensor, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor
    ) -> CoreOutput:
        """Return (z_H, z_L) detached for the next step, token logits, q_halt and q_continue logits.

        Only the last H cycle is differentiated: the earlier ones run without autograd.
        """
        cfg, net, rot = self.config, self.L_level, self.rotary_emb
        x = self.embed(inputs, puzzle_identifiers)
        with torch.no_grad():
            for _ in range(cfg.H_cycles - 1):
                z_H_x = z_H + x  # fixed during the L cycles; without autograd, sharing it changes no bits
                for _ in range(cfg.L_cycles):
                    z_L = net(z_L, z_H_x, rot)
                z_H = net(z_H, z_L, rot)
        for _ in range(cfg.L_cycles):
            z_L = net(z_L, z_H + x, rot)
        z_H = net(z_H, z_L, rot)
        return self.read_out(z_H, z_L)


class TRM(ACTModel):
    """TRM with adaptive computation time (see ACTModel). A row halts when q_halt > 0, or
    q_halt > q_continue when no_ACT_continue is off (then q_continue learns a bootstrapped target).
    """

    core_class = RecursiveCore
    config: TRMConfig

    def halt_signal(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        return q_halt > 0 if self.config.no_ACT_continue else q_halt > q_continue

    @property
    def learns_q_continue(self) -> bool:
        return not self.config.no_ACT_continue
