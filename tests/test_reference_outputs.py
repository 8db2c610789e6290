"""Predictions saved by the reference code's evaluation loop -> our JSON Lines -> vote."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from augment import format_name, random_transform
from harness.cli.main import cli
from harness.core.errors import DataError
from harness.core.sources import load_tasks
from harness.data.encoding import encode_grid
from harness.predictions.reference import read_reference_outputs
from voting import vote


def reference_outputs(tasks, rng, wrong_for=()):
    """What the reference saves: token tensors, padded with blank rows, names in identifiers.json."""
    identifiers, rows = ["<blank>"], []
    for task in tasks:
        for _ in range(3):
            t = random_transform(rng)
            identifiers.append(format_name(task.id, t))
            for inp, out in zip(task.test_inputs, task.test_outputs):
                guess = np.zeros((1, 1), np.uint8) if task.id in wrong_for else out
                rows.append((len(identifiers) - 1, encode_grid(t.apply(inp)), encode_grid(t.apply(guess))))
    rows.append((0, np.zeros(900, np.uint8), np.zeros(900, np.uint8)))  # padding
    ids, inputs, preds = zip(*rows)
    data = {
        "puzzle_identifiers": torch.tensor(ids, dtype=torch.int32),
        "inputs": torch.from_numpy(np.stack(inputs)),
        "preds": torch.from_numpy(np.stack(preds)).long(),
        "q_halt_logits": torch.randn(len(rows)),
    }
    return identifiers, data


@pytest.mark.e2e
def test_reference_outputs_vote_to_the_truth(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    identifiers, data = reference_outputs(tasks, np.random.default_rng(0), wrong_for={"bbbb0002"})
    torch.save(data, tmp_path / "step_10_all_preds.0")
    preds = read_reference_outputs([tmp_path / "step_10_all_preds.0"], identifiers, tasks)
    assert len(preds) == 2 * 3 * 2  # blank row dropped
    attempts = vote(preds).attempts()
    np.testing.assert_array_equal(attempts[("aaaa0001", 0)][0], tasks["aaaa0001"].test_outputs[0])
    assert attempts[("bbbb0002", 1)][0].tolist() == [[0]]

    (tmp_path / "identifiers.json").write_text(json.dumps(identifiers))
    result = CliRunner().invoke(
        cli,
        [
            "predictions",
            "import-reference",
            str(tmp_path / "step_10_all_preds.0"),
            "--identifiers",
            str(tmp_path / "identifiers.json"),
            "--tasks",
            str(kaggle_files),
            "-o",
            str(tmp_path / "p.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    voted = CliRunner().invoke(
        cli, ["vote", str(tmp_path / "p.jsonl"), "--tasks", str(kaggle_files), "-o", str(tmp_path / "s.json"), "--json"]
    )
    assert json.loads(voted.output)["score"]["score"] == pytest.approx(0.5)


def test_reference_outputs_from_another_task_set_are_refused(kaggle_files, tmp_path):
    tasks = load_tasks(kaggle_files)
    identifiers, data = reference_outputs(tasks, np.random.default_rng(1))
    identifiers[1] = format_name("cccc0003", random_transform(np.random.default_rng(2)))
    torch.save(data, tmp_path / "out")
    with pytest.raises(DataError, match="task not in"):
        read_reference_outputs([tmp_path / "out"], identifiers, tasks)
    del data["preds"]
    torch.save(data, tmp_path / "out")
    with pytest.raises(DataError, match="lacks preds"):
        read_reference_outputs([tmp_path / "out"], identifiers, tasks)


def test_empty_model_outputs_are_never_submitted(kaggle_files):
    from augment import IDENTITY
    from voting import Predictions

    preds = Predictions.from_rows(
        ["aaaa0001"] * 3, [0] * 3, [IDENTITY] * 3, [np.zeros((0, 0), np.uint8)] * 2 + [np.ones((1, 1), np.uint8)]
    )
    cands = vote(preds)
    assert cands.votes[0] == 2 and cands.shapes[0].tolist() == [0, 0]
    assert [g.tolist() for g in cands.attempts()[("aaaa0001", 0)]] == [[[1]], [[1]]]
