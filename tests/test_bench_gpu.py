"""The GPU check script runs without a GPU: smaller, on the CPU, saying so, and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_gpu_check_runs_on_cpu_and_says_no_gpu(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu.sh"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "no GPU found" in done.stdout
    result = json.loads(out.read_text())
    assert result["gpu_found"] is False and result["mode"] == "small (CPU)"
    assert 0.5 < result["parity"]["bf16"]["pred_agreement"] <= 1
    assert result["engine"]["fixed"]["nfe_per_s"] > 0 and result["engine"]["q"]["mean_steps"] <= 4
    assert 3 <= result["engine"]["stable:2"]["mean_steps"] <= 4  # stable:2 stops at step 3 at the earliest
    assert result["train"]["examples_per_s"] > 0 and result["train"]["mfu"] is None
