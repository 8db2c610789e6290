"""Scoring Sudoku and maze predictions: exact accuracy and its Wilson interval, per-cell accuracy,
difficulty buckets, maze path validity, the published sets, and the predictions files it reads."""

import numpy as np
import pytest

from harness.core.errors import DataError
from harness.core.puzzle_sources import load_puzzles
from harness.core.puzzles import OPEN, PATH, PuzzleSet
from harness.predictions.puzzle_shards import PuzzlePredictions, read_puzzle_predictions, save_puzzle_chunk
from submissions.puzzle_score import published_set, rating_buckets, score_puzzles, valid_paths, wilson


def preds_for(cells: np.ndarray, index: np.ndarray | None = None) -> PuzzlePredictions:
    index = np.arange(len(cells)) if index is None else index
    return PuzzlePredictions(index, cells, np.zeros(len(cells)), np.full(len(cells), 3, np.int16))


def test_wilson_interval_matches_scipy():
    from scipy.stats import binomtest

    for k, n in ((87, 100), (0, 50), (3, 7), (423_000, 423_168)):
        ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(0, 0) == (0.0, 0.0)


def test_exact_cells_and_buckets_of_a_sudoku_set():
    sudoku = load_puzzles("sudoku-6x6/test").subset(slice(0, 10))
    cells = sudoku.answers.copy()
    blank = np.flatnonzero(sudoku.questions[0] == 0)[0]
    cells[0, blank] = (cells[0, blank] % 6) + 1  # one wrong filled cell
    cells[1] = sudoku.questions[1]  # blanks left blank
    s = score_puzzles(sudoku, preds_for(cells[:9]), "x")  # puzzle 9 has no prediction
    assert (s["exact"], s["puzzles"], s["predicted"]) == (7, 10, 9) and s["exact_accuracy"] == 0.7
    assert s["exact_ci95"] == list(wilson(7, 10))
    blanks = int((sudoku.questions == 0).sum())
    wrong_fill = 1 + int((sudoku.questions[1] == 0).sum()) + int((sudoku.questions[9] == 0).sum())
    assert s["fill_accuracy"] == pytest.approx(1 - wrong_fill / blanks)
    assert s["cell_accuracy"] == pytest.approx(1 - (wrong_fill + 36 - int((sudoku.questions[9] == 0).sum())) / 360)
    assert sum(b["puzzles"] for b in s["by_rating"]) == 10 and s["mean_steps"] == 3.0
    assert "valid_paths" not in s and s["published_set"] is None


def test_rating_buckets_are_values_or_quintiles():
    assert rating_buckets(np.array([0, 0, 1, 3, -1])) == [(0, 0), (1, 1), (3, 3)]
    buckets = rating_buckets(np.arange(100))
    assert buckets[0][0] == 0 and buckets[-1][1] == 99 and len(buckets) == 5
    assert all(hi + 1 == lo for (_, hi), (lo, _) in zip(buckets, buckets[1:]))
    assert rating_buckets(np.full(5, -1)) == []


def test_a_maze_path_other_than_the_label_is_valid():
    # 5x5 with an open 3x3 room: two shortest routes from S (top left) to G (bottom right).
    q = np.array([list(r) for r in ["#####", "#S  #", "#   #", "#  G#", "#####"]])
    code = {"#": 0, " ": 1, "S": 2, "G": 3, "o": 4}
    question = np.vectorize(code.get)(q).astype(np.uint8).ravel()

    def drawn(*cells):
        grid = question.copy().reshape(5, 5)
        for r, c in cells:
            grid[r, c] = PATH
        return grid.ravel()

    label = drawn((1, 2), (1, 3), (2, 3))
    other = drawn((2, 1), (3, 1), (3, 2))
    branch = drawn((1, 2), (1, 3), (2, 3), (2, 1))  # a stray path cell touching S
    broken = drawn((1, 2), (2, 3))  # a gap
    wall = label.copy()
    wall[0] = OPEN  # changes a wall
    grid = np.stack([label, other, branch, broken, wall])
    assert list(valid_paths(np.stack([question] * 5), grid, 5)) == [True, True, False, False, False]
    mazes = PuzzleSet("m", "maze", 5, np.stack([question] * 2), np.stack([label] * 2))
    s = score_puzzles(mazes, preds_for(np.stack([label, other])), "x")
    assert s["exact"] == 1 and s["valid_paths"] == 2 and s["valid_path_rate"] == 1.0
    assert valid_paths(
        *(load_puzzles("maze-unique-30x30/test").questions, load_puzzles("maze-unique-30x30/test").answers), 30
    ).all()


def test_published_sets_are_known_by_shape_never_generated():
    assert published_set(load_puzzles("maze-unique-30x30/test")) is None
    q = np.zeros((1000, 900), np.uint8)
    fake = PuzzleSet("data/maze-30x30-hard-1k/test.csv", "maze", 30, q, q)
    generated = PuzzleSet("g", "maze", 30, q, q, source_names=("generated:maze:30x30",))
    assert published_set(fake) == "maze-30x30-hard-1k/test" and published_set(generated) is None


def test_predictions_files_shards_and_csv(tmp_path):
    sudoku = load_puzzles("sudoku-6x6/test").subset(slice(0, 6))
    folder = tmp_path / "run" / "predictions"
    save_puzzle_chunk(
        folder / "puzzles-000000.npz",
        np.arange(3),
        sudoku.answers[:3],
        np.zeros(3),
        np.ones(3),
        sudoku.hash,
        "halt=fixed",
        [sudoku.questions[:3]],
    )
    save_puzzle_chunk(
        folder / "puzzles-000001.npz",
        np.arange(3, 6),
        sudoku.answers[3:],
        np.zeros(3),
        np.ones(3),
        sudoku.hash,
        "halt=fixed",
        [sudoku.answers[3:]],
    )
    preds = read_puzzle_predictions(tmp_path / "run", sudoku)
    assert list(preds.index) == list(range(6)) and preds.recorded == (1,)
    s = score_puzzles(sudoku, preds, "x")
    assert s["exact"] == 6 and s["exact_by_step"] == {"1": 0.5}
    other = load_puzzles("sudoku-6x6/train").subset(slice(0, 6))
    with pytest.raises(DataError, match="predicted for another set"):
        read_puzzle_predictions(folder, other)
    csv = tmp_path / "p.csv"
    rows = [sudoku.to_strings(i)[1] for i in range(6)]
    csv.write_text("prediction\n" + "\n".join(rows) + "\n")
    assert score_puzzles(sudoku, read_puzzle_predictions(csv, sudoku), "x")["exact"] == 6
    csv.write_text("prediction\n12\n")
    with pytest.raises(DataError, match="line 2: prediction has 2 characters"):
        read_puzzle_predictions(csv, sudoku)
    (folder / "puzzles-000002.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match="damaged puzzle predictions shard"):
        read_puzzle_predictions(folder, sudoku)


def test_quoted_numbers_sit_only_beside_the_published_sets():
    from submissions.report.puzzle_runs import PuzzleRun
    from submissions.report.puzzle_tables import display_puzzles, puzzle_leaderboard

    puzzles = load_puzzles("sudoku-6x6/test")
    summary = score_puzzles(puzzles, preds_for(puzzles.answers), "x")
    ours = PuzzleRun("ours", puzzles.name, summary, {"max_steps": 16, "halt": "fixed"}, puzzles)
    board = puzzle_leaderboard([ours], published=True)
    assert list(board["source"]) == ["measured"]
    extreme = PuzzleRun(
        "extreme", puzzles.name, {**summary, "published_set": "sudoku-extreme/test", "exact_accuracy": 0.5}, {}, puzzles
    )
    board = puzzle_leaderboard([extreme, ours], published=True)
    assert list(board["run"][:2]) == ["ours", "extreme"]  # best first
    quoted = board[board["source"] != "measured"]
    assert {"TRM-MLP (mlp_t)", "HRM 27M", "GRAM"} <= set(quoted["run"]) and "TRM-Att" not in set(quoted["run"])
    assert quoted["source"].str.startswith("quoted, not measured by us").all()
    assert dict(zip(quoted["run"], quoted["exact"]))["TRM-MLP (mlp_t)"] == 0.874
    shown, quoted_shown = display_puzzles(board)
    assert "valid paths" not in shown.columns and shown["data set"][0].startswith("sudoku-6x6/test")
    assert len(quoted_shown) == 5 and puzzle_leaderboard([extreme], published=False)["source"].eq("measured").all()
