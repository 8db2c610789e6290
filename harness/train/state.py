"""Training state on disk: everything a run needs to continue bit for bit (raw and EMA weights,
optimiser, data position, every rank's ACT carry and RNG state), written atomically as
checkpoints/step_N (a temp folder renamed into place) beside an evaluable model checkpoint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from harness.core import rundir
from harness.core.errors import DataError, first_line
from harness.core.io import atomic_write, cannot_write, ensure_dir, load_torch
from harness.infer.checkpoints import save_checkpoint
from harness.train.schedule import evaluated_weights
from models import Carry

if TYPE_CHECKING:
    from harness.train.trainer import Trainer


def checkpoint_dirs(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (renamed into place after every file was written), oldest first."""
    root = run_dir / rundir.CHECKPOINTS
    found = []
    for d in root.glob("step_*") if root.exists() else []:
        if d.name[5:].isdigit() and (d / rundir.TRAIN_STATE).exists():
            found.append((int(d.name[5:]), d))
    return sorted(found)


def _carry_to_dict(carry: Carry | None) -> dict[str, Any] | None:
    if carry is None:
        return None
    return {
        "z_H": carry.z_H,
        "z_L": carry.z_L,
        "steps": carry.steps,
        "halted": carry.halted,
        **{f"data.{k}": v for k, v in carry.data.items()},
    }


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


def _save(obj: Any, path: Path) -> None:
    """torch.save through atomic_write: fsynced, and a full disk is one line, not a traceback."""
    atomic_write(path, lambda fh: torch.save(obj, fh), mode="wb")


def save_state(trainer: Trainer) -> Path:
    """Write checkpoints/step_N atomically (a temp folder renamed into place); keep the last few."""
    d = trainer.d
    root = trainer.run_dir / rundir.CHECKPOINTS
    final = root / f"step_{trainer.step}"
    tmp = root / f".step_{trainer.step}.tmp"
    if d.rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        ensure_dir(tmp)
    d.barrier()
    _save(
        {"carries": [_carry_to_dict(c) for c in trainer.carries], "rng": _rng_state(d.device)}, tmp / f"rank{d.rank}.pt"
    )
    d.barrier()
    if d.rank == 0:
        layout = trainer.layout
        with evaluated_weights(trainer.model, trainer.ema) as model:
            save_checkpoint(
                tmp,
                model,
                step=trainer.step,
                ema=trainer.ema is not None,
                identifiers=layout.identifiers,
                source={"run": str(trainer.run_dir)},
            )
        atomic_write(tmp / rundir.IDENTIFIERS, lambda fh: fh.write(layout.identifiers_json), mode="wb")
        state = {
            "step": trainer.step,
            "batches_consumed": trainer.batches_consumed,
            "epoch_start": list(trainer.sampler.epoch_start(trainer.batches_consumed)),
            "world_size": d.world,
            "model": trainer.model.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "ema": trainer.ema.shadow if trainer.ema else None,
        }
        _save(state, tmp / rundir.TRAIN_STATE)
        try:
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except OSError as exc:
            raise cannot_write(final, exc) from None
        for _, old in checkpoint_dirs(trainer.run_dir)[: -trainer.cfg.train.keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    d.barrier()
    return final


_STATE_KEYS = ("step", "batches_consumed", "world_size", "model", "optimizer", "ema")
_RANK_KEYS = ("carries", "rng")


def _load(path: Path, keys: tuple[str, ...], map_location: Any) -> dict[str, Any]:
    """A state file read weights-only (code in it is refused), with the keys save_state writes; a
    damaged one is one line that says how to go on from the checkpoint before."""
    advice = f"remove {path.parent} to resume from the checkpoint before it"
    try:
        state = load_torch(path, map_location)
    except DataError as exc:
        raise DataError(f"{exc}; {advice}") from None
    missing = [k for k in keys if k not in state] if isinstance(state, dict) else list(keys)
    if missing:
        raise DataError(f"{path}: not a training state (no {', '.join(missing)}); {advice}")
    return state


def restore_state(trainer: Trainer, directory: Path) -> None:
    """Load what `save_state` wrote into `trainer` (same number of processes required)."""
    d = trainer.d
    state = _load(directory / rundir.TRAIN_STATE, _STATE_KEYS, d.device)
    if state["world_size"] != d.world:
        raise DataError(
            f"{directory}: saved by {state['world_size']} processes; resume with the same number "
            f"(the ACT state of each rank is part of the checkpoint)"
        )
    try:
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise DataError(f"{directory / rundir.TRAIN_STATE}: does not fit this run's model: {first_line(exc)}") from None
    if trainer.ema is not None and state["ema"] is not None:
        trainer.ema.shadow = {k: v.to(d.device) for k, v in state["ema"].items()}
    trainer.step, trainer.batches_consumed = state["step"], state["batches_consumed"]
    if "epoch_start" in state:
        trainer.sampler.start_at(*state["epoch_start"])
    mine = _load(directory / f"rank{d.rank}.pt", _RANK_KEYS, "cpu")
    trainer.carries = [_carry_from_dict(c, d.device) for c in mine["carries"]]
    _set_rng_state(mine["rng"], d.device)
