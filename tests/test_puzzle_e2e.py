"""Sudoku and maze end to end: a tiny run learns and resumes bit for bit; `evaluate`, `predict`, `score`
and `report` on puzzle sets; reference checkpoints (mlp_t and attention) on a reference .npy split;
and a shortened `demo sudoku`."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file

from harness.cli.main import cli
from harness.config import load_config
from harness.core.puzzle_sources import load_puzzles
from harness.data.puzzle_encoding import decode_tokens
from harness.infer.checkpoints import save_checkpoint
from harness.train.state import checkpoint_dirs
from harness.train.trainer import train
from models import TRM, TRMConfig
from models.reference import to_reference
from tests.helpers import TINY_SUDOKU, write_reference_split

pytestmark = pytest.mark.e2e  # trains, evaluates and reports through the CLI
OVERRIDES = ["train.max_steps=12", "train.checkpoint_every=6", "train.eval_every=6"]


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny Sudoku run of 12 steps (module-wide: several tests evaluate its checkpoint)."""
    folder = tmp_path_factory.mktemp("sudoku")
    (folder / "tiny.toml").write_text(TINY_SUDOKU)
    torch.set_num_threads(1)
    train(load_config(folder / "tiny.toml", OVERRIDES), folder / "run")
    return folder


def test_a_tiny_run_learns_and_resumes_bit_for_bit(trained, tmp_path):
    lines = [json.loads(line) for line in (trained / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [line["train/loss"] for line in lines]
    assert len(losses) == 12 and np.mean(losses[-3:]) < np.mean(losses[:3])
    held_out = [line for line in lines if "eval/exact_accuracy" in line]  # the held-out set, every 6 steps
    assert [line["step"] for line in held_out] == [6, 12] and held_out[0]["eval/puzzles"] == 200
    cfg = load_config(trained / "tiny.toml", OVERRIDES)
    train(cfg, tmp_path / "cut", stop_after=6)
    train(None, tmp_path / "cut", resume=True)
    whole, resumed = (
        load_file(checkpoint_dirs(p)[-1][1] / "model.safetensors") for p in (trained / "run", tmp_path / "cut")
    )
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    assert json.loads((trained / "run" / "layout" / "puzzles.json").read_text())["subsample"] == 64


def test_evaluate_score_predict_and_report_a_sudoku_set(trained, tmp_path):
    ckpt, out = trained / "run" / "checkpoints" / "step_12", tmp_path / "eval"
    run("evaluate", ckpt, "--tasks", "sudoku-6x6/test", "--record-steps", "--chunk-size", "64", "-o", out)
    score = json.loads((out / "score.json").read_text())
    assert score["benchmark"] == "sudoku" and score["puzzles"] == score["predicted"] == 200
    assert set(score["exact_by_step"]) == {"1", "2"} and score["published_set"] is None
    assert score["exact_accuracy"] == score["exact_by_step"]["2"] and 0 < score["fill_accuracy"] < 1
    record = json.loads((out / "run.json").read_text())
    assert record["views"] == 200 and record["max_steps"] == 2 and record["family"] == "trm"
    assert record["nfe_per_task"] == pytest.approx(2 * record["nfe_per_step"])  # fixed: every step of every puzzle
    assert record["nfe_reference_per_task"] == 2 * record["nfe_per_step"]
    assert len(list((out / "predictions").glob("puzzles-*.npz"))) == 4
    again = json.loads(run("score", out, "--against", "sudoku-6x6/test", "--json"))
    assert {k: again[k] for k in ("exact", "cell_accuracy", "by_rating")} == {
        k: score[k] for k in ("exact", "cell_accuracy", "by_rating")
    }
    (out / "predictions" / "puzzles-000002.npz").unlink()  # an interrupted run: only the missing chunk is redone
    resumed = run("predict", ckpt, "--tasks", "sudoku-6x6/test", "--record-steps", "--chunk-size", "64", "-o", out)
    assert "64 views predicted" in resumed and "(200 in the task set)" in resumed
    q = run("evaluate", ckpt, "--tasks", "sudoku-6x6/test", "--halt", "q", "-o", tmp_path / "q")
    three = run(
        "evaluate", ckpt, "--tasks", "sudoku-6x6/test", "--restarts", "3", "--noise", "0.2", "-o", tmp_path / "r"
    )
    assert "mean ACT steps (3 restarts, summed)" in three
    r_record = json.loads((tmp_path / "r" / "run.json").read_text())
    assert r_record["restarts"] == 3 and r_record["mean_steps"] == 2  # fixed: 2 steps per restart
    assert r_record["nfe_per_task"] == pytest.approx(3 * r_record["nfe_reference_per_task"])
    assert "exact accuracy" in q and "mean ACT steps" in q
    refused = CliRunner().invoke(
        cli, ["evaluate", str(ckpt), "--tasks", "sudoku-6x6/test", "--max-aug", "2", "-o", str(tmp_path / "x")]
    )
    assert refused.exit_code == 2 and "for ARC sets" in refused.output
    wrong = CliRunner().invoke(cli, ["evaluate", str(ckpt), "--tasks", "sudoku-9x9/test", "-o", str(tmp_path / "y")])
    assert wrong.exit_code == 1 and "cannot read sudoku-9x9/test" in wrong.output
    run("report", out, tmp_path / "q", "-o", tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Sudoku and maze" in page and "<svg" in page and "leaderboard.csv" not in page
    board = (tmp_path / "report" / "puzzle_leaderboard.csv").read_text()
    assert "quoted" not in board  # a generated set: no published numbers beside it
    assert "nfe_per_task" in board.splitlines()[0] and "NFE/puzzle" in page
    assert (tmp_path / "report" / "plots" / "puzzle-depth.svg").exists()
    compared = json.loads(run("compare", out, tmp_path / "q", "--json"))  # paired per puzzle: a sign test
    q_score = json.loads((tmp_path / "q" / "score.json").read_text())
    assert compared["metric"] == "exact" and compared["tasks"] == 200
    assert compared["score_a"] == pytest.approx(score["exact_accuracy"])
    assert compared["score_b"] == pytest.approx(q_score["exact_accuracy"])
    assert compared["better_b"] - compared["better_a"] == round(200 * (compared["score_b"] - compared["score_a"]))


def test_a_maze_evaluation_scores_paths(tmp_path):
    config = TRMConfig(
        vocab_size=6,
        seq_len=225,
        hidden_size=16,
        num_heads=2,
        expansion=2.0,
        H_cycles=1,
        L_cycles=1,
        L_layers=1,
        puzzle_emb_ndim=16,
        puzzle_emb_len=1,
        halt_max_steps=1,
        forward_dtype="float32",
    )
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "ckpt", TRM(config), identifiers=["<blank>"])
    run("evaluate", tmp_path / "ckpt", "--tasks", "maze-unique-15x15/test", "-o", tmp_path / "eval")
    score = json.loads((tmp_path / "eval" / "score.json").read_text())
    assert score["benchmark"] == "maze" and "valid_path_rate" in score and score["by_rating"]
    run("report", tmp_path / "eval", "-o", tmp_path / "report")
    assert "orange dots" in (tmp_path / "report" / "report.html").read_text()


@pytest.mark.parametrize("mlp_t", [True, False])
def test_reference_checkpoints_import_and_evaluate_on_a_reference_split(tmp_path, mlp_t):
    """A reference-code Sudoku run (its state dict, all_config.yaml, dataset.json and .npy test split)."""
    arch = {
        "name": "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1",
        "hidden_size": 16,
        "num_heads": 2,
        "expansion": 2,
        "H_cycles": 1,
        "L_cycles": 2,
        "L_layers": 1,
        "H_layers": 0,
        "puzzle_emb_ndim": 16,
        "puzzle_emb_len": 16,
        "pos_encodings": "none" if mlp_t else "rope",
        "halt_max_steps": 2,
        "halt_exploration_prob": 0.1,
        "forward_dtype": "float32",
        "mlp_t": mlp_t,
        "no_ACT_continue": True,
    }
    dataset = {"seq_len": 81, "vocab_size": 11, "num_puzzle_identifiers": 1}
    torch.manual_seed(1)
    model = TRM(TRMConfig(**{k: v for k, v in arch.items() if k != "name"}, **dataset))
    torch.save(to_reference(model.state_dict()), tmp_path / "step_100")
    (tmp_path / "all_config.yaml").write_text(yaml.safe_dump({"arch": arch, "lr": 1e-4}))
    (tmp_path / "dataset.json").write_text(json.dumps(dataset))
    puzzles = load_puzzles("sudoku-9x9/test").subset(slice(0, 20))
    split = write_reference_split(puzzles, tmp_path / "data" / "sudoku-extreme-full" / "test")
    run(
        "checkpoint",
        "import",
        tmp_path / "step_100",
        "--config",
        tmp_path / "all_config.yaml",
        "--config",
        tmp_path / "dataset.json",
        "-o",
        tmp_path / "ckpt",
    )
    run("evaluate", tmp_path / "ckpt", "--tasks", split, "-o", tmp_path / "eval")
    score = json.loads((tmp_path / "eval" / "score.json").read_text())
    assert score["puzzles"] == 20 and score["tasks_hash"] == puzzles.hash
    shard = np.load(tmp_path / "eval" / "predictions" / "puzzles-000000.npz")
    inputs = torch.from_numpy(puzzles.questions.astype(np.int64) + 1)
    steps = model.eval().evaluate({"inputs": inputs, "puzzle_identifiers": torch.zeros(20, dtype=torch.int64)})
    np.testing.assert_array_equal(shard["cells"], decode_tokens(steps[-1]["preds"].numpy(), "sudoku", 9))


def test_short_sudoku_demo(tmp_path):
    out = tmp_path / "demo"
    args = [
        "demo",
        "sudoku",
        "--set",
        "train.max_steps=4",
        "--set",
        "train.log_every=2",
        "--set",
        "train.checkpoint_every=4",
        "--set",
        "model.hidden_size=32",
        "--set",
        "model.num_heads=2",
        "--set",
        "model.puzzle_emb_ndim=32",
        "--set",
        "data.eval_set=sudoku-6x6/test",
        "--out",
        str(out),
    ]
    printed = run(*args)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["puzzles"] == 200 and summary["blanks"] >= 20 and summary["train_steps"] == 4
    assert list(summary["exact_by_step"]) == [str(s) for s in range(1, 7)] and "mean_steps" in summary["q_halt"]
    assert "ACT steps" in printed and "q-halt" in printed and (out / "report" / "report.html").exists()
    run(*args)  # a second run reuses the finished training run
    assert json.loads((out / "summary.json").read_text())["exact_by_step"] == summary["exact_by_step"]
