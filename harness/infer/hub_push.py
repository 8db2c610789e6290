"""What `trm-eval checkpoint push` uploads: the checkpoint's files and a model card whose metadata
(model-index) carries the scores of the runs given, each with its task set and that set's hash, so
the Hub shows a number that says what it was measured on. Nothing here imports huggingface_hub:
the plan is complete data, printed as it is by --dry-run and carried out by the command otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]  # stubs may or may not be installed

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import read_json, sha256_file
from harness.infer.checkpoints import read_manifest

CARD = "README.md"


@dataclass(frozen=True)
class PushPlan:
    """Files to upload (path in repo -> local file, or the card's text) and the calls that upload them."""

    repo_id: str
    files: dict[str, Path]
    card: str
    private: bool
    calls: tuple[str, ...]


def _file_line(name: str, path: Path) -> str:
    return f"{name}  {path.stat().st_size:,} bytes  sha256 {sha256_file(path)[:16]}"


def model_index(repo_id: str, runs: list[Path]) -> list[dict[str, Any]]:
    """The model-index entry (Hub model-card metadata) for the runs' score.json files."""
    results = []
    for run in runs:
        score = read_json(run / rundir.SCORE)
        if not isinstance(score, dict) or "tasks" not in score or "tasks_hash" not in score:
            raise DataError(f"{run / rundir.SCORE}: not an evaluation's score.json (no tasks / tasks_hash)")
        metrics = []
        if "benchmark" in score:
            metrics.append({"type": "exact_match", "name": "exact accuracy", "value": score["exact_accuracy"]})
        if isinstance(score.get("score"), dict):
            metrics.append(
                {"type": "pass@2", "name": "Kaggle score (pass@2, mean over tasks)", "value": score["score"]["score"]}
            )
        for k, v in score.get("pass_at_k", {}).items():
            if k in ("1", "2"):
                metrics.append({"type": f"pass@{k}", "name": f"pass@{k} over test outputs", "value": v})
        if not metrics:
            raise DataError(f"{run / rundir.SCORE}: no score (the set had no solutions)")
        for m in metrics:
            m["verified"] = False
        results.append(
            {
                "task": {"type": "abstract-reasoning", "name": score.get("benchmark", "arc")},
                "dataset": {"name": score["tasks"], "type": score["tasks"], "revision": score["tasks_hash"]},
                "metrics": metrics,
            }
        )
    return [{"name": repo_id, "results": results}]


def plan_push(ckpt: Path, repo_id: str, runs: list[Path], private: bool) -> PushPlan:
    """Check CKPT is a complete checkpoint, and list every file and call of its upload."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise DataError(f"{repo_id}: expected OWNER/REPO")
    manifest, _ = read_manifest(ckpt)
    files = {
        name: ckpt / name for name in (rundir.WEIGHTS, rundir.MANIFEST, rundir.IDENTIFIERS) if (ckpt / name).is_file()
    }
    if rundir.WEIGHTS not in files:
        raise DataError(f"{ckpt}: no {rundir.WEIGHTS}")
    layout = manifest.get("puzzle_identifiers") or {}
    index = model_index(repo_id, runs) if runs else []
    metadata: dict[str, Any] = {
        "library_name": "trm-eval",
        "tags": ["tiny-recursive-model", manifest.get("family", "trm")],
    }
    if index:
        metadata["model-index"] = index
    scores = "\n".join(
        f"- {r['dataset']['name']} (sha256 {r['dataset']['revision'][:16]}): "
        + ", ".join(f"{m['name']} {100 * m['value']:.2f}%" for m in r["metrics"])
        for r in (index[0]["results"] if index else [])
    )
    card = (
        f"---\n{yaml.safe_dump(metadata, sort_keys=False)}---\n\n# {repo_id}\n\n"
        f"A {manifest.get('family', 'trm').upper()} checkpoint in trm-eval's format (`model.safetensors` + "
        f"`manifest.json`), step {manifest.get('step')}.\n\n"
        f"Puzzle layout: {layout.get('count', 'unknown')} identifiers, identifiers.json sha256 "
        f"`{layout.get('sha256', 'not recorded')}`.\n\n"
        f"Evaluate: `trm-eval evaluate hf://{repo_id} --tasks SET -o runs/eval`\n\n"
        f"## Scores (trm-eval runs, unverified)\n\n{scores or 'none given'}\n"
    )
    calls = (
        f"HfApi().create_repo(repo_id={repo_id!r}, repo_type='model', private={private}, exist_ok=True)",
        f"HfApi().upload_folder(repo_id={repo_id!r}, repo_type='model', folder_path=<staging folder>, "
        f"commit_message='trm-eval checkpoint push')",
    )
    return PushPlan(repo_id, files, card, private, calls)


def describe(plan: PushPlan) -> list[str]:
    """Every file and call of the plan, one per line (what --dry-run prints)."""
    lines = [f"push to {plan.repo_id} ({'private' if plan.private else 'public'}):"]
    lines += [f"  file {_file_line(name, path)}" for name, path in plan.files.items()]
    lines.append(f"  file {CARD}  {len(plan.card.encode()):,} bytes  (model card, below)")
    lines += [f"  call {c}" for c in plan.calls]
    return lines + ["", plan.card]
