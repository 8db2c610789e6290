"""Sudoku and maze cells <-> tokens, as the reference's builders encode them (REFERENCE.md section 8).

A cell value v (a Sudoku digit 0..n with 0 = blank; a maze character's index in "# SGo") is token
v + 1, flattened row-major with no canvas around it (seq_len = n * n). Token 0 is PAD, which no
puzzle holds, so every label cell counts (the reference's ignore_label_id is 0). Every puzzle uses
the one puzzle identifier `<blank>` (row 0): these runs have no per-puzzle embedding.
"""

from __future__ import annotations

import numpy as np

from augment.transform import BLANK
from harness.core.puzzles import MAZE_CHARS, Kind

PAD = 0
IDENTIFIERS = [BLANK]  # the layout of every Sudoku and maze run: one identifier, id 0
INVALID = 255  # the decoded cell of a token no cell has (PAD, or past the vocabulary): never right


def vocab_size(kind: Kind, side: int) -> int:
    """PAD + every cell value: 11 for 9x9 Sudoku (as the reference), side + 2 in general; 6 for mazes."""
    return len(MAZE_CHARS) + 1 if kind == "maze" else side + 2


def encode_cells(cells: np.ndarray) -> np.ndarray:
    """Cell values (..., n*n) -> tokens, uint8."""
    return np.asarray(cells, dtype=np.uint8) + np.uint8(1)


def decode_tokens(tokens: np.ndarray, kind: Kind, side: int) -> np.ndarray:
    """Predicted tokens (..., n*n) -> cell values, uint8; a token that is no cell becomes INVALID."""
    cells = np.asarray(tokens).astype(np.int16) - 1
    bad = (cells < 0) | (cells >= vocab_size(kind, side) - 1)
    return np.where(bad, INVALID, cells).astype(np.uint8)
