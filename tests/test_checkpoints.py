"""Checkpoint directories, reference `.pt` import, refusal of code-carrying pickles, run_batch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from harness.core.errors import DataError
from harness.core.io import load_reference_state_dict
from harness.infer.checkpoints import (
    MANIFEST,
    WEIGHTS,
    identifiers_layout,
    import_reference,
    load_checkpoint,
    read_manifest,
    run_batch,
    save_checkpoint,
    tensor_counts,
)
from models import TRM, TRMConfig
from models.reference import to_reference

CONFIG = TRMConfig(
    num_puzzle_identifiers=4,
    vocab_size=12,
    seq_len=12,
    hidden_size=16,
    num_heads=2,
    H_cycles=2,
    L_cycles=1,
    L_layers=1,
    puzzle_emb_ndim=16,
    puzzle_emb_len=1,
    halt_max_steps=2,
    halt_exploration_prob=0.0,
    forward_dtype="float32",
)
IDENTIFIERS = ["<blank>", "007bbfc7", "007bbfc7|||t3|||0123456789", "00d62c1b|||t5|||0987654321"]


@pytest.fixture
def model() -> TRM:
    torch.manual_seed(0)
    m = TRM(CONFIG)
    with torch.no_grad():
        m.inner.puzzle_emb.weights.normal_()
        m.inner.q_head.weight.normal_()
    return m.eval()


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {"inputs": torch.randint(0, 12, (2, 12), generator=g), "puzzle_identifiers": torch.tensor([1, 3])}


class CodeCarrier:
    """Unpickling this would call print: harmless, but any call proves code ran."""

    def __reduce__(self):
        return (print, ("CODE RAN",))


def write_reference(tmp_path: Path, model: TRM, name: str = "step_42") -> tuple[Path, Path]:
    ref = tmp_path / name
    torch.save(to_reference(model.state_dict()), ref)
    config = {
        **model.config.to_dict(),
        "arch": "TinyRecursiveReasoningModel_ACTV1",
        "batch_size": 768,
        "loss_type": "stablemax_cross_entropy",
    }
    del config["causal"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    return ref, tmp_path / "config.json"


def test_save_load_round_trip(tmp_path, model, batch):
    save_checkpoint(tmp_path / "ck", model, step=7, ema=True, identifiers=IDENTIFIERS)
    loaded, manifest = load_checkpoint(tmp_path / "ck", identifiers=IDENTIFIERS)
    assert not loaded.training
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())
    assert torch.equal(run_batch(loaded, batch)["logits"], run_batch(model, batch)["logits"])
    assert manifest["step"] == 7 and manifest["ema"] is True
    assert manifest["config"] == CONFIG.to_dict()
    assert manifest["trm_eval_version"] and manifest["puzzle_identifiers"]["count"] == 4


def test_layout_hash_is_that_of_the_reference_identifiers_file(tmp_path):
    path = tmp_path / "identifiers.json"
    with open(path, "w") as fh:
        json.dump(IDENTIFIERS, fh)  # as the reference's dataset builder writes it
    assert identifiers_layout(IDENTIFIERS) == {"count": 4, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def test_wrong_layout_is_refused(tmp_path, model):
    save_checkpoint(tmp_path / "ck", model, identifiers=IDENTIFIERS)
    other = IDENTIFIERS[:2] + [IDENTIFIERS[3], IDENTIFIERS[2]]
    with pytest.raises(DataError, match="not the layout of this checkpoint"):
        load_checkpoint(tmp_path / "ck", identifiers=other)
    with pytest.raises(DataError, match="3 puzzle identifiers supplied"):
        load_checkpoint(tmp_path / "ck", identifiers=IDENTIFIERS[:3])
    with pytest.raises(DataError, match="3 puzzle identifiers supplied"):
        save_checkpoint(tmp_path / "ck2", model, identifiers=IDENTIFIERS[:3])


def test_existing_checkpoint_is_not_overwritten_silently(tmp_path, model):
    save_checkpoint(tmp_path / "ck", model, step=1)
    with pytest.raises(DataError, match="already exists"):
        save_checkpoint(tmp_path / "ck", model, step=2)
    save_checkpoint(tmp_path / "ck", model, step=2, overwrite=True)
    assert read_manifest(tmp_path / "ck")[0]["step"] == 2
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [MANIFEST, WEIGHTS]


def test_damaged_checkpoints_give_data_errors(tmp_path, model):
    with pytest.raises(DataError, match="no manifest.json"):
        load_checkpoint(tmp_path)
    save_checkpoint(tmp_path / "ck", model)
    (tmp_path / "ck" / WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(DataError, match="model.safetensors"):
        load_checkpoint(tmp_path / "ck")
    save_checkpoint(tmp_path / "ck2", model)
    manifest = json.loads((tmp_path / "ck2" / MANIFEST).read_text())
    manifest["config"]["hidden_size"] = 24
    (tmp_path / "ck2" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="does not match the manifest's config"):
        load_checkpoint(tmp_path / "ck2")
    manifest["config"]["num_heads"] = 5
    (tmp_path / "ck2" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="config: hidden_size 24 is not divisible"):
        load_checkpoint(tmp_path / "ck2")
    del manifest["config"]
    (tmp_path / "ck2" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="no model config"):
        load_checkpoint(tmp_path / "ck2")


def test_tensor_counts_separate_the_puzzle_embedding(tmp_path, model):
    save_checkpoint(tmp_path / "ck", model)
    counts = tensor_counts(tmp_path / "ck")
    assert counts["puzzle_embedding"] == 4 * 16
    assert counts["network"] == sum(v.numel() for v in model.state_dict().values()) - 4 * 16


def test_code_carrying_pickle_is_refused_without_running(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(1), "payload": CodeCarrier()}, path)
    capsys.readouterr()
    with pytest.raises(DataError, match="evil.pt: refused") as err:
        load_reference_state_dict(path)
    assert "print" in str(err.value)
    assert "CODE RAN" not in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"garbage", None])
def test_unreadable_reference_files(tmp_path, content):
    path = tmp_path / "ref.pt"
    if content is None:
        torch.save([torch.zeros(1)], path)  # tensors, but not a state dict
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match="ref.pt"):
        load_reference_state_dict(path)


def test_import_reference_checkpoint(tmp_path, model, batch):
    ref, config = write_reference(tmp_path, model)
    (tmp_path / "identifiers.json").write_text(json.dumps(IDENTIFIERS))
    out = import_reference(ref, config, tmp_path / "ck", identifiers_path=tmp_path / "identifiers.json")
    loaded, manifest = load_checkpoint(out, identifiers=IDENTIFIERS)
    assert manifest["step"] == 42 and manifest["ema"] is None
    assert manifest["source"]["sha256"] == hashlib.sha256(ref.read_bytes()).hexdigest()
    assert torch.equal(run_batch(loaded, batch)["logits"], run_batch(model, batch)["logits"])


def test_import_with_a_mismatched_config_names_the_file(tmp_path, model):
    ref, config = write_reference(tmp_path, model, name="model.pt")
    data = json.loads(config.read_text())
    data["L_layers"] = 2
    config.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"model.pt: .*missing keys: .*layers\.1"):
        import_reference(ref, config, tmp_path / "ck")
    assert not (tmp_path / "ck").exists()


def test_run_batch_stacks_steps_and_checks_the_batch(model, batch):
    out = run_batch(model, batch)
    assert out["logits"].shape == (2, 2, 12, 12) and out["preds"].shape == (2, 2, 12)
    assert out["q_halt_logits"].shape == out["q_continue_logits"].shape == (2, 2)
    assert torch.equal(out["preds"], out["logits"].argmax(-1))
    with pytest.raises(DataError, match="seq_len"):
        run_batch(model, {**batch, "inputs": batch["inputs"][:, :5]})
    with pytest.raises(DataError, match="puzzle_identifiers outside"):
        run_batch(model, {**batch, "puzzle_identifiers": torch.tensor([0, 4])})
    with pytest.raises(DataError, match="tokens outside"):
        run_batch(model, {**batch, "inputs": batch["inputs"] + 12})
