"""What every command module shares: the terminal console and task-set loading (kept light: no numpy here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from harness.core.tasks import TaskSet

console = Console()


def load_set(spec: str, solutions: str | None = None) -> TaskSet:
    """The task set SPEC names (built-in name, challenges file or folder), imported only when a command runs."""
    from harness.core.sources import load_tasks

    return load_tasks(spec, solutions)
