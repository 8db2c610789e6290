"""One validator for every settings section (run configs, the engine's [predict] settings, the
Kaggle kernel's settings): a dataclass whose fields carry their allowed range in metadata.

One policy everywhere: an unknown key, a wrong type, a non-finite number or a value out of range
is a DataError naming the file, the section and the key, before any work starts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from harness.core.errors import DataError

T = TypeVar("T")


def setting(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[Any, ...] | None = None,
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """A dataclass field with its allowed values: `low <= value <= high`, or one of `choices`; `check`,
    for values a list cannot hold (a small grammar), returns what is wrong with one, or None."""
    meta = {"low": low, "high": high, "choices": choices, "check": check}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_ok(value: Any, annotation: str) -> bool:
    kinds = [k.strip() for k in str(annotation).split("|")]
    if value is None:
        return "None" in kinds
    for kind in kinds:
        if kind == "bool" and isinstance(value, bool):
            return True
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if kind == "str" and isinstance(value, str):
            return True
        if kind == "list[str]" and isinstance(value, list) and all(isinstance(x, str) for x in value):
            return True
        if kind.startswith("dict") and isinstance(value, dict):
            return True
    return False


def check_value(f: dataclasses.Field, value: Any, where: str) -> Any:
    """The value for field `f`, checked for type, finiteness and range (ints given for floats become floats)."""
    if not _type_ok(value, str(f.type)):
        raise DataError(f"{where}: {f.name} = {value!r} should be {f.type}")
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{where}: {f.name} = {value!r} must be a finite number")
    low, high, choices = (f.metadata.get(k) for k in ("low", "high", "choices"))
    if choices is not None and value not in choices:
        raise DataError(f"{where}: {f.name} = {value!r} must be one of {', '.join(map(repr, choices))}")
    check = f.metadata.get("check")
    problem = check(value) if check is not None else None
    if problem:
        raise DataError(f"{where}: {f.name} = {value!r}: {problem}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (low is not None and value < low) or (high is not None and value > high):
            allowed = (
                f"{low} to {high}"
                if low is not None and high is not None
                else f">= {low}"
                if low is not None
                else f"<= {high}"
            )
            raise DataError(f"{where}: {f.name} = {value!r} is out of range (allowed: {allowed})")
    if "float" in str(f.type) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def read_section(cls: type[T], values: Any, where: str) -> T:
    """Build `cls` from a mapping, refusing unknown keys and checking every given value."""
    if not isinstance(values, Mapping):
        raise DataError(f"{where}: should be a table of key = value settings, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"{where}: unknown key(s) {unknown}; known: {sorted(fields)}")
    missing = [
        name
        for name, f in fields.items()
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise DataError(f"{where}: missing key(s) {missing}")
    return cls(**{k: check_value(fields[k], v, where) for k, v in values.items()})


def validate(obj: Any, where: str) -> None:
    """Check every field of a settings object built in code (from command-line options, say)."""
    for f in dataclasses.fields(obj):
        check_value(f, getattr(obj, f.name), where)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return repr(v)


def toml_section(name: str, items: Mapping[str, Any]) -> list[str]:
    """A `[name]` table as TOML lines; None values are left out (TOML has no null)."""
    return [f"[{name}]", *(f"{k} = {toml_value(v)}" for k, v in items.items() if v is not None), ""]
