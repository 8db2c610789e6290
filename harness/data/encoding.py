"""Tokens <-> grids, the reference's sequence encoding; the one place that knows it.

A grid sits on a square canvas (30x30 for ARC, smaller for CPU-sized runs) at a row/column
offset, colours as tokens 2..11, an EOS row under it and an EOS column to its right (where they
fit), PAD elsewhere; flattened row-major.
"""

from __future__ import annotations

import numpy as np

PAD, EOS, COLOR_OFFSET = 0, 1, 2
VOCAB_SIZE = 12
ARC_CANVAS = 30


def encode_grid(grid: np.ndarray, canvas: int = ARC_CANVAS, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """One grid as a flat (canvas*canvas,) uint8 token sequence."""
    h, w = grid.shape
    r0, c0 = offset
    if r0 + h > canvas or c0 + w > canvas:
        raise ValueError(f"grid {h}x{w} at offset {offset} does not fit a {canvas}x{canvas} canvas")
    tokens = np.full((canvas, canvas), PAD, dtype=np.uint8)
    tokens[r0 : r0 + h, c0 : c0 + w] = grid + COLOR_OFFSET
    if r0 + h < canvas:
        tokens[r0 + h, c0 : c0 + w] = EOS
    if c0 + w < canvas:
        tokens[r0 : r0 + h, c0 + w] = EOS
    return tokens.ravel()


def decode_shapes(tokens: np.ndarray, canvas: int = ARC_CANVAS) -> np.ndarray:
    """(N, 2) shapes of the grids the model drew, by the reference's crop rule.

    Scanning rows from the top, a row's width is its run of colour tokens from column 0, never
    wider than the row above; the grid is the top-left rectangle of largest area (first one on
    ties). A sequence that starts with a non-colour token decodes to shape (0, 0).
    """
    cells = np.asarray(tokens).reshape(-1, canvas, canvas)
    valid = (cells.astype(np.uint8, copy=False) - np.uint8(COLOR_OFFSET)) < VOCAB_SIZE - COLOR_OFFSET  # wraps
    run = np.argmin(valid, axis=2)  # first non-colour column, or 0 when the whole row is colour
    run[np.take_along_axis(valid, run[..., None], axis=2)[..., 0]] = canvas
    width = np.minimum.accumulate(run, axis=1)
    area = width * np.arange(1, canvas + 1)
    best = np.argmax(area, axis=1)
    rows = np.where(area.max(axis=1) > 0, best + 1, 0)
    cols = np.where(rows > 0, width[np.arange(len(cells)), best], 0)
    return np.stack([rows, cols], axis=1).astype(np.int64)


def decode(tokens: np.ndarray, canvas: int = ARC_CANVAS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop a batch of token sequences to grids: (shapes (N, 2), offsets (N,), flat cells).

    The flat layout is the one `voting.Predictions` stores, so no per-grid Python objects are
    made; grids of one shape are copied out together (offsets need not follow row order).
    """
    cells = np.asarray(tokens).reshape(-1, canvas, canvas)
    shapes = decode_shapes(cells, canvas)
    offsets = np.zeros(len(cells), dtype=np.int64)
    flat = np.empty(int((shapes[:, 0] * shapes[:, 1]).sum()), dtype=np.uint8)
    key = shapes[:, 0] * (canvas + 1) + shapes[:, 1]
    order = np.argsort(key, kind="stable")
    base = 0
    for idx in np.split(order, np.flatnonzero(np.diff(key[order])) + 1) if len(order) else []:
        h, w = (int(x) for x in shapes[idx[0]])
        block = cells[idx, :h, :w] - COLOR_OFFSET
        flat[base : base + block.size] = block.ravel()
        offsets[idx] = base + h * w * np.arange(len(idx))
        base += block.size
    return shapes, offsets, flat


def decode_grid(tokens: np.ndarray, canvas: int = ARC_CANVAS) -> np.ndarray:
    """One token sequence -> its grid (possibly 0x0)."""
    shapes, _, flat = decode(tokens[None], canvas)
    return flat.reshape(shapes[0])
