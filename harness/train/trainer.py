"""Training: the paper's recipe on one process or many (torchrun), resumable at any moment.

Per optimiser step every rank takes its slice of the global batch (in micro-batches when
accumulating), runs one ACT step per micro-batch on its carried state, backpropagates
loss / global_batch, all-reduces the network gradients, applies sign-SGD to the puzzle-embedding
rows touched anywhere, AdamATan2 to the weights, then updates the EMA.
Checkpoints hold everything needed to continue bit for bit: raw and EMA weights, optimiser
state, every rank's ACT carry and RNG state, and the data position.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from harness.config import RunConfig, load_config, subset_name, subset_source
from harness.core.errors import DataError
from harness.core.io import atomic_write, write_json, write_text
from harness.core.tasks import TaskSet
from harness.data.layout import Layout, build_layout, load_layout
from harness.data.loader import BatchSampler, TrainBatches, train_pairs
from harness.infer.checkpoints import load_checkpoint, save_checkpoint
from models import TRM, Carry, TRMConfig, act_loss
from models.optim import AdamATan2, sign_sgd_rows_

CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.jsonl"
CHECKPOINTS = "checkpoints"


# ---------------------------------------------------------------------------------------------
# Data


def load_subset(spec: str, max_side: int) -> TaskSet:
    """A subset spec (`SET` or `A+B`) as one TaskSet, keeping tasks whose grids fit max_side."""
    from harness.core.sources import load_tasks

    merged = TaskSet(subset_name(spec))
    for part in subset_source(spec).split("+"):
        for task in load_tasks(part):
            grids = [g for pair in task.train for g in pair] + task.test_inputs + (task.test_outputs or [])
            if all(max(g.shape) <= max_side for g in grids):
                merged.tasks.setdefault(task.id, task)
    if not merged.tasks:
        raise DataError(f"{spec}: no task has all grids within {max_side}x{max_side}")
    return merged


def prepare_data(cfg: RunConfig, run_dir: Path) -> tuple[dict[str, TaskSet], Layout]:
    """Load the subsets and build (or reload) the run's layout, saved in run_dir/layout."""
    subsets = {subset_name(s): load_subset(s, cfg.data.max_side) for s in cfg.data.subsets}
    saved = run_dir / "layout"
    if (saved / "layout.json").exists():
        layout = load_layout(saved)
    else:
        raw = [(name, {t.id: t.to_json() for t in tasks}) for name, tasks in subsets.items()]
        layout = build_layout(raw, cfg.data.test_set, cfg.data.num_aug, cfg.data.seed)
        layout.save(saved)
    return subsets, layout


# ---------------------------------------------------------------------------------------------
# Model, optimisers, EMA


def build_model(cfg: RunConfig, layout: Layout, device: torch.device) -> TRM:
    fields = dict(cfg.model)
    fields["num_puzzle_identifiers"] = len(layout)
    fields["seq_len"] = cfg.data.canvas ** 2
    torch.manual_seed(cfg.train.seed)  # every rank builds the same initial weights
    with torch.device(device):
        return TRM(TRMConfig(**fields))


def init_from_checkpoint(model: TRM, path: Path, layout: Layout) -> int:
    """Fine-tuning: network weights from `path`; puzzle rows by name where the old layout has them,
    the mean old embedding elsewhere. Returns how many rows were new."""
    from harness.infer.evaluate import find_identifiers

    old_ids = find_identifiers(path, None)
    old, _ = load_checkpoint(path, identifiers=old_ids)
    state = old.state_dict()
    table_key = "inner.puzzle_emb.weights"
    old_table = state.pop(table_key)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {table_key}:
        raise DataError(f"{path}: its network does not fit this config (missing {missing}, unexpected {unexpected})")
    row_of = {name: i for i, name in enumerate(old_ids)}
    new = model.inner.puzzle_emb.weights
    with torch.no_grad():
        new.copy_(old_table.mean(0, keepdim=True).expand_as(new))
        hits = [(i, row_of[n]) for i, n in enumerate(layout.identifiers) if n in row_of]
        if hits:
            dst, src = (torch.tensor(x) for x in zip(*hits))
            new[dst] = old_table[src].to(new)
    return len(layout) - len(hits)


class EMA:
    """Exponential moving average of the network parameters (puzzle embeddings are buffers, not averaged)."""

    def __init__(self, model: torch.nn.Module, rate: float) -> None:
        self.rate = rate
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for name, p in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(p, 1 - self.rate)

    @contextlib.contextmanager
    def applied(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """Temporarily swap the averaged weights into `model` (no copy of the embedding table)."""
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in self.shadow.items():
                params[name].data, self.shadow[name] = value, params[name].data
        try:
            yield model
        finally:
            with torch.no_grad():
                for name, value in self.shadow.items():
                    params[name].data, self.shadow[name] = value, params[name].data


def learning_rate(base: float, step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to min_ratio * base (constant when min_ratio is 1)."""
    if step < warmup:
        return base * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return base * (min_ratio + max(0.0, (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))))


# ---------------------------------------------------------------------------------------------
# Distributed helpers


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def on(self) -> bool:
        return self.world > 1

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        if self.on:
            dist.all_reduce(t)
        return t

    def all_gather(self, t: torch.Tensor) -> torch.Tensor:
        if not self.on:
            return t
        out = torch.empty((self.world * t.shape[0], *t.shape[1:]), dtype=t.dtype, device=t.device)
        dist.all_gather_into_tensor(out, t.contiguous())
        return out

    def barrier(self) -> None:
        if self.on:
            dist.barrier()


def dist_context() -> Dist:
    from harness.infer.evaluate import distributed_context

    rank, world, device = distributed_context()
    return Dist(rank, world, device)


# ---------------------------------------------------------------------------------------------
# Checkpoints of the training state


def checkpoint_dirs(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (renamed into place after every file was written), oldest first."""
    root = run_dir / CHECKPOINTS
    found = []
    for d in root.glob("step_*") if root.exists() else []:
        if d.name[5:].isdigit() and (d / "state.pt").exists():
            found.append((int(d.name[5:]), d))
    return sorted(found)


def _carry_to_dict(carry: Carry | None) -> dict[str, Any] | None:
    if carry is None:
        return None
    return {"z_H": carry.z_H, "z_L": carry.z_L, "steps": carry.steps, "halted": carry.halted,
            **{f"data.{k}": v for k, v in carry.data.items()}}


def _carry_from_dict(d: dict[str, Any] | None, device: torch.device) -> Carry | None:
    if d is None:
        return None
    d = {k: v.to(device) for k, v in d.items()}
    data = {k[5:]: v for k, v in d.items() if k.startswith("data.")}
    return Carry(d["z_H"], d["z_L"], d["steps"], d["halted"], data)


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)


# ---------------------------------------------------------------------------------------------
# The trainer


@dataclass
class Trainer:
    cfg: RunConfig
    run_dir: Path
    d: Dist
    subsets: dict[str, TaskSet]
    layout: Layout
    model: TRM
    optimizer: torch.optim.Optimizer
    ema: EMA | None
    sampler: BatchSampler
    total_steps: int
    accum: int
    micro: int
    step: int = 0
    batches_consumed: int = 0
    carries: list[Carry | None] = field(default_factory=list)

    # -- one optimiser step ---------------------------------------------------------------

    def train_step(self, batch: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], float]:
        """One optimiser step; returns this rank's metric sums (tensors left on the device, so the
        step does not wait for them; see `window_totals`) and the learning rate used."""
        t = self.cfg.train
        self.step += 1
        self.batches_consumed += 1
        model, emb = self.model, getattr(self.model.inner, "puzzle_emb", None)
        sums: dict[str, torch.Tensor] = {}
        emb_ids, emb_grads = [], []
        for m in range(self.accum):
            part = {k: v[m * self.micro:(m + 1) * self.micro].to(self.d.device, non_blocking=True)
                    for k, v in batch.items() if k != "index"}
            if self.carries[m] is None:
                self.carries[m] = model.initial_carry(part)
            self.carries[m], outputs = model(self.carries[m], part)
            carry = self.carries[m]
            loss, metrics = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps, t.loss_type)
            (loss / t.global_batch_size).backward()
            if emb is not None:
                emb_ids.append(emb.row_ids)
                emb_grads.append(emb.rows.grad)
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0) + v.detach().to(torch.float64)

        lr = learning_rate(t.lr, self.step, t.lr_warmup_steps, self.total_steps, t.lr_min_ratio)
        emb_lr = learning_rate(t.puzzle_emb_lr, self.step, t.lr_warmup_steps, self.total_steps, t.lr_min_ratio)
        if emb is not None:
            ids = self.d.all_gather(torch.cat(emb_ids))
            grads = self.d.all_gather(torch.cat(emb_grads))
            sign_sgd_rows_(emb.weights, ids, grads, emb_lr, t.puzzle_emb_weight_decay)
        if self.step > t.freeze_weights_steps:
            for p in model.parameters():
                if p.grad is not None:
                    self.d.all_reduce(p.grad)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update(model)

        return sums, lr

    def window_totals(self, window: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        """Metric sums over a logging window and every rank: one collective and one host sync per
        log line instead of per step."""
        keys = sorted(window[0])
        totals = torch.stack([torch.stack([sums[k] for k in keys]) for sums in window]).sum(0)
        return dict(zip(keys, self.d.all_reduce(totals).tolist()))

    # -- checkpoints ----------------------------------------------------------------------

    def save(self) -> Path:
        """Write checkpoints/step_N atomically (a temp folder renamed into place); keep the last few."""
        root = self.run_dir / CHECKPOINTS
        final = root / f"step_{self.step}"
        tmp = root / f".step_{self.step}.tmp"
        if self.d.rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.d.barrier()
        torch.save({"carries": [_carry_to_dict(c) for c in self.carries], "rng": _rng_state(self.d.device)},
                   tmp / f"rank{self.d.rank}.pt")
        self.d.barrier()
        if self.d.rank == 0:
            ids = self.layout.identifiers
            with self.ema.applied(self.model) if self.ema else contextlib.nullcontext(self.model) as model:
                save_checkpoint(tmp, model, step=self.step, ema=self.ema is not None, identifiers=ids,
                                source={"run": str(self.run_dir)})
            atomic_write(tmp / "identifiers.json", lambda fh: fh.write(self.layout.identifiers_json), mode="wb")
            state = {
                "step": self.step,
                "batches_consumed": self.batches_consumed,
                "epoch_start": list(self.sampler.epoch_start(self.batches_consumed)),
                "world_size": self.d.world,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "ema": self.ema.shadow if self.ema else None,
            }
            torch.save(state, tmp / "state.pt")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            for _, old in checkpoint_dirs(self.run_dir)[: -self.cfg.train.keep_last]:
                shutil.rmtree(old, ignore_errors=True)
        self.d.barrier()
        return final

    def restore(self, directory: Path) -> None:
        state = torch.load(directory / "state.pt", map_location=self.d.device, weights_only=True)
        if state["world_size"] != self.d.world:
            raise DataError(f"{directory}: saved by {state['world_size']} processes; resume with the same number "
                            f"(the ACT state of each rank is part of the checkpoint)")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.shadow = {k: v.to(self.d.device) for k, v in state["ema"].items()}
        self.step, self.batches_consumed = state["step"], state["batches_consumed"]
        if "epoch_start" in state:
            self.sampler.start_at(*state["epoch_start"])
        mine = torch.load(directory / f"rank{self.d.rank}.pt", map_location="cpu", weights_only=True)
        self.carries = [_carry_from_dict(c, self.d.device) for c in mine["carries"]]
        _set_rng_state(mine["rng"], self.d.device)


def summarise(totals: dict[str, float], steps: int, global_batch: int) -> dict[str, float]:
    """Average the metric sums of `steps` steps: losses per example, the rest per halted sequence
    (only sequences that halted are scored, as in the reference; a single step may have none)."""
    count = max(totals.get("count", 0.0), 1.0)
    out = {f"train/{k}": v / (global_batch * steps if k.endswith("loss") else count)
           for k, v in totals.items() if k != "count"}
    q_losses = sum(v for k, v in out.items() if k.startswith("train/q_") and k.endswith("_loss"))
    out["train/loss"] = out["train/lm_loss"] + 0.5 * q_losses
    out["train/halted"] = count
    return out


def _make_optimizer(cfg: RunConfig, model: TRM) -> torch.optim.Optimizer:
    t = cfg.train
    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)
    return AdamATan2(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay)


def setup(cfg: RunConfig, run_dir: Path, d: Dist) -> Trainer:
    subsets, layout = prepare_data(cfg, run_dir)
    t = cfg.train
    pairs = train_pairs(layout, subsets)
    sampler = BatchSampler(layout, pairs, t.global_batch_size, t.seed)
    if t.global_batch_size % d.world:
        raise DataError(f"train.global_batch_size {t.global_batch_size} is not divisible by {d.world} processes")
    local = t.global_batch_size // d.world
    micro = t.micro_batch_size or local
    if local % micro:
        raise DataError(f"train.micro_batch_size {micro} does not divide this rank's {local} rows")
    total = t.max_steps or int(t.epochs * sampler.examples_per_epoch() / t.global_batch_size)
    model = build_model(cfg, layout, d.device)
    if t.init_from:
        init_from_checkpoint(model, Path(t.init_from), layout)
    model.train()
    if t.compile:
        model.compile_blocks()
    optimizer = _make_optimizer(cfg, model)
    ema = EMA(model, t.ema_rate) if t.ema else None
    return Trainer(cfg, run_dir, d, subsets, layout, model, optimizer, ema, sampler, total, local // micro, micro,
                   carries=[None] * (local // micro))


# ---------------------------------------------------------------------------------------------
# Evaluation during training


def evaluate_held_out(trainer: Trainer, max_aug: int | None) -> dict[str, float]:
    """pass@K of the (EMA) model on the held-out test pairs, voting over up to max_aug views."""
    from harness.data.encoding import decode
    from harness.data.views import build_views, encode_views
    from harness.infer.engine import EngineConfig, run_chunk
    from voting import Predictions, pass_at_k, vote

    tasks = trainer.subsets[trainer.cfg.data.test_set]
    views = build_views(trainer.layout.identifiers, tasks, max_aug, seed=0)
    if len(views) == 0:
        return {}
    canvas = trainer.cfg.data.canvas
    with trainer.ema.applied(trainer.model) if trainer.ema else contextlib.nullcontext(trainer.model) as model:
        model.eval()
        result = run_chunk(model, encode_views(views, tasks, canvas), views.identifier,
                           EngineConfig(batch_size=trainer.micro), trainer.d.device)
        model.train()
    shapes, offsets, cells = decode(result.preds, canvas)
    preds = Predictions(views.task_ids, views.test_index, views.tids, views.colors, shapes, offsets, cells,
                        result.q_halt)
    scores = pass_at_k(vote(preds), tasks.solutions(), (1, 2, 5, 10))
    return {f"eval/pass@{k}": v for k, v in scores.items()} | {"eval/views": float(len(views))}


# ---------------------------------------------------------------------------------------------
# Entry point


def time_train_step(trainer: Trainer, rows: int, steps: int = 2) -> float:
    """Seconds of one optimiser step on `rows` rows of the run's own batches: the best of `steps`
    timed steps after a warm-up step, the device synchronised around each."""
    def sync() -> None:
        if trainer.d.device.type == "cuda":
            torch.cuda.synchronize(trainer.d.device)

    data = trainer.cfg.data
    batches = TrainBatches(trainer.sampler, data.canvas, 0, 1, 0, data.translate)
    trainer.accum, trainer.carries = 1, [None]
    timings = []
    for g in range(steps + 1):
        batch = {k: v[:rows] for k, v in batches.batch(g).items() if k != "index"}
        sync()
        start = time.perf_counter()
        trainer.train_step(batch)
        sync()
        timings.append(time.perf_counter() - start)
    return min(timings[1:])


def plan(cfg: RunConfig, run_dir: Path, probe_steps: int = 2) -> dict[str, Any]:
    """What a run would do on the hardware found, with a projected duration from timed probe steps.

    The probe runs `probe_steps` optimiser steps of the real model on this process's device, on a
    slice of at most 8 rows, and scales linearly to the full run (a lower bound on small
    slices: larger batches use the device better, so real steps are often faster per row).
    """
    d = dist_context()
    trainer = setup(cfg, run_dir, d)
    rows = min(trainer.micro, 8)
    per_row = time_train_step(trainer, rows, probe_steps) / rows
    devices = max(1, torch.cuda.device_count()) if d.device.type == "cuda" else 1
    step_s = per_row * cfg.train.global_batch_size / devices
    return {
        "device": torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else "cpu",
        "devices": devices,
        "identifiers": len(trainer.layout),
        "held_out_tasks": len(trainer.layout.test_puzzles),
        "examples_per_epoch": trainer.sampler.examples_per_epoch(),
        "global_batch_size": cfg.train.global_batch_size,
        "micro_batch_size": rows,
        "total_steps": trainer.total_steps,
        "seconds_per_step": step_s,
        "projected_hours": step_s * trainer.total_steps / 3600,
    }


def _environment() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"git_commit": commit, "python": sys.version.split()[0], "torch": torch.__version__,
            "numpy": np.__version__, "cuda": torch.version.cuda,
            "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}


def external_loggers(cfg: RunConfig, run_dir: Path) -> list[Callable[[dict[str, float]], None]]:
    """TensorBoard / W&B sinks when asked for and installed; a missing package is a warning only."""
    sinks = []
    if cfg.train.tensorboard:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            print("warning: train.tensorboard is on but tensorboard is not installed; logging to "
                  "metrics.jsonl only", file=sys.stderr)
        else:
            writer = SummaryWriter(str(run_dir / "tensorboard"))

            def to_tensorboard(m: dict[str, float]) -> None:
                for k, v in m.items():
                    if k != "step":
                        writer.add_scalar(k, v, int(m["step"]))
                writer.flush()

            sinks.append(to_tensorboard)
    if cfg.train.wandb_project:
        try:
            import wandb
        except ImportError:
            print("warning: train.wandb_project is set but wandb is not installed; logging to metrics.jsonl only",
                  file=sys.stderr)
        else:
            wandb.init(project=cfg.train.wandb_project, name=run_dir.name, dir=str(run_dir), resume="allow",
                       config={"data": vars(cfg.data), "model": cfg.model, "train": vars(cfg.train)})
            sinks.append(lambda m: wandb.log({k: v for k, v in m.items() if k != "step"}, step=int(m["step"])))
    return sinks


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (the run redoes those steps)."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line and json.loads(line).get("step", 0) <= step]
    write_text(path, "".join(line + "\n" for line in kept))


def train(cfg: RunConfig | None, run_dir: Path, resume: bool = False, stop_after: int | None = None,
          on_metrics: Callable[[dict[str, float], int], None] | None = None) -> dict[str, Any]:
    """Train into run_dir (or continue it with resume=True). `stop_after` ends early (tests, budgets)."""
    d = dist_context()
    config_path = run_dir / CONFIG_FILE
    if resume:
        if not config_path.exists():
            raise DataError(f"{run_dir}: no {CONFIG_FILE}; nothing to resume")
        cfg = load_config(config_path)
    elif config_path.exists() and checkpoint_dirs(run_dir):
        raise DataError(f"{run_dir}: already holds a run; use --resume to continue it or choose another --out")
    trainer = setup(cfg, run_dir, d)
    if d.rank == 0 and not resume:
        write_text(config_path, cfg.to_toml())
        write_json(run_dir / "run.json", {"layout_sha256": trainer.layout.hash, "identifiers": len(trainer.layout),
                                          "total_steps": trainer.total_steps, "world_size": d.world,
                                          "environment": _environment()}, indent=2)
    if resume:
        found = checkpoint_dirs(run_dir)
        if found:
            trainer.restore(found[-1][1])
    metrics_path = run_dir / METRICS_FILE
    if d.rank == 0:
        _truncate_metrics(metrics_path, trainer.step)
    d.barrier()

    t = cfg.train
    dataset = TrainBatches(trainer.sampler, cfg.data.canvas, d.rank, d.world, trainer.batches_consumed,
                           cfg.data.translate)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=t.workers,
                                         pin_memory=d.device.type == "cuda")
    last = min(trainer.total_steps, stop_after) if stop_after else trainer.total_steps
    sinks = external_loggers(cfg, run_dir) if d.rank == 0 else []
    start_time, start_step, metrics = time.perf_counter(), trainer.step, {}
    with open(metrics_path, "a") if d.rank == 0 else contextlib.nullcontext() as log:
        window: list[dict[str, torch.Tensor]] = []
        for batch in loader:
            if trainer.step >= last:
                break
            sums, lr = trainer.train_step(batch)
            window.append(sums)
            done = trainer.step == last
            evaluating = t.eval_every and (trainer.step % t.eval_every == 0 or done)
            if trainer.step % t.log_every == 0 or done or evaluating:
                elapsed = time.perf_counter() - start_time
                metrics = {"step": trainer.step, "lr": lr} | summarise(trainer.window_totals(window), len(window),
                                                                     t.global_batch_size)
                metrics["steps_per_s"] = (trainer.step - start_step) / max(elapsed, 1e-9)
                metrics["examples_per_s"] = metrics["steps_per_s"] * t.global_batch_size
                window = []
                if evaluating and d.rank == 0:
                    metrics |= evaluate_held_out(trainer, t.eval_max_aug)
                if d.rank == 0:
                    log.write(json.dumps(metrics) + "\n")
                    log.flush()
                    for sink in sinks:
                        sink(metrics)
                    if on_metrics:
                        on_metrics(metrics, last)
            if trainer.step % t.checkpoint_every == 0 or done:
                trainer.save()
    return {"step": trainer.step, "total_steps": trainer.total_steps, "metrics": metrics,
            "checkpoint": str(checkpoint_dirs(run_dir)[-1][1]) if checkpoint_dirs(run_dir) else None}
