import json

import numpy as np
import pytest

from harness.core.grids import grid_to_list
from harness.core.sources import BUILTIN_SETS, load_tasks
from submissions import build_submission, read_submission, score_submission, validate_submission, write_submission


def perfect_attempts(tasks):
    return {(t.id, i): [out] for t in tasks for i, out in enumerate(t.test_outputs)}


@pytest.mark.parametrize("name", sorted(BUILTIN_SETS))
def test_submission_from_solutions_scores_100_percent(name, tmp_path):
    tasks = load_tasks(name)
    sub = build_submission(tasks, perfect_attempts(tasks))
    path = write_submission(sub, tmp_path / "submission.json")
    raw = read_submission(path)
    assert validate_submission(raw, tasks.test_counts(), tasks.name) == []
    score = score_submission(raw, tasks.solutions(), tasks.name, tasks.hash)
    assert score.score == 1.0 and score.outputs_solved == tasks.n_test_outputs
    assert score.tasks_fully_solved == len(tasks) and score.to_dict()["dataset_hash"] == tasks.hash


def test_score_is_mean_over_tasks_of_solved_fraction(kaggle_files):
    tasks = load_tasks(kaggle_files)
    attempts = perfect_attempts(tasks)
    attempts[("aaaa0001", 1)] = [np.array([[0]], np.uint8), np.array([[1]], np.uint8)]  # wrong, wrong
    attempts[("bbbb0002", 0)] = [np.array([[0]], np.uint8), tasks["bbbb0002"].test_outputs[0]]  # 2nd right
    sub = build_submission(tasks, attempts)
    score = score_submission(sub.entries, tasks.solutions())
    assert score.score == pytest.approx((0.5 + 1.0) / 2)
    assert score.outputs_solved == 3 and score.tasks_fully_solved == 1
    lo, hi = score.interval()
    assert lo <= score.score <= hi


def test_missing_task_scores_zero_and_malformed_attempt_is_wrong(kaggle_files):
    tasks = load_tasks(kaggle_files)
    raw = build_submission(tasks, perfect_attempts(tasks)).entries
    del raw["bbbb0002"]
    raw["aaaa0001"][0]["attempt_1"] = [[1, 2], [3]]
    raw["aaaa0001"][0]["attempt_2"] = "nope"
    score = score_submission(raw, tasks.solutions())
    assert score.score == pytest.approx(0.5 / 2)
    assert score.to_dict()["tasks_missing"] == 1


def test_fallback_copies_the_test_input_and_is_counted(kaggle_files):
    tasks = load_tasks(kaggle_files)
    sub = build_submission(tasks, {("aaaa0001", 0): [np.array([[4]], np.uint8)]})
    assert sub.fallbacks == [("aaaa0001", 1), ("bbbb0002", 0), ("bbbb0002", 1)]
    entry = sub.entries["bbbb0002"][0]
    assert entry["attempt_1"] == entry["attempt_2"] == grid_to_list(tasks["bbbb0002"].test_inputs[0])
    assert sub.entries["aaaa0001"][0] == {"attempt_1": [[4]], "attempt_2": [[4]]}
    assert all(type(v) is int for row in entry["attempt_1"] for v in row)


def test_validation_lists_every_problem(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    raw = build_submission(tasks, perfect_attempts(tasks)).entries
    raw["aaaa0001"] = raw["aaaa0001"][:1]
    raw["bbbb0002"][0].pop("attempt_2")
    raw["bbbb0002"][1]["attempt_1"] = [[11]]
    raw["bbbb0002"][1]["attempt_3"] = [[1]]
    raw["zzzz9999"] = []
    problems = validate_submission(raw, tasks.test_counts(), tasks.name, "sub.json")
    assert problems == [
        "sub.json: task aaaa0001: 1 entries, expected 2 (one per test input)",
        "sub.json: task bbbb0002: entry 0: attempt_2 missing",
        "sub.json: task bbbb0002: entry 1: attempt_1: cell [0][0] is 11, not an int 0..9",
        "sub.json: task bbbb0002: entry 1: unexpected key 'attempt_3'",
        f"sub.json: task zzzz9999: not in {tasks.name}",
    ]
    del raw["aaaa0001"]
    assert "sub.json: task aaaa0001: missing" in validate_submission(raw, tasks.test_counts(), tasks.name, "sub.json")


def test_write_is_atomic_and_leaves_no_temp_files(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    out = tmp_path / "out" / "submission.json"
    write_submission(build_submission(tasks, {}), out)
    assert json.loads(out.read_text())["aaaa0001"][1] == {"attempt_1": [[3]], "attempt_2": [[3]]}
    assert [p.name for p in out.parent.iterdir()] == ["submission.json"]
