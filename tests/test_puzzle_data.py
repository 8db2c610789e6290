"""Sudoku and maze runs' data: the token encoding, the reference's .npy splits, the [data] schema, and the
on-the-fly loader (seeded, rank-independent, resumable, augmentations that keep puzzles valid)."""

import json

import numpy as np
import pytest

from augment import dihedral
from harness.config import from_dict
from harness.core.benchmarks import is_puzzle_spec, load_any
from harness.core.errors import DataError
from harness.core.puzzle_npy import read_reference_split
from harness.core.puzzle_sources import load_puzzles
from harness.core.puzzles import problem
from harness.data.puzzle_encoding import INVALID, decode_tokens, encode_cells, vocab_size
from harness.data.puzzle_loader import PuzzleBatches, PuzzleSampler, build_puzzle_layout
from tests.helpers import write_reference_split


def test_encoding_round_trips_and_marks_tokens_that_are_no_cell():
    sudoku = load_puzzles("sudoku-6x6/test")
    tokens = encode_cells(sudoku.questions)
    assert tokens.dtype == np.uint8 and tokens.min() == 1 and tokens.max() == 7 and vocab_size("sudoku", 6) == 8
    np.testing.assert_array_equal(decode_tokens(tokens, "sudoku", 6), sudoku.questions)
    assert vocab_size("sudoku", 9) == 11 and vocab_size("maze", 30) == 6  # the reference's dataset.json values
    maze = load_puzzles("maze-unique-15x15/test")
    np.testing.assert_array_equal(decode_tokens(encode_cells(maze.answers), "maze", 15), maze.answers)
    assert list(decode_tokens(np.array([0, 1, 5, 6, 11]), "maze", 15)) == [INVALID, 0, 4, INVALID, INVALID]


def test_reference_split_reads_back_with_its_groups(tmp_path):
    sudoku = load_puzzles("sudoku-6x6/test").subset(slice(0, 12))
    folder = write_reference_split(sudoku, tmp_path / "data" / "train", group_size=3)
    read, groups = read_reference_split(folder)
    assert read.hash == sudoku.hash and list(groups) == [0, 3, 6, 9, 12]
    assert is_puzzle_spec(folder) and load_any(folder).hash == sudoku.hash
    assert not is_puzzle_spec(tmp_path / "data")
    with pytest.raises(DataError, match="a sudoku split .*expected a maze"):
        read_reference_split(folder, "maze")
    np.save(folder / "all__labels.npy", sudoku.questions + 1)  # blanks in an answer
    with pytest.raises(DataError, match="row 0: answer: .*not a digit"):
        load_puzzles(folder)
    np.save(folder / "all__inputs.npy", np.zeros((12, 36), np.uint8))
    with pytest.raises(DataError, match="all__inputs.npy: row 0, cell 0: token 0 is not a sudoku cell"):
        load_puzzles(folder)


TOML_BASE = {
    "data": {"benchmark": "sudoku", "train_set": "sudoku-6x6/train", "eval_set": "sudoku-6x6/test", "canvas": 6},
    "model": {"hidden_size": 32, "num_heads": 2},
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"eval_set": ""}, "needs train_set and eval_set"),
        ({"canvas": 7}, "canvas = 7 is the Sudoku's side"),
        ({"benchmark": "maze", "num_aug": 3}, "num_aug = 3: a maze run takes 0"),
        ({"benchmark": "arc"}, "are for sudoku and maze runs"),
        ({"benchmark": "go"}, "benchmark = 'go' must be one of"),
    ],
)
def test_the_schema_checks_puzzle_runs(change, message):
    raw = {"data": {**TOML_BASE["data"], **change}, "model": TOML_BASE["model"]}
    if change.get("benchmark") == "arc":
        raw["data"].pop("canvas")
    with pytest.raises(DataError, match=message):
        from_dict(raw, "x.toml")
    with pytest.raises(DataError, match="vocab_size are derived"):
        from_dict({**TOML_BASE, "model": {**TOML_BASE["model"], "vocab_size": 8}}, "x.toml")
    assert from_dict(TOML_BASE, "x.toml").data.benchmark == "sudoku"


def layout(tmp_path, kind="sudoku", subsample=64, num_aug=10, seed=1, folder="run"):
    train, test = (
        ("sudoku-6x6/train", "sudoku-6x6/test")
        if kind == "sudoku"
        else ("maze-unique-15x15/train", "maze-unique-15x15/test")
    )
    side = 6 if kind == "sudoku" else 15
    return build_puzzle_layout(kind, train, test, side, subsample, num_aug, seed, tmp_path / folder)


def test_batches_are_seeded_rank_independent_and_valid_puzzles(tmp_path):
    sampler = PuzzleSampler(layout(tmp_path), 16, seed=0)
    assert sampler.per_epoch == 4 and sampler.examples_per_epoch() == 64
    one = PuzzleBatches(sampler, 0, 1).batch(9)
    again = PuzzleBatches(PuzzleSampler(layout(tmp_path, folder="other"), 16, seed=0), 0, 1).batch(9)
    assert all(np.array_equal(one[k], again[k]) for k in one)
    halves = [PuzzleBatches(sampler, r, 2).batch(9) for r in (0, 1)]
    assert np.array_equal(np.concatenate([h["inputs"] for h in halves]), one["inputs"])
    questions, answers = (one[k].numpy().astype(np.uint8) - 1 for k in ("inputs", "labels"))
    assert problem("sudoku", questions, answers, 6) is None  # augmented, still valid Sudoku
    assert (one["puzzle_identifiers"] == 0).all() and one["labels"].min() >= 2
    other_seed = PuzzleBatches(PuzzleSampler(layout(tmp_path), 16, seed=1), 0, 1).batch(9)
    assert not np.array_equal(other_seed["inputs"], one["inputs"])
    # Every epoch draws each of the 64 puzzles once; augmentation 0 is the puzzle as it is.
    groups, puzzles, augs = sampler.epoch_plan(3)
    assert sorted(groups) == list(range(64)) and set(augs) <= set(range(11))
    base = layout(tmp_path)
    q, a = base.augmented(5, 5, 0)
    assert np.array_equal(q, base.train.questions[5]) and np.array_equal(a, base.train.answers[5])
    assert sampler.epoch_start(9) == (2, 8)
    with pytest.raises(DataError, match="does not fit 4 batches per epoch"):
        sampler.start_at(2, 7)


def test_maze_augmentation_is_the_dihedral_group_and_recorded(tmp_path):
    mazes = layout(tmp_path, "maze", subsample=20, num_aug=7)
    q, a = mazes.augmented(3, 3, 1)
    np.testing.assert_array_equal(q.reshape(15, 15), dihedral(mazes.train.questions[3].reshape(15, 15), 1))
    assert problem("maze", q[None], a[None], 15) is None
    record = json.loads((tmp_path / "run" / "puzzles.json").read_text())
    assert record["augmentation"] == "dihedral (all 8)" and record["groups"] == 20
    assert (tmp_path / "run" / "identifiers.json").read_text() == '["<blank>"]'


def test_subsample_is_seeded_and_a_resumed_run_must_find_its_data(tmp_path):
    first = layout(tmp_path, seed=1)
    assert first.train.hash == layout(tmp_path, seed=1, folder="again").train.hash
    assert first.train.hash != layout(tmp_path, seed=2, folder="two").train.hash
    with pytest.raises(DataError, match="started on other data .*subsample_sha256"):
        layout(tmp_path, seed=2)  # the first run's folder, other data
    with pytest.raises(DataError, match="fewer than one global batch"):
        PuzzleSampler(layout(tmp_path, subsample=8, folder="small"), 16, 0)


def test_a_reference_split_trains_as_it_is(tmp_path):
    sudoku = load_puzzles("sudoku-6x6/train").subset(slice(0, 32))
    folder = write_reference_split(sudoku, tmp_path / "ref" / "train", group_size=2)
    data = build_puzzle_layout("sudoku", str(folder), "sudoku-6x6/test", 6, 0, 0, 0, tmp_path / "run")
    assert data.groups == 16 and len(data.train) == 32
    with pytest.raises(DataError, match="already subsampled and augmented"):
        build_puzzle_layout("sudoku", str(folder), "sudoku-6x6/test", 6, 0, 5, 0, tmp_path / "run2")
    with pytest.raises(DataError, match="set data.canvas = 6"):
        build_puzzle_layout("sudoku", str(folder), "sudoku-6x6/test", 9, 0, 0, 0, tmp_path / "run3")
