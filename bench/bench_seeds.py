"""How much a sweep cell moves with the seed, on a demo checkpoint (hardware-free: CPU).

    python bench/bench_seeds.py --checkpoint runs/demo/train/checkpoints/step_2750 --seeds 5

Runs `trm-eval sweep --seeds N` (restart noise and view order change with the seed; restart 0 and
the full view set do not, so cells of breadth 1 over every view are the same in every seed) and
reports, over the cells that can move: the median and largest standard deviation of pass@2 over
seeds, the reference protocol's cell, the best cell by its mean over seeds with its 95% t interval,
and the cheapest cell whose mean reaches the reference's. Writes bench/results/sweep_demo_seeds.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from harness.infer.sweep import run_sweep_seeds
from harness.infer.sweep_common import SweepOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import demo_held_out  # noqa: E402
from stamp import stamp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CELL = ("depth", "breadth", "views", "rule", "selector", "seeds", "pass2_mean", "pass2_sd", "pass2_low", "pass2_high")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--breadth", type=int, default=4)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "sweep_demo_seeds.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tasks = demo_held_out(args.checkpoint, Path(tmp))
        opts = SweepOptions(depth=args.depth, breadth=args.breadth, noise=args.noise)
        start = time.perf_counter()
        _, summary = run_sweep_seeds(args.checkpoint, tasks, Path(tmp) / "sweep", opts, args.seeds)
        seconds = time.perf_counter() - start
        import pandas as pd

        table = pd.read_csv(Path(tmp) / "sweep" / "cells_seeds.csv")
    moving = table[(table["breadth"] > 1) | (table["views"] < table["views"].max())]
    best = table.sort_values(["pass2_mean", "nfe_per_task_mean"], ascending=[False, True]).iloc[0]
    reps = summary["repeats"]["headline"]
    result = {
        **stamp(),
        "checkpoint": str(args.checkpoint),
        "tasks": int(len(tasks)),
        "depth": summary["depth"],
        "breadth": args.breadth,
        "noise": args.noise,
        "seeds": summary["repeats"]["seeds"],
        "cells": int(len(table)),
        "cells_that_can_move": int(len(moving)),
        "seconds": round(seconds, 1),
        "pass2_sd_over_seeds": {
            "median": round(float(moving["pass2_sd"].median()), 4),
            "max": round(float(moving["pass2_sd"].max()), 4),
        },
        "cells_whose_interval_excludes_the_reference": int(
            (
                (moving["pass2_low"] > reps["reference"]["pass2_mean"])
                | (moving["pass2_high"] < reps["reference"]["pass2_mean"])
            ).sum()
        ),
        "reference": reps["reference"],
        "cheapest_reaching_reference_on_average": reps["cheapest_reaching_reference"],
        "best_by_mean": {k: (best[k].item() if hasattr(best[k], "item") else best[k]) for k in CELL}
        | {"nfe_per_task_mean": float(best["nfe_per_task_mean"])},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
