"""Leaderboard reports and paired comparisons, on demo runs and on runs built to known scores."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.io import write_json
from harness.core.sources import load_tasks
from harness.core.tasks import TaskSet
from harness.pipeline import run_baselines
from harness.predictions.shards import COLUMNS
from submissions import build_submission, write_submission
from submissions.report import build_report
from submissions.report.compare import compare_runs, mcnemar_exact
from submissions.report.curves import steps_curve, views_curve
from submissions.report.pictures import ARC_PALETTE, grid_png
from submissions.report.runs import load_runs

CHROMIUM = Path("/usr/bin/chromium")
N_TASKS = 40


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> TaskSet:
    """N_TASKS random one-test-input tasks as a Kaggle file pair (the report reloads them by path)."""
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("synthetic")
    grid = lambda: rng.integers(0, 10, (3, 4)).tolist()  # noqa: E731
    challenges = {
        f"t{n:07d}": {"train": [{"input": grid(), "output": grid()}], "test": [{"input": grid()}]}
        for n in range(N_TASKS)
    }
    solutions = {t: [grid()] for t in challenges}
    (folder / "arc-agi_synthetic_solutions.json").write_text(json.dumps(solutions))
    path = folder / "arc-agi_synthetic_challenges.json"
    path.write_text(json.dumps(challenges))
    return load_tasks(path)


def make_run(folder: Path, tasks: TaskSet, first: range, second: range = range(0), meta: dict | None = None) -> Path:
    """A run directory whose attempt 1 is right for tasks `first`, attempt 2 (only) for tasks `second`."""
    attempts = {}
    for n, task in enumerate(tasks):
        truth = task.test_outputs[0]
        wrong = (truth + 1) % 10
        attempts[(task.id, 0)] = [truth if n in first else wrong, truth if n in second else wrong]
    write_submission(build_submission(tasks, attempts), folder / "submission.json")
    write_json(
        folder / "score.json",
        {"tasks": tasks.name, "tasks_hash": tasks.hash, "views": 2 * len(tasks), "test_inputs": tasks.n_test_inputs},
    )
    if meta is not None:
        write_json(folder / "run.json", meta)
    return folder


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory) -> tuple[TaskSet, Path]:
    """The three baselines on 24 ARC-AGI-1 training tasks, 4 views each, plus an engine-style run with
    per-ACT-step predictions (step 1: copy-input, step 2: symmetry) and q_halt logits."""
    root = tmp_path_factory.mktemp("demo")
    full = load_tasks("arc-agi-1/training")
    ids = list(full.tasks)[:24]
    challenges = {t: full[t].to_json() for t in ids}
    (root / "arc-agi_few_solutions.json").write_text(
        json.dumps({t: [o["output"] for o in v["test"]] for t, v in challenges.items()})
    )
    for v in challenges.values():
        v["test"] = [{"input": o["input"]} for o in v["test"]]
    (root / "arc-agi_few_challenges.json").write_text(json.dumps(challenges))
    tasks = load_tasks(root / "arc-agi_few_challenges.json")
    run_baselines(tasks, root / "runs", n_views=4)
    engine_run(root / "runs", tasks)
    return tasks, root / "runs"


def engine_run(runs: Path, tasks: TaskSet) -> None:
    """`engine`: the symmetry run's files, its views as an engine shard with two recorded steps."""
    from harness.predictions.jsonl import read_jsonl
    from submissions.report.curves import view_correct

    target = runs / "engine"
    shutil.copytree(runs / "symmetry", target)
    (target / "predictions.jsonl").unlink()
    final = read_jsonl(runs / "symmetry" / "predictions.jsonl")
    step1 = read_jsonl(runs / "copy-input" / "predictions.jsonl")
    correct = view_correct(final, np.arange(len(final)), tasks.solutions())
    final.q_halt = np.where(correct, 3.0, -3.0)
    arrays = {c: getattr(final, c) for c in COLUMNS}
    for step, p in ((1, step1), (2, final)):
        arrays |= {f"step{step}_shapes": p.shapes, f"step{step}_offsets": p.offsets, f"step{step}_cells": p.cells}
    (target / "predictions").mkdir()
    np.savez_compressed(target / "predictions" / "chunk-000000.npz", **arrays, steps=np.full(len(final), 2))
    write_json(
        target / "run.json",
        {
            "checkpoint": "ckpt/arc1",
            "checkpoint_step": 518071,
            "max_steps": 2,
            "mean_steps": 2.0,
            "nfe_per_task": 48.0,
            "nfe_reference_per_task": 96.0,
            "gpu_seconds": 1800.0,
            "device": "cuda:0",
        },
    )


# ---------------------------------------------------------------- pictures


def test_grid_png_decodes_to_the_arc_palette():
    import matplotlib.image as mpimg

    grid = np.arange(30, dtype=np.uint8).reshape(3, 10) % 10
    pixels = mpimg.imread(io.BytesIO(grid_png(grid)))
    assert pixels.shape[:2] == (3, 10)
    rgb = np.round(pixels[..., :3] * 255).astype(int)
    palette = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in ARC_PALETTE])
    assert np.array_equal(rgb, palette[grid])


# ---------------------------------------------------------------- report on runs with known scores


@pytest.mark.e2e
def test_report_numbers_on_constructed_runs(synthetic, tmp_path):
    # good: attempt 1 right on tasks 0-19, attempt 2 (only) on 20-29 -> pass@1 50%, pass@2 75%.
    good = make_run(
        tmp_path / "good",
        synthetic,
        range(20),
        range(20, 30),
        {"checkpoint": "ckpt/a", "max_steps": 16, "mean_steps": 9.5, "gpu_seconds": 14400.0},
    )
    bad = make_run(tmp_path / "bad", synthetic, range(10))
    out = tmp_path / "report"
    result = run("report", bad, good, "--price-per-gpu-hour", 2, "-o", out)
    assert result.exit_code == 0, result.output

    board = pd.read_csv(out / "leaderboard.csv")
    measured = board[board["source"] == "measured"].set_index("run")
    assert list(measured.index) == ["good", "bad"]  # best pass@2 first
    assert measured.loc["good", "pass2"] == pytest.approx(0.75) and measured.loc["good", "pass1"] == pytest.approx(0.5)
    assert measured.loc["bad", "pass2"] == pytest.approx(0.25) and measured.loc["bad", "tasks_solved"] == 10
    assert measured.loc["good", "pass2_low"] < 0.75 < measured.loc["good", "pass2_high"]
    assert measured.loc["good", "usd_per_task"] == pytest.approx(14400 / 3600 * 2 / N_TASKS)  # $0.20
    assert pd.isna(measured.loc["bad", "gpu_seconds"]) and pd.isna(measured.loc["bad", "usd_per_task"])
    assert (measured["dataset_hash"] == synthetic.hash).all()
    # Synthetic set: its name does not tell the ARC version, so both versions' quoted figures are listed.
    quoted = board[board["source"] != "measured"]
    assert quoted["source"].str.startswith("quoted, not measured by us").all()
    assert set(quoted["pass2"]) >= {0.446, 0.078}

    md = (out / "report.md").read_text()
    good_line = next(line for line in md.splitlines() if line.startswith("| good |"))
    for text in ("50.00% [", "75.00% [", "30 / 40", "ckpt/a", "16 (mean 9.50)", "14,400", "$0.20", synthetic.hash[:12]):
        assert text in good_line, text
    bad_line = next(line for line in md.splitlines() if line.startswith("| bad |"))
    assert "25.00% [" in bad_line and "10 / 40" in bad_line and "$" not in bad_line
    quoted_md = md.split("### Published figures (quoted, not measured by us)")[1].split("\n## ")[0]
    assert "| TRM-Att 7M | ARC-AGI-1 public eval | 44.60% |" in quoted_md and "| good |" not in quoted_md

    page = (out / "report.html").read_text()
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
    assert page.count('class="task"') == N_TASKS
    # Failures first: solved by neither run, then by one (set order), then by both.
    ids = list(synthetic.tasks)
    assert re.findall(r'<div class="task" id="s0-(t\d+)"', page) == ids[30:] + ids[10:30] + ids[:10]
    lo, hi = measured.loc["good", ["pass2_low", "pass2_high"]]
    assert f'<b>75.00%</b><br><span class="hash">[{100 * lo:.2f}, {100 * hi:.2f}]</span>' in page
    assert '<td class="num">$0.20</td>' in page and "quoted, not measured by us" in page

    matrix = pd.read_csv(out / f"tasks-{synthetic.hash[:12]}.csv").set_index("task_id")
    assert matrix["good"].sum() == 30 and matrix["bad"].sum() == 10 and len(matrix) == N_TASKS


@pytest.mark.e2e
def test_report_refuses_a_changed_task_set(synthetic, tmp_path):
    folder = make_run(tmp_path / "r", synthetic, range(5))
    summary = json.loads((folder / "score.json").read_text())
    summary["tasks_hash"] = "0" * 64
    (folder / "score.json").write_text(json.dumps(summary))
    result = run("report", folder, "-o", tmp_path / "out")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "was scored on 000000000000" in result.output and synthetic.hash[:12] in result.output


# ---------------------------------------------------------------- figures from kept predictions


def test_demo_report_figures_and_curves(demo_runs, tmp_path):
    tasks, runs = demo_runs
    names = ["copy-input", "colour-map", "symmetry", "engine"]
    report = build_report([runs / n for n in names], published=False, repeats=2)
    by_name = {r.name: r for r in report.runs}
    truth = tasks.solutions()

    # The views curve ends at the run's own vote over every view (score.json's pass@2).
    for name in ("symmetry", "colour-map"):
        curve = views_curve(by_name[name].predictions.final, truth, repeats=2)
        assert list(curve["views"]) == [1, 2, 4]
        assert curve["pass2"].iloc[-1] == pytest.approx(by_name[name].summary["pass_at_k"]["2"])
        assert (curve["low"] <= curve["pass2"]).all() and (curve["pass2"] <= curve["high"]).all()

    engine = by_name["engine"]
    steps = steps_curve(engine.predictions, truth)
    assert list(steps["step"]) == [1, 2]
    assert steps["pass2"].tolist() == pytest.approx([0.0, by_name["symmetry"].summary["pass_at_k"]["2"]])
    assert steps["pass2"].iloc[1] > 0  # the symmetry baseline solves some of these tasks

    figures = {f.key: f for f in report.figures}
    assert all(f.svg is not None for f in figures.values())
    assert figures["views"].notes == []
    assert len(figures["steps"].notes) == 3 and all("no per-step predictions" in n for n in figures["steps"].notes)
    assert [n.split(":")[0] for n in figures["calibration"].notes] == names[:3]
    # q_halt = +3 exactly for the correct views, -3 otherwise: ECE = sigmoid(-3) = 1 - sigmoid(3).
    assert "ECE 0.047" in figures["calibration"].svg

    board = report.board.set_index("run")
    assert board.loc["engine", "checkpoint"] == "ckpt/arc1 (step 518071)"
    assert board.loc["engine", "act_steps"] == 2 and board.loc["engine", "gpu_seconds"] == 1800.0
    assert board.loc["engine", "nfe_per_task"] == 48.0 and board.loc["engine", "nfe_reference_per_task"] == 96.0
    assert pd.isna(board.loc["symmetry", "gpu_seconds"]) and board.loc["symmetry", "views_per_input"] == 4


def test_report_without_predictions_notes_the_skipped_figures(synthetic, tmp_path):
    report = build_report([make_run(tmp_path / "r", synthetic, range(3))], published=False)
    assert all(f.svg is None for f in report.figures)
    assert "no predictions kept" in report.figures[0].notes[0]


# ---------------------------------------------------------------- compare


def test_compare_identical_runs_finds_no_difference(synthetic, tmp_path):
    a = make_run(tmp_path / "a", synthetic, range(12))
    b = make_run(tmp_path / "b", synthetic, range(12))
    result = compare_runs(*load_runs([a, b]))
    assert (result.only_a, result.only_b, result.p_value, result.difference) == (0, 0, 1.0, 0.0)
    assert result.ci95 == (0.0, 0.0) and not result.significant
    assert result.verdict.startswith("No significant difference")


@pytest.mark.e2e
def test_compare_strictly_better_run_is_significant(synthetic, tmp_path):
    a = make_run(tmp_path / "a", synthetic, range(10))
    b = make_run(tmp_path / "b", synthetic, range(25))
    result = run("compare", a, b, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["only_a"], out["only_b"]) == (0, 15)
    assert out["p_value"] == pytest.approx(2 * 0.5**15) and out["significant"]
    assert out["difference"] == pytest.approx(15 / N_TASKS)
    assert 0 < out["ci95"][0] < 15 / N_TASKS < out["ci95"][1]
    assert out["verdict"].startswith("b is better than a")
    # One discordant output is not evidence of anything.
    close = compare_runs(*load_runs([a, make_run(tmp_path / "c", synthetic, range(11))]))
    assert close.p_value == 1.0 and not close.significant


def test_mcnemar_exact_matches_the_binomial():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(2, 8) == pytest.approx(2 * sum(math.comb(10, k) for k in range(3)) / 2**10)


@pytest.mark.e2e
def test_compare_refuses_different_task_sets(synthetic, demo_runs, tmp_path):
    a = make_run(tmp_path / "a", synthetic, range(3))
    result = run("compare", a, demo_runs[1] / "symmetry")
    assert result.exit_code == 1 and "a paired comparison needs the same tasks" in result.output


# ---------------------------------------------------------------- a real browser


@pytest.mark.e2e
def test_report_renders_in_chromium(demo_runs, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (see .ci/run) to run the browser test")
    import matplotlib.image as mpimg

    _, runs = demo_runs
    out = tmp_path / "report"
    assert run("report", runs / "symmetry", runs / "engine", runs / "copy-input", "-o", out).exit_code == 0
    png = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert errors == []
    pixels = mpimg.imread(png)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    colours, counts = np.unique((pixels * 255).round().astype(np.uint8).reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) > 50 and counts.max() < 0.9 * counts.sum()  # drawn, not a blank page
    # The header bar (#24292f) and the figures' first run colour (#0072B2) are on screen.
    present = {tuple(c) for c in colours}
    assert (0x24, 0x29, 0x2F) in present and (0x00, 0x72, 0xB2) in present


def test_a_hub_checkpoints_published_score_stands_beside_ours_marked_as_theirs(synthetic, tmp_path):
    published = {
        "name": "arcprize/arc-agi-1",
        "address": "hf://arcprize/x/arc_v1_public",
        "commit": None,
        "sha256": "0" * 64,
        "scores": [{"score": 40.0, "metric": "pass@2", "set": "ARC-AGI-1 semi-private", "source": "ARC Prize"}],
    }
    run = make_run(tmp_path / "r", synthetic, range(3), meta={"published": published})
    board = build_report([run], published=False).board.set_index("run")
    row = board.loc["arcprize/arc-agi-1, pass@2 as published"]
    assert row["pass2"] == pytest.approx(0.40) and row["source"].startswith("quoted, not measured by us: ARC Prize")
    assert board.loc["r", "source"] == "measured"
