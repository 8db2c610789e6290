"""HRM through the harness, as TRM goes: the reference fixture through `checkpoint import` + `run-batch`,
imports from the TRM reference code and from sapientinc/HRM (JSON or YAML configs), the published path
(layout -> import -> evaluate -> report, compare), the presets and a training run whose loss falls."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.config import load_config
from harness.core.errors import DataError
from harness.core.sources import load_tasks
from harness.core.tasks import TaskSet
from harness.infer.checkpoints import import_reference, load_checkpoint, read_manifest, tensor_counts
from harness.pipeline import run_baselines
from harness.train.state import checkpoint_dirs
from harness.train.trainer import train
from models import FAMILIES, HRM, HRMConfig, act_loss, family_for_arch
from models.reference import to_reference

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "official-hrm" / "attn-tiny"
REF_PREFIX = "_orig_mod.model."
PUZZLE_ROWS_GRAD = "puzzle_emb.local_weights(rows in batch order)"
SAPIENT_ARCH = "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"
DATA_KEYS = ("seq_len", "vocab_size", "num_puzzle_identifiers")
CONFIG = HRMConfig(
    num_puzzle_identifiers=3,
    vocab_size=12,
    seq_len=8,
    hidden_size=16,
    num_heads=2,
    H_cycles=1,
    L_cycles=2,
    H_layers=1,
    L_layers=2,
    puzzle_emb_ndim=16,
    halt_max_steps=2,
    halt_exploration_prob=0.0,
    forward_dtype="float32",
)

# A tiny HRM training run on tests/helpers.py TINY's data; batch 32 and 60 steps, so that the fall of
# the loss stands out of the batch-to-batch noise (about 2.24 -> 1.74, first ten steps against last ten).
HRM_TINY = """
[data]
subsets = ["small=arc-agi-1/training+arc-agi-1/evaluation"]
test_set = "small"
num_aug = 3
seed = 42
canvas = 4
max_side = 3

[model]
family = "hrm"
hidden_size = 32
num_heads = 2
H_layers = 1
L_layers = 1
H_cycles = 2
L_cycles = 2
puzzle_emb_ndim = 32
halt_max_steps = 3
halt_exploration_prob = 0.0
forward_dtype = "float32"

[train]
global_batch_size = 32
max_steps = 60
optimizer = "adam_atan2"
lr = 3e-3
lr_warmup_steps = 2
ema = false
log_every = 1
checkpoint_every = 60
"""


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def fixture_or_skip() -> Path:
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is absent")
    return FIXTURE


def sapient_all_config(config: HRMConfig) -> dict:
    """What sapientinc/HRM's pretrain.py dumps as all_config.yaml: the architecture nested under `arch`
    with its `module@Class` name and loss head, no data keys (those are in the data set's dataset.json)."""
    arch = {k: v for k, v in config.to_dict().items() if k not in DATA_KEYS}
    arch |= {"name": SAPIENT_ARCH, "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"}}
    return {
        "arch": arch,
        "data_path": "data/arc-aug-1000",
        "global_batch_size": 768,
        "epochs": 100000,
        "lr": 1e-4,
        "checkpoint_path": "checkpoints/Arc-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1",
    }


@pytest.fixture
def sapient_checkpoint(tmp_path) -> tuple[HRM, Path, Path, Path]:
    """A sapientinc/HRM-style checkpoint folder: compiled-module keys, all_config.yaml, dataset.json."""
    torch.manual_seed(0)
    model = HRM(CONFIG)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    ref = tmp_path / "step_52080"
    torch.save(to_reference(model.state_dict()), ref)
    all_config = tmp_path / "all_config.yaml"
    all_config.write_text(yaml.dump(sapient_all_config(CONFIG)))
    dataset = tmp_path / "dataset.json"
    dataset.write_text(json.dumps({**{k: getattr(CONFIG, k) for k in DATA_KEYS}, "pad_id": 0, "total_groups": 3}))
    return model, ref, all_config, dataset


# ---------------------------------------------------------------- parity with the reference fixture


@pytest.mark.e2e
def test_import_run_batch_reproduces_the_reference_hrm(tmp_path):
    fixture = fixture_or_skip()
    ck, out = tmp_path / "ck", tmp_path / "out.pt"
    result = run("checkpoint", "import", fixture / "state_dict.pt", "--config", fixture / "config.json", "-o", ck)
    assert result.exit_code == 0, result.output
    assert read_manifest(ck)[0]["family"] == "hrm"
    result = run("checkpoint", "run-batch", ck, "--batch", fixture / "batch.pt", "--out", out)
    assert result.exit_code == 0, result.output
    assert "4 steps x 3 sequences" in result.output
    ours = torch.load(out, weights_only=True)
    expected = torch.load(fixture / "expected.pt", weights_only=True)["eval_steps"]
    for key in ("logits", "q_halt_logits", "q_continue_logits"):
        ref = torch.stack([step[key] for step in expected])
        assert ours[key].shape == ref.shape
        assert (ours[key] - ref).abs().max().item() <= 1e-4, key
    assert torch.equal(ours["preds"], torch.stack([step["preds"] for step in expected]))
    info = run("checkpoint", "info", ck)
    assert info.exit_code == 0 and "hrm" in info.output


def test_imported_checkpoint_reproduces_the_reference_training_step(tmp_path):
    """The loss (with its Q-continue term), the bootstrapped target and every gradient, from the
    imported checkpoint rather than from the state dict: the import loses nothing training needs."""
    fixture = fixture_or_skip()
    import_reference(fixture / "state_dict.pt", fixture / "config.json", tmp_path / "ck")
    model, _ = load_checkpoint(tmp_path / "ck")
    expected = torch.load(fixture / "expected.pt", weights_only=True)
    batch = torch.load(fixture / "batch.pt", weights_only=True)
    model.train()
    carry, outputs = model(model.initial_carry(batch), batch)
    loss, metrics = act_loss(outputs, carry.data["labels"], carry.halted, carry.steps)
    loss.backward()
    assert "q_continue_loss" in metrics
    assert (outputs["target_q_continue"] - expected["train_target_q_continue"]).abs().max().item() <= 1e-4
    assert abs(loss.item() - expected["train_loss"].item()) <= 1e-6 * abs(expected["train_loss"].item())
    grads = {REF_PREFIX + name: p.grad for name, p in model.named_parameters()}
    grads[PUZZLE_ROWS_GRAD] = model.inner.puzzle_emb.rows.grad
    assert grads.keys() == expected["train_grads"].keys()
    for name, ref in expected["train_grads"].items():
        assert (grads[name] - ref).abs().max().item() <= 1e-4 * ref.abs().max().item(), name


def test_a_config_without_arch_is_told_by_the_weights(tmp_path):
    fixture = fixture_or_skip()
    data = json.loads((fixture / "config.json").read_text())
    del data["arch"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    import_reference(fixture / "state_dict.pt", tmp_path / "config.json", tmp_path / "ck")
    manifest, config = read_manifest(tmp_path / "ck")
    assert manifest["family"] == "hrm" and isinstance(config, HRMConfig)


# ---------------------------------------------------------------- imports: sapientinc/HRM, YAML


def test_sapientinc_module_names_hrm():
    assert family_for_arch(SAPIENT_ARCH) is FAMILIES["hrm"]
    assert family_for_arch("recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1") is FAMILIES["hrm"]
    with pytest.raises(ValueError, match="variant"):
        family_for_arch("hrm.hrm_act_v1@TinyRecursiveReasoningModel_ACTV1")


@pytest.mark.e2e
def test_sapientinc_checkpoint_with_all_config_yaml(tmp_path, sapient_checkpoint):
    model, ref, all_config, dataset = sapient_checkpoint
    ids = tmp_path / "identifiers.json"
    ids.write_text(json.dumps(["<blank>", "a", "a|||t1|||0123456789"]))
    args = ["checkpoint", "import", ref, "--config", all_config, "--config", dataset, "--identifiers", ids]
    result = run(*args, "-o", tmp_path / "ck")
    assert result.exit_code == 0, result.output
    manifest, config = read_manifest(tmp_path / "ck")
    assert manifest["family"] == "hrm" and config == CONFIG and manifest["step"] == 52080
    assert manifest["puzzle_identifiers"]["count"] == 3
    loaded, _ = load_checkpoint(tmp_path / "ck")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    counts = tensor_counts(tmp_path / "ck")
    assert counts["puzzle_embedding"] == 3 * 16
    assert counts["network"] == sum(v.numel() for k, v in model.state_dict().items() if "puzzle_emb" not in k)
    # The layout check as for TRM: a layout with another number of puzzles is refused.
    ids.write_text(json.dumps(["<blank>", "a"]))
    result = run(*args, "-o", tmp_path / "ck2")
    assert result.exit_code == 1 and "2 puzzle identifiers supplied, the model has 3" in result.output


def test_trm_reference_all_config_yaml(tmp_path):
    from models import TRM, TRMConfig

    trm = TRMConfig(
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
        forward_dtype="float32",
    )
    torch.save(to_reference(TRM(trm).state_dict()), tmp_path / "step_7")
    arch = {k: v for k, v in trm.to_dict().items() if k != "causal"}
    arch["name"] = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"
    (tmp_path / "all_config.yml").write_text(yaml.dump({"arch": arch, "ema": True}))
    import_reference(tmp_path / "step_7", tmp_path / "all_config.yml", tmp_path / "ck")
    manifest, config = read_manifest(tmp_path / "ck")
    assert manifest["family"] == "trm" and config == trm


@pytest.mark.e2e
def test_bad_yaml_configs_are_one_line_errors_without_values(tmp_path, sapient_checkpoint):
    _, ref, all_config, dataset = sapient_checkpoint
    secret = "wandb-api-key-0123456789abcdef"
    cases = {
        "malformed.yaml": (f"wandb_key: {secret}\narch: [unclosed\n", "malformed YAML at line"),
        "list.yaml": (f"- {secret}\n", "expected a YAML mapping"),
        "interp.yaml": (
            f"token: {secret}\narch:\n  hidden_size: 16\n  puzzle_emb_ndim: ${{.hidden_size}}\n",
            "puzzle_emb_ndim is an unresolved interpolation",
        ),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        result = run(
            "checkpoint", "import", ref, "--config", tmp_path / name, "--config", dataset, "-o", tmp_path / "ck"
        )
        assert result.exit_code == 1, name
        assert message in result.output and name in result.output, result.output
        assert secret not in result.output and result.output.count("\n") == 1, result.output
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(DataError, match="list.json: expected a JSON object"):
        import_reference(ref, [all_config, tmp_path / "list.json"], tmp_path / "ck")


# ---------------------------------------------------------------- the published path, then reports


def kaggle_subset(tasks: TaskSet, ids: list[str], path: Path) -> None:
    chosen = {t: tasks[t].to_json() for t in ids}
    path.write_text(
        json.dumps(
            {k: {"train": v["train"], "test": [{"input": x["input"]} for x in v["test"]]} for k, v in chosen.items()}
        )
    )
    path.with_name(path.name.replace("challenges", "solutions")).write_text(
        json.dumps({k: [x["output"] for x in v["test"]] for k, v in chosen.items()})
    )


@pytest.mark.e2e
def test_reference_hrm_layout_import_evaluate_report_compare(tmp_path):
    training, evaluation = load_tasks("arc-agi-1/training"), load_tasks("arc-agi-1/evaluation")
    kaggle_subset(training, list(training.tasks)[:3], tmp_path / "tr_challenges.json")
    kaggle_subset(evaluation, list(evaluation.tasks)[:2], tmp_path / "ev_challenges.json")
    subsets = [
        "--subset",
        f"training={tmp_path / 'tr_challenges.json'}",
        "--subset",
        f"evaluation={tmp_path / 'ev_challenges.json'}",
    ]
    build = run("data", "build", *subsets, "--test-set", "evaluation", "--num-aug", "2", "-o", tmp_path / "layout")
    assert build.exit_code == 0, build.output
    identifiers = json.loads((tmp_path / "layout" / "identifiers.json").read_text())

    config = HRMConfig(
        num_puzzle_identifiers=len(identifiers),
        seq_len=900,
        hidden_size=16,
        num_heads=2,
        expansion=2,
        H_cycles=1,
        L_cycles=1,
        H_layers=1,
        L_layers=1,
        puzzle_emb_ndim=16,
        halt_max_steps=2,
        forward_dtype="float32",
    )
    torch.manual_seed(0)
    model = HRM(config)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    torch.save(to_reference(model.state_dict()), tmp_path / "step_123")
    (tmp_path / "all_config.yaml").write_text(yaml.dump(sapient_all_config(config)))
    (tmp_path / "dataset.json").write_text(json.dumps({k: getattr(config, k) for k in DATA_KEYS}))
    imported = run(
        "checkpoint",
        "import",
        tmp_path / "step_123",
        "--config",
        tmp_path / "all_config.yaml",
        "--config",
        tmp_path / "dataset.json",
        "--identifiers",
        tmp_path / "layout" / "identifiers.json",
        "-o",
        tmp_path / "ckpt",
    )
    assert imported.exit_code == 0, imported.output

    hrm_run = tmp_path / "runs" / "hrm"
    evaluated = run(
        "evaluate",
        tmp_path / "ckpt",
        "--tasks",
        tmp_path / "ev_challenges.json",
        "--identifiers",
        tmp_path / "layout",
        "-o",
        hrm_run,
    )
    assert evaluated.exit_code == 0, evaluated.output
    meta = json.loads((hrm_run / "run.json").read_text())
    network = sum(v.numel() for k, v in model.state_dict().items() if "puzzle_emb" not in k)
    assert meta["family"] == "hrm" and meta["checkpoint_step"] == 123 and meta["max_steps"] == 2
    assert meta["parameters"] == {"network": network, "puzzle_embedding": len(identifiers) * 16}
    assert json.loads((hrm_run / "score.json").read_text())["fallbacks"] == 0

    # A layout built with another seed is refused, not silently used.
    run("data", "build", *subsets, "--num-aug", "2", "--seed", "7", "-o", tmp_path / "other")
    refused = run(
        "evaluate",
        tmp_path / "ckpt",
        "--tasks",
        tmp_path / "ev_challenges.json",
        "--identifiers",
        tmp_path / "other",
        "-o",
        tmp_path / "bad",
    )
    assert refused.exit_code == 1 and "not the layout of this checkpoint" in refused.output

    # The same report and comparison as for TRM; a baseline run records no family: it shows a dash.
    run_baselines(load_tasks(tmp_path / "ev_challenges.json"), tmp_path / "runs", n_views=2)
    reported = run("report", hrm_run, tmp_path / "runs" / "copy-input", "-o", tmp_path / "report")
    assert reported.exit_code == 0, reported.output
    board = pd.read_csv(tmp_path / "report" / "leaderboard.csv").set_index("run")
    assert board.loc["hrm", "family"] == "hrm" and board.loc["hrm", "parameters"] == network
    assert board.loc["hrm", "puzzle_emb_parameters"] == len(identifiers) * 16
    assert pd.isna(board.loc["copy-input", "family"]) and pd.isna(board.loc["copy-input", "parameters"])
    assert set(board.loc[["HRM 27M", "TRM-Att 7M"], "family"]) == {"hrm", "trm"}  # quoted side by side
    md = (tmp_path / "report" / "report.md").read_text()
    hrm_line = next(line for line in md.splitlines() if line.startswith("| hrm |"))
    assert "| HRM |" in hrm_line and f"{network / 1e3:.3g}k + " in hrm_line
    baseline_line = next(line for line in md.splitlines() if line.startswith("| copy-input |"))
    assert baseline_line.count("| — |") >= 2
    quoted = md.split("### Published figures")[1]
    assert "| HRM 27M | ARC-AGI-1 public eval | 40.30% |" in quoted and "| TRM-Att 7M | ARC-AGI-1" in quoted
    assert "HRM" in (tmp_path / "report" / "report.html").read_text()

    compared = run("compare", tmp_path / "runs" / "copy-input", hrm_run, "--json")
    assert compared.exit_code == 0, compared.output
    out = json.loads(compared.output)
    assert (out["family_a"], out["family_b"]) == (None, "hrm") and out["parameters_b"]["network"] == network
    table = run("compare", tmp_path / "runs" / "copy-input", hrm_run)
    assert table.exit_code == 0, table.output
    family_row = next(line for line in table.output.splitlines() if "model family" in line)
    assert "-" in family_row and "HRM" in family_row and f"{network:,}" in table.output


# ---------------------------------------------------------------- presets and training


def test_presets_are_the_paper_hrm_on_the_arc1_recipe():
    paper, arc1 = load_config("hrm-arc1"), load_config("arc1")
    assert paper.model["family"] == "hrm" and paper.data == arc1.data
    assert {k: v for k, v in vars(paper.train).items() if k != "ema"} == {
        k: v for k, v in vars(arc1.train).items() if k != "ema"
    }
    fields = {k: v for k, v in paper.model.items() if k != "family"}
    config = HRMConfig(**fields, num_puzzle_identifiers=876_406, seq_len=900)
    assert config == HRMConfig(num_puzzle_identifiers=876_406)  # the paper config is our default
    with torch.device("meta"):
        state = HRM(config).state_dict()
    network = sum(v.numel() for k, v in state.items() if "puzzle_emb" not in k)
    assert network == 27_277_314 and state["inner.puzzle_emb.weights"].numel() == 876_406 * 512
    demo = load_config("hrm-demo-cpu")
    assert demo.model["family"] == "hrm" and demo.data == load_config("demo-cpu").data


@pytest.mark.e2e
def test_hrm_trains_with_the_same_trainer_and_its_loss_falls(tmp_path):
    (tmp_path / "hrm.toml").write_text(HRM_TINY)
    train(load_config(tmp_path / "hrm.toml"), tmp_path / "run")
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [m["train/loss"] for m in lines if "train/loss" in m]
    assert len(losses) == 60 and all("train/q_continue_loss" in m for m in lines if "train/loss" in m)
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.9 * first, (first, last)
    ((_, last_checkpoint),) = checkpoint_dirs(tmp_path / "run")
    assert read_manifest(last_checkpoint)[0]["family"] == "hrm"


def test_hrm_builder_names_parse_like_reference_names():
    from augment import parse_name

    assert parse_name("007bbfc7_t3_0213456789") == parse_name("007bbfc7|||t3|||0213456789")
    assert parse_name("AboveBelow1")[1].is_identity
    with pytest.raises(ValueError):
        parse_name("007bbfc7_t3_0013456789")  # not a permutation fixing black
