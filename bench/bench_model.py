"""CPU benchmark of our TRM against the reference code's, on the paper's ARC architecture.

Run by hand (about 8 minutes on one core of an AMD EPYC):

    python bench/bench_model.py --reference /work/ref

Times a training step (one ACT step from a fresh carry: forward, loss, backward) and a full
evaluation (halt_max_steps ACT steps, no gradients), float32. Both models hold the same
weights; their outputs are compared as a sanity check. Runs of the two alternate (A B, B A, ...)
so that load from other processes hits both alike. Wall and process CPU time are both recorded:
on a shared machine wall times of 2-thread runs vary by +-20% or more, so the default is one
thread, whose CPU time barely depends on other processes. Writes bench/results/model_cpu.{json,md}.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from stamp import stamp

from models import TRM, TRMConfig, act_loss
from models.reference import to_reference

RESULTS = Path(__file__).resolve().parent / "results"


def paper_config(num_ids: int) -> TRMConfig:
    """The paper's ARC model (hidden 512, 8 heads, H3/L4, 2 layers, 16 puzzle positions), in float32."""
    return TRMConfig(num_puzzle_identifiers=num_ids, forward_dtype="float32")


def make_batch(config: TRMConfig, size: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(size)
    labels = torch.randint(2, config.vocab_size, (size, config.seq_len), generator=g)
    labels[:, config.seq_len // 2 :] = -100  # like padded ARC canvases: part of the labels is ignored
    return {
        "inputs": torch.randint(0, config.vocab_size, (size, config.seq_len), generator=g),
        "labels": labels,
        "puzzle_identifiers": torch.randint(0, config.num_puzzle_identifiers, (size,), generator=g),
    }


def import_reference(root: Path):
    """The reference's trm and losses modules. Its package is also called `models`, so ours is
    set aside in sys.modules while it imports, then put back."""
    ours = {k: m for k, m in sys.modules.items() if k == "models" or k.startswith("models.")}
    for k in ours:
        del sys.modules[k]
    sys.path.insert(0, str(root))
    try:
        trm = importlib.import_module("models.recursive_reasoning.trm")
        losses = importlib.import_module("models.losses")
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if k == "models" or k.startswith("models.")]:
            del sys.modules[k]
        sys.modules.update(ours)
    return trm, losses


def build_reference(root: Path, config: TRMConfig, batch_size: int, ours: TRM):
    """The reference ACTLossHead(model) with our model's weights."""
    trm, losses = import_reference(root)
    fields = {k: v for k, v in config.to_dict().items() if k != "causal"}
    head = losses.ACTLossHead(
        trm.TinyRecursiveReasoningModel_ACTV1({**fields, "batch_size": batch_size}), loss_type="stablemax_cross_entropy"
    )
    head.load_state_dict(to_reference(ours.state_dict(), compiled=False))
    return head


def ours_train(model: TRM, batch: dict[str, torch.Tensor]) -> float:
    model.train()
    model.zero_grad(set_to_none=True)
    carry, out = model(model.initial_carry(batch), batch)
    loss, _ = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
    loss.backward()
    return loss.item()


def ref_train(head, batch: dict[str, torch.Tensor]) -> float:
    head.train()
    head.zero_grad(set_to_none=True)
    _, loss, _, _, _ = head(carry=head.initial_carry(batch), batch=batch, return_keys=[])
    loss.backward()
    return loss.item()


def ours_eval(model: TRM, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model.evaluate(batch)[-1]["logits"]


def ref_eval(head, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reference's evaluation loop (inference mode, step until all halted), without its loss."""
    model = head.model.eval()
    with torch.inference_mode():
        carry = model.initial_carry(batch)
        while True:
            carry, out = model(carry=carry, batch=batch)
            out["preds"] = out["logits"].argmax(-1)
            if carry.halted.all():
                return out["logits"]


def alternate(repeats: int, runs: dict[str, Callable[[], object]]) -> tuple[dict[str, dict], dict]:
    """Wall and process CPU seconds per run of each callable, interleaved A B, B A, ... so that
    drifting load from other processes favours neither; and each one's last result."""
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in runs}
    last: dict[str, object] = {}
    for rep in range(repeats):
        for name, run in list(runs.items())[:: -1 if rep % 2 else 1]:
            wall, cpu = time.perf_counter(), time.process_time()
            last[name] = run()
            times[name]["wall"].append(time.perf_counter() - wall)
            times[name]["cpu"].append(time.process_time() - cpu)
    return times, last


def summary(times: dict[str, dict[str, list[float]]]) -> dict[str, object]:
    """Per implementation: runs, median and min of wall and CPU seconds; ours / reference ratios."""
    out: dict[str, object] = {}
    for name, kinds in times.items():
        out[name] = {
            f"{kind}_{stat}": value
            for kind, runs in kinds.items()
            for stat, value in (
                ("runs_s", [round(t, 3) for t in runs]),
                ("median_s", round(statistics.median(runs), 3)),
                ("min_s", round(min(runs), 3)),
            )
        }
    if "reference" in times:
        for kind in ("wall", "cpu"):
            ours, ref = times["ours"][kind], times["reference"][kind]
            out[f"ratio_{kind}_median"] = round(statistics.median(ours) / statistics.median(ref), 3)
            out[f"ratio_{kind}_min"] = round(min(ours) / min(ref), 3)
    return out


def machine() -> dict[str, object]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, help="checkout of the reference code (compare against it)")
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--eval-batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--puzzle-ids", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; with 1, process CPU time is a fair clock on a shared machine",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "model_cpu.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    config = paper_config(args.puzzle_ids)
    torch.manual_seed(0)
    ours = TRM(config)
    with torch.no_grad():  # give the puzzle embedding and q head non-trivial values
        ours.inner.puzzle_emb.weights.normal_(std=0.1)
        ours.inner.q_head.weight.normal_(std=0.01)
    ref = build_reference(args.reference, config, args.train_batch, ours) if args.reference else None
    train_batch, eval_batch = make_batch(config, args.train_batch), make_batch(config, args.eval_batch)
    load_before = os.getloadavg()

    # Warm-up (thread pools, kernels) with one cheap training step; the reference shares the kernels.
    ours_train(ours, make_batch(config, 1))

    train_runs = {"ours": lambda: ours_train(ours, train_batch)}
    eval_runs = {"ours": lambda: ours_eval(ours, eval_batch)}
    if ref is not None:
        train_runs["reference"] = lambda: ref_train(ref, train_batch)
        eval_runs["reference"] = lambda: ref_eval(ref, eval_batch)
    train, losses = alternate(args.repeats, train_runs)
    evals, logits = alternate(args.repeats, eval_runs)

    checks = {}
    if ref is not None:
        checks["train_loss_ours"], checks["train_loss_reference"] = losses["ours"], losses["reference"]
        checks["eval_logits_max_abs_diff"] = (logits["ours"] - logits["reference"]).abs().max().item()

    result = {
        "what": "TRM CPU float32: train step = 1 ACT step forward+loss+backward from a fresh carry; "
        f"eval = {config.halt_max_steps} ACT steps without gradients",
        "config": config.to_dict(),
        "train_batch": args.train_batch,
        "eval_batch": args.eval_batch,
        "repeats": args.repeats,
        "train_step": summary(train),
        "eval_forward": summary(evals),
        "checks": checks,
        "machine": machine(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        **stamp(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(json.dumps({k: result[k] for k in ("train_step", "eval_forward", "checks")}, indent=2))


def markdown(r: dict) -> str:
    rows = []
    for name, key, batch in (
        ("train step", "train_step", r["train_batch"]),
        (f"eval, {r['config']['halt_max_steps']} steps", "eval_forward", r["eval_batch"]),
    ):
        s, ref = r[key], r[key].get("reference", {})
        for kind in ("wall", "cpu"):
            rows.append(
                f"| {name} | {batch} | {kind} | {s['ours'][f'{kind}_median_s']} "
                f"| {ref.get(f'{kind}_median_s', '-')} | {s.get(f'ratio_{kind}_median', '-')} "
                f"| {s.get(f'ratio_{kind}_min', '-')} |"
            )
    m = r["machine"]
    return "\n".join(
        [
            "# TRM model benchmark (CPU, float32)",
            "",
            "Paper ARC architecture: hidden 512, 8 heads, expansion 4, H_cycles 3, L_cycles 4, L_layers 2,",
            "seq 900 + 16 puzzle positions. `python bench/bench_model.py --reference /work/ref`.",
            "",
            "| run | batch | clock | ours (s, median) | reference (s, median) | ratio (median) | ratio (min) |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Repeats: {r['repeats']}, ours and reference alternating (A B, B A, ...). "
            f"Machine: {m['cpu']}, {m['cores']} cores, "
            f"torch {m['torch']} ({m['torch_threads']} threads); load average before/after "
            f"{r['load_average_before_after']}. {r['date']}.",
            "With one thread, process CPU time hardly depends on other processes' load; wall time does.",
            f"Sanity checks: {json.dumps(r['checks'])}",
            "",
        ]
    )


if __name__ == "__main__":
    main()
