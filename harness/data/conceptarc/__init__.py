"""ConceptARC (160 tasks) in Kaggle format, shipped with the package: the paper's ARC layouts
train on it, so rebuilding a published checkpoint's layout needs it offline. MIT licence (see
LICENSE here); the files are the TRM reference code's conversion, unchanged (sha256 below)."""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import DataError
from harness.core.io import sha256_file

CHALLENGES = Path(__file__).with_name("arc-agi_concept_challenges.json")
SHA256 = {
    "arc-agi_concept_challenges.json": "4e60bd1de956c2519c3236ba9f2c352c971d5971bfc568ceafa716dd9b1a91fd",
    "arc-agi_concept_solutions.json": "3ec5e95e416e49c85dac28475fc5b73f6998d13b7e91ff0219eee48881c327ee",
}


def concept_challenges(given: str | Path | None = None) -> Path:
    """The ConceptARC challenges file to build a layout with: `given` (a Kaggle challenges file, its
    solutions beside it), else the packaged copy; DataError when neither is there, never a layout without it."""
    path = Path(given) if given is not None else CHALLENGES
    if not path.is_file():
        where = f"{path}: no such file" if given is not None else "the packaged ConceptARC files are missing"
        raise DataError(
            f"{where}; pass --concept PATH/arc-agi_concept_challenges.json (with its _solutions.json "
            f"beside it), e.g. from the TRM reference repository's kaggle/combined folder"
        )
    if given is None:
        for name, digest in SHA256.items():
            if sha256_file(path.with_name(name)) != digest:
                raise DataError(
                    f"{path.with_name(name)}: sha256 differs from the packaged ConceptARC's; reinstall trm-eval"
                )
    return path
