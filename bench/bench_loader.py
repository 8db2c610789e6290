"""Benchmark the training loader: time to build one batch early and late in a run, and time to
resume late in the paper's ARC-1 run.

    python bench/bench_loader.py

Measures (1) ms per batch of the demo preset at global batch 0 and at 2,200 (about epoch 350),
(2) ms to plan one epoch of the paper's ARC-1 layout (ARC-AGI-1 training + evaluation, 1000
augmentations, batch 768), and (3) the time a resumed sampler needs before its first batch at
step 500,000, from a checkpoint's epoch start. Writes bench/results/loader.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from stamp import stamp

from harness.config import RunConfig, load_config
from harness.data.loader import BatchSampler, TrainBatches, train_pairs
from harness.train.build import prepare_data

RESULTS = Path(__file__).resolve().parent / "results"


def ms_per_batch(batches: TrainBatches, start: int, n: int) -> float:
    batches.batch(start)  # plans (or finds) the epochs up to `start` first
    t0 = time.perf_counter()
    for g in range(start + 1, start + 1 + n):
        batches.batch(g)
    return (time.perf_counter() - t0) / n * 1000


def sampler_of(cfg: RunConfig) -> BatchSampler:
    with tempfile.TemporaryDirectory() as tmp:
        subsets, layout = prepare_data(cfg, Path(tmp))
    return BatchSampler(layout, train_pairs(layout, subsets), cfg.train.global_batch_size, cfg.train.seed)


def demo_loader(n: int) -> dict[str, float]:
    cfg = load_config("demo-cpu")
    sampler = sampler_of(cfg)
    late = TrainBatches(sampler, cfg.data.canvas, 0, 1, 0, cfg.data.translate)
    return {"ms_per_batch_at_0": ms_per_batch(late, 0, n), "ms_per_batch_at_2200": ms_per_batch(late, 2200, n)}


def arc1_resume(step: int) -> dict[str, float]:
    specs = ["training=arc-agi-1/training", "evaluation=arc-agi-1/evaluation"]
    cfg = load_config("arc1", [f"data.subsets={json.dumps(specs)}"])
    sampler = sampler_of(cfg)
    t0 = time.perf_counter()
    epochs = 50
    batches = sum(len(sampler.epoch_plan(e)) for e in range(epochs))
    plan_ms = (time.perf_counter() - t0) / epochs * 1000
    # A checkpoint near `step` records where its epoch starts; estimate that point from the mean epoch length.
    epoch = int(step / (batches / epochs))
    resumed = BatchSampler(sampler.layout, sampler.pairs, cfg.train.global_batch_size, cfg.train.seed)
    t0 = time.perf_counter()
    resumed.start_at(epoch, step)
    resumed.position(step)
    resume_ms = (time.perf_counter() - t0) * 1000
    return {
        "ms_per_epoch_plan": plan_ms,
        "batches_per_epoch": batches / epochs,
        "replay_estimate_s": plan_ms * epoch / 1000,
        "resume_from_epoch_start_ms": resume_ms,
        "resume_step": step,
        "resume_epoch": epoch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS / "loader.json")
    args = parser.parse_args()
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "demo": demo_loader(args.batches),
        "arc1": arc1_resume(500_000),
        **stamp(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    d, a = result["demo"], result["arc1"]
    md = "\n".join(
        [
            "# Training loader",
            "",
            "| measurement | value |",
            "|---|---:|",
            f"| demo preset, ms per batch at global batch 0 | {d['ms_per_batch_at_0']:.2f} |",
            f"| demo preset, ms per batch at global batch 2,200 | {d['ms_per_batch_at_2200']:.2f} |",
            f"| ARC-1 (aug 1000, batch 768), ms to plan one epoch | {a['ms_per_epoch_plan']:.1f} |",
            f"| ARC-1, replaying every epoch before step 500,000 (estimate), s | {a['replay_estimate_s']:.0f} |",
            f"| ARC-1, resuming at step 500,000 from the checkpoint's epoch start, ms | "
            f"{a['resume_from_epoch_start_ms']:.1f} |",
            "",
            "`python bench/bench_loader.py`",
            "",
        ]
    )
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
