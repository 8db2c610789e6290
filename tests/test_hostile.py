"""Hostile inputs, command by command: each gets exit 1 (bad data) or 2 (bad usage), no traceback,
one line naming the file and the field or key, and nothing at the output path when it failed.

Running as root, a read-only folder is still writable, so "cannot write" is provoked by a path
under an existing regular file, by an existing folder where the file should go, and by
monkeypatching the OS calls (mkstemp refused: read-only; fsync failing: disk full).
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result

from augment import format_name, random_transform
from harness.cli.main import cli
from harness.core.io import write_text
from harness.data.encoding import encode_grid
from harness.infer.checkpoints import save_checkpoint
from harness.kaggle.stages import _rate
from harness.train.metrics import read_metrics
from models import TRM, TRMConfig
from tests.helpers import TINY, make_task

pytestmark = pytest.mark.e2e

DEEP = "[" * 200_000 + "]" * 200_000


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused(result: Result, code: int, *words: str) -> str:
    """The error line of a refused command, checked: exit `code`, no traceback, `words` in one line."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1, result.output
    line = [x for x in result.output.splitlines() if x.strip()][-1]
    assert line == errors[0], result.output
    for word in words:
        assert word in line, (word, line)
    return line


def no_output(*paths: Path) -> None:
    for path in paths:
        assert not path.exists(), path
        if path.parent.is_dir():
            assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")], list(path.parent.iterdir())


# ---------------------------------------------------------------- tiny fixtures, built once per module


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A two-task Kaggle pair, a valid predictions file and submission for it, and the tiny training config."""
    root = tmp_path_factory.mktemp("files")
    tasks = {"aaaa0001": make_task(), "bbbb0002": make_task()}
    challenges = {
        k: {"train": v["train"], "test": [{"input": t["input"]} for t in v["test"]]} for k, v in tasks.items()
    }
    (root / "arc-agi_mini_challenges.json").write_text(json.dumps(challenges))
    (root / "arc-agi_mini_solutions.json").write_text(
        json.dumps({k: [t["output"] for t in v["test"]] for k, v in tasks.items()})
    )
    lines = [
        {"task_id": k, "test_index": i, "aug": None, "grid": t["output"]}
        for k, v in tasks.items()
        for i, t in enumerate(v["test"])
    ]
    (root / "preds.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    submission = {
        k: [{"attempt_1": t["output"], "attempt_2": t["output"]} for t in v["test"]] for k, v in tasks.items()
    }
    (root / "submission.json").write_text(json.dumps(submission))
    (root / "tiny.toml").write_text(TINY)
    return {
        "config": root / "tiny.toml",
        "tasks": root / "arc-agi_mini_challenges.json",
        "solutions": root / "arc-agi_mini_solutions.json",
        "preds": root / "preds.jsonl",
        "submission": root / "submission.json",
    }


@pytest.fixture(scope="module")
def ckpt(files, tmp_path_factory) -> Path:
    """A random 4x4-canvas TRM whose layout has 6 views of each task."""
    rng = np.random.default_rng(0)
    identifiers = ["<blank>"]
    for task_id in ("aaaa0001", "bbbb0002"):
        identifiers += [task_id] + [format_name(task_id, random_transform(rng)) for _ in range(5)]
    torch.manual_seed(0)
    model = TRM(
        TRMConfig(
            num_puzzle_identifiers=len(identifiers),
            seq_len=16,
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
    )
    folder = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "ckpt", model, step=1, identifiers=identifiers)
    (folder / "identifiers.json").write_text(json.dumps(identifiers))
    return folder


@pytest.fixture(scope="module")
def evaluated(files, ckpt, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("evaluated") / "run"
    result = run("evaluate", ckpt, "--tasks", files["tasks"], "--chunk-size", 8, "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Three steps of the tiny config: a run folder with one checkpoint (step_3) to damage."""
    root = tmp_path_factory.mktemp("trained")
    (root / "tiny.toml").write_text(TINY)
    result = run("train", root / "tiny.toml", "-o", root / "run", "--stop-after", 3)
    assert result.exit_code == 0, result.output
    return root / "run"


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def blocker(tmp_path) -> Path:
    """A regular file standing where an output folder would have to be."""
    path = tmp_path / "blocker"
    path.write_text("not a folder")
    return path


def read_only(monkeypatch) -> None:
    """As if every output folder were read-only (root could write to a chmod-ed one)."""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("harness.core.io.tempfile.mkstemp", refuse)


def disk_full(monkeypatch, only: str = "") -> None:
    """As if the disk filled up while a file (whose temp name contains `only`) was written."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if only in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr("harness.core.io.os.fsync", fsync)


# ---------------------------------------------------------------- 2. output locations


def output_commands(files: dict[str, Path], ckpt: Path, evaluated: Path, target: Path, batch: Path) -> dict:
    """Each command with `target` as the output it is told to write (a file or a folder)."""
    t, p, s, outputs = files["tasks"], files["preds"], files["submission"], batch.with_name("step_1_all_preds.0")
    return {
        "vote -o": (["vote", p, "--tasks", t, "-o", target], target),
        "vote --candidates": (
            ["vote", p, "--tasks", t, "-o", target.parent / "ok.json", "--candidates", target],
            target,
        ),
        "score --csv": (["score", s, "--against", t, "--csv", target], target),
        "report -o": (["report", evaluated, "-o", target], target / "report.html"),
        "predict -o": (["predict", ckpt, "--tasks", t, "-o", target], target / "predictions"),
        "evaluate -o": (["evaluate", ckpt, "--tasks", t, "-o", target], target / "submission.json"),
        "data build -o": (
            ["data", "build", "--subset", f"mini={t}", "--num-aug", 1, "-o", target],
            target / "layout.json",
        ),
        "train -o": (["train", files["config"], "-o", target], target / "config.toml"),
        "checkpoint run-batch --out": (["checkpoint", "run-batch", ckpt, "--batch", batch, "--out", target], target),
        "predictions import-reference -o": (
            [
                "predictions",
                "import-reference",
                outputs,
                "--identifiers",
                ckpt / "identifiers.json",
                "--tasks",
                t,
                "-o",
                target,
            ],
            target,
        ),
    }


@pytest.fixture(scope="module")
def batch(ckpt, tmp_path_factory) -> Path:
    """A batch for `checkpoint run-batch` and, beside it, reference outputs for `predictions import-reference`."""
    path = tmp_path_factory.mktemp("batch") / "batch.pt"
    torch.save({"inputs": torch.full((2, 16), 2, dtype=torch.int32), "puzzle_identifiers": torch.tensor([1, 7])}, path)
    tokens = torch.from_numpy(encode_grid(np.array(make_task()["test"][0]["input"]), 30)[None].astype(np.int32))
    torch.save(
        {"inputs": tokens, "puzzle_identifiers": torch.tensor([1]), "preds": tokens},
        path.with_name("step_1_all_preds.0"),
    )
    return path


COMMANDS = [
    "vote -o",
    "vote --candidates",
    "score --csv",
    "report -o",
    "predict -o",
    "evaluate -o",
    "data build -o",
    "train -o",
    "checkpoint run-batch --out",
    "predictions import-reference -o",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_output_under_a_file(command, files, ckpt, evaluated, batch, blocker):
    args, _ = output_commands(files, ckpt, evaluated, blocker / "sub" / "out", batch)[command]
    refused(run(*args), 1, "cannot write", f"{blocker} is a file, not a folder")
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    "command",
    ["vote -o", "score --csv", "report -o", "evaluate -o", "data build -o", "train -o", "checkpoint run-batch --out"],
)
def test_output_in_a_read_only_folder(command, files, ckpt, evaluated, batch, tmp_path, monkeypatch):
    args, final = output_commands(files, ckpt, evaluated, tmp_path / "out", batch)[command]
    read_only(monkeypatch)
    refused(run(*args), 1, "cannot write: Permission denied")
    no_output(final)


@pytest.mark.parametrize(
    "command",
    [
        "vote -o",
        "vote --candidates",
        "score --csv",
        "evaluate -o",
        "data build -o",
        "train -o",
        "checkpoint run-batch --out",
        "predictions import-reference -o",
    ],
)
def test_output_on_a_full_disk(command, files, ckpt, evaluated, batch, tmp_path, monkeypatch):
    target = tmp_path / "out" / "target.out"
    args, final = output_commands(files, ckpt, evaluated, target, batch)[command]
    disk_full(monkeypatch, only=f".{target.name}." if final == target else "")
    line = refused(run(*args), 1, "cannot write: No space left on device")
    assert str(tmp_path / "out") in line
    no_output(final)


def test_output_file_that_is_a_folder(files, tmp_path):
    (tmp_path / "scores.csv").mkdir()
    refused(
        run("score", files["submission"], "--against", files["tasks"], "--csv", tmp_path / "scores.csv"),
        2,
        "scores.csv",
        "directory",
    )  # click's own check: a usage error
    # The default CSV beside a submission in a folder where that name is taken by a folder.
    sub = tmp_path / "s.json"
    shutil.copy(files["submission"], sub)
    (tmp_path / "s.scores.csv").mkdir()
    refused(run("score", sub, "--against", files["tasks"]), 1, "s.scores.csv: cannot write")


def test_default_csv_beside_a_submission_on_a_full_disk(files, tmp_path, monkeypatch):
    sub = tmp_path / "s.json"
    shutil.copy(files["submission"], sub)
    disk_full(monkeypatch)
    refused(run("score", sub, "--against", files["tasks"]), 1, "s.scores.csv: cannot write: No space left on device")
    no_output(tmp_path / "s.scores.csv")


def test_training_checkpoint_on_a_full_disk(tiny, tmp_path, monkeypatch):
    disk_full(monkeypatch, only="state.pt")
    refused(
        run("train", tiny, "-o", tmp_path / "run", "--stop-after", 3),
        1,
        "state.pt: cannot write: No space left on device",
    )
    assert not (tmp_path / "run" / "checkpoints" / "step_3").exists()


def test_training_into_a_folder_under_a_file(tiny, blocker):
    refused(run("train", tiny, "-o", blocker / "run"), 1, "cannot write", f"{blocker} is a file, not a folder")


# ---------------------------------------------------------------- 3. config values and options


CONFIG_CASES = {
    "model.hidden_size=0": ("[model]", "hidden_size", ">= 1"),
    "model.num_heads=3": ("[model]", "hidden_size 32 is not divisible by num_heads 3"),
    'model.forward_dtype="float8"': ("[model]", "forward_dtype", "'float32', 'bfloat16'"),
    "train.global_batch_size=0": ("[train]", "global_batch_size", "allowed: >= 1"),
    "train.global_batch_size=-8": ("[train]", "global_batch_size", "allowed: >= 1"),
    "train.log_every=0": ("[train]", "log_every", "allowed: >= 1"),
    "train.checkpoint_every=0": ("[train]", "checkpoint_every", "allowed: >= 1"),
    "train.lr=nan": ("[train]", "lr", "finite"),
    "train.lr=inf": ("[train]", "lr", "finite"),
    "train.lr=-1e-4": ("[train]", "lr", "allowed: >= 0.0"),
    "train.workers=-1": ("[train]", "workers", "allowed: 0 to 256"),
    "train.ema_rate=2.0": ("[train]", "ema_rate", "allowed: 0.0 to 1.0"),
    "train.max_steps=-5": ("[train]", "max_steps", "allowed: >= 0"),
    "data.canvas=0": ("[data]", "canvas", "allowed: 1 to 64"),
    "data.canvas=2": ("[data]", "max_side (3) must not exceed canvas (2)"),
    "data.canvas=100000": ("[data]", "canvas", "allowed: 1 to 64"),
    "data.num_aug=100000000": ("[data]", "num_aug", "allowed: 0 to 100000"),
    "predict.batch_size=0": ("[predict]", "batch_size", "allowed: >= 1"),
    "predict.chunk_size=0": ("[predict]", "chunk_size", "allowed: >= 1"),
    "predict.threshold=nan": ("[predict]", "threshold", "finite"),
    "train.bogus=1": ("[train]", "unknown key(s) ['bogus']"),
}


@pytest.mark.parametrize("override", sorted(CONFIG_CASES))
def test_config_values_out_of_range(override, tiny, tmp_path):
    refused(run("train", tiny, "--set", override, "-o", tmp_path / "run"), 1, "tiny.toml", *CONFIG_CASES[override])
    no_output(tmp_path / "run")


ENGINE_CASES = {
    ("--batch-size", "0"): "'--batch-size': 0 is not in the range x>=1",
    ("--batch-size", "-4"): "'--batch-size': -4 is not in the range x>=1",
    ("--chunk-size", "0"): "'--chunk-size': 0 is not in the range x>=1",
    ("--threshold", "nan"): "threshold = nan must be a finite number",
    ("--threshold", "-inf"): "threshold = -inf must be a finite number",
}


@pytest.mark.parametrize("option", sorted(ENGINE_CASES))
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_engine_options(command, option, files, ckpt, tmp_path):
    refused(run(command, ckpt, "--tasks", files["tasks"], *option, "-o", tmp_path / "out"), 2, ENGINE_CASES[option])
    no_output(tmp_path / "out")


BUILD_CASES = {
    ("--num-aug", "-1"): "num_aug = -1 is out of range (allowed: 0 to 100000)",
    ("--seed", "-1"): "seed = -1 is out of range",
    ("--max-side", "0"): "max_side = 0 is out of range (allowed: 1 to 30)",
    ("--max-side", "31"): "max_side = 31 is out of range (allowed: 1 to 30)",
}


@pytest.mark.parametrize("option", sorted(BUILD_CASES))
def test_data_build_options(option, files, tmp_path):
    refused(
        run("data", "build", "--subset", f"mini={files['tasks']}", *option, "-o", tmp_path / "l"),
        2,
        BUILD_CASES[option],
    )
    no_output(tmp_path / "l")


def test_data_build_refuses_an_absurd_num_aug_at_once(files, tmp_path):
    start = time.perf_counter()
    line = refused(
        run("data", "build", "--num-aug", 100_000_000, "-o", tmp_path / "l"),
        2,
        "'--num-aug'",
        "limit of 100,000",
        "204.8 GB per task",
    )
    assert time.perf_counter() - start < 5, line
    no_output(tmp_path / "l")


def test_a_diverging_run_stops_and_keeps_its_last_good_checkpoint(tiny, tmp_path):
    # Weights frozen for 3 steps (a good checkpoint at step 3), then AdamW at lr 1e30 blows them up.
    result = run(
        "train",
        tiny,
        "-o",
        tmp_path / "run",
        "--set",
        'train.optimizer="adamw"',
        "--set",
        "train.lr=1e30",
        "--set",
        "train.freeze_weights_steps=3",
        "--set",
        "train.lr_warmup_steps=0",
    )
    refused(result, 1, str(tmp_path / "run"), "training loss is nan at step 5", "step_3, is kept")
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step_3"]
    assert [row["step"] for row in read_metrics(tmp_path / "run" / "metrics.jsonl")] == [1, 2, 3, 4]


# ---------------------------------------------------------------- 4. damaged run folders


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    return Path(shutil.copytree(trained, tmp_path / "run"))


class CodeCarrier:
    """Unpickling this would call print: any call proves code ran."""

    def __reduce__(self):
        return (print, ("CODE RAN",))


@pytest.mark.parametrize(
    "damage, words",
    [
        ("truncate", ("state.pt: not a readable torch checkpoint", "remove", "step_3")),
        ("code", ("state.pt: refused: it holds objects other than tensors",)),
        ("keys", ("state.pt: not a training state (no batches_consumed",)),
        ("rank", ("rank0.pt: not a readable torch checkpoint",)),
    ],
)
def test_resume_from_a_damaged_state(run_copy, damage, words):
    step = run_copy / "checkpoints" / "step_3"
    state = step / "state.pt"
    if damage == "truncate":
        state.write_bytes(state.read_bytes()[:1000])
    elif damage == "code":
        state.write_bytes(pickle.dumps({"step": CodeCarrier()}, protocol=2))
    elif damage == "keys":
        torch.save({"step": 3}, state)
    else:
        (step / "rank0.pt").write_bytes(b"\x00" * 10)
    result = run("train", "--resume", run_copy, "--stop-after", 4)
    refused(result, 1, *words)
    assert "CODE RAN" not in result.output
    assert not (run_copy / "checkpoints" / "step_4").exists()


def test_a_torn_metrics_line_is_dropped_on_resume(run_copy):
    metrics = run_copy / "metrics.jsonl"
    with open(metrics, "a") as fh:
        fh.write('{"step": 4, "lr": 0.00')  # what a kill in the middle of a write leaves
    assert [r["step"] for r in read_metrics(metrics)] == [1, 2, 3]
    assert _rate(run_copy) == read_metrics(metrics)[-1]["steps_per_s"]  # the Kaggle kernel's reader too
    result = run("train", "--resume", run_copy, "--stop-after", 4)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [1, 2, 3, 4]


def test_a_bad_metrics_line_before_the_last_is_an_error(run_copy):
    metrics = run_copy / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    metrics.write_text("\n".join([lines[0], "{oops", *lines[1:]]) + "\n")
    refused(run("train", "--resume", run_copy, "--stop-after", 4), 1, "metrics.jsonl:2: malformed JSON")


def test_a_damaged_prediction_chunk_is_recomputed(files, ckpt, tmp_path):
    out = tmp_path / "out"
    assert run("predict", ckpt, "--tasks", files["tasks"], "--chunk-size", 5, "-o", out).exit_code == 0
    chunk = out / "predictions" / "chunk-000001.npz"
    chunk.write_bytes(chunk.read_bytes()[:100])
    result = run("predict", ckpt, "--tasks", files["tasks"], "--chunk-size", 5, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"warning: {chunk}: damaged predictions shard" in result.output and "recomputing" in result.output
    assert "5 views predicted" in result.output
    # Chunks of other views (a rerun with other options into the same folder) are recomputed too.
    result = run("predict", ckpt, "--tasks", files["tasks"], "--chunk-size", 5, "--max-aug", 2, "-o", out)
    assert result.exit_code == 0, result.output
    assert "holds other views than this run's" in result.output and "8 views predicted" in result.output


def tamper(chunk: Path, **changes) -> None:
    with np.load(chunk) as shard:
        arrays = {k: shard[k] for k in shard.files}
    arrays |= changes
    with open(chunk, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize(
    "case, words",
    [
        ("cells", ("cells: values ", "..12, expected colours 0..9")),
        ("shapes", ("shapes: a int64 array of shape (8, 3), expected (8, 2)",)),
        ("offsets", ("shapes and offsets point outside the cells",)),
        ("objects", ("damaged predictions shard", "Object arrays cannot be loaded")),
        ("task", ("task zzzz0000: not in",)),
        ("truncated", ("damaged predictions shard",)),
        ("missing", ("not a predictions shard (no q_halt)",)),
    ],
)
def test_report_refuses_bad_prediction_files(evaluated, tmp_path, case, words):
    run_dir = Path(shutil.copytree(evaluated, tmp_path / "run"))
    chunk = run_dir / "predictions" / "chunk-000000.npz"
    with np.load(chunk) as shard:
        cells, shapes, task_ids = shard["cells"], shard["shapes"], shard["task_ids"]
    if case == "cells":
        tamper(chunk, cells=np.where(np.arange(len(cells)) == 0, 12, cells).astype(np.uint8))
    elif case == "shapes":
        tamper(chunk, shapes=np.zeros((len(shapes), 3), np.int64))
    elif case == "offsets":
        tamper(chunk, offsets=np.full(len(shapes), len(cells), np.int64))
    elif case == "objects":
        tamper(chunk, task_ids=np.array([object()] * len(task_ids), dtype=object))
    elif case == "task":
        tamper(chunk, task_ids=np.array(["zzzz0000"] * len(task_ids)))
    elif case == "truncated":
        chunk.write_bytes(chunk.read_bytes()[:200])
    else:
        with np.load(chunk) as shard:
            arrays = {k: shard[k] for k in shard.files if k != "q_halt"}
        np.savez(chunk.with_suffix(""), **arrays)
    refused(run("report", run_dir, "-o", tmp_path / "report"), 1, str(chunk), *words)
    no_output(tmp_path / "report" / "report.html")


# ---------------------------------------------------------------- 5. deep JSON, in every reader


def test_deep_json_in_every_reader(files, ckpt, evaluated, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    t = files["tasks"]
    cases = [
        ("vote", files["preds"], "--tasks", deep),  # a challenges file
        ("score", deep, "--against", t),  # a submission
        ("validate", deep, "--against", t),
        ("score", files["submission"], "--solutions", deep),
        ("predict", ckpt, "--tasks", t, "--identifiers", deep, "-o", tmp_path / "p"),
        ("checkpoint", "import", tmp_path / "x.pt", "--config", deep, "-o", tmp_path / "ck"),
    ]
    torch.save({}, tmp_path / "x.pt")
    for args in cases:
        refused(run(*args), 1, str(deep), "JSON nested too deeply (more than 100 levels")
    jsonl = tmp_path / "deep.jsonl"
    jsonl.write_text(DEEP + "\n")
    refused(run("vote", jsonl, "--tasks", t, "-o", tmp_path / "s.json"), 1, f"{jsonl}:1: JSON nested too deeply")
    run_dir = Path(shutil.copytree(evaluated, tmp_path / "run"))
    (run_dir / "score.json").write_text(DEEP)
    refused(run("report", run_dir, "-o", tmp_path / "r"), 1, "score.json: JSON nested too deeply")
    (run_dir / "score.json").unlink()
    shutil.copy(evaluated / "score.json", run_dir / "score.json")
    (run_dir / "run.json").write_text('{"a": ' * 150 + "1" + "}" * 150)
    refused(run("compare", run_dir, evaluated), 1, "run.json: JSON nested too deeply")
    no_output(tmp_path / "s.json", tmp_path / "p", tmp_path / "ck", tmp_path / "r")


def test_deep_json_in_the_real_binary(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", deep, "--against", "arc-agi-1/evaluation"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"Error: {deep}: JSON nested too deeply (more than 100 levels of arrays and objects; ARC data needs 6)"
    ]


# ---------------------------------------------------------------- 6. ambiguous data


def test_a_task_defined_twice_is_refused(files, tmp_path):
    text = files["tasks"].read_text()
    body = json.loads(text)["aaaa0001"]
    twice = tmp_path / "arc-agi_twice_challenges.json"
    twice.write_text(text[:-1] + ', "aaaa0001": ' + json.dumps(body) + "}")
    for args in (
        ("vote", files["preds"], "--tasks", twice, "-o", tmp_path / "s.json"),
        ("validate", files["submission"], "--against", twice),
        ("score", files["submission"], "--against", twice),
    ):
        refused(run(*args), 1, str(twice), "duplicate key 'aaaa0001'")
    no_output(tmp_path / "s.json")


def test_duplicate_keys_in_a_submission_and_a_prediction_line(files, tmp_path):
    sub = tmp_path / "sub.json"
    text = files["submission"].read_text()
    sub.write_text(text[:-1] + ', "bbbb0002": []}')
    refused(run("validate", sub, "--against", files["tasks"]), 1, str(sub), "duplicate key 'bbbb0002'")
    refused(run("score", sub, "--against", files["tasks"], "--allow-invalid"), 1, "duplicate key 'bbbb0002'")
    no_output(tmp_path / "sub.scores.csv")
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"task_id": "aaaa0001", "test_index": 0, "test_index": 1, "grid": [[1]]}\n')
    refused(
        run("vote", preds, "--tasks", files["tasks"], "-o", tmp_path / "s.json"),
        1,
        f"{preds}:1: duplicate key 'test_index'",
    )
    no_output(tmp_path / "s.json")


BAD_IDS = {
    "": "''",
    "a\x00b": r"'a\x00b'",
    "a/b": "'a/b'",
    "a|||t1|||0123456789": "'a|||t1",
    ".hidden": "'.hidden'",
    "x" * 65: "'xxxx",
    "tâche": "'tâche'",
}


@pytest.mark.parametrize("task_id", sorted(BAD_IDS))
def test_bad_task_ids_are_refused_where_ids_enter(task_id, files, tmp_path):
    shown = BAD_IDS[task_id]
    challenges = tmp_path / "arc-agi_bad_challenges.json"
    challenges.write_text(json.dumps({task_id: make_task(test_outputs=False)}))
    refused(
        run("vote", files["preds"], "--tasks", challenges, "-o", tmp_path / "s.json"),
        1,
        str(challenges),
        f"task id {shown}",
        "is not valid (task ids are 1 to 64 of A-Z a-z 0-9 _ . -",
    )
    solutions = tmp_path / "solutions.json"
    solutions.write_text(json.dumps({task_id: [[[1]]]}))
    refused(run("score", files["submission"], "--solutions", solutions), 1, str(solutions), f"task id {shown}")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"task_id": task_id, "test_index": 0, "grid": [[1]]}) + "\n")
    refused(
        run("vote", preds, "--tasks", files["tasks"], "-o", tmp_path / "s.json"),
        1,
        f"{preds}:1: task_id: task id {shown}",
    )
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps(json.loads(files["submission"].read_text()) | {task_id: []}))
    result = run("validate", sub, "--against", files["tasks"])
    assert result.exit_code == 1 and f"{sub}: task id {shown}" in result.output and "Traceback" not in result.output
    no_output(tmp_path / "s.json")


def test_a_task_file_named_with_a_bad_id(tmp_path, files):
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / ".hidden.json").write_text(json.dumps(make_task()))
    refused(
        run("vote", files["preds"], "--tasks", folder, "-o", tmp_path / "s.json"),
        1,
        ".hidden.json",
        "task id '.hidden' is not valid",
    )


@pytest.mark.parametrize("aug", ["t\u0663|||0213456789", "t3|||\u0660213456789", "t\u00b3|||0213456789"])
def test_non_ascii_digits_in_augmentations(aug, files, tmp_path):
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"task_id": "aaaa0001", "test_index": 0, "aug": aug, "grid": [[1]]}) + "\n")
    refused(
        run("vote", preds, "--tasks", files["tasks"], "-o", tmp_path / "s.json"), 1, f"{preds}:1", "task aaaa0001: aug:"
    )
    no_output(tmp_path / "s.json")


# ---------------------------------------------------------------- 9. smaller


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert write_text(tmp_path / "a.txt", "x").stat().st_mode & 0o777 == 0o640
        os.umask(0o002)
        assert write_text(tmp_path / "b.txt", "x").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_stale_temp_files_are_removed_on_the_next_write(files, tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    names = {
        ".submission.json.abcd_123.tmp": False,  # the old pid-less pattern, old: removed
        f".submission.json.{dead}.k2j4h5g6.tmp": False,  # from a process that is gone, old: removed
        f".submission.json.{os.getpid()}.zzzzzzzz.tmp": True,  # a live writer: kept
        ".submission.json.fresh123.tmp": True,  # too recent to be debris: kept
        ".other.json.abcd_123.tmp": True,  # another file's: kept
        ".submission.json.abcd_123.tmp.bak": True,
    }  # not the pattern: kept
    for name in names:
        (tmp_path / name).write_text("half")
        if "fresh" not in name:
            os.utime(tmp_path / name, (time.time() - 3600, time.time() - 3600))
    result = run("vote", files["preds"], "--tasks", files["tasks"], "-o", tmp_path / "submission.json")
    assert result.exit_code == 0, result.output
    assert {name: (tmp_path / name).exists() for name in names} == names


def test_files_with_a_byte_order_mark_are_read(files, tmp_path):
    bom = "\ufeff"
    challenges = tmp_path / "arc-agi_bom_challenges.json"
    challenges.write_text(bom + files["tasks"].read_text(), encoding="utf-8")
    (tmp_path / "arc-agi_bom_solutions.json").write_text(bom + files["solutions"].read_text(), encoding="utf-8")
    preds = tmp_path / "p.jsonl"
    preds.write_text(bom + files["preds"].read_text(), encoding="utf-8")
    sub = tmp_path / "sub.json"
    sub.write_text(bom + files["submission"].read_text(), encoding="utf-8")
    assert run("vote", preds, "--tasks", challenges, "-o", tmp_path / "s.json").exit_code == 0
    result = run("score", sub, "--against", challenges, "--json")
    assert result.exit_code == 0 and json.loads(result.output)["score"] == 1.0, result.output


def test_a_wrong_count_in_a_solutions_file_names_that_file(files, tmp_path):
    shutil.copy(files["tasks"], tmp_path / "arc-agi_mini_challenges.json")
    solutions = tmp_path / "arc-agi_mini_solutions.json"
    data = json.loads(files["solutions"].read_text())
    solutions.write_text(json.dumps(data | {"bbbb0002": data["bbbb0002"][:1]}))
    line = refused(
        run("score", files["submission"], "--against", tmp_path / "arc-agi_mini_challenges.json"),
        1,
        f"{solutions}: task bbbb0002: solutions: expected 2 output grids, got 1",
    )
    assert "challenges.json" not in line


def test_integral_float_cells_count_as_the_integers_they_equal(files, tmp_path):
    sub = tmp_path / "sub.json"
    floats = {
        k: [{a: [[float(c) for c in row] for row in g] for a, g in e.items()} for e in v]
        for k, v in json.loads(files["submission"].read_text()).items()
    }
    sub.write_text(json.dumps(floats))
    assert "3.0" in sub.read_text()
    assert run("validate", sub, "--against", files["tasks"]).exit_code == 0
    result = run("score", sub, "--against", files["tasks"], "--json")
    assert result.exit_code == 0 and json.loads(result.output)["score"] == 1.0, result.output
    floats["aaaa0001"][0]["attempt_1"][0][0] = 2.5  # not integral: still refused
    sub.write_text(json.dumps(floats))
    result = run("validate", sub, "--against", files["tasks"])
    assert result.exit_code == 1 and "cell [0][0] is 2.5, not an int 0..9" in result.output


def test_a_layout_with_a_malformed_identifier_is_one_line(tmp_path):
    from harness.core.errors import DataError
    from harness.core.tasks import TaskSet
    from harness.data.views import build_views

    with pytest.raises(DataError, match="puzzle identifier 1 .* of the layout: augmentation must look like"):
        build_views(["<blank>", "00576224|||t\u0663|||0123456789"], TaskSet("empty"), None, 0)
