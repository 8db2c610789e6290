"""Kaggle credentials kept out of everything trm-eval prints or writes.

A server error can echo the request back, so masking the raw key is not enough: the key also
travels as `Authorization: Basic base64(user:key)`, as a bearer token, percent-encoded in a URL
or JSON-escaped. `redact` masks every such form of every credential this process can see, and
any Authorization value, Basic/Bearer token or URL password whatever it holds. Base64 is matched
through the characters that encode the secret alone, at each of the three byte alignments, so
the key is masked whatever precedes it (any user name) and whatever the padding or alphabet.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 4  # shorter values would mask ordinary words
MIN_ENCODED = 6  # shortest base64 run of a secret worth matching
# Masked whatever they hold: Authorization header values (also in dict reprs) and URL passwords.
HEADER = re.compile(r"((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n\\]+", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+(?=@)")
# An HTTP auth scheme and its credential; masked when the credential does not read as a word.
SCHEME = re.compile(r"\b((?:bearer|basic|token)(?:\s+|%20|\+))([A-Za-z0-9._~+/%*-]{8,}=*)", re.IGNORECASE)


def config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")


def config_file(env: Mapping[str, str]) -> dict[str, Any]:
    """kaggle.json as a dict ({} when absent or unreadable)."""
    try:
        data = json.loads((config_dir(env) / "kaggle.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read(path: str | Path | None) -> str:
    try:
        return Path(path).read_text().strip() if path else ""
    except (OSError, ValueError):
        return ""


def secrets(env: Mapping[str, str] = os.environ) -> list[str]:
    """Every credential value the kaggle client could use here: environment, kaggle.json, token
    files (KAGGLE_API_TOKEN may name one) and the OAuth credentials file."""
    token = env.get("KAGGLE_API_TOKEN", "")
    found = [
        token,
        _read(token),
        env.get("KAGGLE_KEY", ""),
        env.get("KAGGLE_TOKEN", ""),
        _read(env.get("KAGGLE_API_V1_TOKEN")),
    ]
    found += [str(config_file(env).get(name, "")) for name in ("key", "token")]
    for folder in {config_dir(env), Path.home() / ".kaggle"}:
        found += [_read(folder / name) for name in ("access_token", "access_token.txt")]
        try:
            oauth = json.loads((folder / "credentials.json").read_text())
        except (OSError, ValueError):
            oauth = {}
        if isinstance(oauth, dict):
            found += [str(v) for k, v in oauth.items() if "token" in k and isinstance(v, str)]
    return sorted({s for s in found if len(s) >= MIN_SECRET})


def _base64_runs(secret: bytes) -> set[str]:
    """The base64 characters fixed by `secret` alone when it starts at byte offset 0, 1 or 2 of
    the encoded data: present in base64(anything + secret + anything), padded or not."""
    runs = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + secret + bytes(2)).decode()
        start, end = -(-8 * offset // 6), 8 * (offset + len(secret)) // 6
        runs.add(encoded[start:end])
    return {r for r in runs if len(r) >= MIN_ENCODED}


def forms(secret: str) -> set[str]:
    """The strings a credential can appear as: raw, percent-encoded, JSON-escaped, base64 (standard
    and URL-safe alphabets, also percent-encoded)."""
    found = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for run in _base64_runs(secret.encode()):
        for text in (run, run.replace("+", "-").replace("/", "_")):
            found |= {text, quote(text, safe="")}
    return found


def _credential(match: re.Match[str]) -> str:
    """`Basic YWxp...` -> `Basic ***`; `basic configuration` stays (no digit, +/=, or inner capital)."""
    value = match.group(2)
    coded = any(c.isdigit() or c in "+/=%*" for c in value) or any(c.isupper() for c in value[1:])
    return match.group(1) + MASK if coded else match.group(0)


def redact(text: str, values: Iterable[str] | None = None) -> str:
    """`text` with every form of every credential (default: those of this process) replaced by ***."""
    found: set[str] = set()
    for value in secrets() if values is None else values:
        found |= forms(value) if len(value) >= MIN_SECRET else set()
    if found:  # first, so a secret is masked whole whatever characters surround it
        alternatives = "|".join(re.escape(f) for f in sorted(found, key=len, reverse=True))
        text = re.sub(alternatives, MASK, text, flags=re.IGNORECASE)
    text = HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return SCHEME.sub(_credential, text)


class _Scrubbing:
    """A text stream that forwards whole lines, redacted (a secret split across writes is still seen)."""

    def __init__(self, stream: TextIO, values: list[str]) -> None:
        self.stream, self.values, self.pending = stream, values, ""

    def write(self, text: str) -> int:
        self.pending += text
        cut = max(self.pending.rfind("\n"), self.pending.rfind("\r")) + 1
        if cut:
            self.stream.write(redact(self.pending[:cut], self.values))
            self.pending = self.pending[cut:]
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(redact(self.pending, self.values))
            self.pending = ""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, ... as the real stream has them
        return getattr(self.stream, name)


@contextlib.contextmanager
def scrubbed_output(values: list[str]) -> Iterator[None]:
    """Redact what the kaggle client prints itself (progress, `VERBOSE=1` request dumps with headers)."""
    out, err = _Scrubbing(sys.stdout, values), _Scrubbing(sys.stderr, values)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        out.flush()
        err.flush()
