"""Our HRM against outputs and gradients recorded from the reference code (shared fixture).

Tolerances as for TRM (tests/test_model_parity.py): per eval step logits and q logits 1e-4
absolute with identical preds; the training-step loss 1e-6 relative and its bootstrapped
q_continue target 1e-4 absolute; each gradient 1e-4 relative to its largest entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models import FAMILIES, HRM, HRMConfig, config_from_reference
from models.reference import from_reference
from tests.helpers import REF_PREFIX, assert_eval_steps_match, assert_loss_and_gradients_match, train_step_outputs

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-hrm" / "attn-tiny"


@pytest.fixture(scope="module")
def fixture() -> dict:
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is absent")
    config = HRMConfig.from_reference(json.loads((FIXTURE / "config.json").read_text()))
    state = torch.load(FIXTURE / "state_dict.pt", map_location="cpu", weights_only=True)
    return {
        "config": config,
        "raw_state": state,
        "state": from_reference(state, config),
        "batch": torch.load(FIXTURE / "batch.pt", map_location="cpu", weights_only=True),
        "expected": torch.load(FIXTURE / "expected.pt", map_location="cpu", weights_only=True),
    }


@pytest.fixture(scope="module")
def model(fixture) -> HRM:
    return HRM.from_state_dict(fixture["config"], fixture["state"])


def test_fixture_config_is_recognised_as_hrm(fixture):
    data = json.loads((FIXTURE / "config.json").read_text())
    assert config_from_reference(data) == fixture["config"]
    assert fixture["config"].puzzle_positions == 1  # ceil(64 / 64)


def test_state_dict_keys_are_the_reference_keys(fixture):
    ours = HRM(fixture["config"]).state_dict()
    assert list(fixture["raw_state"]) == [REF_PREFIX + k for k in ours]


def test_eval_steps_match(model, fixture):
    assert_eval_steps_match(
        model, fixture["batch"], fixture["expected"]["eval_steps"], fixture["config"].halt_max_steps
    )


def test_training_step_loss_target_and_gradients_match(model, fixture):
    outputs, loss, metrics = train_step_outputs(model, fixture["batch"])
    assert "q_continue_loss" in metrics  # the reference loss head adds it whenever the target exists
    ref_target = fixture["expected"]["train_target_q_continue"]
    assert outputs["target_q_continue"].shape == ref_target.shape
    assert (outputs["target_q_continue"] - ref_target).abs().max().item() <= 1e-4
    assert_loss_and_gradients_match(model, loss, fixture["expected"])


def test_fixture_import_rejects_a_truncated_state_dict(fixture):
    state = dict(fixture["raw_state"])
    del state["_orig_mod.model.inner.H_level.layers.1.mlp.down_proj.weight"]
    with pytest.raises(ValueError, match="missing keys: _orig_mod.model.inner.H_level.layers.1.mlp.down_proj.weight"):
        from_reference(state, fixture["config"])


def test_fixture_does_not_load_as_trm(fixture):
    data = json.loads((FIXTURE / "config.json").read_text())
    trm_config = FAMILIES["trm"].config_class.from_reference({**data, "puzzle_emb_len": 0})
    with pytest.raises(ValueError, match="unexpected keys: _orig_mod.model.inner.H_level"):
        from_reference(fixture["raw_state"], trm_config)
