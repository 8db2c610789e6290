"""Inference-time compute: the recording format, halting rules, selectors, restarts, NFE, and
`trm-eval sweep` end to end on a tiny random-weight checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from augment import Transform, format_name, random_transform
from harness.cli.main import cli
from harness.config import EngineConfig
from harness.core.sources import load_tasks
from harness.data.views import build_views, encode_views
from harness.infer.cells import pareto_front, powers_up_to
from harness.infer.checkpoints import save_checkpoint
from harness.infer.engine import run_chunk
from harness.infer.record import record_chunk
from harness.predictions.recording import Recording, load_recording, save_recording, stored_bytes
from models import TRM, TRMConfig
from models.families import family_of
from tests.helpers import random_trm, tiny_trm_config
from voting import Predictions, vote
from voting.halting import HaltRule, StepSignals, exit_steps
from voting.selectors import answer_ids, arc_candidates, oracle_single, select_single, top_answers

CANVAS = 4


def tiny_model(n_ids: int) -> TRM:
    return random_trm(tiny_trm_config(n_ids, CANVAS * CANVAS, halt_max_steps=3))


@pytest.fixture
def setup(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    rng = np.random.default_rng(0)
    identifiers = ["<blank>"]
    for task in tasks:
        identifiers += [task.id] + [format_name(task.id, random_transform(rng)) for _ in range(3)]
    model = tiny_model(len(identifiers))
    ckpt = save_checkpoint(tmp_path / "ckpt", model, step=1, identifiers=identifiers)
    (ckpt / "identifiers.json").write_text(json.dumps(identifiers))
    return tasks, identifiers, model, ckpt


def _synthetic(depth: int = 5, n: int = 4, seq: int = 6, seed: int = 0) -> tuple[Recording, np.ndarray]:
    rng = np.random.default_rng(seed)
    preds = np.repeat(rng.integers(0, 12, (1, n, seq), dtype=np.uint8), depth, axis=0)
    preds[2, 1, 0] ^= 1  # row 1 changes at step 3, and back at step 4
    preds[3:, 2] = 7  # row 2 changes at step 4
    rows = {
        "view": np.arange(n),
        "restart": np.zeros(n, np.int16),
        "identifier": np.arange(n),
        "task_ids": np.array(["t"] * n),
        "test_index": np.zeros(n, np.int64),
        "tids": np.zeros(n, np.int8),
        "colors": np.tile(np.arange(10, dtype=np.uint8), (n, 1)),
    }
    signals = {k: rng.normal(size=(depth, n)) for k in ("q_halt", "q_continue", "dz", "entropy")}
    return Recording.from_dense(rows, preds, signals), preds


def test_recording_round_trip_is_sparse_and_exact(tmp_path):
    rec, preds = _synthetic()
    assert len(rec.change_row) == 4 + 2 + 1  # every row's step 1, row 1 twice, row 2 once
    assert stored_bytes(rec)["sparse"] < stored_bytes(rec)["dense"] * 2
    save_recording(tmp_path / "r.npz", rec)
    back = load_recording(tmp_path / "r.npz")
    for step in range(1, 6):
        np.testing.assert_array_equal(back.tokens_at(np.full(4, step)), preds[step - 1])
    np.testing.assert_array_equal(back.changed()[:, 1], [True, False, True, True, False])
    both = Recording.concat([back, back])
    np.testing.assert_array_equal(both.tokens_at(np.arange(8) % 5 + 1)[5], preds[1, 1])


def test_damaged_recording_is_a_data_error(tmp_path):
    from harness.core.errors import DataError

    (tmp_path / "r.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="damaged recording"):
        load_recording(tmp_path / "r.npz")


def test_halting_rules_pick_the_first_step_they_fire():
    d, n = 6, 3
    changed = np.zeros((d, n), bool)
    changed[0] = True
    changed[1:3, 0] = True  # row 0: changes at steps 2, 3, then stable
    changed[1:, 1] = True  # row 1: never stable
    q = np.full((d, n), -1.0)
    q[3, 0] = 2.0
    dz = np.tile(np.array([1.0, 0.5, 0.1, 0.005, 0.001, 0.0])[:, None], (1, n))
    ent = np.array([[1.0, 0.5, 0.50, 0.5, 0.5, 0.5]] * n).T
    ent[:, 2] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    s = StepSignals(q, changed, dz, ent)
    assert exit_steps(HaltRule.parse("fixed"), s, 4).tolist() == [4, 4, 4]
    assert exit_steps(HaltRule.parse("q"), s, 6).tolist() == [4, 6, 6]
    assert exit_steps(HaltRule.parse("q"), s, 3).tolist() == [3, 3, 3]  # capped at the depth
    assert exit_steps(HaltRule.parse("stable:1"), s, 6).tolist() == [4, 6, 2]
    assert exit_steps(HaltRule.parse("stable:2"), s, 6).tolist() == [5, 6, 3]
    assert exit_steps(HaltRule.parse("converged:0.01"), s, 6).tolist() == [4, 4, 4]
    assert exit_steps(HaltRule.parse("entropy:2:0.01"), s, 6).tolist() == [4, 4, 6]
    with pytest.raises(ValueError, match="unknown halting rule"):
        HaltRule.parse("sometimes")
    with pytest.raises(ValueError, match="whole number"):
        HaltRule.parse("stable:0.5")


def _random_predictions(n: int, seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    grids = [rng.integers(0, 2, (2, 2), dtype=np.uint8) if i % 7 else np.zeros((0, 0), np.uint8) for i in range(n)]
    transforms = [Transform(int(rng.integers(8)), (0, *(1 + rng.permutation(9)).tolist())) for _ in range(n)]
    return Predictions.from_rows(
        [f"t{i % 3}" for i in range(n)], [i % 2 for i in range(n)], transforms, grids, np.round(rng.normal(size=n), 1)
    )


@pytest.mark.parametrize("selector", ["votes-q", "votes", "q", "entropy"])
def test_fast_ranking_equals_voting(selector):
    preds = _random_predictions(200, seed=1)
    dz, ent = np.random.default_rng(2).random((2, 200))
    pair, answer, grids = answer_ids(preds)
    empty = np.array([g.size == 0 for g in grids])
    weights = np.exp(-ent) if selector == "entropy" else None
    top = top_answers(pair, answer, int(pair.max()) + 1, len(grids), selector, preds.q_halt, weights, empty)
    attempts = arc_candidates(preds, selector, dz, ent).attempts()
    first_row = np.unique(pair, return_index=True)[1]
    for p, row in enumerate(first_row):
        got = [grids[a] for a in top[p] if a >= 0]
        want = attempts[(str(preds.task_ids[row]), int(preds.test_index[row]))]
        assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_weighted_ranker_needs_weights():
    preds = _random_predictions(10, seed=0)
    with pytest.raises(ValueError, match="weights"):
        vote(preds, "weighted")


def test_single_answer_selectors_and_oracle():
    cells = np.array([[1, 2], [1, 2], [3, 4], [5, 6], [7, 8], [5, 6]], np.uint8)
    groups = np.array([0, 0, 0, 1, 1, 1])
    q = np.array([0.1, 0.2, 0.9, 0.5, 0.7, 0.1])
    dz = np.array([0.3, 0.2, 0.1, 0.01, 0.5, 0.02])
    ent = np.array([1.0, 0.1, 0.5, 0.3, 0.2, 0.9])
    assert select_single(cells, groups, "majority").tolist() == [0, 3]
    assert select_single(cells, groups, "q-max", q_halt=q).tolist() == [2, 4]
    assert select_single(cells, groups, "convergence", dz=dz).tolist() == [2, 3]
    assert select_single(cells, groups, "entropy", entropy=ent).tolist() == [1, 4]
    correct = np.array([False, False, True, False, False, False])
    assert oracle_single(correct, groups, 2).tolist() == [True, False]
    with pytest.raises(ValueError, match="needs"):
        select_single(cells, groups, "q-max")


def test_breadth_one_restart_zero_reproduces_the_fixed_engine(setup):
    tasks, identifiers, model, _ = setup
    views = build_views(identifiers, tasks)
    tokens = encode_views(views, tasks, CANVAS)
    fixed = run_chunk(model, tokens, views.identifier, EngineConfig(batch_size=5), torch.device("cpu"))
    rec = record_chunk(model, views, 0, tokens, 3, 1, 0.5, 0, 5, torch.device("cpu"))
    np.testing.assert_array_equal(rec.tokens_at(np.full(len(rec), 3)), fixed.preds)
    np.testing.assert_allclose(rec.q_halt[-1], fixed.q_halt, atol=1e-6)
    # Past halt_max_steps, with restarts: restart 0 rows keep the reference start, the others move.
    wide = record_chunk(model, views, 0, tokens, 5, 3, 0.5, 0, 7, torch.device("cpu"))
    zero = wide.restart == 0
    np.testing.assert_array_equal(wide.tokens_at(np.full(len(wide), 3))[zero], fixed.preds)
    assert wide.depth == 5 and not np.allclose(wide.q_halt[:, ~zero], np.repeat(wide.q_halt[:, zero], 2, axis=1))


def test_nfe_per_step_and_helpers():
    config = TRMConfig(num_puzzle_identifiers=1, seq_len=4, H_cycles=3, L_cycles=6, L_layers=2)
    assert family_of(config).nfe_per_step(config) == 3 * 7 * 2
    from harness.infer.nfe import nfe_record

    manifest = {"family": "trm", "config": config.to_dict()}
    record = nfe_record(manifest, np.array([2, 4, 16, 16]), n_tasks=2)
    assert record == {"nfe_per_step": 42, "nfe_per_task": 38 * 42 / 2, "nfe_reference_per_task": 4 * 16 * 42 / 2}
    assert powers_up_to(8) == (1, 2, 4, 8) and powers_up_to(6) == (1, 2, 4, 6) and powers_up_to(1) == (1,)
    assert pareto_front(np.array([1.0, 2, 3, 3]), np.array([0.1, 0.1, 0.3, 0.2])).tolist() == [True, False, True, False]


@pytest.mark.e2e
def test_sweep_command_end_to_end(setup, kaggle_files, tmp_path):
    _, _, model, ckpt = setup
    out = tmp_path / "sweep"
    args = [
        "sweep",
        str(ckpt),
        "--tasks",
        str(kaggle_files),
        "--depth",
        "4",
        "--breadth",
        "2",
        "--batch-size",
        "6",
        "--chunk-size",
        "5",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "oracle" in result.output and "reference protocol" in result.output
    summary = json.loads((out / "sweep.json").read_text())
    nfe = family_of(model.config).nfe_per_step(model.config)
    views = 2 * 4 * 2  # tasks x views x test inputs
    assert summary["nfe_reference_per_task"] == 3 * views * nfe / 2
    assert summary["nfe_recorded_per_task"] == 4 * 2 * views * nfe / 2
    ref = summary["headline"]["reference"]
    assert (ref["rule"], ref["depth"], ref["breadth"], ref["views"]) == ("fixed", 3, 1, 4)
    assert ref["nfe_per_task"] == summary["nfe_reference_per_task"]
    import pandas as pd

    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) == summary["cells"] == 4 * 2 * 3 * 7 * 5  # depths x breadths x views x rules x selectors
    assert (cells["oracle"] >= cells["pass2"]).all()
    assert (out / "report" / "plots" / "accuracy_vs_nfe.svg").read_text().startswith("<?xml")
    assert "not a score" in (out / "report" / "report.md").read_text()
    assert "<svg" in (out / "report" / "report.html").read_text()
    again = CliRunner().invoke(cli, args)  # resumes from the chunks on disk
    assert again.exit_code == 0 and json.loads((out / "sweep.json").read_text())["views_computed"] == 0
    other = CliRunner().invoke(cli, args[:-2] + ["--noise", "0.3", "-o", str(out)])
    assert other.exit_code == 1 and "other options" in other.output
    seeded = CliRunner().invoke(cli, args[:-2] + ["--seeds", "2", "-o", str(tmp_path / "seeded")])
    assert seeded.exit_code == 0 and "over 2 seeds: reference" in seeded.output, seeded.output
    page = (tmp_path / "seeded" / "report" / "report.md").read_text()
    assert "Over 2 seeds" in page and "| reference |" in page


def test_t_interval_and_aggregate_over_seeds():
    from harness.core.errors import DataError
    from harness.core.stats import t_interval
    from harness.infer.repeats import aggregate_seeds

    mean, sd, low, high = t_interval(np.array([[0.1, 0.5], [0.2, 0.5], [0.3, 0.5]]))
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t(0.975, 2 df) x sd / sqrt(n)
    assert np.allclose(mean, [0.2, 0.5]) and np.allclose(sd, [0.1, 0.0])
    assert np.allclose(low, [0.2 - half, 0.5]) and np.allclose(high, [0.2 + half, 0.5])
    assert np.isnan(t_interval(np.array([[0.3]]))[2]).all()  # one seed: no spread to estimate
    import pandas as pd

    a = pd.DataFrame({"depth": [1, 2], "rule": ["fixed", "fixed"], "pass2": [0.1, 0.3], "nfe_per_task": [5.0, 9]})
    table = aggregate_seeds([a, a.assign(pass2=[0.3, 0.3])], [0, 1])
    assert table["pass2_mean"].tolist() == pytest.approx([0.2, 0.3]) and table["seeds"].tolist() == [2, 2]
    with pytest.raises(DataError, match="seed 1 has other cells"):
        aggregate_seeds([a, a.assign(depth=[1, 3])], [0, 1])


@pytest.mark.e2e
def test_sweep_over_seeds_writes_means_and_reuses_a_seed_free_recording(setup, kaggle_files, tmp_path):
    import pandas as pd

    from harness.infer.sweep import run_sweep_seeds
    from harness.infer.sweep_common import SweepOptions
    from harness.predictions.cell_scores import load_cell_scores

    tasks, _, _, ckpt = setup
    opts = SweepOptions(depth=3, breadth=2, noise=0.5, rules=("fixed", "q:0"), batch_size=8)
    out = tmp_path / "seeds"
    cells, summary = run_sweep_seeds(ckpt, tasks, out, opts, seeds=3)
    folders = [out, out / "seeds" / "seed-1", out / "seeds" / "seed-2"]
    per_seed = [pd.read_csv(f / "cells.csv") for f in folders]
    table = pd.read_csv(out / "cells_seeds.csv")
    assert len(table) == len(cells) and (table["seeds"] == 3).all()
    assert np.allclose(table["pass2_mean"], np.mean([c["pass2"] for c in per_seed], axis=0))
    assert (table["pass2_low"] <= table["pass2_mean"]).all() and (table["pass2_mean"] <= table["pass2_high"]).all()
    # Restart noise moves breadth-2 cells between seeds; every seed has the same unperturbed restart 0,
    # so cells of breadth 1 over every view do not move.
    full = (table["breadth"] == 1) & (table["views"] == table["views"].max())
    assert (table.loc[full, "pass2_sd"] == 0).all()
    assert json.loads((out / "seeds" / "seed-2" / "options.json").read_text())["seed"] == 2
    assert summary["repeats"]["seeds"] == [0, 1, 2] and summary["repeats"]["headline"]["reference"]["seeds"] == 3
    scores = load_cell_scores(out / "cell_scores.npz", len(cells))
    assert np.allclose(scores.scores.mean(axis=1), cells["pass2"]) and scores.metric == "pass2"
    assert sorted(scores.tasks) == sorted(t.id for t in tasks)

    free = tmp_path / "seed-free"  # breadth 1: the seed cannot change the recording, so it is recorded once
    run_sweep_seeds(ckpt, tasks, free, SweepOptions(depth=3, rules=("fixed",), batch_size=8), seeds=2)
    again = json.loads((free / "seeds" / "seed-1" / "sweep.json").read_text())
    assert again["views_computed"] == 0 and not (free / "seeds" / "seed-1" / "recording").exists()


@pytest.mark.e2e
def test_compare_sweep_cells_runs_and_repeats(setup, kaggle_files, tmp_path):
    import pandas as pd

    from harness.infer.sweep import run_sweep_seeds
    from harness.infer.sweep_common import SweepOptions

    tasks, _, _, ckpt = setup
    out = tmp_path / "sweep"
    opts = SweepOptions(depth=4, breadth=2, noise=0.5, rules=("fixed", "q:0"), batch_size=8)
    _, summary = run_sweep_seeds(ckpt, tasks, out, opts, seeds=2)
    cells = pd.read_csv(out / "cells.csv")
    means = pd.read_csv(out / "cells_seeds.csv")
    ref = summary["headline"]["reference"]

    def compare(*args: str) -> dict:
        result = CliRunner().invoke(cli, ["compare", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    # A cell against the reference cell, both over the two seeds: the scores are the seed means.
    cell = (means["rule"] == "q:0") & (means["depth"] == 2) & (means["breadth"] == 1) & (means["views"] == 4)
    cell &= means["selector"] == "votes-q"
    got = compare(str(out), f"{out}@rule=q,depth=2")
    assert got["repeats_a"] == got["repeats_b"] == 2 and got["ci95_repeats"] is not None
    assert got["score_b"] == pytest.approx(float(means.loc[cell, "pass2_mean"].iloc[0]))
    assert got["nfe_b"] == pytest.approx(float(means.loc[cell, "nfe_per_task_mean"].iloc[0]))
    assert got["score_a"] == pytest.approx(summary["repeats"]["headline"]["reference"]["pass2_mean"])
    assert not got["chosen"]
    # Matched compute: the best cell within the reference's NFE scores at least the reference.
    matched = compare(str(out), str(out), "--nfe", str(ref["nfe_per_task"]))
    assert matched["score_b"] >= matched["score_a"] and matched["chosen"] and "optimistic" in matched["verdict"]
    assert matched["nfe_b"] <= ref["nfe_per_task"] * 1.000001

    # The evaluation run of the reference protocol is the reference cell of seed 0: no difference at all.
    run = tmp_path / "eval"
    evaluated = CliRunner().invoke(cli, ["evaluate", str(ckpt), "--tasks", str(kaggle_files), "-o", str(run)])
    assert evaluated.exit_code == 0, evaluated.output
    single = tmp_path / "single"
    run_sweep_seeds(ckpt, tasks, single, replace_opts(opts, breadth=1), seeds=1)
    same = compare(str(run), str(single))
    assert same["difference"] == 0 and same["better_a"] == same["better_b"] == 0
    assert same["score_a"] == pytest.approx(ref["pass2"]) and same["nfe_a"] == pytest.approx(same["nfe_b"])
    assert cells["pass2"].iloc[0] >= 0  # the file is read, not just the summary
    import shutil

    shutil.copytree(run, tmp_path / "eval-again")
    repeated = compare(str(run), str(tmp_path / "eval-again"), "--vs", str(single))
    assert repeated["repeats_a"] == 2 and repeated["repeats_b"] == 1 and repeated["difference"] == 0

    for args, message in (
        ([f"{out}@colour=3", str(out)], "expected key=value"),
        ([f"{out}@depth=99", str(out)], "no cell with"),
        ([f"{out}@rule=often", str(out)], "unknown halting rule"),
    ):
        bad = CliRunner().invoke(cli, ["compare", *args])
        assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output
    usage = CliRunner().invoke(cli, ["compare", str(out), str(run), "--vs", str(run)])
    assert usage.exit_code == 2 and "a sweep is one side" in usage.output
    (single / "cell_scores.npz").write_bytes(b"PK\x03\x04 torn")
    torn = CliRunner().invoke(cli, ["compare", str(run), str(single)])
    assert torn.exit_code == 1 and "cell_scores.npz: damaged cell scores" in torn.output


def replace_opts(opts, **changes):
    from dataclasses import replace

    return replace(opts, **changes)


def test_a_verdict_follows_its_test_and_says_when_the_mean_disagrees():
    from submissions.report.compare import compare_sides
    from submissions.report.sides import Side

    tasks = [f"t{i:02d}" for i in range(11)]
    a = np.array([[0.0] * 10 + [1.0]])
    b = np.array([[0.05] * 10 + [0.0]])  # B higher on 10 tasks by a little, A on 1 by a lot
    side = lambda name, s: Side(name, "set", "h" * 64, tasks, s, "pass2", 100.0)  # noqa: E731
    result = compare_sides(side("A", a), side("B", b))
    assert result.better_b == 10 and result.better_a == 1 and result.significant and result.difference < 0
    assert result.verdict.startswith("Inconclusive: more tasks favour B")
    clear = compare_sides(side("A", a), side("B", b + np.array([[0] * 10 + [1.0]])))
    assert clear.verdict.startswith("B is better than A") and clear.nfe_ratio == 1.0


def test_nan_and_negative_tolerances_are_refused(tmp_path):
    for spec, message in (("q:nan", "finite"), ("converged:-1", "tolerance"), ("entropy:2:-0.5", "tolerance")):
        with pytest.raises(ValueError, match=message):
            HaltRule.parse(spec)
    args = ["sweep", str(tmp_path), "--tasks", "nowhere", "--rule", "q:nan", "-o", str(tmp_path / "o")]
    bad = CliRunner().invoke(cli, args)  # refused before the tasks or the checkpoint are read
    assert bad.exit_code == 2 and "must be finite" in bad.output and not (tmp_path / "o").exists()


@pytest.mark.e2e
def test_sweep_resumes_across_batch_sizes_and_rules_and_compare_refuses_what_it_cannot_read(
    setup, kaggle_files, tmp_path
):
    import pandas as pd

    from harness.core.errors import DataError
    from harness.infer.sweep import run_sweep
    from harness.infer.sweep_common import SweepOptions

    tasks, _, _, ckpt = setup
    out = tmp_path / "sweep"
    run_sweep(ckpt, tasks, out, SweepOptions(depth=2, rules=("fixed", "q:0"), batch_size=8))
    _, summary = run_sweep(ckpt, tasks, out, SweepOptions(depth=2, rules=("stable:1",), batch_size=3))
    assert summary["views_computed"] == 0 and set(pd.read_csv(out / "cells.csv")["rule"]) == {"stable:1"}
    with pytest.raises(DataError, match="given twice"):
        run_sweep(ckpt, tasks, out, SweepOptions(depth=2, rules=("q", "q:0")))
    # Depth 2 is below the model's halt_max_steps 3: no reference cell, so every axis must be named.
    assert summary["headline"] == {}

    def compare(*args: str):
        return CliRunner().invoke(cli, ["compare", *args])

    missing = compare(str(out), f"{out}@rule=stable:1")
    assert missing.exit_code == 1 and "no reference protocol cell" in missing.output
    named = f"{out}@depth=2,breadth=1,views=4,rule=stable:1,selector=votes"
    assert compare(str(out) + "@nfe=1e9", named, "--json").exit_code == 0
    assert compare(str(out), str(out), "--nfe", "0").exit_code == 2  # --nfe must be > 0
    run = tmp_path / "eval"
    assert CliRunner().invoke(cli, ["evaluate", str(ckpt), "--tasks", str(kaggle_files), "-o", str(run)]).exit_code == 0
    nothing = compare(str(run), str(run), "--nfe", "100")
    assert nothing.exit_code == 2 and "neither side is a sweep" in nothing.output
    (out / "cells.csv").unlink()
    torn = compare(named, str(run))
    assert torn.exit_code == 1 and "cells.csv: cannot read it" in torn.output and "Traceback" not in torn.output
    # Plain shards are not reused for --record-steps: they kept no per-step predictions.
    steps = CliRunner().invoke(
        cli, ["evaluate", str(ckpt), "--tasks", str(kaggle_files), "--record-steps", "-o", str(run)]
    )
    assert steps.exit_code == 0 and "kept no per-step predictions" in steps.output
