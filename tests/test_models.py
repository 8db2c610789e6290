"""TRM model pieces that need no reference fixture: config, variants, ACT, loss, key mapping."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from models import TRM, TRMConfig, act_loss
from models.layers import Rotary, swiglu_inner_size, trunc_normal_
from models.loss import stablemax_cross_entropy
from models.reference import from_reference, to_reference

TINY = TRMConfig(
    num_puzzle_identifiers=5,
    vocab_size=12,
    seq_len=16,
    hidden_size=32,
    num_heads=2,
    H_cycles=2,
    L_cycles=2,
    L_layers=1,
    puzzle_emb_ndim=32,
    puzzle_emb_len=2,
    halt_max_steps=3,
    halt_exploration_prob=0.0,
    forward_dtype="float32",
)


def tiny(**changes) -> TRMConfig:
    return dataclasses.replace(TINY, **changes)


def make_batch(config: TRMConfig, size: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(2, config.vocab_size, (size, config.seq_len), generator=g)
    labels[:, -3:] = -100
    return {
        "inputs": torch.randint(0, config.vocab_size, (size, config.seq_len), generator=g),
        "labels": labels,
        "puzzle_identifiers": torch.randint(0, config.num_puzzle_identifiers, (size,), generator=g),
    }


def build(config: TRMConfig, seed: int = 0) -> TRM:
    torch.manual_seed(seed)
    model = TRM(config)
    with torch.no_grad():  # non-zero puzzle rows and q head so their paths are exercised
        if config.puzzle_emb_ndim:
            model.inner.puzzle_emb.weights.normal_()
        model.inner.q_head.weight.normal_(std=0.1)
    return model


def train_step(model: TRM, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    model.train()
    carry, out = model(model.initial_carry(batch), batch)
    loss, metrics = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
    loss.backward()
    return loss, metrics


# --- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ndim", "hidden", "positions"), [(64, 64, 1), (100, 64, 2), (512, 512, 1), (0, 64, 0)])
def test_puzzle_emb_len_zero_is_derived(ndim, hidden, positions):
    config = tiny(puzzle_emb_ndim=ndim, hidden_size=hidden, puzzle_emb_len=0)
    assert config.puzzle_positions == positions
    assert config.total_len == config.seq_len + positions


def test_derived_puzzle_positions_pad_the_embedding():
    config = tiny(puzzle_emb_ndim=40, puzzle_emb_len=0)  # 40 values padded into 2 positions of 32
    model = build(config)
    x = model.inner.embed(make_batch(config)["inputs"], torch.tensor([1, 2, 3]))
    assert x.shape == (3, config.seq_len + 2, 32)
    assert torch.all(x[:, 1, 8:] == 0) and torch.any(x[:, 1, :8] != 0)
    assert model.evaluate(make_batch(config))[0]["logits"].shape == (3, config.seq_len, 12)


def test_from_reference_ignores_extras_and_uses_reference_defaults():
    ref = {
        "arch": "TinyRecursiveReasoningModel_ACTV1",
        "loss_type": "stablemax_cross_entropy",
        "batch_size": 3,
        "seq_len": 900,
        "num_puzzle_identifiers": 7,
        "vocab_size": 12,
        "H_cycles": 3,
        "L_cycles": 6,
        "H_layers": 0,
        "L_layers": 2,
        "hidden_size": 512,
        "expansion": 4,
        "num_heads": 8,
        "pos_encodings": "rope",
        "halt_max_steps": 16,
        "halt_exploration_prob": 0.1,
        "puzzle_emb_ndim": 512,
    }
    config = TRMConfig.from_reference(ref)
    assert (config.L_cycles, config.num_puzzle_identifiers, config.expansion) == (6, 7, 4.0)
    assert config.puzzle_emb_len == 16 and config.forward_dtype == "bfloat16" and config.no_ACT_continue
    nested = {"arch": {k: v for k, v in ref.items() if k not in ("arch", "seq_len")}, "seq_len": 900}
    assert TRMConfig.from_reference(nested) == config
    assert TRMConfig.from_dict(config.to_dict()) == config


def test_from_reference_names_missing_keys():
    with pytest.raises(ValueError, match="hidden_size"):
        TRMConfig.from_reference({k: v for k, v in TINY.to_dict().items() if k != "hidden_size"})


@pytest.mark.parametrize(
    "changes",
    [
        {"pos_encodings": "alibi"},
        {"forward_dtype": "float16"},
        {"num_heads": 3},
        {"puzzle_emb_ndim": 0, "puzzle_emb_len": 2},
        {"puzzle_emb_ndim": 100, "puzzle_emb_len": 2},
        {"H_cycles": 0},
        {"seq_len": 2.5},
    ],
)
def test_invalid_configs_are_refused(changes):
    with pytest.raises(ValueError):
        TRMConfig.from_dict({**TINY.to_dict(), **changes})


# --- layers -----------------------------------------------------------------------------------


def test_swiglu_inner_size_follows_the_reference_rounding():
    assert swiglu_inner_size(512, 4) == 1536  # round(1365.3) -> 1536
    assert swiglu_inner_size(916, 4) == 2560  # mlp_t over 900 + 16 positions
    assert swiglu_inner_size(64, 4) == 256


def test_trunc_normal_has_the_requested_std_and_bounds():
    torch.manual_seed(0)
    x = trunc_normal_(torch.empty(200_000), std=0.5)
    assert abs(x.std().item() - 0.5) < 0.005
    sigma = 0.5 / math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))
    assert 2 * sigma * 0.99 < x.abs().max().item() <= 2 * sigma * (1 + 1e-6)


def test_rotary_equals_the_rotate_half_formulation():
    torch.manual_seed(0)
    rot = Rotary(head_dim=8, length=5, theta=10000.0)
    x = torch.randn(2, 5, 3, 8)
    cos, sin = torch.cat((rot.cos, rot.cos), -1)[:, None], torch.cat((rot.sin, rot.sin), -1)[:, None]
    rotated_half = torch.cat((-x[..., 4:], x[..., :4]), -1)
    assert torch.equal(rot(x), x * cos + rotated_half * sin)


# --- variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"mlp_t": True},
        {"pos_encodings": "learned"},
        {"pos_encodings": "none"},
        {"mlp_t": True, "pos_encodings": "none", "puzzle_emb_len": 0},
        {"puzzle_emb_ndim": 0, "puzzle_emb_len": 0},
        {"causal": True},
    ],
)
def test_variants_run_forward_and_backward(changes):
    config = tiny(**changes)
    model = build(config)
    batch = make_batch(config)
    steps = model.evaluate(batch)
    assert len(steps) == config.halt_max_steps
    assert steps[-1]["logits"].shape == (3, config.seq_len, config.vocab_size)
    loss, _ = train_step(model, batch)
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    if config.mlp_t:
        assert model.inner.L_level.layers[0].mlp_t.gate_up_proj.weight.shape[1] == config.total_len


def test_bfloat16_forward():
    config = tiny(forward_dtype="bfloat16")
    model = build(config)
    assert model.inner.H_init.dtype == torch.bfloat16
    assert model.inner.lm_head.weight.dtype == torch.float32  # master weights stay float32
    out = model.evaluate(make_batch(config))[-1]
    assert out["logits"].dtype == torch.bfloat16 and torch.isfinite(out["logits"].float()).all()
    assert out["q_halt_logits"].dtype == torch.float32
    loss, _ = train_step(model, make_batch(config))
    assert torch.isfinite(loss) and model.inner.lm_head.weight.grad.dtype == torch.float32


def test_seeded_construction_is_deterministic():
    a, b = TRM(TINY), TRM(TINY)
    assert not torch.equal(a.inner.lm_head.weight, b.inner.lm_head.weight)
    torch.manual_seed(3)
    a = TRM(TINY)
    torch.manual_seed(3)
    b = TRM(TINY)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert torch.all(a.inner.q_head.weight == 0) and torch.all(a.inner.q_head.bias == -5)


def test_puzzle_embedding_rows_get_gradients_only_when_training():
    model = build(TINY)
    batch = make_batch(TINY)
    model.evaluate(batch)
    assert model.inner.puzzle_emb.rows is None
    train_step(model, batch)
    emb = model.inner.puzzle_emb
    assert torch.equal(emb.row_ids, batch["puzzle_identifiers"])
    assert emb.rows.grad is not None and emb.rows.grad.abs().sum() > 0
    assert emb.weights.grad is None


# --- ACT --------------------------------------------------------------------------------------


def test_eval_always_runs_halt_max_steps_even_when_q_says_halt():
    model = build(TINY)
    with torch.no_grad():
        model.inner.q_head.weight.zero_()
        model.inner.q_head.bias.fill_(5.0)  # q_halt = 5 > 0 everywhere
    batch = make_batch(TINY)
    model.eval()
    carry = model.initial_carry(batch)
    halted = []
    with torch.no_grad():
        for _ in range(TINY.halt_max_steps):
            carry, _ = model(carry, batch)
            halted.append(carry.halted.clone())
    assert [h.any().item() for h in halted] == [False] * (TINY.halt_max_steps - 1) + [True]
    assert halted[-1].all()

    model.train()
    carry, _ = model(model.initial_carry(batch), batch)
    assert carry.halted.all()  # training halts on q_halt > 0 at the first step


def test_exploration_forces_at_least_two_steps():
    model = build(tiny(halt_exploration_prob=1.0))
    with torch.no_grad():
        model.inner.q_head.bias.fill_(5.0)
    model.train()
    batch = make_batch(TINY)
    carry, _ = model(model.initial_carry(batch), batch)
    assert not carry.halted.any()


def test_halted_rows_restart_on_new_data():
    model = build(TINY).train()
    batch = make_batch(TINY)
    carry = model.initial_carry(batch)
    carry, _ = model(carry, batch)
    carry.halted = torch.tensor([True, False, False])
    fresh = make_batch(TINY, seed=1)
    carry, _ = model(carry, fresh)
    assert torch.equal(carry.data["inputs"][0], fresh["inputs"][0])
    assert torch.equal(carry.data["inputs"][1:], batch["inputs"][1:])
    assert carry.steps.tolist() == [1, 2, 2]


def test_q_continue_target_when_act_continue_is_on():
    config = tiny(no_ACT_continue=False)
    model = build(config).train()
    batch = make_batch(config)
    carry, out = model(model.initial_carry(batch), batch)
    target = out["target_q_continue"]
    assert target.shape == (3,) and torch.all((target > 0) & (target < 1))
    loss, metrics = act_loss(out, carry.data["labels"], carry.halted, carry.steps)
    assert "q_continue_loss" in metrics
    expected = metrics["lm_loss"] + 0.5 * (metrics["q_halt_loss"] + metrics["q_continue_loss"])
    assert torch.allclose(loss, expected)


# --- loss -------------------------------------------------------------------------------------


def test_stablemax_cross_entropy_matches_its_definition():
    logits = torch.tensor([[[2.0, -1.0, 0.5]], [[-3.0, 1.0, 0.0]]])
    labels = torch.tensor([[0], [-100]])
    s = torch.where(logits < 0, 1 / (1 - logits), logits + 1).double()
    expected = -torch.log(s[0, 0, 0] / s[0, 0].sum())
    ce = stablemax_cross_entropy(logits, labels)
    assert ce.dtype == torch.float64
    assert torch.allclose(ce[0, 0], expected) and ce[1, 0] == 0


def test_stablemax_gradient_is_finite_at_logit_one():
    logits = torch.tensor([[[1.0, 0.0, -2.0]]], requires_grad=True)
    stablemax_cross_entropy(logits, torch.tensor([[2]])).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_act_loss_sums_per_sequence_means():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5)
    labels = torch.tensor([[1, 2, -100, -100], [0, 1, 2, 3]])
    outputs = {"logits": logits, "q_halt_logits": torch.tensor([0.3, -0.2]), "q_continue_logits": torch.zeros(2)}
    loss, metrics = act_loss(
        outputs, labels, torch.tensor([True, True]), torch.tensor([1, 1]), loss_type="softmax_cross_entropy"
    )
    ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")
    lm = ce[0, :2].mean() + ce[1].mean()
    correct = (logits.argmax(-1) == labels).sum(-1) == (labels != -100).sum(-1)
    bce = F.binary_cross_entropy_with_logits(outputs["q_halt_logits"], correct.float(), reduction="sum")
    assert math.isclose(loss.item(), (lm + 0.5 * bce).item(), rel_tol=1e-6)
    assert metrics["count"] == 2
    with pytest.raises(ValueError, match="loss_type"):
        act_loss(outputs, labels, torch.tensor([True, True]), torch.tensor([1, 1]), loss_type="mse")


# --- reference key mapping --------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"mlp_t": True},
        {"pos_encodings": "learned", "L_layers": 3},
        {"puzzle_emb_len": 0, "H_cycles": 3},
        {"forward_dtype": "bfloat16"},
    ],
)
def test_reference_export_import_round_trip(changes):
    config = tiny(**changes)
    ours = build(config, seed=1)
    exported = to_reference(ours.state_dict())
    assert all(k.startswith("_orig_mod.model.inner.") for k in exported)
    if config.pos_encodings == "learned":
        assert "_orig_mod.model.inner.embed_pos.embedding_weight" in exported
    if config.mlp_t:
        assert "_orig_mod.model.inner.L_level.layers.0.mlp_t.gate_up_proj.weight" in exported
    loaded = TRM.from_state_dict(config, from_reference(exported, config))
    assert loaded.state_dict().keys() == ours.state_dict().keys()
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in ours.state_dict().items())
    batch = make_batch(config)
    assert torch.equal(loaded.evaluate(batch)[-1]["logits"], ours.evaluate(batch)[-1]["logits"])
    # uncompiled key names are accepted too
    assert from_reference(to_reference(ours.state_dict(), compiled=False), config).keys() == ours.state_dict().keys()


def test_reference_import_reports_every_problem():
    exported = to_reference(build(TINY).state_dict())
    del exported["_orig_mod.model.inner.lm_head.weight"]
    exported["_orig_mod.model.inner.extra"] = torch.zeros(1)
    exported["_orig_mod.model.inner.H_init"] = torch.zeros(7)
    with pytest.raises(ValueError) as err:
        from_reference(exported, TINY)
    message = str(err.value)
    assert "missing keys: _orig_mod.model.inner.lm_head.weight" in message
    assert "unexpected keys: _orig_mod.model.inner.extra" in message
    assert "H_init: (7,), expected (32,)" in message


def test_reference_import_rejects_another_variant():
    exported = to_reference(build(tiny(mlp_t=True)).state_dict())
    with pytest.raises(ValueError, match="self_attn"):
        from_reference(exported, TINY)
