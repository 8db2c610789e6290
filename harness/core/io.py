"""Safe file I/O: a crash never leaves a half-written result behind, and a torch file from
elsewhere is read as tensors only, so loading it never runs code it carries."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from harness.core.errors import DataError, first_line

if TYPE_CHECKING:
    import torch


def atomic_write(path: str | os.PathLike, write: Callable[[IO], object], mode: str = "w") -> Path:
    """Call `write(fh)` on a temp file beside `path`, fsync, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | os.PathLike, obj: Any, **dump_kwargs: Any) -> Path:
    """Write `obj` as JSON atomically."""
    return atomic_write(path, lambda fh: json.dump(obj, fh, **dump_kwargs))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically."""
    return atomic_write(path, lambda fh: fh.write(text))


def load_reference_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a reference `.pt` file; refuses any pickle that carries code or objects.

    torch is imported only when this is called, so importing harness.core stays light.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataError(f"{path}: refused: it holds objects other than tensors (possibly code), which "
                        f"weights-only loading does not run ({_unpickler_reason(exc)})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable torch checkpoint: {first_line(exc)}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                             for k, v in data.items()):
        raise DataError(f"{path}: expected a state dict (a mapping of names to tensors)")
    return data


def _unpickler_reason(exc: BaseException) -> str:
    """The one informative line of torch's long weights-only refusal message."""
    for line in str(exc).splitlines():
        if "WeightsUnpickler error:" in line:
            return line.split("WeightsUnpickler error:", 1)[1].split(". ")[0].strip()
    return first_line(exc)


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; a DataError that names the file (and line) if unreadable or malformed."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
