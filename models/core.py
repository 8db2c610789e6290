"""What TRM and HRM share: the post-norm block, block stacks, the embedding/read-out core and the
adaptive-computation (ACT) wrapper. A family adds only its recursion and its halting rule.

Attribute names mirror the reference so that our state-dict keys are the reference's keys
with `_orig_mod.model.` removed (see models/reference.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import torch
import torch.nn.functional as F
from torch import nn

from models.config import HRMConfig, TRMConfig
from models.layers import Attention, CastedEmbedding, CastedLinear, Rotary, SwiGLU, rms_norm, trunc_normal_
from models.puzzle_embedding import PuzzleEmbedding

ModelConfig = TRMConfig | HRMConfig
# State-dict key of the puzzle embedding table (rows = puzzle identifiers), kept apart in counts.
PUZZLE_EMBEDDING_KEY = "inner.puzzle_emb.weights"
# The reference scales learned position sums by this literal (not exactly 1/sqrt(2)).
_LEARNED_POS_SCALE = 0.707106781


class Block(nn.Module):
    """Post-norm block: token mixing (attention, or an MLP over positions), then a SwiGLU."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.eps = config.rms_norm_eps
        if config.mlp_t:
            self.mlp_t = SwiGLU(config.total_len, config.expansion)
        else:
            self.self_attn = Attention(config.hidden_size, config.num_heads, config.causal)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)

    def forward(self, h: torch.Tensor, rotary: Rotary | None) -> torch.Tensor:
        if hasattr(self, "mlp_t"):
            # Mix along the sequence axis; the following norm is over positions too, as in the reference.
            t = h.transpose(1, 2)
            h = rms_norm(t + self.mlp_t(t), self.eps).transpose(1, 2)
        else:
            h = rms_norm(h + self.self_attn(h, rotary), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class BlockStack(nn.Module):
    """One reasoning level (TRM's single net, HRM's H_level or L_level): add the injection, run the blocks."""

    def __init__(self, config: ModelConfig, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(config) for _ in range(num_layers))

    def forward(self, h: torch.Tensor, injection: torch.Tensor, rotary: Rotary | None) -> torch.Tensor:
        h = h + injection
        for layer in self.layers:
            h = layer(h, rotary)
        return h


@dataclass
class Carry:
    """State carried between ACT steps; rows whose `halted` is set restart on fresh data."""

    z_H: torch.Tensor
    z_L: torch.Tensor
    steps: torch.Tensor  # int32, ACT steps taken by each row
    halted: torch.Tensor  # bool
    data: dict[str, torch.Tensor]  # the batch rows each carry row is working on


CoreOutput = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


class ReasoningCore(nn.Module):
    """Embedding, levels, start states and read-out of one ACT step; subclasses write `forward`.

    `levels` maps level attribute names to their layer counts, in the reference's construction
    order, so seeded initialisation draws the same numbers and state-dict keys come in its order.
    """

    def __init__(self, config: ModelConfig, levels: dict[str, int]) -> None:
        super().__init__()
        self.config = config
        self.dtype = getattr(torch, config.forward_dtype)
        self.puzzle_positions = config.puzzle_positions
        self.embed_scale = math.sqrt(config.hidden_size)
        init_std = 1.0 / self.embed_scale
        self.embed_tokens = CastedEmbedding(config.vocab_size, config.hidden_size, init_std, self.dtype)
        self.lm_head = CastedLinear(config.hidden_size, config.vocab_size, bias=False)
        self.q_head = CastedLinear(config.hidden_size, 2, bias=True)
        if config.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(config.num_puzzle_identifiers, config.puzzle_emb_ndim, self.dtype)
        self.rotary_emb = None
        if config.pos_encodings == "rope":
            self.rotary_emb = Rotary(config.head_dim, config.total_len, config.rope_theta)
        elif config.pos_encodings == "learned":
            self.embed_pos = CastedEmbedding(config.total_len, config.hidden_size, init_std, self.dtype)
        self.level_names = tuple(levels)
        for name, num_layers in levels.items():
            setattr(self, name, BlockStack(config, num_layers))
        # Start states of z_H and z_L: random, then fixed (buffers, never trained), as in the reference.
        self.H_init = nn.Buffer(trunc_normal_(torch.empty(config.hidden_size, dtype=self.dtype)), persistent=True)
        self.L_init = nn.Buffer(trunc_normal_(torch.empty(config.hidden_size, dtype=self.dtype)), persistent=True)
        with torch.no_grad():
            # Start with q_halt ~ sigmoid(-5): "keep going" until the halting head has learned something.
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)  # type: ignore[union-attr]  # built with bias=True

    def embed(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Token embeddings with the puzzle embedding prepended as extra positions, scaled by sqrt(hidden)."""
        x = self.embed_tokens(inputs)
        if self.config.puzzle_emb_ndim > 0:
            p = self.puzzle_emb(puzzle_identifiers)
            pad = self.puzzle_positions * self.config.hidden_size - p.shape[-1]
            if pad > 0:
                p = F.pad(p, (0, pad))
            x = torch.cat((p.view(-1, self.puzzle_positions, self.config.hidden_size), x), dim=-2)
        if self.config.pos_encodings == "learned":
            x = _LEARNED_POS_SCALE * (x + self.embed_pos.embedding_weight.to(self.dtype))
        return self.embed_scale * x

    def read_out(self, z_H: torch.Tensor, z_L: torch.Tensor) -> CoreOutput:
        """(z_H, z_L) detached for the next step, token logits (puzzle positions dropped), q_halt, q_continue."""
        logits = self.lm_head(z_H)[:, self.puzzle_positions :]
        q = self.q_head(z_H[:, 0]).to(torch.float32)  # read from the first (puzzle) position
        return z_H.detach(), z_L.detach(), logits, q[..., 0], q[..., 1]

    def forward(
        self, z_H: torch.Tensor, z_L: torch.Tensor, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor
    ) -> CoreOutput:
        raise NotImplementedError


class ACTModel(nn.Module):
    """A reasoning core with adaptive computation time: call repeatedly with a carry; halted rows
    take new data. Training: a row halts when `halt_signal` says so or at halt_max_steps; with
    probability halt_exploration_prob it is first forced to run a random 2..halt_max_steps steps.
    Evaluation: every row runs exactly halt_max_steps steps.
    """

    core_class: Callable[[Any], ReasoningCore]  # the family's core, built from its config

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = self.core_class(config)

    def halt_signal(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        """Rows whose Q head asks to stop (training only)."""
        raise NotImplementedError

    @property
    def learns_q_continue(self) -> bool:
        """Whether training bootstraps a target for q_continue from one more inner pass."""
        raise NotImplementedError

    @classmethod
    def from_state_dict(cls, config: ModelConfig, state_dict: dict[str, torch.Tensor]) -> Self:
        """Build a model whose tensors ARE those of `state_dict` (no second copy of a large table)."""
        with torch.device("meta"):
            model = cls(config)
        model.load_state_dict(state_dict, strict=True, assign=True)
        if model.inner.rotary_emb is not None:  # not in a state dict: rebuild it off the meta device
            device = model.inner.H_init.device
            model.inner.rotary_emb = Rotary(config.head_dim, config.total_len, config.rope_theta).to(device)
        return model

    def compile_blocks(self) -> None:
        """torch.compile the block stacks, where nearly all the time goes. Only their forwards
        are replaced, so parameter names, state dicts and checkpoints are unchanged."""
        for name in self.inner.level_names:
            blocks = getattr(self.inner, name)
            blocks.forward = torch.compile(blocks.forward)

    def initial_carry(self, batch: dict[str, torch.Tensor]) -> Carry:
        """A carry whose rows are all halted, so the first step loads every row of `batch`."""
        size = batch["inputs"].shape[0]
        device = batch["inputs"].device
        shape = (size, self.config.total_len, self.config.hidden_size)
        return Carry(
            z_H=torch.zeros(shape, dtype=self.inner.dtype, device=device),
            z_L=torch.zeros(shape, dtype=self.inner.dtype, device=device),
            steps=torch.zeros(size, dtype=torch.int32, device=device),
            halted=torch.ones(size, dtype=torch.bool, device=device),
            data={k: torch.zeros_like(v) for k, v in batch.items()},
        )

    def forward(self, carry: Carry, batch: dict[str, torch.Tensor]) -> tuple[Carry, dict[str, torch.Tensor]]:
        """One ACT step. Outputs: logits, q_halt_logits, q_continue_logits (+ target_q_continue)."""
        cfg = self.config
        restart = carry.halted
        z_H = torch.where(restart.view(-1, 1, 1), self.inner.H_init, carry.z_H)
        z_L = torch.where(restart.view(-1, 1, 1), self.inner.L_init, carry.z_L)
        steps = torch.where(restart, 0, carry.steps)
        data = {
            k: torch.where(restart.view(-1, *(1,) * (batch[k].ndim - 1)), batch[k], v) for k, v in carry.data.items()
        }

        z_H, z_L, logits, q_halt, q_continue = self.inner(z_H, z_L, data["inputs"], data["puzzle_identifiers"])
        outputs = {"logits": logits, "q_halt_logits": q_halt, "q_continue_logits": q_continue}

        with torch.no_grad():
            steps = steps + 1
            last = steps >= cfg.halt_max_steps
            halted = last
            if self.training and cfg.halt_max_steps > 1:
                halted = halted | self.halt_signal(q_halt, q_continue)
                # Both draws happen even at probability 0, keeping the RNG stream the reference's.
                explore = torch.rand_like(q_halt) < cfg.halt_exploration_prob
                min_steps = explore * torch.randint_like(steps, low=2, high=cfg.halt_max_steps + 1)
                halted = halted & (steps >= min_steps)
                if self.learns_q_continue:
                    # Bootstrapped Q target from the next step's prediction (no replay buffer).
                    _, _, _, next_halt, next_continue = self.inner(z_H, z_L, data["inputs"], data["puzzle_identifiers"])
                    outputs["target_q_continue"] = torch.sigmoid(
                        torch.where(last, next_halt, torch.maximum(next_halt, next_continue))
                    )
        return Carry(z_H, z_L, steps, halted, data), outputs

    @torch.inference_mode()
    def evaluate(self, batch: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Run all halt_max_steps ACT steps in eval mode; per step: logits, q logits and preds.

        Runs under inference mode (outputs cannot enter autograd); the module's train/eval mode
        is restored afterwards.
        """
        was_training = self.training
        self.eval()
        try:
            carry = self.initial_carry(batch)
            steps = []
            for _ in range(self.config.halt_max_steps):
                carry, out = self(carry, batch)
                out["preds"] = out["logits"].argmax(-1)
                steps.append(out)
            return steps
        finally:
            self.train(was_training)
