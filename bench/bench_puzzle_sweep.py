"""The puzzle sweep's cost and what it finds, on the CPU Sudoku demo's checkpoint (hardware-free: CPU).

    python bench/bench_puzzle_sweep.py                  # runs/demo-sudoku/train, its latest step
    python bench/bench_puzzle_sweep.py --checkpoint runs/demo-sudoku/train/checkpoints/step_1000 --depth 12

  cost    `trm-eval sweep` on the run's held-out set (record + score every cell) against running its
          largest cell alone (every puzzle x restart for `depth` steps through the same kernels without
          recording; goal <= 1.1x), and against running every (depth, breadth, halting rule) cell
          separately, estimated as the largest cell's time x each cell's NFE / the largest cell's NFE
          (a live run costs in proportion to its network applications; selectors cost nothing extra).
          The largest cell alone is timed before and after the sweep and the mean taken, so a load that
          comes or goes during the run tilts the ratio less
  finding the reference protocol (fixed, halt_max_steps, one start) and its exact accuracy and NFE; the
          cheapest halting rule + selector reaching that accuracy, its NFE as a fraction of the
          reference's (goal <= 1/2); the best exact accuracy at the reference's NFE; and per halting
          rule its cheapest cell reaching the reference and its best cell within half the reference's NFE
Writes bench/results/sweep_sudoku.json, with the machine's load average: timings are single runs, and
on a loaded machine they are upper bounds (rerun before trusting a ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from harness.config import load_config
from harness.core.puzzle_sources import load_puzzles
from harness.core.puzzles import PuzzleSet
from harness.data.puzzle_encoding import encode_cells
from harness.infer.checkpoints import load_checkpoint
from harness.infer.puzzle_sweep import run_puzzle_sweep
from harness.infer.sweep import RECORDING
from harness.infer.sweep_common import SweepOptions
from harness.train.state import checkpoint_dirs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import time_largest_cell  # noqa: E402
from stamp import stamp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
RUN = Path("runs/demo-sudoku/train")


def plain_largest_cell(checkpoint: Path, puzzles: PuzzleSet, opts: SweepOptions, depth: int) -> float:
    """Seconds to run every puzzle x restart for `depth` steps, keeping only the final predictions."""
    model, _ = load_checkpoint(checkpoint)
    return time_largest_cell(model, encode_cells(puzzles.questions), np.zeros(len(puzzles), np.int64), opts, depth)


def _cell(cell: dict) -> str:
    return f"{cell['rule']} / {cell['selector']}, depth {cell['depth']}, breadth {cell['breadth']}"


def by_rule(cells: pd.DataFrame, ref: dict) -> dict[str, dict[str, str | None]]:
    """Per halting rule: its cheapest cell reaching the reference's exact accuracy, and its best cell
    within half the reference's NFE (any selector and breadth)."""
    out: dict[str, dict[str, str | None]] = {}
    for rule, c in cells.groupby("rule", sort=False):
        reach = c[c["exact"] >= ref["exact"]].sort_values(["nfe_per_task", "exact"], ascending=[True, False])
        half = c[c["nfe_per_task"] <= ref["nfe_per_task"] / 2].sort_values(
            ["exact", "nfe_per_task"], ascending=[False, True]
        )
        out[str(rule)] = {
            "cheapest_reaching_reference": None if reach.empty else _line(reach.iloc[0], ref),
            "best_within_half_reference_nfe": None if half.empty else _line(half.iloc[0], ref),
        }
    return out


def _line(row: pd.Series, ref: dict) -> str:
    return (
        f"{row['selector']}, depth {row['depth']}, breadth {row['breadth']}: exact {100 * row['exact']:.1f}% "
        f"at {row['nfe_per_task']:.1f} NFE/puzzle ({row['nfe_per_task'] / ref['nfe_per_task']:.3f} x the reference's)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help=f"default: the latest step of {RUN}")
    parser.add_argument("--tasks", help="default: the run's eval_set")
    parser.add_argument("--depth", type=int, help="default: twice halt_max_steps")
    parser.add_argument("--breadth", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=RESULTS / "sweep_sudoku.json")
    args = parser.parse_args()
    checkpoint = args.checkpoint or checkpoint_dirs(RUN)[-1][1]
    spec = args.tasks or load_config(checkpoint.parents[1] / "config.toml").data.eval_set
    puzzles = load_puzzles(spec)
    depth = args.depth or 2 * load_checkpoint(checkpoint)[0].config.halt_max_steps
    opts = SweepOptions(depth=depth, breadth=args.breadth, noise=args.noise)
    load_before = os.getloadavg()
    plain_before = plain_largest_cell(checkpoint, puzzles, opts, depth)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        cells, summary = run_puzzle_sweep(checkpoint, puzzles, Path(tmp) / "sweep", opts)
        sweep_seconds = time.perf_counter() - start
        on_disk = sum(p.stat().st_size for p in (Path(tmp) / "sweep" / RECORDING).glob("*.npz"))
    plain_after = plain_largest_cell(checkpoint, puzzles, opts, depth)
    load_after = os.getloadavg()
    timed = [plain_before, plain_after]
    plain = sum(timed) / len(timed)
    live = cells.drop_duplicates(["depth", "breadth", "rule"])
    separately = plain * float(live["nfe_per_task"].sum()) / summary["nfe_recorded_per_task"]
    h = summary["headline"]
    if not h:
        sys.exit(f"--depth {summary['depth']} is below halt_max_steps {summary['halt_max_steps']}: no reference cell")
    ratio = sweep_seconds / plain
    ref, cheapest, best = h["reference"], h["cheapest_reaching_reference"], h["best_at_reference_nfe"]
    result = {
        **stamp(),
        "checkpoint": str(checkpoint),
        "tasks": spec,
        "puzzles": len(puzzles),
        "depth": summary["depth"],
        "halt_max_steps": summary["halt_max_steps"],
        "breadth": summary["breadth"],
        "noise": summary["noise"],
        "nfe_per_step": summary["nfe_per_step"],
        "cells": summary["cells"],
        "live_cells": len(live),
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "single runs on a CPU machine shared with other jobs: times are upper bounds, ratios approximate",
        },
        "sweep_seconds": round(sweep_seconds, 2),
        "record_seconds": round(summary["record_seconds"], 2),
        "score_seconds": round(summary["score_seconds"], 2),
        "largest_cell_alone_seconds": round(plain, 2),
        "largest_cell_alone_seconds_before_and_after": [round(t, 2) for t in timed],
        "sweep_vs_largest_cell": round(ratio, 3),
        "goal_sweep_vs_largest_cell": 1.1,
        "met_sweep_vs_largest_cell": ratio <= 1.1,
        "each_cell_separately_seconds_estimated": round(separately, 1),
        "each_cell_separately_vs_sweep": round(separately / sweep_seconds, 1),
        "recording_bytes_on_disk": on_disk,
        "predictions_bytes": summary["predictions_bytes"],
        "reference": f"{_cell(ref)}: exact {100 * ref['exact']:.1f}% at {ref['nfe_per_task']:.0f} NFE/puzzle",
        "cheapest_reaching_reference": f"{_cell(cheapest)}: exact {100 * cheapest['exact']:.1f}% at "
        f"{cheapest['nfe_per_task']:.1f} NFE/puzzle ({h['nfe_fraction']:.3f} x the reference's)",
        "best_at_reference_nfe": f"{_cell(best)}: exact {100 * best['exact']:.1f}% at "
        f"{best['nfe_per_task']:.1f} NFE/puzzle",
        "by_rule": by_rule(cells, ref),
        "headline": h,
        "goal_nfe_fraction": 0.5,
        "met_nfe_fraction": bool(h["nfe_fraction"] is not None and h["nfe_fraction"] <= 0.5),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
