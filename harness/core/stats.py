"""Intervals over repeats, shared by the sweep's seeds (harness.infer.repeats) and `compare`."""

from __future__ import annotations

import numpy as np
from scipy import stats


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of (S, C) values over S repeats: mean, sample sd, and the Student t interval's ends
    (NaN with a single repeat, where no spread can be estimated)."""
    values = np.asarray(values, np.float64)
    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan, nan
    sd = values.std(axis=0, ddof=1)
    half = stats.t.ppf((1 + level) / 2, n - 1) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half
