"""The documented path for a published reference checkpoint, on a fixture-sized model:
reference state dict + config + the layout rebuilt by `trm-eval data build` -> import -> evaluate."""

import json

import pytest
import torch
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.sources import load_tasks
from models import TRM, TRMConfig
from models.reference import to_reference
from tests.helpers import TINY_REFERENCE_ARCH

pytestmark = pytest.mark.e2e  # every test here drives the CLI


def kaggle_subset(tasks, ids, path):
    """Write a few tasks as a Kaggle challenges + solutions pair."""
    chosen = {t: tasks[t].to_json() for t in ids}
    path.write_text(
        json.dumps(
            {k: {"train": v["train"], "test": [{"input": x["input"]} for x in v["test"]]} for k, v in chosen.items()}
        )
    )
    path.with_name(path.name.replace("challenges", "solutions")).write_text(
        json.dumps({k: [x["output"] for x in v["test"]] for k, v in chosen.items()})
    )


def test_reference_checkpoint_layout_import_evaluate(tmp_path):
    training, evaluation = load_tasks("arc-agi-1/training"), load_tasks("arc-agi-1/evaluation")
    kaggle_subset(training, list(training.tasks)[:3], tmp_path / "tr_challenges.json")
    kaggle_subset(evaluation, list(evaluation.tasks)[:2], tmp_path / "ev_challenges.json")
    runner = CliRunner()
    build = runner.invoke(
        cli,
        [
            "data",
            "build",
            "--subset",
            f"training={tmp_path / 'tr_challenges.json'}",
            "--subset",
            f"evaluation={tmp_path / 'ev_challenges.json'}",
            "--test-set",
            "evaluation",
            "--num-aug",
            "2",
            "-o",
            str(tmp_path / "layout"),
        ],
    )
    assert build.exit_code == 0, build.output
    identifiers = json.loads((tmp_path / "layout" / "identifiers.json").read_text())

    # A reference-code checkpoint: compiled-module key names, float32, random weights.
    reference_config = {
        "arch": "TinyRecursiveReasoningModel_ACTV1",
        "seq_len": 900,
        "vocab_size": 12,
        "num_puzzle_identifiers": len(identifiers),
        **TINY_REFERENCE_ARCH,
    }
    torch.manual_seed(0)
    model = TRM(TRMConfig.from_reference(reference_config))
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    torch.save(to_reference(model.state_dict()), tmp_path / "step_123")
    (tmp_path / "all_config.json").write_text(json.dumps(reference_config))

    imported = runner.invoke(
        cli,
        [
            "checkpoint",
            "import",
            str(tmp_path / "step_123"),
            "--config",
            str(tmp_path / "all_config.json"),
            "--identifiers",
            str(tmp_path / "layout" / "identifiers.json"),
            "-o",
            str(tmp_path / "ckpt"),
        ],
    )
    assert imported.exit_code == 0, imported.output
    run = tmp_path / "run"
    evaluated = runner.invoke(
        cli,
        [
            "evaluate",
            str(tmp_path / "ckpt"),
            "--tasks",
            str(tmp_path / "ev_challenges.json"),
            "--identifiers",
            str(tmp_path / "layout"),
            "-o",
            str(run),
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    meta = json.loads((run / "run.json").read_text())
    assert meta["checkpoint_step"] == 123 and meta["views"] == 3 * sum(
        len(evaluation[t].test_inputs) for t in list(evaluation.tasks)[:2]
    )
    assert json.loads((run / "score.json").read_text())["fallbacks"] == 0

    # A layout built with another seed is refused, not silently used.
    runner.invoke(
        cli,
        [
            "data",
            "build",
            "--subset",
            f"training={tmp_path / 'tr_challenges.json'}",
            "--subset",
            f"evaluation={tmp_path / 'ev_challenges.json'}",
            "--num-aug",
            "2",
            "--seed",
            "7",
            "-o",
            str(tmp_path / "other"),
        ],
    )
    refused = runner.invoke(
        cli,
        [
            "evaluate",
            str(tmp_path / "ckpt"),
            "--tasks",
            str(tmp_path / "ev_challenges.json"),
            "--identifiers",
            str(tmp_path / "other"),
            "-o",
            str(tmp_path / "run2"),
        ],
    )
    assert refused.exit_code == 1 and "not the layout of this checkpoint" in refused.output
