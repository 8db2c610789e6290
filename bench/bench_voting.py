"""Voting speed: ours (vectorised) against the reference evaluator on the same model outputs.

Synthesises what an evaluation of ARC-AGI-1 produces (token batches of views under random
transforms, noisy predictions that collide, q_halt logits), then times
  reference: evaluators/arc.py ARC.update_batch over every batch + ARC.result (voting, attempts)
  ours:      encoding.decode + voting.vote + Candidates.attempts + submission
and checks that both produce the same attempts. Run: python bench/bench_voting.py --reference PATH
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from stamp import stamp

from augment import IDENTITY, format_name, random_transform
from augment.transform import BLANK
from harness.core.grids import grid_to_list
from harness.core.sources import load_tasks
from harness.data.encoding import decode, encode_grid
from submissions import build_submission
from voting import Predictions, vote

ROOT = Path(__file__).resolve().parents[1]


def synthesise(tasks, views: int, batch: int, seed: int):
    """Per-view model outputs in the reference's batch format, plus our view table."""
    rng = np.random.default_rng(seed)
    identifiers = [BLANK]
    rows = []  # (identifier, task id, test index, transform, input tokens, pred tokens, q)
    for task in tasks:
        transforms = [IDENTITY] + [random_transform(rng) for _ in range(views - 1)]
        for t in transforms:
            identifiers.append(task.id if t == IDENTITY else format_name(task.id, t))
            for i, (inp, out) in enumerate(zip(task.test_inputs, task.test_outputs)):
                guess = out.copy()
                if rng.random() < 0.6:  # a wrong answer from a small pool, so wrong grids collide too
                    guess[rng.integers(out.shape[0]), rng.integers(out.shape[1])] = rng.integers(3)
                rows.append(
                    (
                        len(identifiers) - 1,
                        task.id,
                        i,
                        t,
                        encode_grid(t.apply(inp)),
                        encode_grid(t.apply(guess)),
                        float(rng.normal()),
                    )
                )
    batches = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        pad = batch - len(chunk)
        ident = np.array([r[0] for r in chunk] + [0] * pad, dtype=np.int32)
        inputs = np.stack([r[4] for r in chunk] + [np.zeros(900, np.uint8)] * pad)
        preds = np.stack([r[5] for r in chunk] + [np.zeros(900, np.uint8)] * pad)
        q = np.array([r[6] for r in chunk] + [0.0] * pad, dtype=np.float32)
        batches.append({"puzzle_identifiers": ident, "inputs": inputs, "preds": preds, "q_halt_logits": q})
    return identifiers, rows, batches


def view_table(rows):
    """What our engine knows before the model runs: each view's task, test index and transform."""
    return (
        np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows], np.int64),
        np.array([r[3].tid for r in rows], np.int8),
        np.array([r[3].colors for r in rows], np.uint8),
    )


def ours_runner(tasks, rows, batches):
    """One timed run of ours: decode the model's tokens and vote (the reference likewise gets its
    identifier map up front)."""
    task_ids, test_index, tids, colors = view_table(rows)

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        entries = _ours_once(tasks, batches, len(rows), task_ids, test_index, tids, colors)
        return time.perf_counter() - start, entries

    return run


def _ours_once(tasks, batches, n, task_ids, test_index, tids, colors):
    preds_tokens = np.concatenate([b["preds"] for b in batches])[:n]
    q = np.concatenate([b["q_halt_logits"] for b in batches])[:n].astype(np.float64)
    shapes, offsets, cells = decode(preds_tokens)
    preds = Predictions(task_ids, test_index, tids, colors, shapes, offsets, cells, q)
    candidates = vote(preds)
    return build_submission(tasks, candidates.attempts()).entries


def reference_runner(ref: Path, tasks, identifiers, batches, tmp: str):
    """One timed run of the reference evaluator (evaluators/arc.py; needs numba, pydantic, argdantic)."""
    import torch
    import torch.distributed as dist

    sys.path.insert(0, str(ref))
    from evaluators.arc import ARC  # noqa: E402

    Path(tmp, "identifiers.json").write_text(json.dumps(identifiers))
    Path(tmp, "test_puzzles.json").write_text(json.dumps({t.id: t.to_json() for t in tasks}))
    meta = type("Meta", (), {"blank_identifier_id": 0})()
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    if not dist.is_initialized():
        dist.init_process_group("gloo", rank=0, world_size=1)
    tensors = [{k: torch.from_numpy(v) for k, v in b.items()} for b in batches]
    ARC(tmp, meta).update_batch({k: v[:2] for k, v in tensors[0].items()}, {})  # compile numba's crop first

    def run() -> tuple[float, dict]:
        evaluator = ARC(tmp, meta)
        start = time.perf_counter()
        for b in tensors:
            evaluator.update_batch(
                {k: b[k] for k in ("inputs", "puzzle_identifiers")}, {k: b[k] for k in ("preds", "q_halt_logits")}
            )
        evaluator.result(tmp, rank=0, world_size=1)
        elapsed = time.perf_counter() - start
        return elapsed, json.loads(Path(tmp, "submission.json").read_text())

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, help="checkout of SamsungSAILMontreal/TinyRecursiveModels")
    parser.add_argument("--tasks", default="arc-agi-1/evaluation")
    parser.add_argument("--views", type=int, default=64, help="augmented views per task (paper: up to ~920)")
    parser.add_argument("--batch", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of each")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "voting.json")
    args = parser.parse_args()

    tasks = load_tasks(args.tasks)
    identifiers, rows, batches = synthesise(tasks, args.views, args.batch, seed=0)
    runners = {"ours": ours_runner(tasks, rows, batches)}
    with tempfile.TemporaryDirectory() as tmp:
        if args.reference:
            runners["reference"] = reference_runner(args.reference, tasks, identifiers, batches, tmp)
        times: dict[str, list[float]] = {k: [] for k in runners}
        outputs = {}
        for _ in range(args.repeats):  # alternate, so that machine load hits both alike
            for name, run in runners.items():
                elapsed, outputs[name] = run()
                times[name].append(elapsed)
    ours_t = times["ours"]
    result = {
        "tasks": args.tasks,
        "views_per_task": args.views,
        "predictions": len(rows),
        "repeats": args.repeats,
        "ours_best_s": round(min(ours_t), 3),
        "ours_median_s": round(float(np.median(ours_t)), 3),
        "ours_predictions_per_s": round(len(rows) / min(ours_t)),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}",
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        **stamp(),
    }
    if args.reference:
        ref_t = times["reference"]
        ours_json = {
            k: [{a: grid_to_list(np.array(g)) for a, g in e.items()} for e in v] for k, v in outputs["ours"].items()
        }
        result |= {
            "reference_best_s": round(min(ref_t), 3),
            "reference_median_s": round(float(np.median(ref_t)), 3),
            "speedup_best": round(min(ref_t) / min(ours_t), 1),
            "speedup_median": round(float(np.median(ref_t) / np.median(ours_t)), 1),
            "same_attempts": ours_json == outputs["reference"],
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
