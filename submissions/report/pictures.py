"""ARC grids as pictures: one palette PNG pixel per cell, shown as an inline data URI.

A hand-written palette PNG of a 30x30 grid is ~100 bytes, so a report can picture every task of
a set and still open offline as one small file; the browser scales it up crisply
(`image-rendering: pixelated`) and CSS draws the cell lines (see html).
"""

from __future__ import annotations

import base64
import html
import struct
import zlib

import numpy as np

# The standard ARC palette (colours 0..9), as in the ARC testing interface.
ARC_PALETTE = (
    "#000000",  # 0 black
    "#0074D9",  # 1 blue
    "#FF4136",  # 2 red
    "#2ECC40",  # 3 green
    "#FFDC00",  # 4 yellow
    "#AAAAAA",  # 5 grey
    "#F012BE",  # 6 magenta
    "#FF851B",  # 7 orange
    "#7FDBFF",  # 8 sky
    "#870C25",  # 9 maroon
)
_PLTE = b"".join(bytes.fromhex(c[1:]) for c in ARC_PALETTE)
MAX_PICTURE_PX = 132  # default longest side of a grid picture, in CSS pixels


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grid_png(grid: np.ndarray) -> bytes:
    """An 8-bit palette PNG with one pixel per cell in the ARC palette."""
    grid = np.asarray(grid, dtype=np.uint8)
    h, w = grid.shape
    rows = np.hstack([np.zeros((h, 1), np.uint8), grid])  # filter byte 0 (none) before each row
    header = struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", _PLTE)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


def cell_px(shape: tuple[int, int], max_px: int = MAX_PICTURE_PX) -> int:
    """CSS pixels per cell: big grids shrink to fit `max_px`, tiny ones stay legible."""
    return int(np.clip(max_px // max(shape), 2, 24))


def grid_img(grid: np.ndarray, title: str = "", max_px: int = MAX_PICTURE_PX) -> str:
    """An HTML picture of `grid` (class `g`, cell lines drawn by CSS when cells are big enough)."""
    grid = np.asarray(grid, dtype=np.uint8)
    h, w = grid.shape
    px = cell_px((h, w), max_px)
    data = base64.b64encode(grid_png(grid)).decode()
    lines = " lines" if px >= 6 else ""
    label = html.escape(f"{title} ({h}x{w})" if title else f"{h}x{w}")
    return (
        f'<span class="g{lines}" style="--c:{px}px;width:{w * px}px;height:{h * px}px" title="{label}">'
        f'<img alt="{label}" src="data:image/png;base64,{data}"></span>'
    )
