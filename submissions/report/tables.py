"""The report's tables as DataFrames: the leaderboard (our runs beside quoted numbers) and, per task
set, the solved/unsolved matrix. Renderers (HTML, Markdown, CSV) format these and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.core.sources import BUILTIN_SETS
from submissions.report.runs import Run

QUOTED = "quoted, not measured by us"


@dataclass(frozen=True)
class Published:
    """A pass@2 figure from the literature (REFERENCE.md section 6)."""

    system: str
    version: str  # ARC-AGI-1 or ARC-AGI-2
    split: str
    pass2: float
    usd_per_task: float | None
    source: str
    family: str | None = None  # model family (models.FAMILIES) for TRM and HRM; None for other systems


_PAPER = "TRM paper, arXiv 2510.04871"
_CITED = "as cited by the TRM paper"
PUBLISHED = (
    Published("TRM-Att 7M", "ARC-AGI-1", "public eval", 0.446, None, _PAPER, "trm"),
    Published("TRM, ARC Prize verification", "ARC-AGI-1", "semi-private", 0.400, 1.76, "ARC Prize", "trm"),
    Published("HRM 27M", "ARC-AGI-1", "public eval", 0.403, None, _PAPER, "hrm"),
    Published("TRM single augmentation", "ARC-AGI-1", "public eval", 0.2925, None, "arXiv 2512.11847", "trm"),
    Published("Gemini 2.5 Pro", "ARC-AGI-1", "public eval", 0.370, None, _CITED),
    Published("o3-mini-high", "ARC-AGI-1", "public eval", 0.345, None, _CITED),
    Published("DeepSeek-R1", "ARC-AGI-1", "public eval", 0.158, None, _CITED),
    Published("TRM-Att 7M", "ARC-AGI-2", "public eval", 0.078, None, _PAPER, "trm"),
    Published("TRM, ARC Prize verification", "ARC-AGI-2", "semi-private", 0.062, 2.10, "ARC Prize", "trm"),
    Published("HRM 27M", "ARC-AGI-2", "public eval", 0.050, None, _PAPER, "hrm"),
    Published("Gemini 2.5 Pro", "ARC-AGI-2", "public eval", 0.049, None, _CITED),
    Published("o3-mini-high", "ARC-AGI-2", "public eval", 0.030, None, _CITED),
    Published("DeepSeek-R1", "ARC-AGI-2", "public eval", 0.013, None, _CITED),
)

LEADERBOARD_COLUMNS = [
    "run",
    "source",
    "dataset",
    "dataset_hash",
    "checkpoint",
    "family",
    "parameters",
    "puzzle_emb_parameters",
    "device",
    "views",
    "views_per_input",
    "act_steps",
    "mean_steps",
    "nfe_per_task",
    "nfe_reference_per_task",
    "pass1",
    "pass1_low",
    "pass1_high",
    "pass2",
    "pass2_low",
    "pass2_high",
    "tasks_solved",
    "tasks",
    "outputs_solved",
    "outputs",
    "gpu_seconds",
    "usd_per_task",
]

INTEGER_COLUMNS = [
    "parameters",
    "puzzle_emb_parameters",
    "views",
    "act_steps",
    "tasks_solved",
    "tasks",
    "outputs_solved",
    "outputs",
]


def arc_version(dataset: str) -> str | None:
    """ARC-AGI-1 or ARC-AGI-2 for the built-in sets; None when the name does not say."""
    for name in ("ARC-AGI-1", "ARC-AGI-2"):
        if dataset.lower().startswith(name.lower()):
            return name
    return None


def short_dataset(dataset: str) -> str:
    """Built-in names as they are; a file or folder by its last component."""
    return dataset if dataset in BUILTIN_SETS else dataset.rstrip("/").rsplit("/", 1)[-1]


def run_row(run: Run, price_per_gpu_hour: float | None) -> dict:
    """One leaderboard row; metadata a run did not record stays empty (NaN / None)."""
    meta, summary = run.meta, run.summary
    checkpoint = meta.get("checkpoint")
    if checkpoint is not None and meta.get("checkpoint_step") is not None:
        checkpoint = f"{checkpoint} (step {meta['checkpoint_step']})"
    views = summary.get("views")
    inputs = summary.get("test_inputs") or run.tasks.n_test_inputs
    gpu_seconds = meta.get("gpu_seconds")
    n_tasks = len(run.pass2.per_task)
    usd = (
        gpu_seconds / 3600 * price_per_gpu_hour / n_tasks
        if gpu_seconds is not None and price_per_gpu_hour is not None
        else None
    )
    (lo1, hi1), (lo2, hi2) = run.pass1.interval(), run.pass2.interval()
    parameters = run.parameters or {}
    return {
        "run": run.name,
        "source": "measured",
        "dataset": run.tasks.name,
        "dataset_hash": run.tasks.hash,
        "checkpoint": checkpoint,
        "family": run.family,
        "parameters": parameters.get("network"),
        "puzzle_emb_parameters": parameters.get("puzzle_embedding"),
        "device": meta.get("device"),
        "views": views,
        "views_per_input": views / inputs if views is not None else None,
        "act_steps": meta.get("max_steps"),
        "mean_steps": meta.get("mean_steps", summary.get("mean_steps")),
        "nfe_per_task": meta.get("nfe_per_task"),
        "nfe_reference_per_task": meta.get("nfe_reference_per_task"),
        "pass1": run.pass1.score,
        "pass1_low": lo1,
        "pass1_high": hi1,
        "pass2": run.pass2.score,
        "pass2_low": lo2,
        "pass2_high": hi2,
        "tasks_solved": run.pass2.tasks_fully_solved,
        "tasks": n_tasks,
        "outputs_solved": run.pass2.outputs_solved,
        "outputs": run.pass2.outputs_total,
        "gpu_seconds": gpu_seconds,
        "usd_per_task": usd,
    }


def published_rows(runs: list[Run]) -> list[dict]:
    """Quoted rows for the ARC versions the runs were scored on (both when a name does not tell)."""
    versions = {arc_version(r.tasks.name) for r in runs}
    wanted = {"ARC-AGI-1", "ARC-AGI-2"} if None in versions or not versions else versions
    return [
        {
            "run": p.system,
            "source": f"{QUOTED}: {p.source}",
            "dataset": f"{p.version} {p.split}",
            "family": p.family,
            "pass2": p.pass2,
            "usd_per_task": p.usd_per_task,
        }
        for p in PUBLISHED
        if p.version in wanted
    ]


def checkpoint_published_rows(runs: list[Run]) -> list[dict]:
    """What was published for the checkpoints the runs evaluated (run.json `published`, written when a
    checkpoint came from the Hub): beside our measured number, marked as theirs."""
    rows = []
    for run in runs:
        record = run.meta.get("published")
        if not isinstance(record, dict):
            continue
        label = record.get("name") or record.get("address") or run.name
        for score in record.get("scores") or []:
            if not isinstance(score, dict) or not isinstance(score.get("score"), int | float):
                continue
            rows.append(
                {
                    "run": f"{label}, {score.get('metric', 'published')} as published",
                    "source": f"{QUOTED}: {score.get('source', '?')}",
                    "dataset": str(score.get("set", "")),
                    "family": run.family,
                    "pass2": float(score["score"]) / 100,
                }
            )
    return rows


def leaderboard(runs: list[Run], price_per_gpu_hour: float | None, published: bool) -> pd.DataFrame:
    """Our runs (measured) by pass@2, best first, then what was published for the checkpoints they
    evaluated, then the quoted figures when `published`."""
    measured = sorted((run_row(r, price_per_gpu_hour) for r in runs), key=lambda row: -row["pass2"])
    quoted = checkpoint_published_rows(runs) + (published_rows(runs) if published else [])
    board = pd.DataFrame(measured + quoted, columns=LEADERBOARD_COLUMNS)
    return board.astype(dict.fromkeys(INTEGER_COLUMNS, "Int64"))  # counts stay integers beside quoted blanks


def by_dataset(runs: list[Run]) -> dict[str, list[Run]]:
    """Runs grouped by the hash of the task set they were scored on (first-seen order)."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.tasks.hash, []).append(run)
    return groups


def task_matrix(runs: list[Run]) -> pd.DataFrame:
    """Test outputs solved per task (rows, indexed by task_id and outputs) and run (columns) of one
    task set; failures first: tasks fully solved by fewer runs, then with fewer outputs solved."""
    per_task = [r.pass2.per_task.set_index(["task_id", "outputs"])["solved"] for r in runs]
    matrix = pd.concat(per_task, axis=1, keys=[r.name for r in runs])
    outputs = matrix.index.get_level_values("outputs").to_numpy()
    key = pd.DataFrame({"full": matrix.eq(outputs, axis=0).sum(axis=1), "any": matrix.sum(axis=1)})
    return matrix.loc[key.sort_values(["full", "any"], kind="stable").index]


def solved_somewhere(matrix: pd.DataFrame) -> pd.DataFrame:
    """The rows of a task matrix that some run solves, best-solved first (set order among equals)."""
    some = matrix[matrix.sum(axis=1) > 0]
    outputs = some.index.get_level_values("outputs").to_numpy()
    key = pd.DataFrame({"full": -some.eq(outputs, axis=0).sum(axis=1), "any": -some.sum(axis=1)})
    return some.loc[key.sort_values(["full", "any"], kind="stable").index]
