"""What every bench result records about when and from which code it was measured."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def stamp() -> dict[str, str]:
    """{"commit": HEAD's hash (+ "-dirty" with uncommitted changes to tracked files; "unknown" outside
    a git checkout), "date": now, ISO 8601 in UTC}. Put it at the top level of a result's JSON."""
    commit = _git("rev-parse", "HEAD") or "unknown"
    if commit != "unknown" and _git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    return {"commit": commit, "date": datetime.now(UTC).isoformat(timespec="seconds")}
