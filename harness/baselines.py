"""Simple baseline predictors, run through the same views -> vote -> submission path as TRM.

They set the floor a trained model must beat, and let the pipeline run without a model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from augment import IDENTITY, Transform, dihedral, random_transform
from harness.core.tasks import Task, TaskSet
from voting import Predictions

Predictor = Callable[[list[tuple[np.ndarray, np.ndarray]], np.ndarray], np.ndarray]


def copy_input(train: list[tuple[np.ndarray, np.ndarray]], test_input: np.ndarray) -> np.ndarray:
    """Predict the test input unchanged."""
    return test_input


def _learn_colours(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The single cell-wise recolouring that maps every source to its target, if there is one."""
    mapping = np.arange(10, dtype=np.uint8)
    seen = np.zeros(10, dtype=bool)
    for source, target in pairs:
        if source.shape != target.shape:
            return None
        for colour in np.unique(source):
            images = np.unique(target[source == colour])
            if len(images) != 1 or (seen[colour] and mapping[colour] != images[0]):
                return None
            mapping[colour], seen[colour] = images[0], True
    return mapping


def colour_map(train: list[tuple[np.ndarray, np.ndarray]], test_input: np.ndarray) -> np.ndarray:
    """If every demonstration is a consistent cell-wise recolouring, apply it; else copy the input."""
    mapping = _learn_colours(train)
    return test_input if mapping is None else mapping[test_input]


def symmetry(train: list[tuple[np.ndarray, np.ndarray]], test_input: np.ndarray) -> np.ndarray:
    """A dihedral transform consistent with every demonstration: a pure one if any (the simplest
    explanation), else one followed by a recolouring; copy the input when none fits."""
    for tid in range(8):
        if all(np.array_equal(dihedral(i, tid), o) for i, o in train):
            return dihedral(test_input, tid)
    for tid in range(8):
        mapping = _learn_colours([(dihedral(i, tid), o) for i, o in train])
        if mapping is not None:
            return mapping[dihedral(test_input, tid)]
    return test_input


BASELINES: dict[str, Predictor] = {"copy-input": copy_input, "colour-map": colour_map, "symmetry": symmetry}


def view_transforms(n_views: int, rng: np.random.Generator) -> list[Transform]:
    """The identity plus n_views - 1 random group elements."""
    return [IDENTITY] + [random_transform(rng) for _ in range(n_views - 1)]


def predict_views(tasks: TaskSet, predictor: Predictor, n_views: int = 8, seed: int = 0) -> Predictions:
    """Run `predictor` on every test input of every task under `n_views` augmented views."""
    rng = np.random.default_rng(seed)
    task_ids: list[str] = []
    index: list[int] = []
    transforms: list[Transform] = []
    grids: list[np.ndarray] = []
    for task in tasks:
        for view in view_transforms(n_views, rng):
            _predict_task(task, predictor, view, task_ids, index, transforms, grids)
    return Predictions.from_rows(task_ids, index, transforms, grids)


def _predict_task(
    task: Task, predictor: Predictor, view: Transform, task_ids: list, index: list, transforms: list, grids: list
) -> None:
    train = [(view.apply(i), view.apply(o)) for i, o in task.train]
    for n, test_input in enumerate(task.test_inputs):
        task_ids.append(task.id)
        index.append(n)
        transforms.append(view)
        grids.append(predictor(train, view.apply(test_input)))
