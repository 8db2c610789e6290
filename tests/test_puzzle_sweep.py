"""`trm-eval sweep` on a Sudoku set: one recording past halt_max_steps with restarts, every (depth,
breadth, rule, selector) cell scored, the fixed cells equal to `evaluate --halt fixed --steps d`, and
the CLI end to end on a tiny random-weight checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from harness.cli.main import cli
from harness.config import EngineConfig
from harness.core.errors import DataError
from harness.core.puzzle_sources import load_puzzles
from harness.core.puzzles import PuzzleSet
from harness.data.puzzle_encoding import decode_tokens, encode_cells
from harness.infer.checkpoints import save_checkpoint
from harness.infer.engine import run_chunk
from harness.infer.puzzle_eval import run_puzzle_evaluate
from harness.infer.puzzle_sweep import run_puzzle_sweep
from harness.infer.sweep_common import DEFAULT_RULES, SweepOptions
from models import TRM
from models.families import family_of
from tests.helpers import random_trm, tiny_trm_config
from voting.selectors import SINGLE_SELECTORS

HALT_MAX, DEPTH, BREADTH = 3, 5, 2
OPTS = SweepOptions(depth=DEPTH, breadth=BREADTH, noise=0.5, batch_size=12, chunk_size=16)


def tiny_sudoku_model() -> TRM:
    """Random weights for 6x6 Sudoku (seq_len 36, vocab 8), q_head made loud so the q rule fires."""
    config = tiny_trm_config(1, 36, halt_max_steps=HALT_MAX, vocab_size=8, H_cycles=1)
    return random_trm(config, puzzle_embedding=False)


def _fixed_cells(model: TRM, puzzles: PuzzleSet, steps: int) -> np.ndarray:
    result = run_chunk(
        model,
        encode_cells(puzzles.questions),
        np.zeros(len(puzzles), np.int64),
        EngineConfig(batch_size=7, steps=steps),
        torch.device("cpu"),
    )
    return decode_tokens(result.preds, puzzles.kind, puzzles.side)


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, PuzzleSet, Path, pd.DataFrame, dict]:
    """A random model would solve nothing, so a third of the answers are its own depth-2 predictions and
    a third its depth-5 ones: exact accuracy is neither 0 nor 1 and moves with depth."""
    folder = tmp_path_factory.mktemp("puzzle_sweep")
    model = tiny_sudoku_model()
    ckpt = save_checkpoint(folder / "ckpt", model, step=1, identifiers=["<blank>"])
    base = load_puzzles("sudoku-6x6/test").subset(slice(0, 30))
    answers = base.answers.copy()
    answers[0::3] = _fixed_cells(model, base, 2)[0::3]
    answers[1::3] = _fixed_cells(model, base, DEPTH)[1::3]
    puzzles = PuzzleSet("own-answers", "sudoku", 6, base.questions.copy(), answers)
    cells, summary = run_puzzle_sweep(ckpt, puzzles, folder / "sweep", OPTS)
    return ckpt, puzzles, folder, cells, summary


def test_every_cell_is_scored(swept):
    _, puzzles, folder, cells, summary = swept
    on_disk = pd.read_csv(folder / "sweep" / "cells.csv")
    assert len(on_disk) == len(cells) == summary["cells"] == DEPTH * 2 * len(DEFAULT_RULES) * len(SINGLE_SELECTORS)
    combos = on_disk[["depth", "breadth", "rule", "selector"]].drop_duplicates()
    assert len(combos) == len(on_disk) and set(on_disk["breadth"]) == {1, 2} and "views" not in on_disk
    assert set(on_disk["selector"]) == set(SINGLE_SELECTORS) and set(on_disk["depth"]) == set(range(1, DEPTH + 1))
    assert {"exact", "cell_accuracy", "oracle", "low", "high", "delta", "delta_low", "delta_high", "pareto"} <= set(
        on_disk
    )
    assert summary["metric"] == "exact" and summary["rows"] == BREADTH * len(puzzles)
    ref = summary["headline"]["reference"]
    assert (ref["rule"], ref["depth"], ref["breadth"], ref["selector"]) == ("fixed", HALT_MAX, 1, "majority")
    assert ref["nfe_per_task"] == summary["nfe_reference_per_task"] == HALT_MAX * summary["nfe_per_step"]
    assert (folder / "sweep" / "cell_scores.npz").exists()


def test_fixed_cells_reproduce_evaluate(swept, tmp_path):
    ckpt, puzzles, _, cells, _ = swept
    for depth in (2, DEPTH):
        score = run_puzzle_evaluate(ckpt, puzzles, tmp_path / f"eval-{depth}", EngineConfig(steps=depth))
        assert score is not None and 0 < score["exact_accuracy"] < 1
        cell = cells[
            (cells["rule"] == "fixed")
            & (cells["depth"] == depth)
            & (cells["breadth"] == 1)
            & (cells["selector"] == "majority")
        ].iloc[0]
        assert cell["exact"] == score["exact_accuracy"]
        assert cell["cell_accuracy"] == pytest.approx(score["cell_accuracy"])
        nfe = family_of(tiny_sudoku_model().config).nfe_per_step(tiny_sudoku_model().config)
        assert cell["nfe_per_task"] == depth * nfe and cell["mean_steps"] == depth


def test_oracle_bounds_every_selector_and_one_start_needs_no_selector(swept):
    cells = swept[3]
    assert (cells["oracle"] >= cells["exact"]).all()
    one = cells[cells["breadth"] == 1]
    spread = one.groupby(["depth", "rule"])[["exact", "cell_accuracy"]].nunique()
    assert (spread == 1).all().all()  # with one candidate every selector picks it
    assert (one["oracle"] == one["exact"]).all()
    two = cells[cells["breadth"] == 2].set_index(["depth", "rule", "selector"])["oracle"]
    assert (two >= one.set_index(["depth", "rule", "selector"])["oracle"].reindex(two.index)).all()


def test_resume_computes_nothing_and_other_options_are_refused(swept):
    ckpt, puzzles, folder, cells, _ = swept
    again, summary = run_puzzle_sweep(ckpt, puzzles, folder / "sweep", OPTS)
    assert summary["views_computed"] == 0
    pd.testing.assert_frame_equal(again, cells)
    with pytest.raises(DataError, match="other options"):
        run_puzzle_sweep(ckpt, puzzles, folder / "sweep", SweepOptions(depth=DEPTH, breadth=BREADTH, noise=0.3))
    assert json.loads((folder / "sweep" / "options.json").read_text())["noise"] == OPTS.noise


@pytest.mark.e2e
def test_sweep_command_on_a_sudoku_set(swept, tmp_path):
    ckpt = swept[0]
    out = tmp_path / "sweep"
    args = ["sweep", str(ckpt), "--tasks", "sudoku-6x6/test", "--depth", "4", "--breadth", "2", "-o", str(out)]
    result = CliRunner().invoke(cli, [*args, "--rule", "fixed", "--rule", "q"])
    assert result.exit_code == 0, result.output
    assert "reference protocol: exact accuracy" in result.output and "ANY restart" in result.output
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["puzzles"] == 200 and summary["cells"] == 4 * 2 * 2 * len(SINGLE_SELECTORS)
    page = (out / "report" / "report.html").read_text()
    assert "<svg" in page and "exact accuracy" in page and "pass@2" not in page
    assert (out / "report" / "plots" / "accuracy_vs_nfe.svg").read_text().startswith("<?xml")
    refused = CliRunner().invoke(cli, [*args, "--max-aug", "2"])
    assert refused.exit_code == 2 and "for ARC sets" in refused.output
    one_start = [a if a != "2" else "1" for a in args]  # --breadth 1: the seed changes nothing on puzzles
    same = CliRunner().invoke(cli, [*one_start, "--seeds", "3"])
    assert same.exit_code == 2 and "every seed gives the same sweep" in same.output
    compared = CliRunner().invoke(cli, ["compare", str(out), f"{out}@rule=q,breadth=2,selector=q-max", "--json"])
    assert compared.exit_code == 0, compared.output
    got = json.loads(compared.output)
    assert got["metric"] == "exact" and got["tasks"] == 200
    assert got["score_a"] == pytest.approx(summary["headline"]["reference"]["exact"])
    no_views = CliRunner().invoke(cli, ["compare", str(out), f"{out}@views=2"])
    assert no_views.exit_code == 1 and "no views axis" in no_views.output
