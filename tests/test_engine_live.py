"""Every halting rule live in the engine's continuous batching, and restarts as a batch dimension: the
live engine stops each row at exactly the step `voting.halting.exit_steps` picks from a `record_rows`
recording of the same rows, with the recorded prediction of that step; restarts, shard reuse, NFE and
the CLI end to end on a tiny random-weight checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from augment import format_name, random_transform
from harness.cli.main import cli
from harness.config import EngineConfig, from_dict
from harness.core.benchmarks import load_any
from harness.core.errors import DataError
from harness.core.sources import load_tasks
from harness.data.puzzle_encoding import decode_tokens, encode_cells, vocab_size
from harness.data.views import build_views, encode_views
from harness.infer.checkpoints import save_checkpoint
from harness.infer.engine import ChunkResult, chunk_predictions, predict, run_chunk
from harness.infer.puzzle_eval import predict_puzzles
from harness.infer.record import record_rows, start_states
from harness.predictions.puzzle_shards import load_puzzle_chunk, puzzle_chunk_path
from harness.predictions.shards import COLUMNS, chunk_path, merge_chunks
from models import TRM, TRMConfig
from models.families import family_of
from tests.helpers import random_trm, tiny_trm_config
from voting.halting import HaltRule, StepSignals, exit_steps
from voting.selectors import select_single

CANVAS = 4
DEPTH = 8  # the model's halt_max_steps: the engine's default cap
CPU = torch.device("cpu")


def settling_model(config: TRMConfig) -> TRM:
    """A random TRM whose predictions settle at different steps for different rows, so that every rule
    stops rows at several different steps: a strong input embedding (the recurrence follows the input)
    and an output head that chooses between two tokens (a prediction changes only where a projection
    changes sign). The q head is random, so q_halt crosses thresholds at various steps too."""
    model = random_trm(config)
    with torch.no_grad():
        model.inner.embed_tokens.embedding_weight.mul_(30.0)
        head = model.inner.lm_head.weight
        head[4:] = 0
        head[2] = -head[3]
        head[:2] = -10
    return model.eval()


def tiny_config(n_ids: int, seq_len: int = CANVAS * CANVAS, vocab: int = 12) -> TRMConfig:
    return tiny_trm_config(n_ids, seq_len, halt_max_steps=DEPTH, vocab_size=vocab)


@pytest.fixture
def setup(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    rng = np.random.default_rng(0)
    identifiers = ["<blank>"]
    for task in tasks:
        identifiers += [task.id] + [format_name(task.id, random_transform(rng)) for _ in range(5)]
    model = settling_model(tiny_config(len(identifiers)))
    views = build_views(identifiers, tasks)
    tokens = encode_views(views, tasks, CANVAS)
    return tasks, identifiers, model, views, tokens


def _record(model, tokens, identifier, view, restart, noise=0.0, seed=0, depth=DEPTH):
    """A fixed-depth recording of rows (global view, restart) in one batch: predictions and StepSignals."""
    z_H, z_L = start_states(model, view, restart, noise, seed, CPU)
    local = torch.from_numpy(view - view.min())
    inputs = torch.from_numpy(tokens.astype(np.int32))[local]
    ids = torch.from_numpy(identifier.astype(np.int32))[local]
    preds, s = record_rows(model, inputs, ids, z_H, z_L, depth)
    changed = np.ones(preds.shape[:2], bool)
    changed[1:] = (preds[1:] != preds[:-1]).any(axis=2)  # as Recording.changed
    return preds, StepSignals(s["q_halt"], changed, s["dz"], s["entropy"])


def _gap(values: np.ndarray, q: float) -> float:
    """A threshold near the q-quantile of `values`, midway in the widest gap between neighbouring values
    there: batches of other compositions move a signal by ~1e-6, far less than half that gap, so no
    comparison can flip between the recording and the live run (checked)."""
    v = np.unique(values.astype(np.float64))
    mid = int(q * len(v))
    lo, hi = max(1, mid - 6), min(len(v) - 1, mid + 6)
    i = lo + int(np.argmax(v[lo : hi + 1] - v[lo - 1 : hi]))
    assert v[i] - v[i - 1] > 1e-4
    return float((v[i] + v[i - 1]) / 2)


def _rules(sig: StepSignals) -> list[tuple[str, float]]:
    """(spec, threshold) pairs covering every rule with several parameters; thresholds sit in gaps."""
    moves = np.abs(np.diff(sig.entropy, axis=0))
    q0, q1 = _gap(sig.q_halt, 0.5), _gap(sig.q_halt, 0.8)
    return [
        ("fixed", 0.0),
        ("q", q0),  # bare q takes the threshold, as before rules had parameters
        (f"q:{q1!r}", 0.0),
        ("stable:1", 0.0),
        ("stable", 0.0),
        ("stable:3", 0.0),
        (f"converged:{_gap(sig.dz, 0.3)!r}", 0.0),
        (f"converged:{_gap(sig.dz, 0.6)!r}", 0.0),
        (f"entropy:1:{_gap(moves, 0.3)!r}", 0.0),
        (f"entropy:2:{_gap(moves, 0.5)!r}", 0.0),
        (f"entropy:3:{_gap(moves, 0.7)!r}", 0.0),
    ]


def _assert_matches(result: ChunkResult, preds: np.ndarray, sig: StepSignals, rule: HaltRule, spec: str) -> None:
    want = exit_steps(rule, sig, DEPTH)
    np.testing.assert_array_equal(result.steps, want, err_msg=spec)
    np.testing.assert_array_equal(result.preds, preds[want - 1, np.arange(len(want))], err_msg=spec)
    np.testing.assert_allclose(result.q_halt, sig.q_halt[want - 1, np.arange(len(want))], atol=1e-5, err_msg=spec)


def test_every_live_rule_stops_where_the_recording_says(setup):
    _, _, model, views, tokens = setup
    n = len(views)
    preds, sig = _record(model, tokens, views.identifier, np.arange(n), np.zeros(n, np.int64))
    spread = set()
    for spec, threshold in _rules(sig):
        cfg = EngineConfig(batch_size=5, halt=spec, threshold=threshold)  # slots refill mid-batch: mixed steps
        result = run_chunk(model, tokens, views.identifier, cfg, CPU)
        _assert_matches(result, preds, sig, cfg.rule(), spec)
        spread.add((spec.split(":")[0], len(np.unique(result.steps))))
    # The test means something: every rule except fixed stops rows at several different steps.
    assert all(k > 2 for name, k in spread if name != "fixed"), spread


def test_live_rules_with_restarts_match_the_recording_of_the_same_starts(setup):
    _, _, model, views, tokens = setup
    n, breadth, first = len(views), 3, 100  # global view indices 100.. seed the noise, not the chunk's 0..
    view = np.repeat(np.arange(first, first + n), breadth)
    restart = np.tile(np.arange(breadth), n)
    preds, sig = _record(model, tokens, views.identifier, view, restart, noise=0.3, seed=5)
    for spec, threshold in [_rules(sig)[i] for i in (0, 1, 4, 7, 9)]:
        cfg = EngineConfig(batch_size=7, halt=spec, threshold=threshold, restarts=breadth, noise=0.3)
        result = run_chunk(model, tokens, views.identifier, cfg, CPU, views=np.arange(first, first + n), seed=5)
        _assert_matches(result, preds, sig, cfg.rule(), spec)
    assert not np.array_equal(preds[:, restart == 1], preds[:, restart == 0])  # the noise moves the rows


@pytest.mark.parametrize("spec", ["fixed", "q", "stable:2", "entropy"])
def test_restart_zero_is_the_one_restart_run_and_no_noise_changes_nothing(setup, spec):
    _, _, model, views, tokens = setup
    one = run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=5, halt=spec), CPU)
    many = run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=5, halt=spec, restarts=3), CPU)
    assert len(many.preds) == 3 * len(views)
    np.testing.assert_array_equal(many.preds[::3], one.preds)
    np.testing.assert_array_equal(many.steps[::3], one.steps)
    np.testing.assert_allclose(many.q_halt[::3], one.q_halt, atol=1e-6)
    assert not np.array_equal(many.preds[1::3], one.preds) or not np.array_equal(many.steps[1::3], one.steps)
    still = run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=5, halt=spec, restarts=3, noise=0), CPU)
    for r in range(3):
        np.testing.assert_array_equal(still.preds[r::3], one.preds)
        np.testing.assert_array_equal(still.steps[r::3], one.steps)


def test_one_restart_writes_the_shards_it_wrote_before(setup, tmp_path):
    tasks, _, model, views, _ = setup
    out = tmp_path / "preds"
    predict(model, views, tasks, out, EngineConfig(batch_size=5, chunk_size=10), CPU)
    core = model.inner
    for c, first in enumerate(range(0, len(views), 10)):
        # The engine's fixed schedule as it was: H_init/L_init, all halt_max_steps, batches of 5.
        chunk = views.subset(np.arange(first, min(first + 10, len(views))))
        inputs = torch.from_numpy(encode_views(chunk, tasks, CANVAS).astype(np.int32))
        ids = torch.from_numpy(chunk.identifier.astype(np.int32))
        tokens, q = [], []
        with torch.inference_mode():
            for b in range(0, len(chunk), 5):
                k = min(5, len(chunk) - b)
                z_H = core.H_init.expand(k, model.config.total_len, -1).clone()
                z_L = core.L_init.expand(k, model.config.total_len, -1).clone()
                for _ in range(DEPTH):
                    z_H, z_L, logits, q_halt, _ = core(z_H, z_L, inputs[b : b + k], ids[b : b + k])
                tokens.append(logits.argmax(-1).to(torch.uint8).numpy())
                q.append(q_halt.double().numpy())
        steps = np.full(len(chunk), DEPTH, np.int16)
        old = chunk_predictions(chunk, ChunkResult(np.concatenate(tokens), np.concatenate(q), steps), CANVAS)
        want = {c: getattr(old, c) for c in COLUMNS} | {"steps": steps, "identifier": chunk.identifier}
        with np.load(chunk_path(out, c)) as shard:
            assert sorted(shard.files) == sorted(want)  # no new key either
            for key, value in want.items():
                assert shard[key].dtype == value.dtype and shard[key].tobytes() == value.tobytes(), key


def test_shards_are_reused_only_with_the_same_rule_restarts_noise_and_seed(setup, tmp_path, capsys):
    tasks, _, model, views, _ = setup
    out = tmp_path / "preds"

    def run(seed: int = 0, **options) -> int:
        cfg = EngineConfig(batch_size=6, chunk_size=10, **options)
        return predict(model, views, tasks, out, cfg, CPU, seed=seed)["views_computed"]

    assert run() == 24 and run() == 0
    assert run(halt="stable:2") == 24 and "was predicted with the reference settings" in capsys.readouterr().err
    assert run(halt="stable:2") == 0 and run(halt="stable:3") == 24
    assert run(halt="q", threshold=0.5) == 24 and run(halt="q:0.5") == 0  # the same rule, spelled two ways
    assert run(halt="stable:3", seed=4) == 24 and run(halt="stable:3", seed=9) == 0  # one start: no noise to seed
    assert run(halt="stable:3", restarts=2) == 24 and "other views" in capsys.readouterr().err
    assert run(halt="stable:3", restarts=2) == 0
    assert run(halt="stable:3", restarts=2, seed=1) == 24 and run(halt="stable:3", restarts=2, noise=0.2) == 24
    assert run(halt="stable:3", restarts=2, noise=0.2) == 0 and run(steps=4) == 24
    merged, steps = merge_chunks(out, len(views), 10)
    assert len(merged) == len(steps) == 24  # steps=4 rewrote every chunk with one row per view
    assert (steps == 4).all()


def test_a_bad_rule_is_one_line_naming_where(tmp_path):
    with pytest.raises(DataError, match=r"^my\.toml: \[predict\]: halt = 'stable:0\.5': .*whole number") as bad:
        from_dict({"predict": {"halt": "stable:0.5"}}, "my.toml")
    assert "\n" not in str(bad.value)
    with pytest.raises(DataError, match=r"restarts = 0 is out of range"):
        from_dict({"predict": {"restarts": 0}}, "my.toml")
    assert from_dict({"predict": {"halt": "entropy:3:0.02", "restarts": 4}}, "x").predict.rule() == HaltRule(
        "entropy", (3.0, 0.02)
    )
    for bad in ("sometimes", "q:x", "stable:1:2"):
        result = CliRunner().invoke(cli, ["evaluate", "ckpt", "--tasks", "t", "--halt", bad, "-o", str(tmp_path)])
        assert result.exit_code == 2 and "halt = " in result.output, result.output
    result = CliRunner().invoke(cli, ["evaluate", "c", "--tasks", "t", "--halt", "q", "--record-steps", "-o", "o"])
    assert result.exit_code == 2 and "--record-steps needs --halt fixed" in result.output


@pytest.mark.e2e
def test_evaluate_with_restarts_and_a_live_rule_end_to_end(setup, kaggle_files, tmp_path):
    _, identifiers, model, views, _ = setup
    ckpt = save_checkpoint(tmp_path / "ckpt", model, step=3, identifiers=identifiers)
    (ckpt / "identifiers.json").write_text(json.dumps(identifiers))
    run = tmp_path / "run"
    args = ["evaluate", str(ckpt), "--tasks", str(kaggle_files), "--restarts", "2", "--halt", "stable:2"]
    result = CliRunner().invoke(cli, [*args, "--batch-size", "7", "--chunk-size", "10", "-o", str(run)])
    assert result.exit_code == 0, result.output
    assert "mean ACT steps per row (view x restart)" in result.output
    meta = json.loads((run / "run.json").read_text())
    merged, steps = merge_chunks(run / "predictions", len(views), 10)
    assert len(merged) == len(steps) == 2 * len(views)  # every restart is its own row (one more vote)
    nfe = family_of(model.config).nfe_per_step(model.config)
    assert meta["halt"] == "stable:2" and meta["views"] == len(views) and meta["mean_steps"] == steps.mean()
    assert meta["restarts"] == 2 and meta["noise"] == pytest.approx(0.1)
    assert meta["nfe_per_task"] == steps.sum() * nfe / 2  # every row run, restarts included
    assert meta["nfe_reference_per_task"] == len(views) * DEPTH * nfe / 2  # one start x halt_max_steps x views
    assert 1 <= steps.min() and steps.max() <= DEPTH and steps.min() < DEPTH
    assert len(json.loads((run / "submission.json").read_text())["aaaa0001"]) == 2


def test_puzzle_evaluation_halts_live_and_takes_the_majority_of_restarts(tmp_path, capsys):
    puzzles = load_any("sudoku-6x6/test").subset(np.arange(12))
    model = settling_model(tiny_config(1, seq_len=36, vocab=vocab_size("sudoku", 6)))
    tokens = encode_cells(puzzles.questions)
    preds, sig = _record(model, tokens, np.zeros(12, np.int64), np.arange(12), np.zeros(12, np.int64))
    out = tmp_path / "preds"
    for spec in ("stable:1", f"entropy:1:{_gap(np.abs(np.diff(sig.entropy, axis=0)), 0.5)!r}"):
        cfg = EngineConfig(batch_size=5, chunk_size=8, halt=spec)
        assert predict_puzzles(model, puzzles, out, cfg, CPU)["views_computed"] == 12
        steps = np.concatenate([load_puzzle_chunk(puzzle_chunk_path(out, c)).steps for c in (0, 1)])
        np.testing.assert_array_equal(steps, exit_steps(cfg.rule(), sig, DEPTH))
        assert predict_puzzles(model, puzzles, out, cfg, CPU)["views_computed"] == 0
    assert "other settings" in capsys.readouterr().err  # the second rule recomputed the first one's shards
    # Restarts: every puzzle from 3 starts (seeded by (seed, puzzle, r) as ARC views), the majority kept.
    view, restart = np.repeat(np.arange(12), 3), np.tile(np.arange(3), 12)
    rec, _ = _record(model, tokens, np.zeros(12, np.int64), view, restart, noise=2.0, seed=4)
    cells = decode_tokens(rec[-1], "sudoku", 6)
    expected = cells[select_single(cells, view, "majority")]
    assert (expected != cells[::3]).any()  # somewhere two restarts outvote the reference start
    cfg = EngineConfig(batch_size=5, chunk_size=8, restarts=3, noise=2.0)
    assert predict_puzzles(model, puzzles, tmp_path / "r", cfg, CPU, seed=4)["views_computed"] == 12
    shards = [load_puzzle_chunk(puzzle_chunk_path(tmp_path / "r", c)) for c in (0, 1)]
    np.testing.assert_array_equal(np.concatenate([c.cells for c in shards]), expected)
    assert (np.concatenate([c.steps for c in shards]) == 3 * DEPTH).all()  # a puzzle's steps: all its restarts
    assert predict_puzzles(model, puzzles, tmp_path / "r", cfg, CPU, seed=5)["views_computed"] == 12  # seed keyed
    with pytest.raises(DataError, match="restarts = 2 with record_steps"):
        predict_puzzles(model, puzzles, out, EngineConfig(restarts=2, record_steps=True), CPU)
    args = ["evaluate", "c", "--tasks", "sudoku-6x6/test", "--restarts", "2", "--record-steps", "-o", "o"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "with record_steps" in result.output
