"""What `compare` sets side by side: a sweep cell, the same cell over a sweep's seeds, an evaluation
run (ARC, Sudoku or maze), or repeated evaluation runs; each as per-task scores over repeats, on a
named, hashed task set (a puzzle is a task: 1.0 solved exactly, else 0.0; ids are puzzle indices).

A sweep side is written `SWEEP_DIR[@key=value,...]`: keys depth, breadth, views, rule, selector pick a
cell (keys left out take the reference protocol cell's value), and `nfe=N` picks, among the cells
matching the keys given, the best one at no more than N network applications per task (keys left
out are then free). A cell picked by its score on the tasks it is then compared on is an optimistic
choice; such sides say so (`chosen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.core import rundir
from harness.core.errors import DataError
from harness.core.io import read_json
from harness.predictions.cell_scores import load_cell_scores
from submissions.report.puzzle_runs import PuzzleRun
from submissions.report.runs import Run
from voting.halting import HaltRule

CELL_KEYS = ("depth", "breadth", "views", "rule", "selector")


@dataclass
class Side:
    """One side of a comparison: scores (R repeats, T tasks) in `tasks` order."""

    name: str
    dataset: str
    dataset_hash: str
    tasks: list[str]
    scores: np.ndarray  # (R, T), the metric per task in each repeat
    metric: str  # "pass2" or "exact"
    nfe_per_task: float | None  # mean over repeats; None where the run did not record it
    family: str | None = None
    chosen: bool = False  # the cell was picked by its score on these tasks (optimistic)

    @property
    def repeats(self) -> int:
        return int(self.scores.shape[0])

    def aligned(self, tasks: list[str]) -> np.ndarray:
        """(R, T) scores in the order of `tasks` (the same set: checked by hash before)."""
        where = {t: i for i, t in enumerate(self.tasks)}
        return self.scores[:, [where[t] for t in tasks]]


def split_spec(spec: str) -> tuple[Path, str]:
    """`SWEEP[@cell]` -> (folder, cell); a folder whose own name holds `@` is taken whole when it exists."""
    if (Path(spec) / rundir.SWEEP_SUMMARY).is_file():
        return Path(spec), ""
    folder, _, cell = spec.rpartition("@") if "@" in spec else (spec, "", "")
    return Path(folder), cell


def is_sweep(spec: str) -> bool:
    return (split_spec(spec)[0] / rundir.SWEEP_SUMMARY).is_file()


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:  # missing, empty or torn: pandas raises these
        raise DataError(f"{path}: cannot read it ({type(exc).__name__}); rerun the sweep") from None


def parse_cell(spec: str, where: str) -> dict[str, Any]:
    """`depth=4,rule=q:0,nfe=300` -> {"depth": 4, "rule": "q:0", "nfe": 300.0}."""
    out: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, eq, value = item.partition("=")
        if not eq or key not in (*CELL_KEYS, "nfe"):
            raise DataError(f"{where}: cell {item!r}: expected key=value with key one of {', '.join(CELL_KEYS)}, nfe")
        if key in ("depth", "breadth", "views", "nfe"):
            try:
                out[key] = float(value) if key == "nfe" else int(value)
            except ValueError:
                raise DataError(f"{where}: cell {item!r}: {key} must be a number") from None
        elif key == "rule":
            try:
                out[key] = HaltRule.parse(value).label  # `q` names the cell labelled `q:0`
            except ValueError as exc:
                raise DataError(f"{where}: {exc}") from None
        else:
            out[key] = value
    return out


def _pick(cells: pd.DataFrame, metric: str, nfe: str, want: dict[str, Any], ref: dict[str, Any], where: str) -> int:
    """Row index of the cell `want` names (see module docstring)."""
    budget = want.get("nfe")
    unknown = [k for k in want if k != "nfe" and k not in cells]
    if unknown:
        raise DataError(f"{where}: this sweep has no {', '.join(unknown)} axis")
    axes = [k for k in CELL_KEYS if k in cells]
    if budget is None and not ref and any(k not in want for k in axes):
        raise DataError(
            f"{where}: this sweep has no reference protocol cell to fill the keys left out from; name "
            f"{', '.join(k for k in axes if k not in want)} (or give nfe=N)"
        )
    keys = {k: want.get(k, None if budget is not None else ref.get(k)) for k in axes}
    match = np.ones(len(cells), bool)
    for k, v in keys.items():
        if v is not None:
            match &= (cells[k].astype(str) == str(v)).to_numpy()
    if budget is not None:
        match &= (cells[nfe] <= budget).to_numpy()
    rows = cells[match]
    if rows.empty:
        named = ", ".join(f"{k}={v}" for k, v in {**keys, "nfe<=": budget}.items() if v is not None)
        raise DataError(f"{where}: no cell with {named}")
    if budget is None:
        return int(rows.index[0])
    return int(rows.sort_values([metric, nfe], ascending=[False, True], kind="stable").index[0])


def sweep_side(spec: str, nfe_budget: float | None = None) -> Side:
    """A sweep cell (over every seed of the sweep when it has several); see the module docstring."""
    path, cell = split_spec(spec)
    summary = read_json(path / rundir.SWEEP_SUMMARY)
    if not isinstance(summary, dict) or not all(isinstance(summary.get(k), str) for k in ("tasks", "tasks_hash")):
        raise DataError(f"{path / rundir.SWEEP_SUMMARY}: not a sweep summary (needs tasks and tasks_hash)")
    want = parse_cell(cell, spec)
    if nfe_budget is not None:
        want.setdefault("nfe", nfe_budget)
    metric = summary.get("metric", "pass2")
    headline = summary.get("headline")
    ref = headline.get("reference") or {} if isinstance(headline, dict) else {}
    repeats = summary.get("repeats")
    if repeats is not None and not (isinstance(repeats, dict) and isinstance(repeats.get("seeds"), list)):
        raise DataError(f"{path / rundir.SWEEP_SUMMARY}: repeats malformed; rerun the sweep")
    if repeats:  # choose on the means over seeds, then read the cell in every seed's sweep
        table = _read_table(path / rundir.SWEEP_SEED_CELLS)
        row = _pick(table, f"{metric}_mean", "nfe_per_task_mean", want, ref, spec)
        nfe = float(table["nfe_per_task_mean"].iloc[row])
        folders = [path] + [path / rundir.SWEEP_SEEDS / f"seed-{s}" for s in repeats["seeds"][1:]]
    else:
        table = _read_table(path / rundir.SWEEP_CELLS)
        row = _pick(table, metric, "nfe_per_task", want, ref, spec)
        nfe = float(table["nfe_per_task"].iloc[row])
        folders = [path]
    scores, tasks = [], None
    for f in folders:
        loaded = load_cell_scores(f / rundir.SWEEP_CELL_SCORES, len(table))
        if loaded.metric != metric:
            raise DataError(f"{f / rundir.SWEEP_CELL_SCORES}: scores {loaded.metric}, the sweep {metric}")
        if tasks is not None and list(loaded.tasks) != tasks:
            raise DataError(f"{f}: scored other tasks than {path}")
        tasks = list(loaded.tasks)
        scores.append(loaded.scores[row])
    coords = table.iloc[row]
    label = ",".join(f"{k}={coords[k]}" for k in CELL_KEYS if k in table)
    return Side(
        name=f"{path.name}@{label}",
        dataset=summary["tasks"],
        dataset_hash=summary["tasks_hash"],
        tasks=tasks or [],
        scores=np.stack(scores),
        metric=metric,
        nfe_per_task=nfe,
        family=summary.get("family"),
        chosen="nfe" in want,
    )


def _repeats(runs: Sequence[Run | PuzzleRun], hashes: list[str]) -> tuple[str, float | None]:
    """Check every repeat was scored on the first one's data; the side's name and its mean NFE per task
    (None unless every repeat recorded it)."""
    for run, digest in zip(runs[1:], hashes[1:]):
        if digest != hashes[0]:
            raise DataError(f"{run.path} was scored on other data than {runs[0].path}; repeats need the same set")
    nfe = [r.nfe_per_task for r in runs]
    name = runs[0].name if len(runs) == 1 else f"{runs[0].name} (+{len(runs) - 1} repeats)"
    return name, float(np.mean([n for n in nfe if n is not None])) if None not in nfe else None


def runs_side(runs: list[Run]) -> Side:
    """Evaluation runs of one model (e.g. other seeds) as repeats; all on the same task set."""
    name, nfe = _repeats(runs, [r.tasks.hash for r in runs])
    per_task = [r.pass2.per_task.set_index("task_id")["score"] for r in runs]
    tasks = list(per_task[0].index)
    scores = np.stack([s.loc[tasks].to_numpy(np.float64) for s in per_task])
    first = runs[0]
    return Side(name, first.tasks.name, first.tasks.hash, tasks, scores, "pass2", nfe, first.family)


def puzzle_side(runs: list[PuzzleRun]) -> Side:
    """Sudoku or maze evaluation runs as repeats: per puzzle exact (a puzzle not predicted counts 0)."""
    name, nfe = _repeats(runs, [r.puzzles.hash for r in runs])
    scores = []
    for run in runs:
        preds = run.predictions
        if preds is None:
            raise DataError(f"{run.path}: no prediction shards in {rundir.PREDICTIONS}/; compare needs them")
        solved = np.zeros(len(run.puzzles))
        solved[preds.index] = (preds.cells == run.puzzles.answers[preds.index]).all(axis=1)
        scores.append(solved)
    first = runs[0]
    tasks = [str(i) for i in range(len(first.puzzles))]
    return Side(name, first.puzzles.name, first.puzzles.hash, tasks, np.stack(scores), "exact", nfe, first.family)
