"""The sweep's cost and what it finds, on a demo checkpoint (hardware-free: CPU).

    python bench/bench_sweep.py --checkpoint runs/demo/train/checkpoints/step_2750 --breadth 4

  cost    `trm-eval sweep` (record + score every cell) against running its largest cell alone (the
          same rows and steps through the engine without recording; goal <= 1.1x), and against
          running every (depth, breadth, views, halting rule) cell separately, estimated as the
          largest cell's time x each cell's NFE / the largest cell's NFE (a live run's cost is
          proportional to the network applications it runs; selectors cost nothing extra)
  storage recorded predictions on disk against a dense (depth, rows, seq_len) uint8 array
  finding the cheapest halting rule + selector reaching the reference protocol's pass@2, its NFE as a
          fraction of the reference's (goal <= 1/2), and the best pass@2 at the reference's NFE
Writes bench/results/sweep_demo.json. Timings are single runs: on a loaded machine, rerun before trusting a ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from harness.core.tasks import TaskSet
from harness.data.views import build_views, encode_views
from harness.infer.checkpoints import find_identifiers, load_checkpoint
from harness.infer.sweep import RECORDING, run_sweep
from harness.infer.sweep_common import SweepOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_held_out, time_largest_cell  # noqa: E402
from stamp import stamp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def plain_largest_cell(checkpoint: Path, tasks: TaskSet, opts: SweepOptions, depth: int) -> float:
    """Seconds to run every view x restart for `depth` steps, keeping only the final predictions."""
    identifiers = find_identifiers(checkpoint, None)
    model, _ = load_checkpoint(checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks, opts.max_aug, opts.seed)
    canvas = int(round(model.config.seq_len**0.5))
    return time_largest_cell(model, encode_views(views, tasks, canvas), views.identifier, opts, depth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--depth", type=int)
    parser.add_argument("--breadth", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=RESULTS / "sweep_demo.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tasks = demo_held_out(args.checkpoint, Path(tmp))
        opts = SweepOptions(depth=args.depth, breadth=args.breadth, noise=args.noise)
        start = time.perf_counter()
        cells, summary = run_sweep(args.checkpoint, tasks, Path(tmp) / "sweep", opts)
        sweep_seconds = time.perf_counter() - start
        on_disk = sum(p.stat().st_size for p in (Path(tmp) / "sweep" / RECORDING).glob("*.npz"))
        plain = plain_largest_cell(args.checkpoint, tasks, opts, summary["depth"])
    live = cells.drop_duplicates(["depth", "breadth", "views", "rule"])
    separately = plain * float(live["nfe_per_task"].sum()) / summary["nfe_recorded_per_task"]
    h = summary["headline"]
    ratio = sweep_seconds / plain
    result = {
        **stamp(),
        "checkpoint": str(args.checkpoint),
        "tasks": int(len(tasks)),
        "views": summary["views"],
        "depth": summary["depth"],
        "breadth": summary["breadth"],
        "cells": summary["cells"],
        "live_cells": len(live),
        "sweep_seconds": round(sweep_seconds, 2),
        "record_seconds": round(summary["record_seconds"], 2),
        "score_seconds": round(summary["score_seconds"], 2),
        "largest_cell_alone_seconds": round(plain, 2),
        "sweep_vs_largest_cell": round(ratio, 3),
        "goal_sweep_vs_largest_cell": 1.1,
        "met_sweep_vs_largest_cell": ratio <= 1.1,
        "each_cell_separately_seconds_estimated": round(separately, 1),
        "each_cell_separately_vs_sweep": round(separately / sweep_seconds, 1),
        "recording_bytes_on_disk": on_disk,
        "predictions_bytes": summary["predictions_bytes"],
        "headline": h,
        "goal_nfe_fraction": 0.5,
        "met_nfe_fraction": bool(h and h["nfe_fraction"] is not None and h["nfe_fraction"] <= 0.5),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
