"""Shared fixtures: the ../shared folder (optional) and small task sets written to tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from tests.helpers import make_task

# Shared 2-core machines: time limits per example would make property tests flaky, not stricter.
settings.register_profile("trm-eval", deadline=None)
settings.load_profile("trm-eval")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def one_thread():
    """Test models are tiny: threads gain nothing, and with pytest-xdist on 2 cores OpenMP threads
    that wait for each other cost seconds. Subprocesses get OMP_NUM_THREADS=1 likewise."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shared() -> Path:
    """The steering repo's shared/ folder; tests that need it skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


@pytest.fixture
def kaggle_files(tmp_path: Path) -> Path:
    """A two-task Kaggle challenges file with its solutions file beside it."""
    tasks = {"aaaa0001": make_task(), "bbbb0002": make_task()}
    challenges = {
        k: {"train": v["train"], "test": [{"input": t["input"]} for t in v["test"]]} for k, v in tasks.items()
    }
    solutions = {k: [t["output"] for t in v["test"]] for k, v in tasks.items()}
    path = tmp_path / "arc-agi_mini_challenges.json"
    path.write_text(json.dumps(challenges))
    (tmp_path / "arc-agi_mini_solutions.json").write_text(json.dumps(solutions))
    return path
