"""Training on CPU with a tiny config: loader encoding, resume (also after kill -9), gradient
accumulation and 2-process DDP equal to one process, fine-tuning onto new tasks."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from augment import Transform
from harness.config import load_config
from harness.data.encoding import decode_grid
from harness.data.loader import IGNORE_LABEL, BatchSampler, TrainBatches, train_pairs
from harness.train.build import prepare_data
from harness.train.state import checkpoint_dirs
from harness.train.trainer import train
from tests.helpers import TINY

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def final_state(run: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    last = checkpoint_dirs(run)[-1][1]
    return lines, load_file(last / "model.safetensors")


def test_loader_encodes_augmented_pairs_as_the_reference(tiny, tmp_path):
    cfg = load_config(tiny)
    subsets, layout = prepare_data(cfg, tmp_path / "run")
    pairs = train_pairs(layout, subsets)
    sampler = BatchSampler(layout, pairs, 8, seed=0)
    batch = TrainBatches(sampler, 4, 0, 1).batch(5)
    epoch, index = sampler.position(5)
    examples = sampler.epoch_plan(epoch)[index]
    origin_seen = set()
    for j, ex in enumerate(examples):
        t = Transform(int(layout.tids[ex.row]), tuple(int(c) for c in layout.colors[ex.row]))
        inp, out = pairs[ex.task][ex.example]
        tokens = batch["inputs"][j].numpy().reshape(4, 4)
        rows, cols = np.nonzero(tokens >= 2)
        r0, c0 = rows.min(), cols.min()
        grid = decode_grid(np.roll(tokens, (-r0, -c0), axis=(0, 1)).ravel().astype(np.uint8), 4)
        np.testing.assert_array_equal(t.invert(grid), inp)
        label = batch["labels"][j].numpy().reshape(4, 4)
        assert (label[tokens == 0] == IGNORE_LABEL).sum() >= 0 and (label >= 2).sum() == out.size
        if not ex.translate:
            assert (r0, c0) == (0, 0)
            origin_seen.add((ex.row, ex.task))
        assert batch["puzzle_identifiers"][j] == ex.row
    assert origin_seen  # every puzzle in the batch keeps one example at the origin
    # Same batch whatever the rank split: rank 1 of 2 gets the second half.
    half = TrainBatches(sampler, 4, 1, 2).batch(5)
    assert torch.equal(half["inputs"], batch["inputs"][4:])


def test_batch_positions_match_a_replay_of_every_epoch(tiny, tmp_path):
    cfg = load_config(tiny)
    subsets, layout = prepare_data(cfg, tmp_path / "run")
    sampler = BatchSampler(layout, train_pairs(layout, subsets), 8, seed=0)
    replay = [(epoch, i) for epoch in range(40) for i in range(len(sampler.epoch_plan(epoch)))]
    assert len({len(sampler.epoch_plan(e)) for e in range(40)}) > 1  # epochs differ in length
    fresh = BatchSampler(layout, train_pairs(layout, subsets), 8, seed=0)
    lookups = [*range(len(replay)), 3, len(replay) - 1, 0]  # forwards, then back (a restart)
    assert [fresh.position(g) for g in lookups] == [replay[g] for g in lookups]
    # A resumed sampler starts at a checkpoint's epoch and never plans the epochs before it.
    resumed = BatchSampler(layout, train_pairs(layout, subsets), 8, seed=0)
    resumed.start_at(*fresh.epoch_start(100))
    planned, plan = [], resumed.epoch_plan
    resumed.epoch_plan = lambda epoch: planned.append(epoch) or plan(epoch)
    assert [resumed.position(g) for g in range(100, len(replay))] == replay[100:]
    assert min(planned) == replay[100][0]
    with pytest.raises(ValueError, match="before epoch"):
        resumed.position(0)


@pytest.mark.e2e
def test_resume_reaches_exactly_the_uninterrupted_loss(tiny, tmp_path):
    cfg = load_config(tiny)
    train(cfg, tmp_path / "straight")
    train(cfg, tmp_path / "split", stop_after=3)
    assert [s for s, _ in checkpoint_dirs(tmp_path / "split")] == [3]
    train(None, tmp_path / "split", resume=True)
    a_metrics, a_weights = final_state(tmp_path / "straight")
    b_metrics, b_weights = final_state(tmp_path / "split")
    assert [m["train/loss"] for m in a_metrics] == [m["train/loss"] for m in b_metrics]
    assert len(b_metrics) == 6
    for k in a_weights:
        assert torch.equal(a_weights[k], b_weights[k]), k


@pytest.mark.e2e
def test_resume_after_kill_9(tiny, tmp_path):
    straight = tmp_path / "straight"
    train(load_config(tiny, ["train.max_steps=8", "train.checkpoint_every=2"]), straight)
    run = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "harness.cli",
        "train",
        str(tiny),
        "--set",
        "train.max_steps=8",
        "--set",
        "train.checkpoint_every=2",
        "-o",
        str(run),
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # the same thread count as this process: same sums
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not any(s >= 2 for s, _ in checkpoint_dirs(run)):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint_dirs(run), "the run never wrote a checkpoint"
    train(None, run, resume=True)
    a_metrics, a_weights = final_state(straight)
    b_metrics, b_weights = final_state(run)
    assert [m["train/loss"] for m in a_metrics] == [m["train/loss"] for m in b_metrics]
    for k in a_weights:
        assert torch.equal(a_weights[k], b_weights[k]), k


@pytest.mark.e2e
def test_gradient_accumulation_equals_one_big_batch(tiny, tmp_path):
    train(load_config(tiny), tmp_path / "whole")
    train(load_config(tiny, ["train.micro_batch_size=2"]), tmp_path / "accum")
    a_metrics, a_weights = final_state(tmp_path / "whole")
    b_metrics, b_weights = final_state(tmp_path / "accum")
    np.testing.assert_allclose([m["train/loss"] for m in a_metrics], [m["train/loss"] for m in b_metrics], rtol=1e-5)
    for k in a_weights:
        torch.testing.assert_close(a_weights[k], b_weights[k], rtol=1e-4, atol=1e-5)


@pytest.mark.e2e
def test_two_process_gloo_equals_one_process(tiny, tmp_path):
    train(load_config(tiny), tmp_path / "one")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        "29517",
        "-m",
        "harness.cli",
        "train",
        str(tiny),
        "-o",
        str(tmp_path / "two"),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a_metrics, a_weights = final_state(tmp_path / "one")
    b_metrics, b_weights = final_state(tmp_path / "two")
    np.testing.assert_allclose([m["train/loss"] for m in a_metrics], [m["train/loss"] for m in b_metrics], rtol=1e-5)
    for k in a_weights:
        torch.testing.assert_close(a_weights[k], b_weights[k], rtol=1e-4, atol=1e-5)
    assert json.loads((tmp_path / "two" / "run.json").read_text())["world_size"] == 2


@pytest.mark.e2e
def test_fine_tune_onto_new_tasks_starts_from_the_mean_embedding(tiny, tmp_path):
    base = load_config(tiny)
    train(base, tmp_path / "base")
    ckpt = checkpoint_dirs(tmp_path / "base")[-1][1]
    old = load_file(ckpt / "model.safetensors")["inner.puzzle_emb.weights"]
    cfg = load_config(
        tiny,
        [
            "data.num_aug=5",
            "train.max_steps=2",
            "train.freeze_weights_steps=2",
            f"train.init_from={json.dumps(str(ckpt))}",
        ],
    )
    result = train(cfg, tmp_path / "tuned")
    tuned = load_file(Path(result["checkpoint"]) / "model.safetensors")
    for k, v in load_file(ckpt / "model.safetensors").items():
        if k != "inner.puzzle_emb.weights" and k in tuned:
            if "ema" not in k:
                torch.testing.assert_close(tuned[k], v)  # weights frozen for both steps (EMA of frozen = same)
    assert tuned["inner.puzzle_emb.weights"].shape[0] > old.shape[0]


def test_bad_config_is_a_one_line_error(tiny):
    from harness.core.errors import DataError

    with pytest.raises(DataError, match=r"\[train\]: lr = 'fast' should be float"):
        load_config(tiny, ["train.lr=fast"])
    with pytest.raises(DataError, match="unknown key"):
        load_config(tiny, ["train.learning_rate=1"])
    with pytest.raises(DataError, match="no such config file or preset"):
        load_config("arc9")


@pytest.mark.e2e
def test_optional_loggers_are_never_required(tiny, tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_wandb(name, *args, **kwargs):
        if name == "wandb":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_wandb)
    result = train(load_config(tiny, ["train.max_steps=1", "train.wandb_project=x"]), tmp_path / "run")
    assert result["step"] == 1
    assert "wandb is not installed" in capsys.readouterr().err


@pytest.mark.e2e
def test_compiled_blocks_train_like_eager(tiny, tmp_path):
    """train.compile: torch.compile on the block stack (CPU inductor here; the GPU path is the same call)."""
    cfg = ["train.max_steps=2", "train.checkpoint_every=2"]
    train(load_config(tiny, cfg), tmp_path / "eager")
    train(load_config(tiny, cfg + ["train.compile=true"]), tmp_path / "compiled")
    a_metrics, a_weights = final_state(tmp_path / "eager")
    b_metrics, b_weights = final_state(tmp_path / "compiled")
    np.testing.assert_allclose([m["train/loss"] for m in a_metrics], [m["train/loss"] for m in b_metrics], rtol=1e-5)
    assert a_weights.keys() == b_weights.keys()
