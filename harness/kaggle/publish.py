"""`trm-eval kaggle push` and `submit`: the bundle's dataset and kernel to Kaggle, then the
code-competition entry.

Every request is an ApiCall built here, so `--dry-run` prints exactly the calls (method and
arguments) a real run makes, without importing the client. Keyword names are those of kaggle
1.7.4 and 2.x alike (checked against both sources).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.io import read_json
from harness.kaggle.api import ApiCall, KaggleClient, field_value, status_name
from harness.kaggle.bundle import DATASET_METADATA, KERNEL_FILE, KERNEL_METADATA, check_id
from harness.kaggle.script import is_slug

KERNEL_DONE = {"complete", "error", "cancel_requested", "cancel_acknowledged"}
SUBMISSION_DONE = {"complete", "error"}


@dataclass
class Bundle:
    dataset_dir: Path
    kernel_dir: Path
    dataset_meta: dict[str, Any]
    kernel_meta: dict[str, Any]

    @property
    def dataset_id(self) -> str:
        return self.dataset_meta["id"]

    @property
    def kernel_id(self) -> str:
        return self.kernel_meta["id"]


def _read(path: Path) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict) or "id" not in data:
        raise DataError(f"{path}: expected a JSON object with an 'id'")
    return data


def _contained(folder: Path) -> None:
    """Refuse symbolic links in a folder that is uploaded: each could carry any file of this machine."""
    entries = [folder] + (sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else [])
    for path in entries:
        if path.is_symlink():
            raise DataError(f"{path}: is a symbolic link; the bundle uploads only files inside it")


def _code_file(kernel_dir: Path, meta: dict[str, Any]) -> Path:
    """The kernel's code_file, which the client uploads: a file inside kernel_dir, nothing else."""
    where = f"{kernel_dir / KERNEL_METADATA}: code_file"
    name = meta.get("code_file", KERNEL_FILE)
    if not isinstance(name, str) or not name:
        raise DataError(f"{where} must be a file name")
    path = kernel_dir / name
    if Path(name).is_absolute() or not path.resolve().is_relative_to(kernel_dir.resolve()):
        raise DataError(f"{where} {name!r} is outside {kernel_dir}; it must be a file in that folder")
    if not path.is_file():
        raise DataError(f"{where} {name!r} is missing from {kernel_dir}")
    return path


def read_bundle(directory: Path) -> Bundle:
    """The two folders of `trm-eval kaggle bundle`, checked for what a code competition requires
    and for anything that would upload a file from outside them."""
    for folder in (directory / "dataset", directory / "kernel"):
        _contained(folder)
    b = Bundle(
        directory / "dataset",
        directory / "kernel",
        _read(directory / "dataset" / DATASET_METADATA),
        _read(directory / "kernel" / KERNEL_METADATA),
    )
    meta = b.kernel_meta
    check_id(b.dataset_id, f"{b.dataset_dir / DATASET_METADATA}: id", 6)
    check_id(b.kernel_id, f"{b.kernel_dir / KERNEL_METADATA}: id", 5)
    if meta.get("enable_internet") is not False:
        raise DataError(
            f"{b.kernel_dir / KERNEL_METADATA}: enable_internet must be false (code competitions run "
            f"offline; the client turns internet on when the field is missing)"
        )
    if b.dataset_id not in meta.get("dataset_sources", []):
        raise DataError(f"{b.kernel_dir / KERNEL_METADATA}: dataset_sources lacks the bundle dataset {b.dataset_id}")
    sources = meta.get("competition_sources")
    if not isinstance(sources, list) or len(sources) != 1 or not is_slug(sources[0]):
        raise DataError(
            f"{b.kernel_dir / KERNEL_METADATA}: competition_sources must name the one competition (a Kaggle slug)"
        )
    _code_file(b.kernel_dir, meta)
    return b


def push_calls(b: Bundle, notes: str) -> dict[str, ApiCall]:
    return {
        "dataset_status": ApiCall("dataset_status", {"dataset": b.dataset_id}),
        "dataset_create": ApiCall(
            "dataset_create_new", {"folder": str(b.dataset_dir), "public": False, "quiet": False, "dir_mode": "skip"}
        ),
        "dataset_version": ApiCall(
            "dataset_create_version",
            {"folder": str(b.dataset_dir), "version_notes": notes, "quiet": False, "dir_mode": "skip"},
        ),
        "kernel_push": ApiCall("kernels_push", {"folder": str(b.kernel_dir)}),
        "kernel_status": ApiCall("kernels_status", {"kernel": b.kernel_id}),
    }


def submit_calls(
    competition: str, kernel: str, version: int | None, message: str, file_name: str
) -> dict[str, ApiCall]:
    return {
        "submit": ApiCall(
            "competition_submit_code",
            {
                "file_name": file_name,
                "message": message,
                "competition": competition,
                "kernel": kernel,
                "kernel_version": version,
            },
        ),
        "submissions": ApiCall("competition_submissions", {"competition": competition}),
    }


def describe_push(b: Bundle, notes: str) -> list[str]:
    """What `push` would send: the files, both metadata files, and the calls in order."""
    calls = push_calls(b, notes)
    lines = []
    for what, ident, folder in (("dataset", b.dataset_id, b.dataset_dir), ("kernel", b.kernel_id, b.kernel_dir)):
        lines.append(f"{what} {ident} from {folder}:")
        lines += [f"  {p.name}  {p.stat().st_size:,} bytes" for p in sorted(folder.iterdir()) if p.is_file()]
    lines += [
        f"{DATASET_METADATA}: {json.dumps(b.dataset_meta)}",
        f"{KERNEL_METADATA}: {json.dumps(b.kernel_meta)}",
        "calls:",
        f"  1. {calls['dataset_status'].describe()}  (does the dataset exist?)",
        f"  2. {calls['dataset_create'].describe()}  (if not)",
        f"     {calls['dataset_version'].describe()}  (if it does)",
        f"  3. {calls['dataset_status'].describe()}  (every poll interval until 'ready')",
        f"  4. {calls['kernel_push'].describe()}",
        f"  5. {calls['kernel_status'].describe()}  (every poll interval until done, unless --no-wait)",
    ]
    return lines


def _poll(
    query: Callable[[], str],
    done: set[str],
    echo: Callable[[str], None],
    what: str,
    poll_s: float,
    timeout_s: float,
    sleep: Callable[[float], None],
) -> str:
    """Call `query` until it returns a status in `done`; echo each change; give up after timeout_s."""
    waited, last = 0.0, None
    while True:
        status = query()
        if status != last:
            echo(f"{what}: {status}")
            last = status
        if status in done:
            return status
        if waited >= timeout_s:
            echo(f"{what}: still {status} after {waited / 60:.0f} min; stopped waiting")
            return status
        sleep(poll_s)
        waited += poll_s


def push(
    client: KaggleClient,
    b: Bundle,
    notes: str,
    wait: bool,
    echo: Callable[[str], None],
    poll_s: float = 60.0,
    timeout_s: float = 13 * 3600,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Create the dataset (or a new version of it), wait until Kaggle has processed it, push the
    kernel (Kaggle then runs it on the placeholder tasks), and optionally follow that run."""
    calls, echo = push_calls(b, notes), client.scrubbed(echo)
    exists = client.succeeds(calls["dataset_status"])
    client.call(calls["dataset_version" if exists else "dataset_create"])
    echo(f"dataset {b.dataset_id}: {'new version' if exists else 'created'}")
    dataset_status = _poll(
        lambda: status_name(client.call(calls["dataset_status"])),
        {"ready", "error", "failed"},
        echo,
        f"dataset {b.dataset_id}",
        poll_s,
        3600,
        sleep,
    )
    if dataset_status != "ready":
        raise DataError(f"dataset {b.dataset_id} is {dataset_status}, not ready; the kernel was not pushed")
    response = client.call(calls["kernel_push"])
    version = field_value(response, "version_number", "versionNumber")
    echo(f"kernel {b.kernel_id}: version {version} pushed {field_value(response, 'url') or ''}".rstrip())
    result = {"dataset": b.dataset_id, "kernel": b.kernel_id, "version": version, "kernel_status": None}
    if wait:

        def kernel_status() -> str:
            reply = client.call(calls["kernel_status"])
            failure = field_value(reply, "failure_message", "failureMessage")
            if failure:
                echo(f"kernel {b.kernel_id}: {failure}")
            return status_name(field_value(reply, "status"))

        result["kernel_status"] = _poll(
            kernel_status, KERNEL_DONE, echo, f"kernel {b.kernel_id}", poll_s, timeout_s, sleep
        )
    return result


def submit(
    client: KaggleClient,
    competition: str,
    kernel: str,
    version: int | None,
    message: str,
    wait: bool,
    echo: Callable[[str], None],
    file_name: str = "submission.json",
    poll_s: float = 60.0,
    timeout_s: float = 13 * 3600,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Enter the kernel's version (or its latest) in the competition; optionally follow the
    scoring rerun until the submission completes, and show its public score."""
    calls, echo = submit_calls(competition, kernel, version, message, file_name), client.scrubbed(echo)
    response = client.call(calls["submit"])
    ref = field_value(response, "ref")
    echo(
        f"submitted {kernel} (version {version or 'latest'}) to {competition}: "
        f"{field_value(response, 'message') or 'ok'}"
    )
    result: dict[str, Any] = {
        "competition": competition,
        "kernel": kernel,
        "version": version,
        "ref": ref,
        "status": None,
        "public_score": None,
    }

    if not ref:
        echo("the client returned no submission ref: following the competition's newest submission instead")

    def latest() -> Any:
        """Our submission's row: the one with our ref (None until it is listed, never another
        submission's), or the newest row when the client gave no ref."""
        rows = client.call(calls["submissions"]) or []
        mine = [r for r in rows if str(field_value(r, "ref")) == str(ref)] if ref else rows[:1]
        return mine[0] if mine else None

    def submission_status() -> str:
        row = latest()
        result["public_score"] = field_value(row, "public_score", "publicScore") if row is not None else None
        return status_name(field_value(row, "status")) if row is not None else "unknown"

    if wait:
        result["status"] = _poll(
            submission_status, SUBMISSION_DONE, echo, f"submission to {competition}", poll_s, timeout_s, sleep
        )
        echo(f"public score: {result['public_score']}")
    else:
        result["status"] = submission_status()
        echo(f"submission status: {result['status']}")
    return result
