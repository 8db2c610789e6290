"""The Kaggle API client behind `trm-eval kaggle push/submit`, with credentials kept out of sight.

The `kaggle` package is an optional extra (`pip install 'trm-eval[kaggle]'`) imported only inside
`load_api()`: importing it authenticates, and kaggle 1.7.x calls exit(1) when that fails, so the
import is wrapped. Everything that comes from the client goes through `redact` (harness/kaggle/
redact.py): the text of its exceptions and error fields, the lines push/submit print from its
responses, and what it prints itself while a call runs. A key never reaches the terminal or a log
in any form, even when the server echoes the request's Authorization header back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import DataError
from harness.kaggle.redact import config_dir, config_file, redact, scrubbed_output, secrets

INSTALL_HINT = "pip install 'trm-eval[kaggle]'"


@dataclass(frozen=True)
class ApiCall:
    """One KaggleApi method call: what `--dry-run` prints and what the client executes."""

    method: str
    kwargs: dict[str, Any]

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"KaggleApi.{self.method}({args})"


def credentials_source(env: Mapping[str, str] = os.environ) -> str | None:
    """Where the client will find credentials (a description, never a value), or None."""
    if env.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME + KAGGLE_KEY"
    for name in ("kaggle.json", "access_token"):
        if (config_dir(env) / name).is_file():
            return str(config_dir(env) / name)
    return None


def one_line(text: str, values: list[str], limit: int = 500) -> str:
    """A client message as one redacted line (servers answer with pages of HTML or JSON)."""
    line = " ".join(redact(text, values).split())
    return line if len(line) <= limit else line[:limit] + " ..."


def username(env: Mapping[str, str] = os.environ) -> str | None:
    """The Kaggle user name (public, used in dataset and kernel ids), if configured."""
    name = env.get("KAGGLE_USERNAME") or config_file(env).get("username")
    return name if isinstance(name, str) and name else None


def load_api() -> Any:
    """Import the kaggle package and return an authenticated KaggleApi."""
    if credentials_source() is None:
        raise DataError(
            "no Kaggle credentials: set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, "
            "or put kaggle.json in ~/.kaggle (see https://www.kaggle.com/settings)"
        )
    hidden = secrets()
    with scrubbed_output(hidden):
        try:
            from kaggle.api.kaggle_api_extended import KaggleApi  # the package authenticates on import
        except ImportError as exc:
            if exc.name == "kaggle":
                raise DataError(f"the Kaggle client is not installed: {INSTALL_HINT}") from None
            raise DataError(
                f"the Kaggle client is installed but does not import (module {exc.name or '?'}): "
                f"{one_line(str(exc), hidden)}; reinstall it with {INSTALL_HINT}"
            ) from None
        except SystemExit:
            raise DataError("Kaggle authentication failed while importing the client (check the credentials)") from None
        except Exception as exc:  # the import authenticates, and the client raises anything from HTTP errors on
            raise DataError(f"Kaggle client failed while importing: {one_line(str(exc), hidden)}") from None
        api = KaggleApi()
        try:
            api.authenticate()
        except SystemExit:
            raise DataError("Kaggle authentication failed (check the credentials)") from None
        except Exception as exc:  # the client raises anything from HTTP errors to KeyError
            raise DataError(f"Kaggle authentication failed: {one_line(str(exc), hidden)}") from None
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

    def redact(self, text: str) -> str:
        return redact(text, self.hidden)

    def scrubbed(self, echo: Callable[[str], None]) -> Callable[[str], None]:
        """`echo` for lines built from the client's responses: each one redacted."""
        return lambda line: echo(self.redact(line))

    def call(self, call: ApiCall) -> Any:
        try:
            with scrubbed_output(self.hidden):
                response = getattr(self.api, call.method)(**call.kwargs)
        except SystemExit:
            raise DataError(f"{call.method}: the Kaggle client exited (authentication?)") from None
        except Exception as exc:  # HTTP, validation and I/O errors alike become one line
            raise DataError(f"{call.method}: {one_line(str(exc) or type(exc).__name__, self.hidden)}") from None
        error = field_value(response, "error")
        if error:
            raise DataError(f"{call.method}: {one_line(str(error), self.hidden)}")
        return response

    def succeeds(self, call: ApiCall) -> bool:
        """Whether the call goes through (e.g. a status query on a dataset that may not exist)."""
        try:
            self.call(call)
        except DataError:
            return False
        return True
