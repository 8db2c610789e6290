"""Repeats over seeds: the same sweep with seeds s, s+1, ..., s+N-1 (restart noise, view sample and
view order), and per cell the mean with a 95% Student-t interval over those seeds.

A cell's bootstrap interval (harness.infer.cells) says how much its score would move on other tasks;
this one says how much it moves with the seed on these tasks. Both matter at small N: a selector
"winning" by 1 point on one seed may lose on the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import write_json, write_text
from harness.core.stats import t_interval
from harness.infer.sweep_common import SweepOptions, seed_free_recording

# (out_dir, options, recording_dir or None for OUT/recording) -> (cells, summary)
SeedSweep = Callable[[Path, SweepOptions, Path | None], tuple[pd.DataFrame, dict[str, Any]]]

KEYS = ("depth", "breadth", "views", "rule", "selector")  # the cell's coordinates (puzzles: no views)
MEASURES = ("pass1", "pass2", "exact", "cell_accuracy", "oracle", "nfe_per_task", "mean_steps")


def aggregate_seeds(tables: list[pd.DataFrame], seeds: list[int]) -> pd.DataFrame:
    """One row per cell: its coordinates, `seeds` (how many), then per measure `<m>_mean`, `<m>_sd`,
    `<m>_low`, `<m>_high`. Every table must list the same cells in the same order."""
    if not tables:
        raise ValueError("no sweep to aggregate")
    keys = [k for k in KEYS if k in tables[0]]
    first = tables[0][keys].reset_index(drop=True)
    for seed, table in zip(seeds[1:], tables[1:]):
        if not table[keys].reset_index(drop=True).equals(first):
            raise DataError(f"the sweep of seed {seed} has other cells than the sweep of seed {seeds[0]}")
    out = first.assign(seeds=len(tables))
    for m in (m for m in MEASURES if m in tables[0]):
        mean, sd, low, high = t_interval(np.stack([t[m].to_numpy(np.float64) for t in tables]))
        out[f"{m}_mean"], out[f"{m}_sd"], out[f"{m}_low"], out[f"{m}_high"] = mean, sd, low, high
    return out


def seed_headline(table: pd.DataFrame, reference: int | None, metric: str) -> dict:
    """The reference cell's mean and interval over seeds, and the cheapest cell (by mean NFE) whose
    mean reaches the reference's mean; {} without a reference cell."""
    if reference is None:
        return {}
    m = f"{metric}_mean"
    ref = table.iloc[reference]
    reach = table[table[m] >= ref[m]].sort_values(["nfe_per_task_mean", m], ascending=[True, False])
    return {"reference": _row(ref, metric), "cheapest_reaching_reference": _row(reach.iloc[0], metric)}


def _row(row: pd.Series, metric: str) -> dict:
    keys = [k for k in KEYS if k in row] + ["seeds", "nfe_per_task_mean"]
    keys += [f"{metric}_{s}" for s in ("mean", "sd", "low", "high")] + ["oracle_mean"]
    return {k: (row[k].item() if hasattr(row[k], "item") else row[k]) for k in keys if k in row}


def reference_row(cells: pd.DataFrame, summary: dict[str, Any]) -> int | None:
    """Index of the cell the summary's headline names as the reference protocol's."""
    ref = summary.get("headline", {}).get("reference")
    if not ref:
        return None
    match = np.ones(len(cells), bool)
    for k in (k for k in KEYS if k in cells and k in ref):
        match &= (cells[k] == ref[k]).to_numpy()
    hits = np.flatnonzero(match)
    return int(hits[0]) if len(hits) else None


def over_seeds(sweep: SeedSweep, out_dir: Path, opts: SweepOptions, seeds: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`sweep(OUT, opts, None)`, then with seeds > 1 `sweep(OUT/seeds/seed-<s>, opts with seed s, shared)` for
    the next seeds, where `shared` is OUT's recording when the seed cannot change it (None: record
    anew; sweep_common.seed_free_recording); writes OUT/cells_seeds.csv and adds `repeats` to OUT's
    sweep.json. Returns the first seed's cells and the summary."""
    cells, summary = sweep(out_dir, opts, None)
    if seeds == 1:
        return cells, summary
    shared = out_dir / rundir.SWEEP_RECORDING if seed_free_recording(opts) else None
    more = [opts.seed + k for k in range(1, seeds)]
    tables = [cells] + [
        sweep(out_dir / rundir.SWEEP_SEEDS / f"seed-{s}", replace(opts, seed=s), shared)[0] for s in more
    ]
    table = aggregate_seeds(tables, [opts.seed, *more])
    write_text(out_dir / rundir.SWEEP_SEED_CELLS, table.to_csv(index=False))
    metric = summary.get("metric", "pass2")
    summary["repeats"] = {
        "seeds": [opts.seed, *more],
        "metric": metric,
        "interval": "95% Student t over seeds",
        "headline": seed_headline(table, reference_row(cells, summary), metric),
    }
    write_json(out_dir / rundir.SWEEP_SUMMARY, summary, indent=2)
    return cells, summary
