"""`checkpoint` commands end to end with click's runner."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import click
import pytest
import torch
from click.testing import CliRunner

from harness.cli.checkpoint import checkpoint
from harness.cli.main import UserFacingGroup
from models import TRM, TRMConfig
from models.reference import to_reference

pytestmark = pytest.mark.e2e  # every test here drives the CLI

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-trm" / "attn-tiny"
CONFIG = TRMConfig(
    num_puzzle_identifiers=3,
    vocab_size=12,
    seq_len=8,
    hidden_size=16,
    num_heads=2,
    H_cycles=1,
    L_cycles=1,
    L_layers=1,
    puzzle_emb_ndim=16,
    puzzle_emb_len=1,
    halt_max_steps=2,
    halt_exploration_prob=0.0,
    forward_dtype="float32",
)


class CodeCarrier:
    """Unpickling this would call print: harmless, but any call proves code ran."""

    def __reduce__(self):
        return (print, ("CODE RAN",))


def main() -> click.Group:
    """The group as harness.cli will mount it: DataError becomes one line and exit code 1."""
    group = UserFacingGroup("trm-eval")
    group.add_command(checkpoint)
    return group


@pytest.fixture
def reference(tmp_path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    ref = tmp_path / "step_1000"
    torch.save(to_reference(TRM(CONFIG).state_dict()), ref)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"arch": {k: v for k, v in CONFIG.to_dict().items() if k != "causal"}}))
    return ref, config


def test_run_config_and_dataset_metadata_merge(tmp_path, reference):
    ref, _ = reference
    data_keys = ("seq_len", "vocab_size", "num_puzzle_identifiers")
    arch = {k: v for k, v in CONFIG.to_dict().items() if k not in (*data_keys, "causal")}
    (tmp_path / "all_config.json").write_text(json.dumps({"arch": arch, "global_batch_size": 768}))
    (tmp_path / "dataset.json").write_text(
        json.dumps({**{k: getattr(CONFIG, k) for k in data_keys}, "pad_id": 0, "total_groups": 3})
    )
    runner = CliRunner()
    args = ["checkpoint", "import", str(ref), "--config", str(tmp_path / "all_config.json"), "-o", str(tmp_path / "ck")]
    result = runner.invoke(main(), args)
    assert result.exit_code == 1 and "lacks required keys: seq_len, num_puzzle_identifiers, vocab_size" in result.output
    result = runner.invoke(main(), [*args, "--config", str(tmp_path / "dataset.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "ck" / "manifest.json").read_text())["config"] == CONFIG.to_dict()


def test_import_run_batch_reproduces_the_reference_outputs(tmp_path):
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is absent")
    runner = CliRunner()
    ck, out = tmp_path / "ck", tmp_path / "out.pt"
    result = runner.invoke(
        main(),
        [
            "checkpoint",
            "import",
            str(FIXTURE / "state_dict.pt"),
            "--config",
            str(FIXTURE / "config.json"),
            "-o",
            str(ck),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main(), ["checkpoint", "run-batch", str(ck), "--batch", str(FIXTURE / "batch.pt"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 steps x 3 sequences" in result.output
    ours = torch.load(out, weights_only=True)
    expected = torch.load(FIXTURE / "expected.pt", weights_only=True)["eval_steps"]
    for key in ("logits", "q_halt_logits", "q_continue_logits"):
        ref = torch.stack([step[key] for step in expected])
        assert (ours[key] - ref).abs().max().item() <= 1e-4, key
    assert torch.equal(ours["preds"], torch.stack([step["preds"] for step in expected]))


def test_import_and_info(tmp_path, reference):
    ref, config = reference
    (tmp_path / "ids.json").write_text(json.dumps(["<blank>", "a", "a|||t1|||0123456789"]))
    runner = CliRunner()
    result = runner.invoke(
        main(),
        [
            "checkpoint",
            "import",
            str(ref),
            "--config",
            str(config),
            "--identifiers",
            str(tmp_path / "ids.json"),
            "-o",
            str(tmp_path / "ck"),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main(), ["checkpoint", "info", str(tmp_path / "ck")])
    assert result.exit_code == 0, result.output
    network = sum(v.numel() for k, v in TRM(CONFIG).state_dict().items() if "puzzle_emb" not in k)
    assert f"{network:,}" in result.output and "48" in result.output  # 3 rows x 16
    assert "1000" in result.output  # step, from the file name
    result = runner.invoke(
        main(), ["checkpoint", "import", str(ref), "--config", str(config), "-o", str(tmp_path / "ck")]
    )
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(
        main(), ["checkpoint", "import", str(ref), "--config", str(config), "-o", str(tmp_path / "ck"), "--force"]
    )
    assert result.exit_code == 0, result.output


def test_user_errors_are_one_line(tmp_path, reference):
    ref, config = reference
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(CodeCarrier(), protocol=2))
    runner = CliRunner()
    result = runner.invoke(
        main(), ["checkpoint", "import", str(evil), "--config", str(config), "-o", str(tmp_path / "ck")]
    )
    assert result.exit_code == 1
    assert "CODE RAN" not in result.output
    assert "evil.pt" in result.output and result.output.count("\n") == 1
    result = runner.invoke(main(), ["checkpoint", "info", str(tmp_path)])
    assert result.exit_code == 1 and "not a checkpoint directory" in result.output
    result = runner.invoke(main(), ["checkpoint", "import", str(ref), "-o", str(tmp_path / "ck")])
    assert result.exit_code == 2 and "--config" in result.output
