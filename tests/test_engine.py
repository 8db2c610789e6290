"""The inference engine on a tiny random-weight model: parity with the model's own evaluation,
continuous batching, resume from chunks, and evaluate end to end."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from augment import format_name, random_transform
from harness.cli.main import cli
from harness.config import EngineConfig
from harness.core.errors import DataError
from harness.core.sources import load_tasks
from harness.data.views import build_views, encode_views
from harness.infer.checkpoints import save_checkpoint
from harness.infer.engine import predict, run_chunk
from harness.predictions.shards import merge_chunks
from models import TRM
from tests.helpers import random_trm, tiny_trm_config

CANVAS = 4


def tiny_model(n_ids: int, seed: int = 0) -> TRM:
    return random_trm(tiny_trm_config(n_ids, CANVAS * CANVAS, halt_max_steps=4), seed)


@pytest.fixture
def setup(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    rng = np.random.default_rng(0)
    identifiers = ["<blank>"]
    for task in tasks:
        identifiers.append(task.id)  # the un-augmented puzzle, named as the reference names it
        identifiers += [format_name(task.id, random_transform(rng)) for _ in range(5)]
    model = tiny_model(len(identifiers))
    ckpt = save_checkpoint(tmp_path / "ckpt", model, step=7, identifiers=identifiers)
    (ckpt / "identifiers.json").write_text(json.dumps(identifiers))
    return tasks, identifiers, model, ckpt


def test_views_cover_every_test_input_under_every_identifier(setup):
    tasks, identifiers, _, _ = setup
    views = build_views(identifiers, tasks)
    assert len(views) == 2 * 6 * 2  # tasks x views x test inputs
    few = build_views(identifiers, tasks, max_aug=3)
    assert len(few) == 2 * 3 * 2
    assert (few.tids[few.identifier == 1] == 0).all()  # the un-augmented view is always kept


def test_fixed_schedule_equals_model_evaluate(setup):
    tasks, identifiers, model, _ = setup
    views = build_views(identifiers, tasks)
    tokens = encode_views(views, tasks, CANVAS)
    result = run_chunk(
        model, tokens, views.identifier, EngineConfig(batch_size=5, record_steps=True), torch.device("cpu")
    )
    steps = model.evaluate(
        {
            "inputs": torch.from_numpy(tokens.astype(np.int32)),
            "puzzle_identifiers": torch.from_numpy(views.identifier.astype(np.int32)),
        }
    )
    np.testing.assert_array_equal(result.preds, steps[-1]["preds"].numpy())
    np.testing.assert_allclose(result.q_halt, steps[-1]["q_halt_logits"].double().numpy(), atol=1e-5)
    for s, out in enumerate(steps):
        np.testing.assert_array_equal(result.step_preds[s], out["preds"].numpy())
    assert (result.steps == 4).all()


def test_continuous_batching_halts_early_and_matches_per_view_runs(setup):
    tasks, identifiers, model, _ = setup
    views = build_views(identifiers, tasks)
    tokens = encode_views(views, tasks, CANVAS)
    device = torch.device("cpu")
    result = run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=3, halt="q", threshold=0.0), device)
    assert result.steps.min() >= 1 and result.steps.max() <= 4
    assert 0 < (result.steps < 4).sum()  # some views stop early, others run to the cap
    # Each view alone, stepped until its own stopping rule, gives the same answer: batching is invisible.
    fixed = [
        run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=24, steps=k), device) for k in range(1, 5)
    ]
    for v in range(len(views)):
        k = int(result.steps[v])
        np.testing.assert_array_equal(result.preds[v], fixed[k - 1].preds[v])
        if k < 4:
            assert result.q_halt[v] > 0 and all(fixed[j].q_halt[v] <= 0 for j in range(k - 1))


def test_predict_resumes_from_chunks(setup, tmp_path):
    tasks, identifiers, model, _ = setup
    views = build_views(identifiers, tasks)
    cfg = EngineConfig(batch_size=4, chunk_size=5)
    out = tmp_path / "preds"
    first = predict(model, views, tasks, out, cfg, torch.device("cpu"), rank=0, world_size=2)
    assert first["views_computed"] == 5 + 5 + 4  # chunks 0, 2, 4 of 24 views
    with pytest.raises(DataError, match="2 of 5 prediction chunks missing"):
        merge_chunks(out, len(views), 5)
    (out / "chunk-000002.npz").unlink()  # as if killed while writing chunk 2
    second = predict(model, views, tasks, out, cfg, torch.device("cpu"))
    assert second["views_computed"] == 5 + 5 + 5  # chunks 1, 2, 3 only
    merged, steps = merge_chunks(out, len(views), 5)
    whole = predict(model, views, tasks, tmp_path / "again", EngineConfig(chunk_size=100), torch.device("cpu"))
    assert whole["views_computed"] == 24
    again, _ = merge_chunks(tmp_path / "again", len(views), 100)
    np.testing.assert_array_equal(merged.task_ids, again.task_ids)
    for i in range(len(views)):
        np.testing.assert_array_equal(merged.grid(i), again.grid(i))


@pytest.mark.e2e
def test_evaluate_end_to_end(setup, tmp_path, kaggle_files):
    _, _, _, ckpt = setup
    run = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["evaluate", str(ckpt), "--tasks", str(kaggle_files), "--batch-size", "7", "--halt", "q", "-o", str(run)]
    )
    assert result.exit_code == 0, result.output
    score = json.loads((run / "score.json").read_text())
    meta = json.loads((run / "run.json").read_text())
    assert score["views"] == 24 and score["fallbacks"] == 0 and 1 <= meta["mean_steps"] <= 4
    assert meta["checkpoint_step"] == 7 and meta["halt"] == "q"
    sub = json.loads((run / "submission.json").read_text())
    assert len(sub["aaaa0001"]) == 2
    check = CliRunner().invoke(cli, ["validate", str(run / "submission.json"), "--against", str(kaggle_files)])
    assert check.exit_code == 0, check.output


@pytest.mark.e2e
def test_evaluate_refuses_tasks_outside_the_layout(setup, tmp_path):
    _, _, _, ckpt = setup
    result = CliRunner().invoke(
        cli, ["evaluate", str(ckpt), "--tasks", "arc-agi-2/evaluation", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 1 and "can only predict tasks it was trained on" in result.output
    other = tmp_path / "ids.json"
    other.write_text(json.dumps(["<blank>"] + ["x"] * 12))
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            str(ckpt),
            "--tasks",
            "arc-agi-2/evaluation",
            "--identifiers",
            str(other),
            "-o",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 1 and "not the layout of this checkpoint" in result.output
