"""Checkpoints and data through the Hugging Face Hub, offline: a fake huggingface_hub cache built in a
temporary folder (models--OWNER--REPO/{blobs,snapshots/<commit>,refs/main}, HF_HUB_OFFLINE=1) holds a
tiny reference-format TRM with its all_config.yaml; `evaluate hf://...` pulls, rebuilds the layout,
imports and scores it. Nothing here reaches the network; pushes are dry runs."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

pytest.importorskip("huggingface_hub")

from harness.cli.main import cli  # noqa: E402
from harness.core.errors import DataError  # noqa: E402
from harness.core.hub import parse_address  # noqa: E402
from harness.core.sources import load_tasks  # noqa: E402
from harness.infer.hub_checkpoint import build_recipe_layout, infer_recipe  # noqa: E402
from harness.infer.published import Recipe  # noqa: E402
from models import TRM, TRMConfig  # noqa: E402
from models.reference import to_reference  # noqa: E402
from tests.helpers import TINY_REFERENCE_ARCH

TOKEN = "hf_SECRETtokenNeverPrinted0123456789"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RECIPE = Recipe(
    subsets=("training=arc-agi-1/training", "evaluation=arc-agi-1/evaluation", "concept=conceptarc"),
    test_set="evaluation",
    num_aug=1,
)
ROOT = Path(__file__).resolve().parents[1]


def put(cache: Path, repo: str, files: dict[str, bytes], kind: str = "models") -> dict[str, Path]:
    """Lay `files` into a huggingface_hub cache as the client does: content under blobs/ (named by
    sha256, as large files are), a link per file under snapshots/<commit>/, refs/main -> commit."""
    root = cache / f"{kind}--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(COMMIT)
    links = {}
    for name, data in files.items():
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = root / "snapshots" / COMMIT / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
        links[name] = link
    return links


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    """An offline environment: fake Hub cache, trm-eval cache and registry in tmp_path, a token set."""
    for key, value in {
        "HF_HOME": tmp_path / "hf",
        "HF_HUB_CACHE": tmp_path / "hf" / "hub",
        "TRM_EVAL_CACHE": tmp_path / "trm-eval",
        "HF_HUB_OFFLINE": "1",
        "HF_TOKEN": TOKEN,
        "TRM_EVAL_REGISTRY": tmp_path / "registry.toml",
    }.items():
        monkeypatch.setenv(key, str(value))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    (tmp_path / "registry.toml").write_text("")
    return tmp_path


def tiny_reference_checkpoint(hub: Path) -> dict[str, Path]:
    """A reference-code TRM (compiled-module keys) for the ARC-1 + ConceptARC layout at num_aug 1, with
    the all_config.yaml the reference writes (arch nested, data_paths naming the layout)."""
    layout = build_recipe_layout(RECIPE, None, lambda m: None)
    count = len(json.loads((layout / "identifiers.json").read_text()))
    arch = {
        "name": "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1",
        **TINY_REFERENCE_ARCH,
    }
    config = {"arch": arch, "data_paths": ["data/arc1concept-aug-1"], "global_batch_size": 768, "lr": 1e-4}
    torch.manual_seed(0)
    model = TRM(TRMConfig.from_reference({**arch, "seq_len": 900, "vocab_size": 12, "num_puzzle_identifiers": count}))
    path = hub / "step_7"
    torch.save(to_reference(model.state_dict()), path)
    files = {
        "sub/step_7": path.read_bytes(),
        "sub/all_config.yaml": yaml.safe_dump(config).encode(),
        "sub/trm.py": b"raise SystemExit('never run')\n",
    }
    return put(hub / "hf" / "hub", "fake/repo", files)


def two_eval_tasks(path: Path) -> Path:
    evaluation = load_tasks("arc-agi-1/evaluation")
    chosen = {t: evaluation[t].to_json() for t in list(evaluation.tasks)[:2]}
    path.write_text(
        json.dumps(
            {k: {"train": v["train"], "test": [{"input": x["input"]} for x in v["test"]]} for k, v in chosen.items()}
        )
    )
    path.with_name(path.name.replace("challenges", "solutions")).write_text(
        json.dumps({k: [x["output"] for x in v["test"]] for k, v in chosen.items()})
    )
    return path


def test_addresses():
    a = parse_address("hf://arcprize/trm_arc_prize_verification/arc_v1_public@main")
    assert (a.repo_id, a.path, a.revision, a.repo_type) == (
        "arcprize/trm_arc_prize_verification",
        "arc_v1_public",
        "main",
        "model",
    )
    b = parse_address("hf://datasets/sapientinc/sudoku-extreme@abc/test.csv")
    assert (b.repo_id, b.path, b.revision, b.repo_type) == ("sapientinc/sudoku-extreme", "test.csv", "abc", "dataset")
    assert str(b) == "hf://datasets/sapientinc/sudoku-extreme/test.csv@abc"
    for bad in ("hf://onlyowner", "hf://a/b/../c", "hf://a/b@x/c@y"):
        with pytest.raises(DataError, match="not a Hub address"):
            parse_address(bad)


def test_recipe_inferred_from_the_reference_data_path():
    lines: list[str] = []
    one = infer_recipe({"data_paths": ["data/arc1concept-aug-1000"]}, None, "all_config.yaml", lines.append)
    assert one.subsets[-1] == "concept=conceptarc" and one.num_aug == 1000 and one.seed == 42
    two = infer_recipe({"data_paths": ["data/arc2concept-aug-1000"]}, None, "all_config.yaml", lines.append)
    assert two.subsets[0] == "training2=arc-agi-2-kaggle/training" and two.test_set == "evaluation2"
    assert "inferred" in lines[0] and "num_aug 1000" in lines[0]
    with pytest.raises(DataError, match="cannot tell the puzzle layout"):
        infer_recipe({"data_paths": ["data/mystery"]}, None, "all_config.yaml", lines.append)


def test_packaged_conceptarc_is_the_reference_copy():
    shared = ROOT.parent / "shared" / "data" / "conceptarc" / "arc-agi_concept_challenges.json"
    if not shared.is_file():
        pytest.skip("no ../shared copy of ConceptARC")
    from harness.data.conceptarc import CHALLENGES, concept_challenges

    assert concept_challenges() == CHALLENGES and CHALLENGES.read_bytes() == shared.read_bytes()
    with pytest.raises(DataError, match="--concept"):
        concept_challenges(ROOT / "missing.json")


@pytest.mark.e2e
def test_evaluate_hub_checkpoint_end_to_end(hub):
    tiny_reference_checkpoint(hub)
    tasks = two_eval_tasks(hub / "ev_challenges.json")
    (hub / "registry.toml").write_text(
        '[checkpoints."fake/tiny"]\naddress = "hf://fake/repo/sub"\nfamily = "trm"\nsize = "1 MB"\n'
        f'tasks = "{tasks}"\nscores = [{{ score = 12.5, metric = "pass@2", set = "tiny set", source = "a test" }}]\n'
    )
    from harness.infer.published import _load

    _load.cache_clear()
    runner = CliRunner()
    first = runner.invoke(cli, ["evaluate", "hf://fake/repo/sub", "--tasks", str(tasks), "-o", str(hub / "run")])
    assert first.exit_code == 0, first.output
    assert "layout inferred from data_paths data/arc1concept-aug-1" in first.output
    meta = json.loads((hub / "run" / "run.json").read_text())
    score = json.loads((hub / "run" / "score.json").read_text())
    assert score["fallbacks"] == 0 and 0.0 <= score["score"]["score"] <= 1.0 and meta["checkpoint_step"] == 7
    manifest = json.loads((Path(meta["checkpoint"]) / "manifest.json").read_text())
    layout = build_recipe_layout(RECIPE, None, lambda m: None)
    assert (
        manifest["puzzle_identifiers"]["sha256"]
        == json.loads((layout / "layout.json").read_text())["identifiers_sha256"]
    )
    assert meta["published"]["address"] == "hf://fake/repo/sub" and meta["published"]["commit"] == COMMIT

    # By registry name: the cached layout and import are reused, the published number shown as theirs.
    second = runner.invoke(cli, ["evaluate", "fake/tiny", "--tasks", str(tasks), "-o", str(hub / "run2")])
    assert second.exit_code == 0, second.output
    assert "imported before" in second.output and "cached in" in second.output
    assert "published (theirs, not reproduced by this run): pass@2 12.5% on tiny set (a test)" in second.output
    assert json.loads((hub / "run2" / "run.json").read_text())["published"]["scores"][0]["score"] == 12.5
    assert TOKEN not in first.output + second.output


@pytest.mark.e2e
def test_hash_mismatch_and_corrupt_download_are_refused(hub):
    links = tiny_reference_checkpoint(hub)
    runner = CliRunner()
    pulled = runner.invoke(cli, ["checkpoint", "pull", "hf://fake/repo/sub"])
    assert pulled.exit_code == 0, pulled.output
    digest = hashlib.sha256(links["sub/step_7"].read_bytes()).hexdigest()
    assert f"sha256 {digest}" in pulled.output
    records = hub / "trm-eval" / "hashes.json"
    assert json.loads(records.read_text()) == {"model:fake/repo/sub/step_7": digest}

    records.write_text(json.dumps({"model:fake/repo/sub/step_7": "f" * 64}))
    refused = runner.invoke(cli, ["checkpoint", "pull", "hf://fake/repo/sub"])
    assert refused.exit_code == 1 and "differs from the ffffffffffffffff... recorded" in refused.output
    assert len(refused.output.strip().splitlines()) == 1

    (hub / "registry.toml").write_text(
        f'[checkpoints."fake/pinned"]\naddress = "hf://fake/repo/sub"\nfamily = "trm"\nsize = "1 MB"\n'
        f'tasks = "x"\nsha256 = "{"0" * 64}"\n'
    )
    from harness.infer.published import _load

    _load.cache_clear()
    records.unlink()
    pinned = runner.invoke(cli, ["checkpoint", "pull", "fake/pinned"])
    assert pinned.exit_code == 1 and "differs from the registry's" in pinned.output

    blob = links["sub/step_7"].resolve()
    blob.write_bytes(blob.read_bytes()[:-10])
    corrupt = runner.invoke(cli, ["checkpoint", "import", "hf://fake/repo/sub", "-o", str(hub / "ckpt")])
    assert corrupt.exit_code == 1 and "corrupt download" in corrupt.output
    assert len(corrupt.output.strip().splitlines()) == 1 and not (hub / "ckpt").exists()

    missing = runner.invoke(cli, ["checkpoint", "pull", "hf://fake/absent"])
    assert missing.exit_code == 1 and "HF_HUB_OFFLINE is set" in missing.output
    assert TOKEN not in pulled.output + refused.output + corrupt.output + missing.output


def test_puzzle_csv_through_a_hub_data_set(hub):
    from harness.core.puzzle_sources import load_generated, load_puzzles, write_csv

    puzzles = load_generated("sudoku-6x6/train")
    write_csv(puzzles, hub / "test.csv")
    put(hub / "hf" / "hub", "fake/sudoku", {"test.csv": (hub / "test.csv").read_bytes()}, kind="datasets")
    loaded = load_puzzles("hf://datasets/fake/sudoku/test.csv")
    assert loaded.name == "hf://datasets/fake/sudoku/test.csv" and len(loaded) == len(puzzles)


@pytest.mark.e2e
def test_checkpoint_list_names_the_arc_prize_checkpoints(monkeypatch):
    monkeypatch.delenv("TRM_EVAL_REGISTRY", raising=False)
    out = CliRunner().invoke(cli, ["checkpoint", "list"])
    assert out.exit_code == 0, out.output
    for text in (
        "arcprize/arc-agi-1  hf://arcprize/trm_arc_prize_verification/arc_v1_public",
        "published: 40.0% pass@2 on ARC-AGI-1 semi-private",
        "arcprize/arc-agi-2",
        "published: 6.2% pass@2 on ARC-AGI-2 semi-private",
        "trm-eval evaluate arcprize/arc-agi-1 --tasks arc-agi-1/evaluation",
    ):
        assert text in out.output


@pytest.mark.e2e
def test_push_dry_run_lists_files_and_calls_without_the_client(hub):
    tiny_reference_checkpoint(hub)
    runner = CliRunner()
    tasks = two_eval_tasks(hub / "ev_challenges.json")
    assert (
        runner.invoke(cli, ["evaluate", "hf://fake/repo/sub", "--tasks", str(tasks), "-o", str(hub / "run")]).exit_code
        == 0
    )
    ckpt = json.loads((hub / "run" / "run.json").read_text())["checkpoint"]
    code = (
        "import sys; from harness.cli.main import cli\n"
        f"cli(['checkpoint', 'push', {ckpt!r}, 'me/tiny-trm', '--run', {str(hub / 'run')!r}, '--dry-run'],"
        " standalone_mode=False)\n"
        "assert 'huggingface_hub' not in sys.modules, 'the dry run imported huggingface_hub'\n"
    )
    env = {**os.environ, "HF_TOKEN": TOKEN}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for text in (
        "file model.safetensors",
        "file manifest.json",
        "file identifiers.json",
        "file README.md",
        "call HfApi().create_repo(repo_id='me/tiny-trm'",
        "call HfApi().upload_folder(repo_id='me/tiny-trm'",
    ):
        assert text in out, out
    card = yaml.safe_load(out.split("---\n")[1])
    result = card["model-index"][0]["results"][0]
    assert result["dataset"]["revision"] == json.loads((hub / "run" / "score.json").read_text())["tasks_hash"]
    assert {m["type"] for m in result["metrics"]} >= {"pass@2"}
    assert TOKEN not in out + done.stderr
