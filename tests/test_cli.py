import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from augment import random_transform
from harness.cli.main import cli
from harness.core.grids import grid_to_list
from harness.core.sources import load_tasks
from submissions import build_submission, write_submission

pytestmark = pytest.mark.e2e  # every test here drives the CLI


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, code):
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines and "Traceback" not in result.output
    return lines[-1]


def test_datasets_json():
    result = run("datasets", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["arc-agi-2/evaluation"]["test_outputs"] == 167
    assert rows["arc-agi-2-kaggle/evaluation"]["test_outputs"] == 172
    assert len(rows["arc-agi-1/evaluation"]["hash"]) == 64


def test_score_perfect_submission_on_builtin_set(tmp_path):
    tasks = load_tasks("arc-agi-2/evaluation")
    sub = tmp_path / "submission.json"
    write_submission(
        build_submission(tasks, {(t.id, i): [o] for t in tasks for i, o in enumerate(t.test_outputs)}), sub
    )
    result = run("score", sub, "--against", "arc-agi-2/evaluation", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["score"] == 1.0 and summary["outputs"] == 167 and summary["dataset_hash"] == tasks.hash
    csv = (tmp_path / "submission.scores.csv").read_text().splitlines()
    assert csv[0] == "task_id,outputs,solved,score,missing" and len(csv) == 121
    assert "valid for" in run("validate", sub, "--against", "arc-agi-2/evaluation").output
    # The other ARC-AGI-2 version has other truth: scoring against it is not silently "100%".
    other = run("score", sub, "--against", "arc-agi-2-kaggle/evaluation", "--allow-invalid", "--json")
    assert json.loads(other.output)["score"] < 1.0


def test_score_with_solutions_file(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    sub = tmp_path / "s.json"
    write_submission(build_submission(tasks, {}), sub)  # fallbacks: copies of the inputs
    result = run("score", sub, "--solutions", kaggle_files.parent / "arc-agi_mini_solutions.json", "--json")
    summary = json.loads(result.output)
    assert result.exit_code == 0 and summary["outputs_solved"] == 2  # the [[3]] -> [[3]] outputs
    assert summary["score"] == pytest.approx(0.5)


def test_vote_end_to_end_from_jsonl(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    rng = np.random.default_rng(0)
    lines = []
    for task in tasks:
        for i, out in enumerate(task.test_outputs):
            for _ in range(3):
                t = random_transform(rng)
                lines.append(
                    {
                        "task_id": task.id,
                        "test_index": i,
                        "aug": t.suffix,
                        "grid": grid_to_list(t.apply(out)),
                        "q_halt_logit": 0.3,
                    }
                )
            lines.append({"task_id": task.id, "test_index": i, "aug": None, "grid": [[0]]})
    preds = tmp_path / "preds.jsonl"
    preds.write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "submission.json"
    result = run("vote", preds, "--tasks", kaggle_files, "-o", out, "--candidates", tmp_path / "c.jsonl", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["pass_at_k"]["1"] == 1.0 and summary["fallbacks"] == 0 and summary["score"]["score"] == 1.0
    cands = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert [c["votes"] for c in cands[:2]] == [3, 1] and cands[1]["grid"] == [[0]]
    submission = json.loads(out.read_text())
    assert submission["aaaa0001"][0]["attempt_2"] == [[0]]


def test_empty_model_outputs_round_trip_through_jsonl_and_are_never_submitted(kaggle_files, tmp_path):
    from augment import IDENTITY as identity
    from harness.predictions.jsonl import read_jsonl, write_jsonl
    from voting import Predictions

    tasks = load_tasks(kaggle_files)
    task = tasks[sorted(tasks.tasks)[0]]
    empty, answer = np.zeros((0, 0), np.uint8), task.test_outputs[0]
    preds = Predictions.from_rows([task.id] * 3, [0] * 3, [identity] * 3, [empty, empty, answer])
    back = read_jsonl(write_jsonl(preds, tmp_path / "p.jsonl"), tasks)
    assert back.shapes.tolist() == preds.shapes.tolist()
    result = run("vote", tmp_path / "p.jsonl", "--tasks", kaggle_files, "-o", tmp_path / "s.json", "--json")
    assert result.exit_code == 0, result.output
    submitted = json.loads((tmp_path / "s.json").read_text())[task.id][0]
    assert submitted["attempt_1"] == grid_to_list(answer)  # the empty grid won the vote but is skipped


def test_baselines_run_through_the_whole_path(kaggle_files, tmp_path):
    result = run("baselines", "--tasks", kaggle_files, "--views", 4, "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    assert "symmetry" in result.output
    score = json.loads((tmp_path / "demo" / "symmetry" / "score.json").read_text())
    assert score["score"]["score"] == 1.0  # a horizontal flip: the symmetry baseline solves it
    copy = json.loads((tmp_path / "demo" / "copy-input" / "score.json").read_text())
    assert copy["score"]["outputs_solved"] == 2  # only the 1x1 [[3]] outputs


BAD_PREDICTIONS = {
    "not json": ("{oops", "preds.jsonl:1: malformed JSON"),
    "unknown task": ('{"task_id": "nope", "test_index": 0, "grid": [[1]]}', "task nope: not in"),
    "index": ('{"task_id": "aaaa0001", "test_index": 5, "grid": [[1]]}', "test_index 5 out of range"),
    "aug": ('{"task_id": "aaaa0001", "test_index": 0, "aug": "t9|||0123456789", "grid": [[1]]}', "aug:"),
    "grid": ('{"task_id": "aaaa0001", "test_index": 0, "grid": [[1, 2], [3]]}', "grid: ragged grid"),
    "no grid": ('{"task_id": "aaaa0001", "test_index": 0}', "grid missing"),
    "q": ('{"task_id": "aaaa0001", "test_index": 0, "grid": [[1]], "q_halt_logit": "high"}', "q_halt_logit"),
    "list": ("[1, 2]", "expected a JSON object"),
}


@pytest.mark.parametrize("case", sorted(BAD_PREDICTIONS))
def test_bad_predictions_give_one_line_errors(kaggle_files, tmp_path, case):
    line, message = BAD_PREDICTIONS[case]
    preds = tmp_path / "preds.jsonl"
    preds.write_text(line + "\n")
    last = one_line_error(run("vote", preds, "--tasks", kaggle_files, "-o", tmp_path / "s.json"), 1)
    assert message in last and "preds.jsonl" in last


def test_bad_submissions_and_sets(kaggle_files, tmp_path):
    sub = tmp_path / "sub.json"
    sub.write_text('{"aaaa0001": [{"attempt_1": [[1]]}]}')
    result = run("validate", sub, "--against", kaggle_files)
    assert result.exit_code == 1
    assert "task aaaa0001: 1 entries, expected 2" in result.output
    assert "task aaaa0001: entry 0: attempt_2 missing" in result.output
    assert "task bbbb0002: missing" in result.output
    last = one_line_error(run("score", sub, "--against", kaggle_files), 1)
    assert "--allow-invalid" in last
    assert (
        json.loads(run("score", sub, "--against", kaggle_files, "--allow-invalid", "--json").output)["tasks_missing"]
        == 1
    )
    sub.write_text("[1, 2")
    assert "malformed JSON" in one_line_error(run("score", sub, "--against", kaggle_files), 1)
    sub.write_text("[]")
    assert "must be a JSON object" in one_line_error(run("validate", sub, "--against", kaggle_files), 1)
    assert "not a built-in set" in one_line_error(run("validate", sub, "--against", "arc-agi-9/eval"), 1)
    assert "cannot read" in one_line_error(run("score", tmp_path / "missing.json", "--against", kaggle_files), 1)
    one_line_error(run("score", sub), 2)  # usage: no truth given
    one_line_error(run("vote", sub), 2)  # usage: --tasks missing


def test_challenges_without_solutions_cannot_be_scored(kaggle_files, tmp_path):
    (kaggle_files.parent / "arc-agi_mini_solutions.json").unlink()
    sub = tmp_path / "s.json"
    write_submission(build_submission(load_tasks(kaggle_files), {}), sub)
    assert "no test outputs" in one_line_error(run("score", sub, "--against", kaggle_files), 1)


def test_real_binary_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "score", tmp_path / "x.json", "--against", "arc-agi-1/evaluation"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("Error:") and len(proc.stderr.strip().splitlines()) == 1
