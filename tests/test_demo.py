"""A shortened `make demo` end to end: train, evaluate with voting, compare, summarise."""

import json

from click.testing import CliRunner

from harness.cli import cli
from tests.test_train import TINY


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
    check = CliRunner().invoke(cli, ["score", summary["submission"], "--solutions", str(tmp_path / "none.json")])
    assert check.exit_code == 1  # a missing solutions file is a clean error
    report = CliRunner().invoke(cli, ["report", str(out / "eval"), "-o", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "report" / "report.html").exists()
    # A second run reuses the finished training run and gives the same numbers.
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert json.loads((out / "summary.json").read_text())["outputs_solved"] == solved
