"""Selectors: many candidate answers per question (views x restarts) -> the submitted one(s).

ARC (two attempts, from votes over inverted grids, voting.vote):
  votes-q (the reference), votes, q, and per-view weighted votes: `entropy` (a view counts
  exp(-mean token entropy), the inverse of its per-token perplexity) and `convergence` (a view counts
  1 / (1 + dz / median dz): views whose z_H settled count more).
Single-answer benchmarks (Sudoku, Maze), on generic per-row predicted cells and group (= question) ids:
  majority (most frequent answer), q-max (highest q_halt), convergence (smallest dz), entropy
  (smallest mean token entropy).
The oracle ("any candidate is correct") is an upper bound of every selector: an oracle, not a score.
Pure numpy.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from voting.predictions import Predictions
from voting.vote import Candidates, _distinct, _invert_all, _pair_codes, vote

ARC_SELECTORS = ("votes-q", "votes", "q", "entropy", "convergence")
SINGLE_SELECTORS = ("majority", "q-max", "convergence", "entropy")


def view_weights(selector: str, dz: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    """Per-view vote weight of a weighted selector (see module docstring)."""
    if selector == "entropy":
        return np.exp(-np.asarray(entropy, np.float64))
    if selector == "convergence":
        dz = np.asarray(dz, np.float64)
        scale = float(np.median(dz)) if len(dz) else 1.0
        return 1.0 / (1.0 + dz / max(scale, 1e-12))
    raise ValueError(f"{selector!r} is not a weighted selector")


def arc_candidates(
    preds: Predictions, selector: str, dz: np.ndarray | None = None, entropy: np.ndarray | None = None
) -> Candidates:
    """Ranked candidates per (task, test input) under `selector` (ARC_SELECTORS)."""
    if selector in ("votes-q", "votes", "q"):
        return vote(preds, selector)
    if selector in ("entropy", "convergence"):
        if dz is None or entropy is None:
            raise ValueError(f"selector {selector!r} needs per-view dz and entropy")
        return vote(preds, "weighted", view_weights(selector, dz, entropy))
    raise ValueError(f"unknown ARC selector {selector!r}; choose from {', '.join(ARC_SELECTORS)}")


def answer_ids(preds: Predictions) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Voting's grouping, once for a whole recording: (pair (N,), answer (N,)) ids per row, equal
    inverted grids of a pair sharing an answer id, and each answer's inverted grid (answers: 0..A-1)."""
    pair = _pair_codes(preds)
    answer = np.empty(len(preds), np.int64)
    grids: list[np.ndarray] = []
    for shape, (idx, cells) in _invert_all(preds).items():
        first, inverse = _distinct(pair[idx], cells)
        answer[idx] = len(grids) + inverse
        grids += list(cells[first].reshape(len(first), *shape))
    return pair, answer, grids


def top_answers(
    pair: np.ndarray,
    answer: np.ndarray,
    n_pairs: int,
    n_answers: int,
    selector: str,
    q_halt: np.ndarray,
    weights: np.ndarray | None = None,
    empty: np.ndarray | None = None,
    k: int = 2,
) -> np.ndarray:
    """(P, k) the k best answer ids of each pair 0..P-1 (rows: a subset of a recording, in stream
    order), ranked exactly as voting.vote ranks candidates under `selector` (weighted: `weights`);
    answers marked `empty` are skipped as Candidates.attempts skips them; -1 where a pair has fewer."""
    confidence = np.where(np.isnan(q_halt), 0.5, expit(np.nan_to_num(q_halt)))
    votes = np.bincount(answer, minlength=n_answers).astype(np.float64)
    mean_q = np.bincount(answer, confidence, n_answers) / np.maximum(votes, 1)
    columns: dict[str, np.ndarray] = {"votes": votes, "mean_q": mean_q}
    if weights is not None:
        columns["weighted"] = np.bincount(answer, weights, n_answers).astype(np.float64)
    first = np.full(n_answers, len(answer), np.int64)
    np.minimum.at(first, answer, np.arange(len(answer)))
    owner = np.zeros(n_answers, np.int64)
    owner[answer] = pair
    live = votes > 0 if empty is None else (votes > 0) & ~empty
    keys = {
        "votes-q": ("votes", "mean_q"),
        "votes": ("votes",),
        "q": ("mean_q", "votes"),
        "entropy": ("weighted", "mean_q"),
        "convergence": ("weighted", "mean_q"),
    }[selector]
    ids = np.flatnonzero(live)
    order = ids[np.lexsort([first[ids]] + [-columns[c][ids] for c in reversed(keys)] + [owner[ids]])]
    rank = np.arange(len(order)) - np.searchsorted(owner[order], owner[order], side="left")
    out = np.full((n_pairs, k), -1, np.int64)
    keep = rank < k
    out[owner[order][keep], rank[keep]] = order[keep]
    return out


def _answer_codes(cells: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Integer id per row of its (group, answer), equal rows sharing one id."""
    keyed = np.ascontiguousarray(
        np.concatenate([np.asarray(groups, ">i8").view(np.uint8).reshape(-1, 8), np.asarray(cells, np.uint8)], axis=1)
    )
    _, inverse = np.unique(keyed.view(np.dtype((np.void, keyed.shape[1]))).ravel(), return_inverse=True)
    return inverse.ravel()


def _argbest(groups: np.ndarray, score: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group the row with the highest score; ties go to the first row in stream order."""
    order = np.lexsort((np.arange(len(groups)), -score, groups))
    starts = np.searchsorted(groups[order], np.arange(n_groups))
    if (np.bincount(groups, minlength=n_groups) == 0).any():
        raise ValueError("every group needs at least one row")
    return order[starts]


def select_single(
    cells: np.ndarray,
    groups: np.ndarray,
    selector: str,
    q_halt: np.ndarray | None = None,
    dz: np.ndarray | None = None,
    entropy: np.ndarray | None = None,
) -> np.ndarray:
    """(G,) the chosen row of each group 0..G-1 (groups: (N,) int ids, cells: (N, L) answers)."""
    groups = np.asarray(groups, np.int64)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    if selector == "majority":
        code = _answer_codes(cells, groups)
        count = np.bincount(code)[code]
        return _argbest(groups, count.astype(np.float64), n_groups)
    signals = {"q-max": (q_halt, 1.0), "convergence": (dz, -1.0), "entropy": (entropy, -1.0)}
    if selector not in signals:
        raise ValueError(f"unknown selector {selector!r}; choose from {', '.join(SINGLE_SELECTORS)}")
    values, sign = signals[selector]
    if values is None:
        raise ValueError(f"selector {selector!r} needs its per-row signal")
    return _argbest(groups, sign * np.nan_to_num(np.asarray(values, np.float64), nan=-np.inf * sign), n_groups)


def oracle_single(correct: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(G,) bool: some row of the group is correct. An oracle (it looks at the truth), not a score."""
    return np.bincount(np.asarray(groups, np.int64), weights=np.asarray(correct, np.float64), minlength=n_groups) > 0
