"""Our TRM against outputs and gradients recorded from the reference code (shared fixture).

Tolerances: per eval step logits and q logits 1e-4 absolute with identical preds; the
training-step loss 1e-6 relative; each gradient 1e-4 relative to its largest entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models import TRM, TRMConfig
from models.reference import from_reference
from tests.helpers import assert_eval_steps_match, assert_loss_and_gradients_match, train_step_outputs

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-trm" / "attn-tiny"


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
    assert_eval_steps_match(
        model, fixture["batch"], fixture["expected"]["eval_steps"], fixture["config"].halt_max_steps
    )


def test_training_step_loss_and_gradients_match(model, fixture):
    _, loss, _ = train_step_outputs(model, fixture["batch"])
    assert_loss_and_gradients_match(model, loss, fixture["expected"])


def test_fixture_import_rejects_a_truncated_state_dict(fixture):
    state = torch.load(FIXTURE / "state_dict.pt", map_location="cpu", weights_only=True)
    del state["_orig_mod.model.inner.q_head.bias"]
    with pytest.raises(ValueError, match="missing keys: _orig_mod.model.inner.q_head.bias"):
        from_reference(state, fixture["config"])
