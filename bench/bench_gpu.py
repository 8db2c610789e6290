"""GPU check, one call of under 10 minutes (bench/gpu.sh): numerics, inference and training speed.

  parity     bf16 and torch.compile against float32 eager on a seeded fixture model: max |logit|
             difference, prediction agreement, q_halt difference (compile: GPU only unless --compile)
  engine     views/s and NFE/s of the paper-sized TRM (hidden 512, 2 layers, H 3 x L 4, 16 steps,
             30x30 canvas), fixed schedule against live halting in continuous batching: q (q_halt > 0,
             free) and stable:2 (prediction unchanged for 2 steps: one argmax compare per step); NFE/s
             says what the per-slot rule state costs, mean_steps what a rule saves (random weights
             here, so not what a trained model saves)
  train      one training step's throughput (examples/s) at the largest global batch that fits
             (768 halved on out-of-memory) and an MFU estimate against the device's bf16 peak
Without CUDA it runs everything smaller on the CPU and says that no GPU was found.
Writes bench/results/gpu.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from harness.config import EngineConfig
from harness.infer.engine import run_chunk
from models import TRM, TRMConfig
from models.families import family_of
from models.layers import swiglu_inner_size
from models.loss import act_loss

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stamp import stamp  # noqa: E402

PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L4": 121e12}  # dense bf16 FLOP/s


def paper(small: bool, dtype: str = "bfloat16") -> TRMConfig:
    if small:
        return TRMConfig(
            num_puzzle_identifiers=64,
            seq_len=36,
            hidden_size=64,
            num_heads=2,
            L_layers=2,
            H_cycles=2,
            L_cycles=2,
            puzzle_emb_ndim=64,
            puzzle_emb_len=4,
            halt_max_steps=4,
            forward_dtype=dtype,
        )
    return TRMConfig(
        num_puzzle_identifiers=1024,
        seq_len=900,
        hidden_size=512,
        num_heads=8,
        expansion=4.0,
        L_layers=2,
        H_cycles=3,
        L_cycles=4,
        puzzle_emb_ndim=512,
        puzzle_emb_len=16,
        halt_max_steps=16,
        forward_dtype=dtype,
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _inputs(config: TRMConfig, n: int, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (
        rng.integers(2, 12, (n, config.seq_len), dtype=np.uint8),
        rng.integers(1, config.num_puzzle_identifiers, n).astype(np.int64),
    )


def _model(config: TRMConfig, device: torch.device, state: dict | None = None) -> TRM:
    torch.manual_seed(0)
    model = TRM(config)
    if state is None:
        with torch.no_grad():
            model.inner.puzzle_emb.weights.normal_()
            model.inner.q_head.weight.normal_(std=0.5)
    else:
        model.load_state_dict(state)
    return model.to(device).eval()


def parity(small: bool, device: torch.device, compile_too: bool) -> dict:
    config = (
        paper(True, "float32")
        if small
        else TRMConfig(**{**paper(False).__dict__, "forward_dtype": "float32", "halt_max_steps": 4})
    )
    reference = _model(config, device)
    tokens, ids = _inputs(config, 16 if small else 256, device)
    cfg = EngineConfig(batch_size=256)
    base = run_chunk(reference, tokens, ids, cfg, device)
    out: dict[str, dict] = {}
    variants = {
        "bf16": lambda: _model(
            TRMConfig(**{**config.__dict__, "forward_dtype": "bfloat16"}), device, reference.state_dict()
        )
    }
    if compile_too:

        def compiled() -> TRM:
            model = _model(config, device, reference.state_dict())
            model.compile_blocks()
            return model

        variants["compile"] = compiled
    for name, build in variants.items():
        try:
            got = run_chunk(build(), tokens, ids, cfg, device)
        except Exception as exc:  # a compiler missing on this machine is a finding, not a crash
            out[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
            continue
        out[name] = {
            "pred_agreement": float((got.preds == base.preds).mean()),
            "exact_rows": float((got.preds == base.preds).all(axis=1).mean()),
            "max_q_halt_diff": float(np.abs(got.q_halt - base.q_halt).max()),
        }
    return out


def engine(small: bool, device: torch.device) -> dict:
    config = paper(small, "float32" if device.type == "cpu" else "bfloat16")
    model = _model(config, device)
    n = 16 if small else 2048
    tokens, ids = _inputs(config, n, device)
    nfe = family_of(config).nfe_per_step(config)
    out = {}
    for name, cfg in {
        "fixed": EngineConfig(batch_size=min(n, 512)),
        "q": EngineConfig(batch_size=min(n, 512), halt="q", threshold=0.0),
        "stable:2": EngineConfig(batch_size=min(n, 512), halt="stable:2"),
    }.items():
        run_chunk(model, tokens[:8], ids[:8], cfg, device)  # warm-up
        _sync(device)
        start = time.perf_counter()
        result = run_chunk(model, tokens, ids, cfg, device)
        _sync(device)
        seconds = time.perf_counter() - start
        out[name] = {
            "views": n,
            "seconds": round(seconds, 3),
            "views_per_s": round(n / seconds, 1),
            "mean_steps": float(result.steps.mean()),
            "nfe_per_s": round(float(result.steps.sum()) * nfe / seconds, 1),
        }
    return out


def _flops_per_example(config: TRMConfig) -> float:
    """Forward + backward FLOPs of one training ACT step: 2 x weights x tokens per block application
    (+ attention's 4 x len^2 x hidden), all H_cycles forward, the last H cycle backward (2x forward)."""
    per_layer = 4 * config.hidden_size**2 + 3 * config.hidden_size * swiglu_inner_size(
        config.hidden_size, config.expansion
    )
    t = config.total_len
    per_app = 2 * per_layer * t + 4 * t * t * config.hidden_size
    apps = config.H_cycles * (config.L_cycles + 1) * config.L_layers
    grad_apps = (config.L_cycles + 1) * config.L_layers
    return per_app * (apps + 2 * grad_apps)


def train_step(small: bool, device: torch.device) -> dict:
    config = paper(small, "float32" if device.type == "cpu" else "bfloat16")
    model = _model(config, device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch_size = 8 if small else 768
    while batch_size >= 1:
        try:
            tokens, ids = _inputs(config, batch_size, device)
            batch = {
                "inputs": torch.from_numpy(tokens.astype(np.int32)).to(device),
                "labels": torch.from_numpy(tokens.astype(np.int64)).to(device),
                "puzzle_identifiers": torch.from_numpy(ids.astype(np.int32)).to(device),
            }
            times = []
            carry = model.initial_carry(batch)
            for _ in range(3):
                _sync(device)
                start = time.perf_counter()
                carry, outputs = model(carry, batch)
                loss, _ = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps)
                (loss / batch_size).backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                _sync(device)
                times.append(time.perf_counter() - start)
            break
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            batch_size //= 2
    seconds = min(times[1:])
    flops = _flops_per_example(config) * batch_size / seconds
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    return {
        "global_batch": batch_size,
        "seconds_per_step": round(seconds, 4),
        "examples_per_s": round(batch_size / seconds, 1),
        "achieved_tflops": round(flops / 1e12, 3),
        "mfu": round(flops / peak, 4) if peak else None,
        "peak_assumed_flops": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "gpu.json")
    parser.add_argument("--compile", action="store_true", help="Also check torch.compile on a CPU (slow).")
    args = parser.parse_args()
    gpu = torch.cuda.is_available()
    device = torch.device("cuda" if gpu else "cpu")
    if not gpu:
        print("no GPU found: running the small CPU mode (numbers are not GPU numbers)")
    result: dict = {
        **stamp(),
        "gpu_found": gpu,
        "device": torch.cuda.get_device_name(0) if gpu else "cpu",
        "mode": "paper-sized" if gpu else "small (CPU)",
        "torch": torch.__version__,
    }
    for name, check in (
        ("parity", lambda: parity(not gpu, device, gpu or args.compile)),
        ("engine", lambda: engine(not gpu, device)),
        ("train", lambda: train_step(not gpu, device)),
    ):
        start = time.perf_counter()
        result[name] = check()
        result[name]["check_seconds"] = round(time.perf_counter() - start, 1)
        print(name, json.dumps(result[name]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
