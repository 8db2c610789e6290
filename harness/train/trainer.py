"""Training: the paper's recipe on one process or many (torchrun), resumable at any moment.

Per optimiser step every rank takes its slice of the global batch (in micro-batches when
accumulating), runs one ACT step per micro-batch on its carried state, backpropagates
loss / global_batch, all-reduces the network gradients, applies sign-SGD to the puzzle-embedding
rows touched anywhere, AdamATan2 to the weights, then updates the EMA. The loop delegates:
schedule (optimiser, LR, EMA), state (save/restore), metrics (summaries, sinks), and the held-out
evaluation of harness.infer.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch

from harness.config import RunConfig, load_config
from harness.core import rundir
from harness.core.dist import Dist, init_distributed
from harness.core.errors import DataError
from harness.core.io import cannot_write, write_json, write_text
from harness.core.tasks import TaskSet
from harness.data.layout import Layout
from harness.data.loader import BatchSampler, TrainBatches, train_pairs
from harness.data.puzzle_loader import PuzzleBatches, PuzzleLayout, PuzzleSampler
from harness.infer.evaluate import evaluate_held_out
from harness.infer.puzzle_eval import evaluate_puzzles_held_out
from harness.train.build import build_model, init_from_checkpoint, prepare_data, prepare_puzzles
from harness.train.metrics import environment, external_loggers, summarise, truncate_metrics
from harness.train.schedule import EMA, evaluated_weights, learning_rate, make_optimizer
from harness.train.state import checkpoint_dirs, restore_state, save_state
from models import ACTModel, Carry, act_loss
from models.optim import sign_sgd_rows_


@dataclass
class Trainer:
    cfg: RunConfig
    run_dir: Path
    d: Dist
    subsets: dict[str, TaskSet]  # ARC runs; {} for Sudoku and maze, whose data is all in the PuzzleLayout
    layout: Layout | PuzzleLayout
    model: ACTModel
    optimizer: torch.optim.Optimizer
    ema: EMA | None
    sampler: BatchSampler | PuzzleSampler
    total_steps: int
    accum: int
    micro: int
    step: int = 0
    batches_consumed: int = 0
    carries: list[Carry | None] = field(default_factory=list)

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
            part = {
                k: v[m * self.micro : (m + 1) * self.micro].to(self.d.device, non_blocking=True)
                for k, v in batch.items()
                if k != "index"
            }
            if self.carries[m] is None:
                self.carries[m] = model.initial_carry(part)
            self.carries[m], outputs = model(self.carries[m], part)
            carry = self.carries[m]
            assert carry is not None
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

    def evaluate(self) -> dict[str, float]:
        """pass@K of the evaluated (EMA) weights on the held-out test pairs (exact accuracy on the held-out
        puzzles of a Sudoku or maze run)."""
        with evaluated_weights(self.model, self.ema) as model:
            model.eval()
            if isinstance(self.layout, PuzzleLayout):
                scores = evaluate_puzzles_held_out(model, self.layout.eval_set, self.micro, self.d.device)
            else:
                scores = evaluate_held_out(
                    model,
                    self.layout.identifiers,
                    self.subsets[self.cfg.data.test_set],
                    self.cfg.data.canvas,
                    self.micro,
                    self.d.device,
                    self.cfg.train.eval_max_aug,
                )
            model.train()
        return scores

    def batches(self, rank: int, world: int, start: int) -> TrainBatches | PuzzleBatches:
        """This rank's stream of training batches from global batch `start` on."""
        if isinstance(self.sampler, PuzzleSampler):
            return PuzzleBatches(self.sampler, rank, world, start)
        return TrainBatches(self.sampler, self.cfg.data.canvas, rank, world, start, self.cfg.data.translate)


def setup(cfg: RunConfig, run_dir: Path, d: Dist) -> Trainer:
    t = cfg.train
    subsets: dict[str, TaskSet] = {}
    layout: Layout | PuzzleLayout
    sampler: BatchSampler | PuzzleSampler
    if cfg.data.benchmark == "arc":
        subsets, layout = prepare_data(cfg, run_dir)
        sampler = BatchSampler(layout, train_pairs(layout, subsets), t.global_batch_size, t.seed)
    else:
        layout = prepare_puzzles(cfg, run_dir)
        sampler = PuzzleSampler(layout, t.global_batch_size, t.seed)
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
    optimizer = make_optimizer(t, model)
    ema = EMA(model, t.ema_rate) if t.ema else None
    return Trainer(
        cfg,
        run_dir,
        d,
        subsets,
        layout,
        model,
        optimizer,
        ema,
        sampler,
        total,
        local // micro,
        micro,
        carries=[None] * (local // micro),
    )


def _open_log(path: Path, rank: int) -> IO | contextlib.nullcontext:
    """metrics.jsonl for appending on rank 0 (nothing elsewhere)."""
    try:
        return open(path, "a", encoding="utf-8") if rank == 0 else contextlib.nullcontext()
    except OSError as exc:
        raise cannot_write(path, exc) from None


def _log_line(log: IO, path: Path, metrics: dict[str, Any]) -> None:
    try:
        log.write(json.dumps(metrics) + "\n")
        log.flush()
    except OSError as exc:
        raise cannot_write(path, exc) from None


def _check_finite(metrics: dict[str, Any], run_dir: Path) -> None:
    """Stop a run whose loss became NaN or infinite: every later step would be too, and a checkpoint
    saved now would overwrite good weights. Checked at each log line, where the loss is on the host
    anyway (every checkpoint step is one), so no step waits for the device."""
    loss = metrics["train/loss"]
    if not math.isfinite(loss):
        found = checkpoint_dirs(run_dir)
        kept = f"the last good checkpoint, {found[-1][1]}, is kept" if found else "no checkpoint was saved yet"
        raise DataError(
            f"{run_dir}: training loss is {loss} at step {metrics['step']} (the run diverged); "
            f"stopped: {kept}. Lower train.lr or check the data, then resume or start again"
        )


def train(
    cfg: RunConfig | None,
    run_dir: Path,
    resume: bool = False,
    stop_after: int | None = None,
    on_metrics: Callable[[dict[str, float], int], None] | None = None,
) -> dict[str, Any]:
    """Train into run_dir (or continue it with resume=True). `stop_after` ends early (tests, budgets)."""
    d = init_distributed()
    config_path = run_dir / rundir.TRAIN_CONFIG
    if resume:
        if not config_path.exists():
            raise DataError(f"{run_dir}: no {rundir.TRAIN_CONFIG}; nothing to resume")
        cfg = load_config(config_path)
    elif config_path.exists() and checkpoint_dirs(run_dir):
        raise DataError(f"{run_dir}: already holds a run; use --resume to continue it or choose another --out")
    assert cfg is not None
    trainer = setup(cfg, run_dir, d)
    if d.rank == 0 and not resume:
        write_text(config_path, cfg.to_toml())
        record: rundir.TrainingRecord = {
            "layout_sha256": trainer.layout.hash,
            "identifiers": len(trainer.layout),
            "total_steps": trainer.total_steps,
            "world_size": d.world,
            "environment": environment(),
        }
        write_json(run_dir / rundir.TRAINING_RECORD, record, indent=2)
    if resume:
        found = checkpoint_dirs(run_dir)
        if found:
            restore_state(trainer, found[-1][1])
    metrics_path = run_dir / rundir.METRICS
    if d.rank == 0:
        truncate_metrics(metrics_path, trainer.step)
    d.barrier()

    t = cfg.train
    dataset = trainer.batches(d.rank, d.world, trainer.batches_consumed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, num_workers=t.workers, pin_memory=d.device.type == "cuda"
    )
    last = min(trainer.total_steps, stop_after) if stop_after else trainer.total_steps
    sinks = external_loggers(cfg, run_dir) if d.rank == 0 else []
    start_time, start_step, metrics = time.perf_counter(), trainer.step, {}
    with _open_log(metrics_path, d.rank) as log:
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
                metrics = {"step": trainer.step, "lr": lr} | summarise(
                    trainer.window_totals(window), len(window), t.global_batch_size
                )
                metrics["steps_per_s"] = (trainer.step - start_step) / max(elapsed, 1e-9)
                metrics["examples_per_s"] = metrics["steps_per_s"] * t.global_batch_size
                window = []
                _check_finite(metrics, run_dir)
                if evaluating and d.rank == 0:
                    metrics |= trainer.evaluate()
                if d.rank == 0:
                    _log_line(log, metrics_path, metrics)
                    for sink in sinks:
                        sink(metrics)
                    if on_metrics:
                        on_metrics(metrics, last)
            if trainer.step % t.checkpoint_every == 0 or done:
                save_state(trainer)
    found = checkpoint_dirs(run_dir)
    return {
        "step": trainer.step,
        "total_steps": trainer.total_steps,
        "metrics": metrics,
        "checkpoint": str(found[-1][1]) if found else None,
    }
