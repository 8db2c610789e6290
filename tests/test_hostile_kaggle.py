"""Hostile input to `trm-eval kaggle ...`: each gets exit 1 or 2 and one clear `Error:` line naming
the file or field, never a traceback; no credential appears in any form (raw, Basic auth, URL-safe
base64, percent-encoded) in stdout, stderr or any file written; nothing is written outside the
output folder. The servers here are local (127.0.0.1, an ephemeral port, stopped after each test):
an echo server that answers every request with an error quoting the request's headers back."""

from __future__ import annotations

import base64
import http.server
import importlib.abc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import torch
from click.testing import CliRunner, Result

from harness.cli.main import cli
from harness.infer.checkpoints import save_checkpoint
from harness.kaggle import api as kaggle_api
from harness.kaggle.bundle import BundleIds, build_bundle
from harness.kaggle.settings import KernelSettings
from models import TRM, TRMConfig

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SLUG = "arc-prize-2025"
USER = "alice"
KEYS = ["SECRETKEY123", "S3cr/t+K=y%9&x~"]  # the second changes under percent-encoding and URL-safe base64


def leaked_forms(user: str, key: str) -> list[str]:
    """What the scans look for, computed here (not by the code under test)."""
    basic = f"{user}:{key}".encode()
    encodings = {base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode()}
    forms = {key, quote(key, safe=""), quote(key, safe="").lower(), quote_plus(key)}
    for text in encodings:
        forms |= {text, text.rstrip("="), quote(text, safe=""), quote_plus(text)}
    return sorted(forms)


def assert_clean(
    result: Result | subprocess.CompletedProcess, key: str, *folders: Path, skip: tuple[Path, ...] = ()
) -> None:
    """No form of the key in stdout, stderr, or any file under `folders` (but the `skip`ped
    credential files themselves)."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path not in skip:
                texts[str(path)] = path.read_bytes().decode("latin-1")
    for where, text in texts.items():
        for form in leaked_forms(USER, key):
            assert form not in text, f"{form!r} in {where}"


def assert_one_error(result: Result | subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    if isinstance(result, Result):
        assert isinstance(result.exception, SystemExit)  # click's exit, not an exception that escaped
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def snapshot(root: Path, *outputs: Path) -> dict[str, float]:
    """Every path under root but the outputs, with its modification time."""
    return {str(p): p.lstat().st_mtime for p in root.rglob("*") if not any(p.is_relative_to(o) for o in outputs)}


# -- a local echo server ---------------------------------------------------------------------------


class Echo(http.server.BaseHTTPRequestHandler):
    """Every request gets a 401 whose JSON body quotes the request back: its headers raw, as a dict
    repr and percent-encoded, and the Basic credentials decoded, as a careless server might."""

    timeout = 10

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        auth = self.headers.get("Authorization", "")
        decoded = base64.b64decode(auth.split()[-1]).decode(errors="replace") if auth.startswith("Basic ") else ""
        lines = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        message = (
            f"Unauthorized (as {decoded}); log in again at /login?auth={quote(auth, safe='')}. Your request:\n"
            f"{lines}\nheaders={dict(self.headers.items())!r}"
        )
        body = json.dumps({"code": 401, "message": message}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST

    def do_CONNECT(self) -> None:  # an https request through the proxy: refused, never forwarded
        self.send_error(502)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


class HttpApi:
    """A stand-in for KaggleApi that makes a real HTTP request per call, with the credentials of the
    environment as the real client sends them, prints the request as its verbose mode does, and
    raises the server's error body as requests' HTTPError would."""

    def __init__(self, url: str) -> None:
        token = os.environ.get("KAGGLE_API_TOKEN")
        stored = Path(os.environ["KAGGLE_CONFIG_DIR"]) / "kaggle.json"
        file = json.loads(stored.read_text()) if stored.is_file() else {}
        user = os.environ.get("KAGGLE_USERNAME") or file.get("username")
        key = os.environ.get("KAGGLE_KEY") or file.get("key")
        basic = base64.b64encode(f"{user}:{key}".encode())
        self.url, self.auth = url, f"Bearer {token}" if token else f"Basic {basic.decode()}"

    def __getattr__(self, method: str):
        def call(**kwargs):
            print(f"POST {self.url}/{method}\nAuthorization: {self.auth}")
            request = urllib.request.Request(
                f"{self.url}/{method}", data=json.dumps(kwargs).encode(), headers={"Authorization": self.auth}
            )
            try:
                urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as exc:
                raise RuntimeError(json.loads(exc.read())["message"]) from None
            raise AssertionError("the echo server always answers 401")

        return call


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A tiny checkpoint's bundle (no wheels), to push."""
    root = tmp_path_factory.mktemp("hostile")
    ckpt = tiny_checkpoint(root / "ckpt")
    build_bundle(
        ckpt,
        root / "out",
        KernelSettings(SLUG),
        BundleIds(USER, f"trm-{SLUG}-bundle", f"trm-{SLUG}"),
        build_wheel=False,
        download=False,
        log=lambda _: None,
    )
    return root / "out"


def tiny_checkpoint(folder: Path, hidden: int = 32) -> Path:
    identifiers = ["<blank>", "seen0000", "seen0001"]
    torch.manual_seed(0)
    config = TRMConfig(
        num_puzzle_identifiers=len(identifiers),
        seq_len=16,
        hidden_size=hidden,
        num_heads=2,
        H_cycles=2,
        L_cycles=2,
        L_layers=1,
        puzzle_emb_ndim=hidden,
        puzzle_emb_len=1,
        halt_max_steps=3,
        forward_dtype="float32",
    )
    save_checkpoint(folder, TRM(config), step=5, identifiers=identifiers, source={"run": str(folder.parent / "run")})
    (folder / "identifiers.json").write_text(json.dumps(identifiers))
    return folder


def credentials(monkeypatch, home: Path, key: str, how: str) -> list[Path]:
    """Credentials as the user may hold them; returns the files that hold them."""
    home.mkdir(parents=True, exist_ok=True)
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_TOKEN", "KAGGLE_API_V1_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    (home / ".kaggle").mkdir(exist_ok=True)
    if how == "env":
        monkeypatch.setenv("KAGGLE_USERNAME", USER)
        monkeypatch.setenv("KAGGLE_KEY", key)
        return []
    if how == "token":
        monkeypatch.setenv("KAGGLE_API_TOKEN", key)
        return []
    path = home / ".kaggle" / "kaggle.json"
    path.write_text(json.dumps({"username": USER, "key": key}))
    return [path]


# -- 1. credentials never leak -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["env", "kaggle.json", "token"])
@pytest.mark.parametrize("key", KEYS)
def test_a_server_echoing_the_authorization_header_leaks_nothing(echo_server, bundle, tmp_path, monkeypatch, key, how):
    files = credentials(monkeypatch, tmp_path / "home", key, how)
    url = f"http://127.0.0.1:{echo_server.server_port}/api/v1"
    monkeypatch.setattr(kaggle_api, "load_api", lambda: HttpApi(url))
    before = snapshot(tmp_path)
    runner = CliRunner()

    submit = runner.invoke(cli, ["kaggle", "submit", "--competition", SLUG, "--kernel", f"{USER}/trm-{SLUG}"])
    assert_one_error(submit, 1, "Error: competition_submit_code: Unauthorized", "Authorization: ***")
    assert_clean(submit, key, tmp_path, skip=tuple(files))
    push = runner.invoke(cli, ["kaggle", "push", str(bundle), "--no-wait"])
    assert_one_error(push, 1, "Error: dataset_create_new: Unauthorized")
    assert_clean(push, key, bundle)
    assert echo_server.paths == [
        "/api/v1/competition_submit_code",
        "/api/v1/dataset_status",
        "/api/v1/dataset_create_new",
    ]
    assert snapshot(tmp_path) == before


KAGGLE_CLIENT = importlib.util.find_spec("kaggle") is not None and importlib.util.find_spec("six") is not None


@pytest.mark.skipif(not KAGGLE_CLIENT, reason="the kaggle client is not installed (pip install 'trm-eval[kaggle]')")
@pytest.mark.parametrize("how", ["env", "kaggle.json", "token"])
def test_the_real_client_pointed_at_a_local_server_leaks_nothing(echo_server, bundle, tmp_path, monkeypatch, how):
    """The installed kaggle client, in a child process: KAGGLE_API_ENVIRONMENT=LOCALHOST sends its
    requests to http://localhost, and the proxy variables route them to the echo server (so even
    an https request could only reach 127.0.0.1). VERBOSE=1 makes the client print every request
    with its headers itself."""
    key = KEYS[1]
    files = credentials(monkeypatch, tmp_path / "home", key, how)
    proxy = f"http://127.0.0.1:{echo_server.server_port}"
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env |= {"KAGGLE_API_ENVIRONMENT": "LOCALHOST", "VERBOSE": "1", "NO_PROXY": "", "no_proxy": ""}
    env |= {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")}
    work = tmp_path / "work"
    shutil.copytree(bundle, work / "bundle")
    for args in (
        ["submit", "--competition", SLUG, "--kernel", f"{USER}/trm-{SLUG}", "--no-wait"],
        ["push", str(work / "bundle"), "--no-wait"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "harness.cli", "kaggle", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert_one_error(result, 1, "Error: ")
        assert_clean(result, key, tmp_path, skip=tuple(files))
    assert echo_server.paths  # the client did talk to the local server, and only to it


# -- 7. Kaggle paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("competition", ["../../x y", "/etc", "a/b", "ARC-Prize", "a--b", "-a", "x" * 65, ""])
def test_a_competition_that_is_not_a_slug_is_refused(bundle, tmp_path, competition):
    ckpt = bundle.parent / "ckpt"
    before = snapshot(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "kaggle",
            "bundle",
            "--checkpoint",
            str(ckpt),
            "--competition",
            competition,
            "-o",
            str(tmp_path / "out"),
            "--owner",
            USER,
            "--no-wheel",
            "--no-deps-download",
        ],
    )
    assert_one_error(result, 2, "'--competition'", "not a Kaggle competition slug")
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()
    submit = CliRunner().invoke(
        cli, ["kaggle", "submit", "--competition", competition, "--kernel", "alice/kernel", "--dry-run"]
    )
    assert_one_error(submit, 2, "'--competition'")


@pytest.mark.parametrize("kernel", ["alice", "alice/../../x", "../x/kernel", "alice/abc", "alice/Kernel-1"])
def test_a_kernel_that_is_not_user_slash_slug_is_refused(kernel):
    result = CliRunner().invoke(cli, ["kaggle", "submit", "--competition", SLUG, "--kernel", kernel, "--dry-run"])
    assert_one_error(result, 2, "'--kernel'")


def _hostile_copy(bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    (tmp_path / "secret.py").write_text("SECRET = 'not for upload'\n")
    return copy


def _set_code_file(copy: Path, code_file: str) -> None:
    meta_path = copy / "kernel" / "kernel-metadata.json"
    meta_path.write_text(json.dumps(json.loads(meta_path.read_text()) | {"code_file": code_file}))


@pytest.mark.parametrize("code_file", ["../../secret.py", "ABSOLUTE", "sub/link.py", "link.py"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_push_never_uploads_a_code_file_from_outside_the_bundle(bundle, tmp_path, monkeypatch, code_file, dry_run):
    copy = _hostile_copy(bundle, tmp_path)  # tmp_path/secret.py is b/kernel/../../secret.py
    if code_file.endswith("link.py"):
        (copy / "kernel" / code_file).parent.mkdir(exist_ok=True)
        (copy / "kernel" / code_file).symlink_to(tmp_path / "secret.py")
    if code_file == "ABSOLUTE":
        code_file = str(tmp_path / "secret.py")
    _set_code_file(copy, code_file)
    monkeypatch.setattr(kaggle_api, "load_api", lambda: pytest.fail("the client must not be reached"))
    result = CliRunner().invoke(cli, ["kaggle", "push", str(copy)] + (["--dry-run"] if dry_run else []))
    if code_file == "link.py":
        assert_one_error(result, 1, "link.py: is a symbolic link")
    else:
        assert_one_error(result, 1, "kernel-metadata.json: code_file", "is outside")
    assert "not for upload" not in result.output


def test_push_refuses_links_and_bad_ids_in_the_bundle(bundle, tmp_path):
    copy = _hostile_copy(bundle, tmp_path)
    (copy / "dataset" / "notes.txt").symlink_to(tmp_path / "secret.py")
    assert_one_error(
        CliRunner().invoke(cli, ["kaggle", "push", str(copy), "--dry-run"]), 1, "notes.txt: is a symbolic link"
    )
    (copy / "dataset" / "notes.txt").unlink()
    meta_path = copy / "dataset" / "dataset-metadata.json"
    meta_path.write_text(json.dumps(json.loads(meta_path.read_text()) | {"id": "alice/../../x"}))
    assert_one_error(
        CliRunner().invoke(cli, ["kaggle", "push", str(copy), "--dry-run"]),
        1,
        "dataset-metadata.json: id: slug '../../x' is not valid",
    )


def _break(ckpt: Path, how: str, tmp_path: Path) -> str:
    weights = ckpt / "model.safetensors"
    if how == "truncated":
        weights.write_bytes(weights.read_bytes()[:200])
        return "model.safetensors: cannot read weights"
    if how == "mis-shaped":
        tiny_checkpoint(tmp_path / "other", hidden=16)
        shutil.copy(tmp_path / "other" / "model.safetensors", weights)
        return "model.safetensors: does not match the manifest's config"
    outside = tmp_path / "outside.safetensors"
    shutil.move(weights if how == "weights link" else ckpt / "manifest.json", outside)
    (weights if how == "weights link" else ckpt / "manifest.json").symlink_to(outside)
    return "is a symbolic link"


@pytest.mark.parametrize("how", ["truncated", "mis-shaped", "weights link", "manifest link"])
def test_bundle_reads_weights_through_the_checkpoint_loader(tmp_path, how):
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    expected = _break(ckpt, how, tmp_path)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "kaggle",
            "bundle",
            "--checkpoint",
            str(ckpt),
            "--competition",
            SLUG,
            "-o",
            str(tmp_path / "out" / "bundle"),
            "--owner",
            USER,
            "--no-wheel",
            "--no-deps-download",
        ],
    )
    assert_one_error(result, 1, expected)
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()  # nothing half-done, no staging left


def test_the_uploaded_files_hold_no_path_of_this_machine_nor_a_credential(tmp_path, monkeypatch):
    credentials(monkeypatch, tmp_path / "home", KEYS[1], "env")  # the owner comes from KAGGLE_USERNAME
    ckpt = tiny_checkpoint(tmp_path / "runs" / "step_5")
    out = tmp_path / "kaggle-out"
    before = snapshot(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "kaggle",
            "bundle",
            "--checkpoint",
            str(ckpt),
            "--competition",
            SLUG,
            "-o",
            str(out),
            "--no-wheel",
            "--no-deps-download",
        ],
    )
    assert result.exit_code == 0, result.output
    assert snapshot(tmp_path, out) == before  # nothing written outside the output folder
    assert_clean(result, KEYS[1], out)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".safetensors":
            text = path.read_text()
            assert str(tmp_path) not in text and str(ROOT) not in text, path
    settings = json.loads((out / "dataset" / "trm-kaggle.json").read_text())
    manifest = json.loads((out / "dataset" / "manifest.json").read_text())
    assert settings["contents"]["source_checkpoint"] == "step_5" and manifest["source"]["bundled_from"] == "step_5"
    assert manifest["source"]["source"] == {"run": "run"}


# -- 8. the kaggle extra -----------------------------------------------------------------------


def test_the_kaggle_extra_installs_what_the_client_imports():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["kaggle"]
    assert any(req.startswith("kaggle") for req in extra) and any(req.startswith("six") for req in extra)


class NoKaggle(importlib.abc.MetaPathFinder):
    """An interpreter without the kaggle package."""

    def find_spec(self, name, path, target=None):
        if name == "kaggle":
            raise ModuleNotFoundError("No module named 'kaggle'", name="kaggle")
        return None


def test_a_client_that_fails_to_import_names_what_is_missing(tmp_path, monkeypatch, bundle):
    credentials(monkeypatch, tmp_path / "home", KEYS[0], "env")
    package = tmp_path / "fakeroot" / "kaggle"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import trm_eval_absent_dependency  # as kaggle 2.x imports six\n")
    monkeypatch.syspath_prepend(str(tmp_path / "fakeroot"))
    for name in [m for m in sys.modules if m == "kaggle" or m.startswith("kaggle.")]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(cli, ["kaggle", "push", str(bundle)])
    assert_one_error(
        result, 1, "installed but does not import (module trm_eval_absent_dependency)", "pip install 'trm-eval[kaggle]'"
    )
    monkeypatch.setattr(sys, "meta_path", [NoKaggle(), *sys.meta_path])  # not installed at all
    result = CliRunner().invoke(cli, ["kaggle", "push", str(bundle)])
    assert_one_error(result, 1, "the Kaggle client is not installed")
