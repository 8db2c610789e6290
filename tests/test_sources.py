import json
from pathlib import Path

import numpy as np
import pytest

from harness.core.errors import DataError
from harness.core.sources import BUILTIN_SETS, load_solutions, load_tasks
from tests.helpers import make_task


@pytest.mark.parametrize(
    "name, n_tasks, n_outputs",
    [
        ("arc-agi-1/training", 400, 416),
        ("arc-agi-1/evaluation", 400, 419),
        ("arc-agi-2/training", 1000, 1076),
        ("arc-agi-2/evaluation", 120, 167),
        ("arc-agi-2-kaggle/evaluation", 120, 172),
    ],
)
def test_builtin_sets(name, n_tasks, n_outputs):
    tasks = load_tasks(name)
    assert len(tasks) == n_tasks and tasks.n_test_outputs == n_outputs and tasks.has_solutions
    task = next(iter(tasks))
    assert task.test_inputs[0].dtype == np.uint8


def test_arc2_versions_differ_in_hash_and_arc1_order_is_the_reference_order():
    assert load_tasks("arc-agi-2/evaluation").hash != load_tasks("arc-agi-2-kaggle/evaluation").hash
    assert load_tasks("arc-agi-2/training").hash == load_tasks("arc-agi-2-kaggle/training").hash
    assert list(load_tasks("arc-agi-1/training").tasks)[:2] == ["007bbfb7", "00d62c1b"]


def test_kaggle_file_picks_up_solutions(kaggle_files):
    tasks = load_tasks(kaggle_files)
    assert list(tasks.tasks) == ["aaaa0001", "bbbb0002"] and tasks.has_solutions
    np.testing.assert_array_equal(tasks["aaaa0001"].test_outputs[0], [[9, 8, 7], [2, 1, 1]])
    (kaggle_files.parent / "arc-agi_mini_solutions.json").unlink()
    assert not load_tasks(kaggle_files).has_solutions


def test_folder_of_tasks(tmp_path):
    for name in ("b2", "a1"):
        (tmp_path / f"{name}.json").write_text(json.dumps(make_task()))
    tasks = load_tasks(tmp_path)
    assert list(tasks.tasks) == ["a1", "b2"] and tasks.n_test_outputs == 4


def test_hash_depends_on_content(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(make_task()))
    before = load_tasks(tmp_path).hash
    task = make_task()
    task["test"][1]["output"] = [[4]]
    (tmp_path / "a.json").write_text(json.dumps(task))
    assert load_tasks(tmp_path).hash != before


def _corrupt(mutate):
    task = make_task()
    mutate(task)
    return task


BAD_TASKS = {
    "ragged": (lambda t: t["train"][0].update(input=[[1, 2], [3]]), "train[0].input: ragged grid"),
    "empty grid": (lambda t: t["train"][1].update(output=[]), "train[1].output: empty grid"),
    "empty row": (lambda t: t["test"][0].update(input=[[]]), "test[0].input: row 0 is empty"),
    "value 10": (lambda t: t["test"][1].update(output=[[10]]), "test[1].output: cell [0][0] is 10"),
    "negative": (lambda t: t["train"][0].update(output=[[1, -1], [3, 4]]), "cell [0][1] is -1"),
    "float": (lambda t: t["train"][0].update(output=[[1, 2.5], [3, 4]]), "cell [0][1] is 2.5"),
    "bool": (lambda t: t["train"][0].update(output=[[True, 2], [3, 4]]), "cell [0][0] is True"),
    "too tall": (lambda t: t["train"][0].update(input=[[1]] * 31), "31 rows, more than 30"),
    "too wide": (lambda t: t["train"][0].update(input=[[1] * 31]), "31 columns, more than 30"),
    "not a list": (lambda t: t["train"][0].update(input="grid"), "expected a list of rows"),
    "no output": (lambda t: t["train"][0].pop("output"), "train[0]: needs 'input' and 'output'"),
    "no test": (lambda t: t.pop("test"), "'test' is missing"),
    "empty test": (lambda t: t.update(test=[]), "'test' is empty"),
    "half outputs": (lambda t: t["test"][1].pop("output"), "only 1 of 2 test entries have an 'output'"),
}


@pytest.mark.parametrize("case", sorted(BAD_TASKS))
def test_bad_tasks_name_file_task_and_field(tmp_path, case):
    mutate, message = BAD_TASKS[case]
    path = tmp_path / "deadbeef.json"
    path.write_text(json.dumps(_corrupt(mutate)))
    with pytest.raises(DataError) as exc:
        load_tasks(tmp_path)
    assert str(path) in str(exc.value) and "task deadbeef" in str(exc.value)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_malformed_json_names_line(tmp_path):
    (tmp_path / "x.json").write_text('{"train": [\n  {"input": [[1]],}\n]}')
    with pytest.raises(DataError, match=r"x\.json: malformed JSON at line 2"):
        load_tasks(tmp_path)


def test_solutions_count_mismatch(kaggle_files):
    sol = kaggle_files.parent / "arc-agi_mini_solutions.json"
    data = json.loads(sol.read_text())
    data["bbbb0002"] = data["bbbb0002"][:1]
    sol.write_text(json.dumps(data))
    with pytest.raises(DataError, match="mini_solutions.json: task bbbb0002: solutions: expected 2 output grids"):
        load_tasks(kaggle_files)


def test_unknown_set_and_unreadable_file(tmp_path):
    with pytest.raises(DataError, match="not a built-in set"):
        load_tasks("arc-agi-3/evaluation")
    binary = tmp_path / "x_challenges.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="cannot read"):
        load_tasks(binary)


def test_empty_folder_and_standalone_solutions(tmp_path):
    with pytest.raises(DataError, match="no \\*.json task files"):
        load_tasks(tmp_path)
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"t1": [[[1, 2]]], "t2": [[[3]], [[4]]]}))
    truth = load_solutions(path)
    assert [len(v) for v in truth.values()] == [1, 2]
    path.write_text(json.dumps({"t1": []}))
    with pytest.raises(DataError, match="task t1: expected a non-empty list"):
        load_solutions(path)


def test_builtin_names_are_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in BUILTIN_SETS:
        assert name in readme
