"""Inference speed: our engine against the reference evaluation loop, same model, same views.

    python bench/bench_engine.py --checkpoint runs/demo/train/checkpoints/step_2750 --reference /work/ref

Views are every (puzzle, test input) of the checkpoint's held-out tasks (the demo's 59 tasks x 8
views). Timed, alternating to spread machine load alike:
  reference   ACTLossHead eval loop as in the reference's evaluate(): every batch runs all
              halt_max_steps ACT steps (needs --reference)
  fixed       our engine, all steps (the same computation)
  q           our engine, adaptive halting with continuous batching (stop when q_halt > 0)
and pass@1/pass@2 of the voted predictions of each. Writes bench/results/engine_cpu.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from harness.config import EngineConfig, load_config
from harness.data.encoding import decode
from harness.data.subsets import load_subset, subset_name
from harness.data.views import build_views, encode_views
from harness.infer.checkpoints import find_identifiers, load_checkpoint
from harness.infer.engine import run_chunk
from voting import Predictions, pass_at_k, vote

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import build_reference, machine  # noqa: E402
from stamp import stamp  # noqa: E402


def scores(views, tokens_out, q, canvas, truth) -> dict[str, float]:
    shapes, offsets, cells = decode(tokens_out, canvas)
    preds = Predictions(views.task_ids, views.test_index, views.tids, views.colors, shapes, offsets, cells, q)
    return {f"pass@{k}": v for k, v in pass_at_k(vote(preds), truth, (1, 2)).items()}


def reference_eval(head, tokens: np.ndarray, ids: np.ndarray, batch_size: int):
    """The reference evaluate() loop: per batch, ACT steps until every row halts (= all steps in eval)."""
    preds, q = [], []
    with torch.inference_mode():
        for start in range(0, len(tokens), batch_size):
            batch = {
                "inputs": torch.from_numpy(tokens[start : start + batch_size].astype(np.int32)),
                "puzzle_identifiers": torch.from_numpy(ids[start : start + batch_size].astype(np.int32)),
            }
            batch["labels"] = torch.full_like(batch["inputs"], -100)
            carry = head.initial_carry(batch)
            while True:
                carry, _, _, out, done = head(carry=carry, batch=batch, return_keys={"preds", "q_halt_logits"})
                if done:
                    break
            preds.append(out["preds"].to(torch.uint8).numpy())
            q.append(out["q_halt_logits"].double().numpy())
    return np.concatenate(preds), np.concatenate(q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--run-config", type=Path, help="config.toml of the training run (default: ../../config.toml)")
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "engine_cpu.json")
    args = parser.parse_args()

    cfg_path = args.run_config or args.checkpoint.parents[1] / "config.toml"
    cfg = load_config(cfg_path)
    held_out = next(spec for spec in cfg.data.subsets if subset_name(spec) == cfg.data.test_set)
    tasks = load_subset(held_out, cfg.data.max_side)
    identifiers = find_identifiers(args.checkpoint, None)
    model, _ = load_checkpoint(args.checkpoint, identifiers=identifiers)
    views = build_views(identifiers, tasks)
    canvas = cfg.data.canvas
    tokens = encode_views(views, tasks, canvas)
    truth = tasks.solutions()
    device = torch.device("cpu")

    runs = {
        "fixed": lambda: run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=args.batch_size), device),
        "q": lambda: run_chunk(
            model, tokens, views.identifier, EngineConfig(batch_size=args.batch_size, halt="q", threshold=0.0), device
        ),
    }
    if args.reference:
        head = build_reference(args.reference, model.config, args.batch_size, model).eval()
        runs["reference"] = lambda: reference_eval(head, tokens, views.identifier, args.batch_size)
    times: dict[str, list[float]] = {k: [] for k in runs}
    outputs = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            outputs[name] = run()
            times[name].append(time.perf_counter() - start)

    result = {
        **stamp(),
        "checkpoint": str(args.checkpoint),
        "views": len(views),
        "batch_size": args.batch_size,
        "max_steps": model.config.halt_max_steps,
        "repeats": args.repeats,
        "machine": machine(),
    }
    for name, out in outputs.items():
        preds, q = (out.preds, out.q_halt) if name != "reference" else out
        best = min(times[name])
        result[name] = {
            "seconds": round(best, 3),
            "views_per_s": round(len(views) / best, 1),
            **scores(views, preds, q, canvas, truth),
        }
        if name != "reference":
            result[name]["mean_steps"] = float(out.steps.mean())
    if "reference" in outputs:
        result["fixed_equals_reference_preds"] = bool(np.array_equal(outputs["fixed"].preds, outputs["reference"][0]))
        for name in ("fixed", "q"):
            result[f"{name}_speedup_vs_reference"] = round(result["reference"]["seconds"] / result[name]["seconds"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
