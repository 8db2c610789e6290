"""The Kaggle API client behind `trm-eval kaggle push/submit`, with credentials kept out of sight.

The `kaggle` package is an optional extra (`pip install 'trm-eval[kaggle]'`) imported only inside
`load_api()`: importing it authenticates, and kaggle 1.7.x calls exit(1) when that fails, so the
import is wrapped. Every call goes through `KaggleClient.call`, which turns client failures into
a one-line DataError whose text has every known secret replaced by `***`: a key never reaches the
terminal or a log, even when the server echoes it back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import DataError

INSTALL_HINT = "pip install 'trm-eval[kaggle]' (kaggle >= 1.7.4)"
MASK = "***"


@dataclass(frozen=True)
class ApiCall:
    """One KaggleApi method call: what `--dry-run` prints and what the client executes."""

    method: str
    kwargs: dict[str, Any]

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"KaggleApi.{self.method}({args})"


def _config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")


def _config_file(env: Mapping[str, str]) -> dict[str, Any]:
    path = _config_dir(env) / "kaggle.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def credentials_source(env: Mapping[str, str] = os.environ) -> str | None:
    """Where the client will find credentials (a description, never a value), or None."""
    if env.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME + KAGGLE_KEY"
    for name in ("kaggle.json", "access_token"):
        if (_config_dir(env) / name).is_file():
            return str(_config_dir(env) / name)
    return None


def secrets(env: Mapping[str, str] = os.environ) -> list[str]:
    """Every credential value this process could hold, so output can be scrubbed of them."""
    found = [env.get("KAGGLE_API_TOKEN", ""), env.get("KAGGLE_KEY", ""), str(_config_file(env).get("key", ""))]
    try:
        found.append((_config_dir(env) / "access_token").read_text().strip())
    except OSError:
        pass
    return [s for s in found if len(s) >= 4]


def redact(text: str, values: list[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def username(env: Mapping[str, str] = os.environ) -> str | None:
    """The Kaggle user name (public, used in dataset and kernel ids), if configured."""
    name = env.get("KAGGLE_USERNAME") or _config_file(env).get("username")
    return name if isinstance(name, str) and name else None


def load_api() -> Any:
    """Import the kaggle package and return an authenticated KaggleApi."""
    if credentials_source() is None:
        raise DataError("no Kaggle credentials: set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, "
                        "or put kaggle.json in ~/.kaggle (see https://www.kaggle.com/settings)")
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi  # the package authenticates on import
    except ImportError:
        raise DataError(f"the Kaggle client is not installed: {INSTALL_HINT}") from None
    except SystemExit:
        raise DataError("Kaggle authentication failed while importing the client (check the credentials)") from None
    except Exception as exc:  # the import authenticates, and the client raises anything from HTTP errors on
        raise DataError(f"Kaggle client failed while importing: {redact(str(exc), secrets())}") from None
    api = KaggleApi()
    try:
        api.authenticate()
    except SystemExit:
        raise DataError("Kaggle authentication failed (check the credentials)") from None
    except Exception as exc:  # the client raises anything from HTTP errors to KeyError
        raise DataError(f"Kaggle authentication failed: {redact(str(exc), secrets())}") from None
    return api


def field_value(obj: Any, *names: str) -> Any:
    """A response field whatever the client version: attributes (2.x objects, snake or camel case)
    or dict keys (1.7.x returned some responses as dicts)."""
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def status_name(value: Any) -> str:
    """`KernelWorkerStatus.COMPLETE`, `'complete'` or an enum member -> 'complete'."""
    name = getattr(value, "name", None) or str(value or "")
    return name.rsplit(".", 1)[-1].lower()


@dataclass
class KaggleClient:
    """Executes ApiCalls on a KaggleApi (the real one, or a fake in tests)."""

    api: Any
    hidden: list[str] = field(default_factory=secrets)

    def call(self, call: ApiCall) -> Any:
        try:
            response = getattr(self.api, call.method)(**call.kwargs)
        except SystemExit:
            raise DataError(f"{call.method}: the Kaggle client exited (authentication?)") from None
        except Exception as exc:  # HTTP, validation and I/O errors alike become one line
            raise DataError(f"{call.method}: {redact(str(exc) or type(exc).__name__, self.hidden)}") from None
        error = field_value(response, "error")
        if error:
            raise DataError(f"{call.method}: {redact(str(error), self.hidden)}")
        return response

    def succeeds(self, call: ApiCall) -> bool:
        """Whether the call goes through (e.g. a status query on a dataset that may not exist)."""
        try:
            self.call(call)
        except DataError:
            return False
        return True
