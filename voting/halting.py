"""Halting rules as post-processing: from per-step signals of a fixed-depth run, the step each row
would have stopped at had the rule run live (a rule never looks past the step it stops at, so the
answer is the one a live early exit gives). Pure numpy.

Rules, written `name` or `name:param[:param]`:
  fixed                every row runs all `depth` steps (the reference protocol)
  q[:t]                first step whose q_halt logit > t (default 0), as `evaluate --halt q`
  stable[:k]           first step whose prediction is unchanged for k steps (default 2)
  converged[:tol]      first step whose relative change of z_H is below tol (default 0.01)
  entropy[:k[:tol]]    first step whose mean token entropy stayed within tol of the step before for k
                       steps in a row (default 2, 0.01), as LoopViT
Every rule stops at `depth` at the latest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULTS: dict[str, tuple[float, ...]] = {
    "fixed": (),
    "q": (0.0,),
    "stable": (2,),
    "converged": (0.01,),
    "entropy": (2, 0.01),
}


@dataclass(frozen=True)
class HaltRule:
    name: str
    params: tuple[float, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> HaltRule:
        """`q:0.5` -> HaltRule("q", (0.5,)); missing parameters take their defaults."""
        name, *raw = spec.strip().split(":")
        if name not in DEFAULTS:
            raise ValueError(f"unknown halting rule {name!r}; choose from {', '.join(DEFAULTS)}")
        default = DEFAULTS[name]
        if len(raw) > len(default):
            raise ValueError(f"halting rule {spec!r}: {name} takes at most {len(default)} parameter(s)")
        try:
            values = tuple(float(r) for r in raw)
        except ValueError:
            raise ValueError(f"halting rule {spec!r}: parameters must be numbers") from None
        params = values + default[len(values) :]
        if not all(math.isfinite(v) for v in params):
            raise ValueError(f"halting rule {spec!r}: parameters must be finite numbers")
        if name in ("converged", "entropy") and params[-1] < 0:
            raise ValueError(f"halting rule {spec!r}: the tolerance must be >= 0")
        if name in ("stable", "entropy") and (params[0] < 1 or params[0] != int(params[0])):
            raise ValueError(f"halting rule {spec!r}: k must be a whole number >= 1")
        return cls(name, params)

    @property
    def label(self) -> str:
        """For people and cell tables: parameters to 6 significant digits."""
        return ":".join([self.name, *(f"{p:g}" for p in self.params)])

    @property
    def key(self) -> str:
        """Exact (repr) parameters, for telling saved results apart: labels round."""
        return ":".join([self.name, *map(repr, self.params)])


@dataclass
class StepSignals:
    """(D, N) per-step signals of N rows; `changed[s]`: the prediction after step s + 1 differs from before."""

    q_halt: np.ndarray
    changed: np.ndarray
    dz: np.ndarray
    entropy: np.ndarray


def _first(hit: np.ndarray, depth: int) -> np.ndarray:
    """1-based step of each column's first True among the first `depth` rows, else depth."""
    hit = hit[:depth]
    return np.where(hit.any(axis=0), hit.argmax(axis=0) + 1, depth).astype(np.int64)


def _runs(bad: np.ndarray, k: int) -> np.ndarray:
    """(D, N): True at step s when none of `bad` at steps s-k+1..s (0-based) and s >= k - 1."""
    c = np.cumsum(np.vstack([np.zeros((1, bad.shape[1]), np.int64), bad.astype(np.int64)]), axis=0)
    out = np.zeros(bad.shape, bool)
    if k <= bad.shape[0]:
        out[k - 1 :] = (c[k:] - c[:-k]) == 0
    return out


def exit_steps(rule: HaltRule, signals: StepSignals, depth: int) -> np.ndarray:
    """(N,) the step (1..depth) each row stops at under `rule`."""
    if not 1 <= depth <= len(signals.q_halt):
        raise ValueError(f"depth {depth}: the recording has steps 1..{len(signals.q_halt)}")
    n = signals.q_halt.shape[1]
    if rule.name == "fixed":
        return np.full(n, depth, np.int64)
    if rule.name == "q":
        return _first(signals.q_halt > rule.params[0], depth)
    if rule.name == "stable":
        # Unchanged for k steps: no change at the k steps ending here (step 1 always counts as a change).
        return _first(_runs(signals.changed, int(rule.params[0]))[:depth], depth)
    if rule.name == "converged":
        return _first(signals.dz < rule.params[0], depth)
    if rule.name == "entropy":
        k, tol = int(rule.params[0]), rule.params[1]
        moved = np.ones_like(signals.changed)
        moved[1:] = np.abs(np.diff(signals.entropy, axis=0)) > tol
        return _first(_runs(moved, k), depth)
    raise ValueError(f"unknown halting rule {rule.name!r}")
