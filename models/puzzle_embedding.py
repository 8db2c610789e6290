"""Per-puzzle embedding table: one row per puzzle identifier, trained sparsely outside autograd."""

from __future__ import annotations

import torch
from torch import nn


class PuzzleEmbedding(nn.Module):
    """The table is a buffer, not a parameter: it can hold ~10^6 rows, and only the rows of a
    batch are updated (sign-SGD, by a separate optimiser), so a dense gradient would be waste.

    In training mode with autograd on, a lookup returns a fresh leaf copy of the batch's rows;
    it stays available as `rows` (with `row_ids`) so the optimiser can read `rows.grad`.
    """

    def __init__(self, num_embeddings: int, dim: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.dtype = dtype
        self.weights = nn.Buffer(torch.zeros(num_embeddings, dim), persistent=True)
        self.rows: torch.Tensor | None = None
        self.row_ids: torch.Tensor | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch.is_grad_enabled()):
            return self.weights[ids].to(self.dtype)
        self.rows = self.weights[ids].detach().requires_grad_(True)
        self.row_ids = ids
        return self.rows.to(self.dtype)
