"""A shortened `make demo` end to end: train, evaluate with voting, compare, summarise."""

import json

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from tests.helpers import TINY

pytestmark = pytest.mark.e2e  # the demo: trains, evaluates, votes, reports


def test_short_demo_end_to_end(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "demo"
    args = ["demo", "--config", str(config), "--set", "train.max_steps=4", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"] == 16 and summary["views_per_test_input"] == 4 and summary["train_steps"] == 4
    solved = summary["outputs_solved"]
    assert set(solved) == {"voted", "single_view", "copy_input"}
    assert all(0 <= s["pass@1"] <= s["pass@2"] <= summary["test_outputs"] for s in solved.values())
    assert "TRM, voted over all views" in result.output
    assert "Report:" in result.output and (out / "report" / "report.html").exists()
    board = (out / "report" / "leaderboard.csv").read_text()
    assert all(name in board for name in ("voted", "single-view", "copy-input"))
    check = CliRunner().invoke(cli, ["score", summary["submission"], "--solutions", str(tmp_path / "none.json")])
    assert check.exit_code == 1  # a missing solutions file is a clean error
    # A second run reuses the finished training run; a fresh one retrains to the same losses (seeded).
    losses = [m["train/loss"] for m in map(json.loads, (out / "train" / "metrics.jsonl").read_text().splitlines())]
    for rerun in (args, [*args, "--fresh"]):
        again = CliRunner().invoke(cli, rerun)
        assert again.exit_code == 0, again.output
        assert json.loads((out / "summary.json").read_text())["outputs_solved"] == solved
    metrics = (out / "train" / "metrics.jsonl").read_text().splitlines()
    assert [m["train/loss"] for m in map(json.loads, metrics)] == losses
    # A run of another config is never reused silently.
    other = CliRunner().invoke(cli, [*args, "--set", "train.lr=2e-3"])
    assert other.exit_code == 1 and "another config; rerun with --fresh" in other.output
