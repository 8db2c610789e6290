"""Sudoku boards and mazes as small SVG pictures (text, so digits stay sharp at any size).

Sudoku: givens in bold black on grey, the model's filled digits in blue, a wrong cell on red with
the right digit small in its corner. Maze: walls dark, S green, G red, the label's path shaded blue
and the model's path drawn as orange dots, so agreement, detours and gaps are all visible at once.
"""

from __future__ import annotations

import html

import numpy as np

from harness.core.puzzles import GOAL, PATH, START, WALL
from harness.predictions.puzzle_shards import INVALID

SUDOKU_PX = 24  # cell size, in SVG units
MAZE_MAX_PX = 240  # a maze picture's side


def _svg(size: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img"><title>{html.escape(title)}</title>{"".join(body)}</svg>'
    )


def sudoku_svg(
    question: np.ndarray, answer: np.ndarray, predicted: np.ndarray, box: tuple[int, int], title: str = ""
) -> str:
    """One Sudoku (flat cells): givens vs the model's digits, wrong cells marked with the right digit."""
    n, px = box[0] * box[1], SUDOKU_PX
    q, a, p = (np.asarray(x).reshape(n, n) for x in (question, answer, predicted))
    body = []
    for r in range(n):
        for c in range(n):
            x, y = c * px, r * px
            given, right = q[r, c] != 0, p[r, c] == a[r, c]
            fill = "#eaeef2" if given else "#ffffff" if right else "#ffd7d5"
            body.append(f'<rect x="{x}" y="{y}" width="{px}" height="{px}" fill="{fill}"/>')
            digit = q[r, c] if given else p[r, c]
            shown = "?" if digit in (0, INVALID) else str(int(digit))
            colour, weight = ("#1f2328", "700") if given else ("#0969da", "400") if right else ("#cf222e", "600")
            body.append(
                f'<text x="{x + px / 2}" y="{y + px * 0.72}" font-size="{px * 0.6:.0f}" text-anchor="middle" '
                f'font-family="sans-serif" font-weight="{weight}" fill="{colour}">{shown}</text>'
            )
            if not given and not right:
                body.append(
                    f'<text x="{x + px - 2}" y="{y + 8}" font-size="8" text-anchor="end" '
                    f'font-family="sans-serif" fill="#1a7f37">{int(a[r, c])}</text>'
                )
    for i in range(n + 1):
        for horizontal, block in ((True, box[0]), (False, box[1])):
            width = 2 if i % block == 0 else 0.5
            x1, y1, x2, y2 = (0, i * px, n * px, i * px) if horizontal else (i * px, 0, i * px, n * px)
            body.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#57606a" stroke-width="{width}"/>')
    return _svg(n * px, body, title)


def maze_svg(question: np.ndarray, answer: np.ndarray, predicted: np.ndarray, side: int, title: str = "") -> str:
    """One maze (flat cells): the label's path shaded, the model's path as dots."""
    px = max(4, MAZE_MAX_PX // side)
    q, a, p = (np.asarray(x).reshape(side, side) for x in (question, answer, predicted))
    colours = {WALL: "#24292f", START: "#1a7f37", GOAL: "#cf222e"}
    body = [f'<rect width="{side * px}" height="{side * px}" fill="#ffffff"/>']
    for r in range(side):
        for c in range(side):
            fill = colours.get(int(q[r, c]), "#b6e3ff" if a[r, c] == PATH else None)
            if fill:
                body.append(f'<rect x="{c * px}" y="{r * px}" width="{px}" height="{px}" fill="{fill}"/>')
            if p[r, c] == PATH:
                body.append(
                    f'<circle cx="{c * px + px / 2}" cy="{r * px + px / 2}" r="{px * 0.3:.1f}" fill="#fb8500"/>'
                )
    return _svg(side * px, body, title)
