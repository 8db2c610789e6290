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

from models import FAMILIES, HRM, HRMConfig, act_loss, config_from_reference
from models.reference import from_reference

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-hrm" / "attn-tiny"
PUZZLE_ROWS_GRAD = "puzzle_emb.local_weights(rows in batch order)"
REF_PREFIX = "_orig_mod.model."


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
    expected = fixture["expected"]["eval_steps"]
    steps = model.evaluate(fixture["batch"])
    assert len(steps) == len(expected) == fixture["config"].halt_max_steps
    for ours, ref in zip(steps, expected):
        for key in ("logits", "q_halt_logits", "q_continue_logits"):
            assert ours[key].shape == ref[key].shape
            assert (ours[key] - ref[key]).abs().max().item() <= 1e-4, key
        assert torch.equal(ours["preds"], ref["preds"])


def test_training_step_loss_target_and_gradients_match(model, fixture):
    expected = fixture["expected"]
    batch = fixture["batch"]
    model.train()
    model.zero_grad()
    try:
        carry, outputs = model(model.initial_carry(batch), batch)
        loss, metrics = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps)
        loss.backward()
    finally:
        model.eval()
    assert "q_continue_loss" in metrics  # the reference loss head adds it whenever the target exists
    ref_target = expected["train_target_q_continue"]
    assert outputs["target_q_continue"].shape == ref_target.shape
    assert (outputs["target_q_continue"] - ref_target).abs().max().item() <= 1e-4
    ref_loss = expected["train_loss"].item()
    assert abs(loss.item() - ref_loss) <= 1e-6 * abs(ref_loss)

    grads = {REF_PREFIX + name: p.grad for name, p in model.named_parameters()}
    grads[PUZZLE_ROWS_GRAD] = model.inner.puzzle_emb.rows.grad
    assert grads.keys() == expected["train_grads"].keys()
    for name, ref in expected["train_grads"].items():
        ours = grads[name]
        assert ours.shape == ref.shape, name
        scale = ref.abs().max().item()
        assert scale > 0, name
        assert (ours - ref).abs().max().item() <= 1e-4 * scale, name


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
