"""Hugging Face Hub addresses (`hf://...`) and downloads through huggingface_hub.

huggingface_hub keeps its cache (resumable downloads, progress bar), reads HF_TOKEN for private
repos itself and honours HF_HUB_OFFLINE; it is imported only inside the functions that download,
so that commands which never touch the Hub do not need it. This module lives in harness.core
because data sets go through it too (`hf://datasets/OWNER/REPO/test.csv` in load_puzzles).

Integrity: a cached file that is a link to `blobs/<sha256>` (how the Hub stores large files) must
hash to that name, else the download is corrupt; and a file whose sha256 a registry or an earlier
download recorded must match it. Either failure is one line, never a silently different score.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import DataError, first_line
from harness.core.io import read_json, sha256_file, write_json

PREFIX = "hf://"
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_ADDRESS = re.compile(
    rf"(?:(?P<kind>datasets|models)/)?(?P<owner>{_NAME})/(?P<repo>{_NAME})"
    rf"(?:@(?P<rev>[^/@]+))?(?P<path>(?:/[^@]+?)*)/?(?:@(?P<rev2>[^/@]+))?"
)
HASHES = "hashes.json"  # in cache_dir(): sha256 per downloaded file, recorded at the first download
HF_INSTALL = "huggingface_hub is not installed: pip install 'trm-eval[hub]' (or pip install huggingface_hub)"


@dataclass(frozen=True)
class HubAddress:
    """A file or folder in a Hub repository: `hf://[datasets/]OWNER/REPO[/PATH][@REVISION]`."""

    repo_id: str
    path: str = ""  # subfolder or file inside the repo ("" = the repo's root)
    revision: str | None = None  # branch, tag or commit; None = main
    repo_type: str = "model"  # "model" or "dataset"

    def __str__(self) -> str:
        kind = "datasets/" if self.repo_type == "dataset" else ""
        path = f"/{self.path}" if self.path else ""
        rev = f"@{self.revision}" if self.revision else ""
        return f"{PREFIX}{kind}{self.repo_id}{path}{rev}"


def is_hub_spec(spec: object) -> bool:
    """Whether a command-line value names something on the Hub."""
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse_address(spec: str) -> HubAddress:
    """`hf://OWNER/REPO[/PATH][@REV]` (also `hf://OWNER/REPO@REV/PATH`, as huggingface_hub's file
    system writes it; `datasets/` in front for a data set) -> HubAddress; DataError if malformed."""
    body = spec[len(PREFIX) :] if spec.startswith(PREFIX) else spec
    match = _ADDRESS.fullmatch(body)
    if match is None or (match["rev"] and match["rev2"]) or ".." in match["path"].split("/"):
        raise DataError(
            f"{spec}: not a Hub address; expected hf://OWNER/REPO[/SUBFOLDER][@REVISION] "
            f"(hf://datasets/OWNER/REPO/FILE for a data set)"
        )
    return HubAddress(
        repo_id=f"{match['owner']}/{match['repo']}",
        path=match["path"].strip("/"),
        revision=match["rev"] or match["rev2"],
        repo_type="dataset" if match["kind"] == "datasets" else "model",
    )


def cache_dir() -> Path:
    """trm-eval's own cache (recorded hashes, rebuilt layouts, imported checkpoints): $TRM_EVAL_CACHE,
    else $XDG_CACHE_HOME/trm-eval, else ~/.cache/trm-eval. The Hub's files stay in huggingface_hub's cache."""
    if os.environ.get("TRM_EVAL_CACHE"):
        return Path(os.environ["TRM_EVAL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "trm-eval"


def _huggingface_hub() -> Any:
    """The huggingface_hub module, imported on first use (a missing install is one line)."""
    try:
        import huggingface_hub
    except ImportError:
        raise DataError(HF_INSTALL) from None
    return huggingface_hub


def _download_error(address: HubAddress | str, exc: Exception) -> DataError:
    """One line for a failed download. huggingface_hub's messages never hold the token; only the
    first line is kept (they run to URLs and advice), and offline mode is named when it is on."""
    offline = " (HF_HUB_OFFLINE is set: only the local cache is read)" if os.environ.get("HF_HUB_OFFLINE") else ""
    return DataError(f"{address}: cannot download: {type(exc).__name__}: {first_line(exc)}{offline}")


def _is_hub_failure(exc: Exception) -> bool:
    return isinstance(exc, (OSError, ValueError)) or type(exc).__module__.split(".")[0] in (
        "huggingface_hub",
        "httpx",
        "requests",
    )


def download_folder(address: HubAddress, ignore: tuple[str, ...] = ("*.py",)) -> Path:
    """The local copy (in huggingface_hub's cache) of the folder `address` names; code files are
    not fetched (nothing here runs them). Returns the folder itself, not the snapshot root."""
    hub = _huggingface_hub()
    patterns = [f"{address.path}/*"] if address.path else None
    try:
        root = hub.snapshot_download(
            address.repo_id,
            repo_type=address.repo_type,
            revision=address.revision,
            allow_patterns=patterns,
            ignore_patterns=list(ignore),
        )
    except Exception as exc:  # noqa: BLE001  # the client's failures, whatever their class, become one line
        if not _is_hub_failure(exc):
            raise
        raise _download_error(address, exc) from None
    folder = Path(root) / address.path
    if not folder.is_dir():
        raise DataError(f"{address}: no folder {address.path!r} in the repository")
    return folder


def download_file(spec: str | HubAddress) -> Path:
    """The local copy of one file (e.g. `hf://datasets/sapientinc/sudoku-extreme/test.csv`), checked
    against its blob name and any recorded hash."""
    address = parse_address(spec) if isinstance(spec, str) else spec
    if not address.path:
        raise DataError(f"{address}: name a file inside the repository")
    hub = _huggingface_hub()
    try:
        local = Path(
            hub.hf_hub_download(address.repo_id, address.path, repo_type=address.repo_type, revision=address.revision)
        )
    except Exception as exc:  # noqa: BLE001  # as in download_folder
        if not _is_hub_failure(exc):
            raise
        raise _download_error(address, exc) from None
    verify(local, f"{address.repo_type}:{address.repo_id}/{address.path}")
    return local


def snapshot_commit(path: Path) -> str | None:
    """The commit of a file in huggingface_hub's cache (`.../snapshots/<commit>/...`), else None."""
    parts = path.parts
    return parts[parts.index("snapshots") + 1] if "snapshots" in parts[:-1] else None


def verify(path: Path, key: str, expected: str | None = None) -> str:
    """The file's sha256, after checking it against the Hub blob it links to, `expected` (a registry's
    pin) and the hash recorded at this key's first download (recorded now when there is none)."""
    try:
        digest = sha256_file(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    blob = Path(os.readlink(path)).name if path.is_symlink() else ""
    if re.fullmatch(r"[0-9a-f]{64}", blob) and blob != digest:
        raise DataError(
            f"{key}: corrupt download: sha256 {digest[:16]}... is not the Hub's {blob[:16]}...; "
            f"delete {path.resolve()} and pull again"
        )
    if expected and expected != digest:
        raise DataError(
            f"{key}: sha256 {digest[:16]}... differs from the registry's {expected[:16]}...: not the published file"
        )
    record_path = cache_dir() / HASHES
    records = read_json(record_path) if record_path.is_file() else {}
    if not isinstance(records, dict):
        raise DataError(f"{record_path}: expected a JSON object of recorded hashes")
    recorded = records.get(key)
    if recorded is not None and recorded != digest:
        raise DataError(
            f"{key}: sha256 {digest[:16]}... differs from the {recorded[:16]}... recorded at its first "
            f"download; if the publisher replaced it, remove that entry from {record_path}"
        )
    if recorded is None:
        records[key] = digest
        record_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(record_path, records, indent=1, sort_keys=True)
    return digest
