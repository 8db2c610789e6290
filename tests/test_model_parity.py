"""Our TRM against outputs and gradients recorded from the reference code (shared fixture).

Tolerances: per eval step logits and q logits 1e-4 absolute with identical preds; the
training-step loss 1e-6 relative; each gradient 1e-4 relative to its largest entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models import TRM, TRMConfig, act_loss
from models.reference import from_reference

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-trm" / "attn-tiny"
PUZZLE_ROWS_GRAD = "puzzle_emb.local_weights(rows in batch order)"
REF_PREFIX = "_orig_mod.model."


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """On a busy 2-core box OpenMP waits cost more than a second thread gains at this size."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def fixture() -> dict:
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is absent")
    config = TRMConfig.from_reference(json.loads((FIXTURE / "config.json").read_text()))
    state = torch.load(FIXTURE / "state_dict.pt", map_location="cpu", weights_only=True)
    return {
        "config": config,
        "state": from_reference(state, config),
        "batch": torch.load(FIXTURE / "batch.pt", map_location="cpu", weights_only=True),
        "expected": torch.load(FIXTURE / "expected.pt", map_location="cpu", weights_only=True),
    }


@pytest.fixture(scope="module")
def model(fixture) -> TRM:
    return TRM.from_state_dict(fixture["config"], fixture["state"])


def test_eval_steps_match(model, fixture):
    expected = fixture["expected"]["eval_steps"]
    steps = model.evaluate(fixture["batch"])
    assert len(steps) == len(expected) == fixture["config"].halt_max_steps
    for ours, ref in zip(steps, expected):
        for key in ("logits", "q_halt_logits", "q_continue_logits"):
            assert ours[key].shape == ref[key].shape
            assert (ours[key] - ref[key]).abs().max().item() <= 1e-4, key
        assert torch.equal(ours["preds"], ref["preds"])


def test_training_step_loss_and_gradients_match(model, fixture):
    expected = fixture["expected"]
    batch = fixture["batch"]
    model.train()
    model.zero_grad()
    try:
        carry, outputs = model(model.initial_carry(batch), batch)
        loss, _ = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps)
        loss.backward()
    finally:
        model.eval()
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
    state = torch.load(FIXTURE / "state_dict.pt", map_location="cpu", weights_only=True)
    del state["_orig_mod.model.inner.q_head.bias"]
    with pytest.raises(ValueError, match="missing keys: _orig_mod.model.inner.q_head.bias"):
        from_reference(state, fixture["config"])
