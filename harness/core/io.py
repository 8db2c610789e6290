"""Safe file I/O: a crash never leaves a half-written result behind, and a torch file from
elsewhere is read as tensors only, so loading it never runs code it carries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from harness.core.errors import DataError, first_line, shown

if TYPE_CHECKING:
    import torch


STALE_TEMP_SECONDS = 60.0  # a writer's temp file untouched this long, from a process that is gone, is debris
_TEMP_NAME = r"(?:(\d+)\.)?[a-z0-9_]{8}\.tmp"  # after `.<name>.`: the writer's pid (absent in older files), mkstemp's


def cannot_write(path: str | os.PathLike, exc: OSError) -> DataError:
    """The one error for an output that cannot be written: `PATH: cannot write: <reason>`."""
    return DataError(f"{path}: cannot write: {exc.strerror or first_line(exc)}")


def ensure_dir(folder: str | os.PathLike, target: str | os.PathLike | None = None) -> Path:
    """Create an output folder and its parents; a DataError naming `target` (default: the folder),
    not a traceback, when it cannot be, e.g. because a file stands where a folder should be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocker is None:
            raise cannot_write(target or folder, exc) from None
        raise DataError(f"{target or folder}: cannot write: {blocker} is a file, not a folder") from None
    return folder


def atomic_write(path: str | os.PathLike, write: Callable[[IO], object], mode: str = "w") -> Path:
    """Call `write(fh)` on a temp file beside `path`, fsync, then rename it over `path`.

    The file gets the mode a plain `open(path, "w")` would give (0666 less the umask; mkstemp's
    0600 would hide results from the rest of a team), and temp files of `path` left by killed
    writers are removed first. Any OS failure is `PATH: cannot write: <reason>`.
    """
    path = Path(path)
    ensure_dir(path.parent, path)
    _remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from None
        raise
    return path


def _umask() -> int:
    """The process umask (reading it means setting it, so it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of `path` that a killed writer left: older than STALE_TEMP_SECONDS and not
    from a process still running here. Only names of exactly this file's temp pattern are touched;
    best effort (a folder that cannot be listed, a file another writer removed first: left alone)."""
    pattern = re.compile(re.escape(f".{path.name}.") + _TEMP_NAME)
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            if match.group(1) and _running(int(match.group(1))):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def write_json(path: str | os.PathLike, obj: Any, **dump_kwargs: Any) -> Path:
    """Write `obj` as JSON atomically."""
    return atomic_write(path, lambda fh: json.dump(obj, fh, **dump_kwargs))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically."""
    return atomic_write(path, lambda fh: fh.write(text))


def load_torch(path: str | os.PathLike, map_location: Any = "cpu") -> Any:
    """A torch file read weights-only (tensors, numbers, strings, lists, dicts): one that carries
    code or other objects is refused, a truncated or foreign one is a DataError naming the file.

    torch is imported only when this is called, so importing harness.core stays light.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = _unpickler_reason(exc)
        if reason.startswith("Unsupported operand"):  # bytes that are no pickle at all
            raise DataError(f"{path}: not a readable torch checkpoint: {reason}") from None
        raise DataError(
            f"{path}: refused: it holds objects other than tensors (possibly code), which "
            f"weights-only loading does not run ({reason})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable torch checkpoint: {first_line(exc).split('. ')[0]}") from None


def load_reference_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a reference `.pt` file; refuses any pickle that carries code or objects."""
    import torch

    data = load_torch(path)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        raise DataError(f"{path}: expected a state dict (a mapping of names to tensors)")
    return data


def _unpickler_reason(exc: BaseException) -> str:
    """The one informative line of torch's long weights-only refusal message (on the marker's line or the next)."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        after = text.split("WeightsUnpickler error:", 1)[1].strip()
        return after.splitlines()[0].split(". ")[0].strip() if after else first_line(exc)
    return first_line(exc)


MAX_JSON_DEPTH = 100  # ARC files nest 6 deep, our records a few more; 200,000 would crash the parser
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class _DuplicateKey(Exception):
    """Raised inside the parser by `_unique_keys`; parse_json turns it into a DataError naming the source."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: a key given twice in one object is ambiguous (json keeps the last silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def json_depth(text: str) -> int:
    """How deeply `text` nests arrays and objects (brackets inside strings do not count)."""
    brackets = _JSON_STRINGS.sub("", text).encode().translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def parse_json(text: str, source: object) -> Any:
    """The one JSON parser for files users give: a DataError naming `source` when the text is
    malformed, nests deeper than MAX_JSON_DEPTH (checked first: Python's parser would recurse
    out of stack) or repeats a key within an object (which one was meant?)."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise DataError(
            f"{source}: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and "
            f"objects; ARC data needs 6)"
        )
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno} column {exc.colno}" if "\n" in text.strip() else f"column {exc.colno}"
        raise DataError(f"{source}: malformed JSON at {at}: {exc.msg}") from None
    except _DuplicateKey as exc:
        raise DataError(
            f"{source}: duplicate key {shown(exc.args[0])} in one JSON object; give each key once"
        ) from None


def read_json(path: str | Path) -> Any:
    """Parse a JSON file (a UTF-8 byte-order mark is allowed) with parse_json; a DataError that
    names the file if it is unreadable or malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_json(text, path)


def sha256_file(path: Path) -> str:
    """sha256 of a file read in 4 MiB blocks (checkpoints run to gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()
