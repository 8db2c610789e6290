"""HRM pieces that need no reference fixture: config, recursion, halting, key mapping, families."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from models import (
    FAMILIES,
    HRM,
    TRM,
    HRMConfig,
    TRMConfig,
    act_loss,
    config_from_reference,
    family_for_arch,
    family_of,
    family_of_reference,
)
from models.core import BlockStack
from models.reference import expected_tensors, from_reference, to_reference

TINY = HRMConfig(
    num_puzzle_identifiers=5,
    vocab_size=12,
    seq_len=16,
    hidden_size=32,
    num_heads=2,
    H_cycles=2,
    L_cycles=3,
    H_layers=1,
    L_layers=2,
    puzzle_emb_ndim=32,
    halt_max_steps=3,
    halt_exploration_prob=0.0,
    forward_dtype="float32",
)
REFERENCE = {
    "arch": "HierarchicalReasoningModel_ACTV1",
    "loss_type": "stablemax_cross_entropy",
    "batch_size": 3,
    "seq_len": 900,
    "num_puzzle_identifiers": 7,
    "vocab_size": 12,
    "H_cycles": 2,
    "L_cycles": 2,
    "H_layers": 4,
    "L_layers": 4,
    "hidden_size": 512,
    "expansion": 4,
    "num_heads": 8,
    "pos_encodings": "rope",
    "halt_max_steps": 16,
    "halt_exploration_prob": 0.1,
}


def tiny(**changes) -> HRMConfig:
    return dataclasses.replace(TINY, **changes)


def make_batch(config: HRMConfig, size: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(2, config.vocab_size, (size, config.seq_len), generator=g)
    labels[:, -3:] = -100
    return {
        "inputs": torch.randint(0, config.vocab_size, (size, config.seq_len), generator=g),
        "labels": labels,
        "puzzle_identifiers": torch.randint(0, config.num_puzzle_identifiers, (size,), generator=g),
    }


def build(config: HRMConfig, seed: int = 0) -> HRM:
    torch.manual_seed(seed)
    model = HRM(config)
    with torch.no_grad():  # non-zero puzzle rows and q head so their paths are exercised
        if config.puzzle_emb_ndim:
            model.inner.puzzle_emb.weights.normal_()
        model.inner.q_head.weight.normal_(std=0.1)
    return model


# --- config -----------------------------------------------------------------------------------


def test_defaults_are_the_paper_config_with_27m_weights():
    config = HRMConfig()
    assert (config.H_cycles, config.L_cycles, config.H_layers, config.L_layers) == (2, 2, 4, 4)
    assert (config.hidden_size, config.num_heads, config.forward_dtype) == (512, 8, "bfloat16")
    assert config.halt_max_steps == 16
    with torch.device("meta"):
        weights = sum(p.numel() for p in HRM(config).parameters())
    assert 27.0e6 < weights < 27.5e6


@pytest.mark.parametrize(("ndim", "hidden", "positions"), [(64, 64, 1), (100, 64, 2), (512, 512, 1), (0, 64, 0)])
def test_puzzle_positions_are_derived(ndim, hidden, positions):
    config = tiny(puzzle_emb_ndim=ndim, hidden_size=hidden)
    assert config.puzzle_positions == positions and config.total_len == config.seq_len + positions


def test_from_reference_ignores_extras_and_uses_reference_defaults():
    config = HRMConfig.from_reference(REFERENCE)
    assert (config.H_layers, config.num_puzzle_identifiers, config.expansion) == (4, 7, 4.0)
    assert config.puzzle_emb_ndim == 0 and config.forward_dtype == "bfloat16" and not config.mlp_t
    nested = {
        "arch": {
            "name": "recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1",
            **{k: v for k, v in REFERENCE.items() if k not in ("arch", "seq_len")},
        },
        "seq_len": 900,
    }
    assert HRMConfig.from_reference(nested) == config
    assert config_from_reference(nested) == config


def test_from_dict_round_trip_and_unknown_keys():
    assert HRMConfig.from_dict(TINY.to_dict()) == TINY
    assert HRMConfig.from_dict(HRMConfig().to_dict()) == HRMConfig()
    assert "puzzle_emb_len" not in TINY.to_dict() and "causal" not in TINY.to_dict()
    with pytest.raises(ValueError, match="unknown config keys: puzzle_emb_len"):
        HRMConfig.from_dict({**TINY.to_dict(), "puzzle_emb_len": 1})


def test_from_reference_names_missing_keys():
    with pytest.raises(ValueError, match="H_layers"):
        HRMConfig.from_reference({k: v for k, v in REFERENCE.items() if k != "H_layers"})


@pytest.mark.parametrize(
    "changes",
    [
        {"pos_encodings": "alibi"},
        {"forward_dtype": "float16"},
        {"num_heads": 3},
        {"H_layers": 0},
        {"L_layers": 0},
        {"H_cycles": 0},
        {"puzzle_emb_ndim": -1},
        {"seq_len": 2.5},
        {"mlp_t": 1},
        {"halt_exploration_prob": 1.5},
    ],
)
def test_invalid_configs_are_refused(changes):
    with pytest.raises(ValueError):
        HRMConfig.from_dict({**TINY.to_dict(), **changes})


def test_trm_config_fields_are_unchanged():
    assert [f.name for f in dataclasses.fields(TRMConfig)] == [
        "num_puzzle_identifiers",
        "vocab_size",
        "seq_len",
        "hidden_size",
        "num_heads",
        "expansion",
        "H_cycles",
        "L_cycles",
        "L_layers",
        "H_layers",
        "puzzle_emb_ndim",
        "puzzle_emb_len",
        "pos_encodings",
        "rope_theta",
        "rms_norm_eps",
        "halt_max_steps",
        "halt_exploration_prob",
        "forward_dtype",
        "mlp_t",
        "no_ACT_continue",
        "causal",
    ]


# --- recursion and ACT ------------------------------------------------------------------------


def _count_level_calls(model: HRM) -> dict[str, list[bool]]:
    """Per level, one entry per call: whether autograd was recording it."""
    calls: dict[str, list[bool]] = {"H_level": [], "L_level": []}
    for name in calls:
        getattr(model.inner, name).register_forward_hook(
            lambda _m, _i, _o, name=name: calls[name].append(torch.is_grad_enabled())
        )
    return calls


def test_one_step_runs_the_hierarchy_with_a_one_step_gradient():
    model = build(TINY).train()
    calls = _count_level_calls(model)
    batch = make_batch(TINY)
    carry, out = model(model.initial_carry(batch), batch)
    # The step itself, then the target pass for q_continue (all without gradient).
    step_calls = TINY.H_cycles * TINY.L_cycles, TINY.H_cycles
    assert len(calls["L_level"]) == 2 * step_calls[0] and len(calls["H_level"]) == 2 * step_calls[1]
    assert calls["L_level"][: step_calls[0]] == [False] * (step_calls[0] - 1) + [True]
    assert calls["H_level"][: step_calls[1]] == [False] * (step_calls[1] - 1) + [True]
    assert not any(calls["L_level"][step_calls[0] :] + calls["H_level"][step_calls[1] :])
    blocks = step_calls[0] * TINY.L_layers + step_calls[1] * TINY.H_layers
    assert blocks == FAMILIES["hrm"].nfe_per_step(TINY)
    assert out["target_q_continue"].shape == (3,)
    assert torch.all((out["target_q_continue"] > 0) & (out["target_q_continue"] < 1))


def test_training_halts_on_q_halt_above_q_continue_and_eval_runs_every_step():
    model = build(TINY)
    with torch.no_grad():
        model.inner.q_head.weight.zero_()
        model.inner.q_head.bias.copy_(torch.tensor([-1.0, -3.0]))  # q_halt < 0 but > q_continue
    batch = make_batch(TINY)
    model.train()
    carry, _ = model(model.initial_carry(batch), batch)
    assert carry.halted.all()
    steps = model.evaluate(batch)
    assert len(steps) == TINY.halt_max_steps and "target_q_continue" not in steps[-1]
    assert model.training  # mode restored


def test_target_q_continue_bootstraps_from_the_next_step():
    model = build(tiny(halt_max_steps=2)).train()
    batch = make_batch(TINY)
    ids = batch["puzzle_identifiers"]
    carry, out = model(model.initial_carry(batch), batch)  # not the last step: max of the next q logits
    with torch.no_grad():
        _, _, _, next_halt, next_continue = model.inner(carry.z_H, carry.z_L, batch["inputs"], ids)
    assert torch.allclose(out["target_q_continue"], torch.sigmoid(torch.maximum(next_halt, next_continue)))
    carry.halted = torch.zeros_like(carry.halted)
    carry, out = model(carry, batch)  # the last step: only the next q_halt
    with torch.no_grad():
        _, _, _, next_halt, _ = model.inner(carry.z_H, carry.z_L, batch["inputs"], ids)
    assert carry.halted.all()
    assert torch.allclose(out["target_q_continue"], torch.sigmoid(next_halt))


def test_loss_includes_the_q_continue_term():
    model = build(TINY).train()
    batch = make_batch(TINY)
    carry, out = model(model.initial_carry(batch), batch)
    loss, metrics = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
    assert torch.allclose(loss, metrics["lm_loss"] + 0.5 * (metrics["q_halt_loss"] + metrics["q_continue_loss"]))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"mlp_t": True},
        {"pos_encodings": "learned"},
        {"pos_encodings": "none", "puzzle_emb_ndim": 0},
        {"puzzle_emb_ndim": 40},
        {"forward_dtype": "bfloat16"},
        {"H_cycles": 1, "L_cycles": 1},
    ],
)
def test_variants_run_forward_and_backward(changes):
    config = tiny(**changes)
    model = build(config)
    batch = make_batch(config)
    assert model.evaluate(batch)[-1]["logits"].shape == (3, config.seq_len, config.vocab_size)
    model.train()
    carry, out = model(model.initial_carry(batch), batch)
    loss, _ = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_loss_falls_with_adamw_on_a_fixed_batch():
    model = build(TINY, seed=1).train()
    batch = make_batch(TINY, size=4)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    losses = []
    for _ in range(30):
        carry, out = model(model.initial_carry(batch), batch)
        loss, _ = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_compile_blocks_wraps_both_levels_without_renaming():
    model = build(TINY)
    keys = list(model.state_dict())
    model.compile_blocks()
    assert "forward" in vars(model.inner.H_level) and "forward" in vars(model.inner.L_level)
    assert list(model.state_dict()) == keys


# --- reference key mapping --------------------------------------------------------------------


@pytest.mark.parametrize("changes", [{}, {"mlp_t": True}, {"pos_encodings": "learned", "H_layers": 3}])
def test_reference_export_import_round_trip(changes):
    config = tiny(**changes)
    ours = build(config, seed=1)
    exported = to_reference(ours.state_dict())
    assert "_orig_mod.model.inner.H_level.layers.0.mlp.down_proj.weight" in exported
    assert f"_orig_mod.model.inner.L_level.layers.{config.L_layers - 1}.mlp.gate_up_proj.weight" in exported
    assert {
        "_orig_mod.model.inner.H_init",
        "_orig_mod.model.inner.L_init",
        "_orig_mod.model.inner.puzzle_emb.weights",
    } <= exported.keys()
    assert expected_tensors(config).keys() == ours.state_dict().keys()
    loaded = HRM.from_state_dict(config, from_reference(exported, config))
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in ours.state_dict().items())
    batch = make_batch(config)
    assert torch.equal(loaded.evaluate(batch)[-1]["logits"], ours.evaluate(batch)[-1]["logits"])


def test_reference_import_rejects_a_trm_state_dict():
    trm = TRM(
        TRMConfig(
            num_puzzle_identifiers=5,
            seq_len=16,
            hidden_size=32,
            num_heads=2,
            L_layers=2,
            puzzle_emb_ndim=32,
            puzzle_emb_len=1,
            forward_dtype="float32",
        )
    )
    with pytest.raises(ValueError, match="missing keys: _orig_mod.model.inner.H_level.layers.0"):
        from_reference(to_reference(trm.state_dict()), tiny(L_layers=2))


# --- families ---------------------------------------------------------------------------------


def test_nfe_per_step():
    assert FAMILIES["trm"].nfe_per_step(TRMConfig()) == 3 * (4 + 1) * 2
    assert FAMILIES["trm"].nfe_per_step(TRMConfig(L_cycles=6)) == 42
    assert FAMILIES["hrm"].nfe_per_step(HRMConfig()) == 2 * (2 * 4 + 4)
    assert FAMILIES["hrm"].nfe_per_step(TINY) == 2 * (3 * 2 + 1)


def test_trm_nfe_counts_its_block_applications():
    config = TRMConfig(
        num_puzzle_identifiers=2,
        seq_len=4,
        hidden_size=16,
        num_heads=1,
        H_cycles=2,
        L_cycles=3,
        L_layers=2,
        puzzle_emb_ndim=16,
        puzzle_emb_len=1,
        halt_max_steps=1,
        forward_dtype="float32",
    )
    model = TRM(config)
    calls = []
    for stack in model.modules():
        if isinstance(stack, BlockStack):
            for layer in stack.layers:
                layer.register_forward_hook(lambda *_: calls.append(1))
    zeros = torch.zeros(1, 4, dtype=torch.long)
    model.evaluate({"inputs": zeros, "puzzle_identifiers": zeros[:, 0]})
    assert len(calls) == FAMILIES["trm"].nfe_per_step(config)


def test_family_registry():
    assert set(FAMILIES) == {"trm", "hrm"}
    assert family_of(TINY) is FAMILIES["hrm"] and family_of(TRMConfig()) is FAMILIES["trm"]
    assert FAMILIES["hrm"].config_class is HRMConfig and FAMILIES["hrm"].model_class is HRM
    assert isinstance(FAMILIES["hrm"].build(TINY), HRM)
    assert family_for_arch("HierarchicalReasoningModel_ACTV1") is FAMILIES["hrm"]
    assert family_for_arch("recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1") is FAMILIES["trm"]
    hydra = {"arch": {"name": "recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1"}}
    assert family_of_reference(hydra).name == "hrm"
    assert family_of_reference({"seq_len": 900}).name == "trm"  # no arch: TRM, as before families existed
    with pytest.raises(ValueError, match="variant"):
        family_for_arch("recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1")
    with pytest.raises(ValueError, match="unknown reference arch"):
        family_for_arch("recursive_reasoning.transformers_baseline@Model_ACTV2")
    with pytest.raises(ValueError, match="no model family"):
        family_of(object())
