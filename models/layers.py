"""Building blocks of TRM and HRM, computing exactly as the reference does (same ops, same order)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def trunc_normal_(tensor: torch.Tensor, std: float = 1.0, bound: float = 2.0) -> torch.Tensor:
    """Fill with a normal truncated at +-`bound` sigma whose *truncated* std is `std`.

    sigma is the underlying normal's, about 1.14 `std` for bound 2, so values reach +-2.27 `std`.
    This is the JAX/Flax initialiser the reference uses (torch's trunc_normal_ would give a
    smaller spread). It draws the same random numbers in the same order as the reference,
    so a seeded model starts from identical weights.
    """
    with torch.no_grad():
        if std == 0:
            return tensor.zero_()
        phi = (2 * math.pi) ** -0.5 * math.exp(-0.5 * bound**2)  # standard normal density at the bound
        lo, hi = math.erf(-bound / math.sqrt(2)), math.erf(bound / math.sqrt(2))
        mass = (hi - lo) / 2  # probability of the kept interval
        unit_var = 1 - 2 * bound * phi / mass  # variance of the truncated unit normal (symmetric bounds)
        scale = std / math.sqrt(unit_var)
        tensor.uniform_(lo, hi).erfinv_().mul_(math.sqrt(2) * scale)
        return tensor.clip_(-bound * scale, bound * scale)


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMS normalisation over the last axis without a learned scale, computed in float32."""
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.square().mean(-1, keepdim=True) + eps)
    return h.to(x.dtype)


class CastedLinear(nn.Module):
    """Linear layer with float32 master weights that runs in the dtype of its input."""

    def __init__(self, in_features: int, out_features: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_(torch.empty(out_features, in_features), std=in_features**-0.5))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.weight.to(x.dtype), bias)


class CastedEmbedding(nn.Module):
    """Embedding table with float32 master weights, looked up in the forward dtype."""

    def __init__(self, num_embeddings: int, dim: int, init_std: float, dtype: torch.dtype) -> None:
        super().__init__()
        self.dtype = dtype
        self.embedding_weight = nn.Parameter(trunc_normal_(torch.empty(num_embeddings, dim), std=init_std))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.embedding_weight.to(self.dtype))


class Rotary(nn.Module):
    """RoPE tables in the half-split layout: feature i pairs with feature i + head_dim/2."""

    def __init__(self, head_dim: int, length: int, theta: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)  # (length, head_dim/2)
        self.cos = nn.Buffer(angles.cos(), persistent=False)
        self.sin = nn.Buffer(angles.sin(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rotate x of shape (batch, seq, heads, head_dim); float32 math, result in x's dtype.

        Per half this is x1*cos - x2*sin and x2*cos + x1*sin, bit for bit what the reference's
        rotate-half formulation yields, with half the multiplications.
        """
        h = x.to(torch.float32)
        x1, x2 = h.chunk(2, dim=-1)
        cos, sin = self.cos[:, None, :], self.sin[:, None, :]
        out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
        return out.to(x.dtype)


class Attention(nn.Module):
    """Multi-head self-attention with a fused q/k/v projection (names match the reference)."""

    def __init__(self, hidden_size: int, num_heads: int, causal: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.causal = causal
        self.qkv_proj = CastedLinear(hidden_size, 3 * hidden_size, bias=False)
        self.o_proj = CastedLinear(hidden_size, hidden_size, bias=False)

    def forward(self, x: torch.Tensor, rotary: Rotary | None) -> torch.Tensor:
        batch, seq, _ = x.shape
        qkv = self.qkv_proj(x).view(batch, seq, 3 * self.num_heads, self.head_dim)
        qk, v = qkv[:, :, : 2 * self.num_heads], qkv[:, :, 2 * self.num_heads :]
        if rotary is not None:
            qk = rotary(qk)  # query and key rotate together: one pass instead of two
        q, k = qk.chunk(2, dim=2)
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=self.causal
        )
        return self.o_proj(out.transpose(1, 2).reshape(batch, seq, -1))


def swiglu_inner_size(size: int, expansion: float) -> int:
    """Hidden width of a SwiGLU: 2/3 of expansion*size (Python rounding), up to a multiple of 256."""
    return -(-round(expansion * size * 2 / 3) // 256) * 256


class SwiGLU(nn.Module):
    """Gated MLP over the last axis: down(silu(gate) * up), gate and up from one projection."""

    def __init__(self, size: int, expansion: float) -> None:
        super().__init__()
        inner = swiglu_inner_size(size, expansion)
        self.gate_up_proj = CastedLinear(size, 2 * inner, bias=False)
        self.down_proj = CastedLinear(inner, size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)
