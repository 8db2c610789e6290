"""What recording every step costs, measured so that machine drift cancels (hardware-free: CPU).

    python bench/bench_record_overhead.py --pairs 5

A sweep's time is its recording plus scoring (well under a second for thousands of cells), so its cost
against running its largest cell alone is the recording's overhead. Timing the two as two long runs
minutes apart on a shared machine gave ratios from 0.89x to 2.0x for the same work; here the same
batch (the first `--rows` rows x restarts, `depth` steps) runs recorded and plain in alternation,
`--pairs` times each, in random order within a pair, and the ratio of medians is reported, for the
demo ARC checkpoint and the CPU Sudoku checkpoint. Writes bench/results/record_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from harness.core.puzzle_sources import load_puzzles
from harness.data.puzzle_encoding import encode_cells
from harness.infer.checkpoints import load_checkpoint
from harness.infer.record import record_rows, start_states
from harness.train.state import checkpoint_dirs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import stamp  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def measure(checkpoint: Path, tokens: np.ndarray, ids: np.ndarray, depth: int, breadth: int, pairs: int) -> dict:
    model, _ = load_checkpoint(checkpoint)
    model.eval()
    n = len(tokens)
    view = np.repeat(np.arange(n), breadth)
    restart = np.tile(np.arange(breadth), n)
    inputs = torch.from_numpy(tokens[view].astype(np.int32))
    identifiers = torch.from_numpy(ids[view].astype(np.int32))

    def once(record: bool) -> float:
        z_H, z_L = start_states(model, view, restart, 0.1, 0, torch.device("cpu"))
        start = time.perf_counter()
        record_rows(model, inputs, identifiers, z_H, z_L, depth, record=record)
        return time.perf_counter() - start

    once(False)  # warm-up
    rng = np.random.default_rng(0)
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(pairs):
        for record in rng.permutation([True, False]):
            times[bool(record)].append(once(bool(record)))
    recorded, plain = float(np.median(times[True])), float(np.median(times[False]))
    return {
        "checkpoint": str(checkpoint),
        "rows": int(len(view)),
        "depth": depth,
        "recorded_seconds": [round(t, 3) for t in times[True]],
        "plain_seconds": [round(t, 3) for t in times[False]],
        "ratio_of_medians": round(recorded / plain, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arc", type=Path, default=Path("runs/demo/train/checkpoints/step_2750"))
    parser.add_argument("--sudoku", type=Path, default=Path("runs/demo-sudoku/train"))
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS / "record_overhead.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    results = {}
    sudoku_ckpt = checkpoint_dirs(args.sudoku)[-1][1] if args.sudoku.name == "train" else args.sudoku
    puzzles = load_puzzles("sudoku-6x6/test-1k")
    results["sudoku"] = measure(
        sudoku_ckpt,
        encode_cells(puzzles.questions[: args.rows]),
        np.zeros(args.rows, np.int64),
        depth=12,
        breadth=4,
        pairs=args.pairs,
    )
    model, _ = load_checkpoint(args.arc)
    rng = np.random.default_rng(0)
    tokens = rng.integers(2, 12, (args.rows, model.config.seq_len))  # the cost does not depend on the grids
    ids = rng.integers(1, model.config.num_puzzle_identifiers, args.rows)
    results["arc_demo"] = measure(args.arc, tokens, ids, depth=8, breadth=4, pairs=args.pairs)
    result = {**stamp(), "threads": torch.get_num_threads(), **results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
