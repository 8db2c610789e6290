"""Single-answer puzzle sets: the CSV reader and each of its one-line errors, the generators
(unique solutions, determinism, pinned hashes) and their place in the benchmark registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from harness.core.benchmarks import BENCHMARKS, benchmark_of_set, load_any
from harness.core.errors import DataError
from harness.core.maze import generate_mazes, make_maze, shortest_paths
from harness.core.puzzle_sources import PUZZLE_SETS, load_puzzles, read_csv, write_csv
from harness.core.puzzles import MAZE_CHARS, WALL, PuzzleSet, box_shape, maze_problem, sudoku_problem
from harness.core.sudoku import generate_sudoku, make_sudoku, solve

HEADER = "source,question,answer,rating\n"
SOLUTION_4 = "1234341221434321"
QUESTION_4 = "1.3.3..2.14..3.1"
OPEN_MAZE = ["#######", "#S    #", "#     #", "#     #", "#     #", "#    G#", "#######"]
MAZE_PATH = [(1, 2), (1, 3), (1, 4), (1, 5), (2, 5), (3, 5), (4, 5)]

PINNED = {  # a change here means the built-in data changed: scores recorded against the old hash no longer apply
    "sudoku-6x6/train": "e3c9cbace385866b1d5dac618ced4ff3def2b686bb8d90290d305e729876fb1f",
    "sudoku-6x6/test": "be125cf40f70541741184948de48e97480313c04e22137416710a85bd2cb229c",
    "sudoku-6x6/test-1k": "ed1e66c41fba4ad00bd4f8620ba962d8492170e6bdd48c5e3576e652b94d94dc",
    "sudoku-9x9/test": "57ff2ec2f689470835f79b73ad59ee8222ab81476630c02b733f98e739952c87",
    "maze-unique-15x15/train": "9e01de0089949be97b10a2bc09eebb5642b71813efaef73507d5b1bf04613e7f",
    "maze-unique-15x15/test": "2d4848d540afa27cebff3f958965ce205b308a649514a9151f51add1a007134e",
    "maze-unique-30x30/test": "70c33390d6a3ed7419540da5dcf3119c707c516754a353d710058d82ff527128",
}


def maze_rows(answer: bool = True, extra: dict[tuple[int, int], str] | None = None) -> str:
    """The open 7x7 maze as one CSV string; `extra` overrides cells."""
    grid = [list(row) for row in OPEN_MAZE]
    if answer:
        for r, c in MAZE_PATH:
            grid[r][c] = "o"
    for (r, c), ch in (extra or {}).items():
        grid[r][c] = ch
    return "".join("".join(row) for row in grid)


def write(tmp_path, *rows: str, header: str = HEADER, name: str = "test.csv"):
    path = tmp_path / name
    path.write_text(header + "".join(f"{row}\n" for row in rows))
    return path


def error_of(path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        read_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_sudoku_csv_reads_blanks_ratings_and_sources(tmp_path):
    path = write(tmp_path, f"a,{QUESTION_4},{SOLUTION_4},3", f"b,{QUESTION_4.replace('.', '0')},{SOLUTION_4},")
    puzzles = read_csv(path)
    assert (puzzles.kind, puzzles.side, len(puzzles), puzzles.box) == ("sudoku", 4, 2, (2, 2))
    assert puzzles.questions.dtype == np.uint8 and puzzles.questions.shape == (2, 16)
    np.testing.assert_array_equal(puzzles.questions[0], puzzles.questions[1])  # '.' and '0' are both blank
    assert puzzles.questions[0, :3].tolist() == [1, 0, 3] and puzzles.answers[0, :4].tolist() == [1, 2, 3, 4]
    assert puzzles.ratings.tolist() == [3, -1] and puzzles.source_names == ("a", "b")
    assert puzzles.to_strings(0) == (QUESTION_4, SOLUTION_4)


def test_maze_csv_and_its_kind_from_the_characters(tmp_path):
    puzzles = read_csv(write(tmp_path, f"m,{maze_rows(False)},{maze_rows()},8"))
    assert (puzzles.kind, puzzles.side, puzzles.ratings.tolist()) == ("maze", 7, [8])
    assert puzzles.grids("answers")[0, 1, 2] == MAZE_CHARS.index("o")
    assert puzzles.to_strings(0) == (maze_rows(False), maze_rows())


def test_spec_resolution_file_split_and_folder(tmp_path):
    folder = tmp_path / "sudoku-extreme"
    folder.mkdir()
    write(folder, f"a,{QUESTION_4},{SOLUTION_4},0", name="test.csv")
    write(folder, f"a,{QUESTION_4},{SOLUTION_4},0", name="train.csv")
    by_file = load_puzzles(folder / "test.csv")
    by_split = load_puzzles(folder / "test")
    assert by_file.hash == by_split.hash and by_split.name.endswith("test.csv")
    with pytest.raises(DataError, match="a folder; name the split's CSV: .*test or .*train"):
        load_puzzles(folder)
    with pytest.raises(DataError, match="not a built-in puzzle set"):
        load_puzzles(tmp_path / "nothing")
    with pytest.raises(DataError, match="looks like a sudoku .*expected a maze"):
        load_puzzles(folder / "test", kind="maze")
    with pytest.raises(DataError, match="a sudoku set, not maze"):
        load_puzzles("sudoku-6x6/test", kind="maze")


SUDOKU_ERRORS = [
    # (rows after the header, expected end of the message)
    ([f"a,{QUESTION_4}1,{SOLUTION_4},0"], "line 2: question: 17 characters, not a square grid"),
    (
        [f"a,{QUESTION_4},{SOLUTION_4},0", f"a,{QUESTION_4},{SOLUTION_4}1,0"],
        "line 3: answer: 17 characters, expected 16 (a 4x4 sudoku, as line 2)",
    ),
    (
        ["a," + "." * 25 + "," + "1" * 25 + ",0"],
        "line 2: question: 25 characters: a 5x5 Sudoku (sides (4, 6, 8, 9) only)",
    ),
    ([f"a,{QUESTION_4},{SOLUTION_4},0", ""], "line 3: question: 0 characters, expected 16 (a 4x4 sudoku, as line 2)"),
    ([f"a,1.5.3..2.14..3.1,{SOLUTION_4},0"], "line 2: question: character 3 is '5'; allowed: '.', '0' and 1..4"),
    ([f"a,{QUESTION_4},12x4341221434321,0"], "line 2: answer: character 3 is 'x'; allowed: '.', '0' and 1..4"),
    ([f"a,{QUESTION_4},1234341221434３21,0"], "line 2: answer: a non-ASCII character"),
    (
        [f"a,{QUESTION_4},12343412214343.1,0"],
        "line 2: answer: grid row 4, column 3: not a digit 1..4 (an answer has no blanks)",
    ),
    (
        [f"a,{QUESTION_4},{SOLUTION_4},0", f"a,{QUESTION_4},2134341221434321,0"],
        "line 3: answer: grid row 1, column 1: contradicts the given in the question",
    ),
    (
        ["a,................,1214341221434321,0"],
        "line 2: answer: breaks the Sudoku rule: grid row 1 does not hold each digit 1..4 once",
    ),
    (
        ["a,................,2134341221434321,0"],
        "line 2: answer: breaks the Sudoku rule: grid column 1 does not hold each digit 1..4 once",
    ),
    (
        ["a,................,1234234134124123,0"],
        "line 2: answer: breaks the Sudoku rule: the box at grid row 1, column 1 does not hold each digit 1..4 once",
    ),
    ([f"a,{QUESTION_4},{SOLUTION_4},hard"], "line 2: rating: 'hard' is not an integer"),
    ([f"a,{QUESTION_4},{SOLUTION_4},0,extra"], "line 2: more fields than the header has"),
    (
        [f"a,{QUESTION_4},{SOLUTION_4},0", f"a,{QUESTION_4},{SOLUTION_4},0,extra"],
        "not a readable CSV: Expected 4 fields in line 3, saw 5",
    ),
]


@pytest.mark.parametrize("rows, expected", SUDOKU_ERRORS)
def test_sudoku_csv_errors_name_file_line_and_column(tmp_path, rows, expected):
    path = write(tmp_path, *rows)
    assert error_of(path) == f"{path}: {expected}"


MAZE_ERRORS = [
    # (question, answer, expected end of the message)
    (maze_rows(False, {(2, 2): "o"}), maze_rows(), "question: grid row 3, column 3: a path mark 'o' in a question"),
    (maze_rows(False, {(3, 3): "S"}), maze_rows(), "question: needs exactly one S and one G, has 2 and 1"),
    (
        maze_rows(False),
        maze_rows(extra={(0, 0): " "}),
        "answer: grid row 1, column 1: changes the question's wall, start or goal (only open cells may become 'o')",
    ),
    (
        maze_rows(False),
        maze_rows(extra={(2, 1): "o"}),
        "answer: grid row 2, column 2: S or G must touch exactly one path cell",
    ),
    (maze_rows(False), maze_rows(extra={(2, 3): "o"}), "answer: grid row 2, column 4: the path branches or ends here"),
    (maze_rows(False), maze_rows(extra={(1, 3): " "}), "answer: grid row 2, column 3: the path branches or ends here"),
    (
        maze_rows(False),
        maze_rows(extra={(3, 1): "o", (3, 2): "o", (4, 1): "o", (4, 2): "o"}),
        "answer: grid row 4, column 2: a path cell not connected to S",
    ),
]


@pytest.mark.parametrize("question, answer, expected", MAZE_ERRORS)
def test_maze_csv_errors(tmp_path, question, answer, expected):
    path = write(tmp_path, f"m,{maze_rows(False)},{maze_rows()},8", f"m,{question},{answer},8")
    assert error_of(path) == f"{path}: line 3: {expected}"


def test_header_and_empty_files(tmp_path):
    bad_header = write(tmp_path, f"a,{QUESTION_4},{SOLUTION_4},0", header="source,puzzle,solution,rating\n")
    assert "line 1: the header needs columns question and answer" in error_of(bad_header)
    assert error_of(write(tmp_path, name="h.csv")).endswith("no puzzles (only a header, or empty)")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "not a readable CSV" in error_of(empty)
    maze = write(tmp_path, f"m,{maze_rows(False)},{maze_rows()},8", name="maze.csv")
    assert "looks like a maze (7x7), expected a sudoku" in error_of(maze, kind="sudoku")


def test_optional_columns_and_large_chunks_keep_line_numbers(tmp_path, monkeypatch):
    import harness.core.puzzle_sources as sources

    monkeypatch.setattr(sources, "CHUNK_ROWS", 3)  # the error is in the third chunk
    rows = [f"{QUESTION_4},{SOLUTION_4}"] * 7 + [f"{QUESTION_4},2134341221434321"]
    path = write(tmp_path, *rows, header="question,answer\n")
    assert "line 9: answer: grid row 1, column 1: contradicts the given" in error_of(path)
    puzzles = read_csv(write(tmp_path, *rows[:7], header="question,answer\n", name="ok.csv"))
    assert len(puzzles) == 7 and (puzzles.ratings == -1).all() and puzzles.source_names == ("",)


def test_puzzle_set_is_read_only_and_hashes_what_is_scored():
    puzzles = generate_sudoku("a", 4, 20, 8, seed=3)
    with pytest.raises(ValueError):
        puzzles.questions[0, 0] = 1
    renamed = PuzzleSet("b", "sudoku", 4, puzzles.questions.copy(), puzzles.answers.copy())
    assert renamed.hash == puzzles.hash and (renamed.ratings == -1).all()
    part = puzzles.subset([3, 1])
    assert len(part) == 2 and part.hash != puzzles.hash and part.name == "a[2 of 20]"
    np.testing.assert_array_equal(part.questions[0], puzzles.questions[3])
    assert puzzles.subset(slice(0, 5)).hash == generate_sudoku("a", 4, 5, 8, seed=3).hash  # streams per puzzle
    with pytest.raises(ValueError, match="uint8 of shape"):
        PuzzleSet("c", "sudoku", 4, puzzles.questions[:, :15], puzzles.answers)


def test_csv_round_trip_of_generated_sets(tmp_path):
    for puzzles in (generate_sudoku("s", 6, 30, 20, seed=1), generate_mazes("m", 11, 30, 0.5, seed=1)):
        back = read_csv(write_csv(puzzles, tmp_path / f"{puzzles.kind}.csv"))
        assert back.hash == puzzles.hash and back.ratings.tolist() == puzzles.ratings.tolist()
        assert back.source_names == puzzles.source_names


@pytest.mark.parametrize("side, blanks", [(4, 10), (6, 22), (9, 45)])
def test_generated_sudokus_are_valid_unique_and_as_blank_as_asked(side, blanks):
    puzzles = generate_sudoku("g", side, 12, blanks, seed=7)
    assert sudoku_problem(puzzles.questions, puzzles.answers, side) is None
    assert ((puzzles.questions == 0).sum(axis=1) == blanks).all()
    assert len({q.tobytes() for q in puzzles.questions}) == 12
    for question, answer in zip(puzzles.questions, puzzles.answers):
        solved = solve(question, side)
        assert solved.count == 1 and solved.solution == answer.tolist()
    assert (puzzles.ratings >= 0).all()
    assert generate_sudoku("g", side, 12, blanks, seed=7).hash == puzzles.hash
    assert generate_sudoku("g", side, 12, blanks, seed=8).hash != puzzles.hash


def test_unreachable_blanks_stop_at_a_minimal_puzzle():
    question, solution = make_sudoku(np.random.default_rng(0), 4, 16, attempts=2)
    blanks = question.count(0)
    assert 8 <= blanks < 16 and solve(question, 4).count == 1
    for cell in np.flatnonzero(question):  # minimal: no given can go without a second solution
        weaker = list(question)
        weaker[cell] = 0
        assert solve(weaker, 4).count == 2


def test_solver_counts_and_box_shapes():
    assert [box_shape(n) for n in (4, 6, 8, 9)] == [(2, 2), (2, 3), (2, 4), (3, 3)]
    assert solve([0] * 16, 4).count == 2 and solve([1, 1] + [0] * 14, 4).count == 0
    assert solve([0] * 16, 4, limit=5).count == 5
    with pytest.raises(ValueError):
        box_shape(5)


@pytest.mark.parametrize("side, loops", [(9, 0.0), (15, 0.3), (30, 0.5)])
def test_generated_mazes_have_one_shortest_path(side, loops):
    mazes = generate_mazes("m", side, 15, loops, seed=5)
    assert maze_problem(mazes.questions, mazes.answers, side) is None
    for question, answer, rating in zip(mazes.questions, mazes.answers, mazes.ratings):
        start, goal = int(np.flatnonzero(question == 2)[0]), int(np.flatnonzero(question == 3)[0])
        count, path = shortest_paths(question.reshape(side, side) != WALL, start, goal)
        assert count == 1 and len(path) - 1 == rating
        assert set(np.flatnonzero(answer == 4)) == set(path[1:-1])
    assert generate_mazes("m", side, 15, loops, seed=5).hash == mazes.hash


def test_loops_open_walls_without_changing_the_path():
    perfect = make_maze(np.random.default_rng(1), 15, 0.0)
    loopy = make_maze(np.random.default_rng(1), 15, 1.0)
    assert (loopy[0] != WALL).sum() > (perfect[0] != WALL).sum()
    np.testing.assert_array_equal(perfect[1] == 4, loopy[1] == 4)
    with pytest.raises(ValueError):
        make_maze(np.random.default_rng(1), 3)


def test_builtin_sets_hashes_are_pinned_and_train_test_disjoint():
    assert set(PUZZLE_SETS) == set(PINNED)
    sets = {name: load_puzzles(name) for name in PUZZLE_SETS}
    assert {name: s.hash for name, s in sets.items()} == PINNED
    for name, spec in PUZZLE_SETS.items():
        assert (len(sets[name]), sets[name].kind, sets[name].side) == (spec.count, spec.kind, spec.side)
    for family in ("sudoku-6x6", "maze-unique-15x15"):
        train = {q.tobytes() for q in sets[f"{family}/train"].questions}
        assert not train & {q.tobytes() for q in sets[f"{family}/test"].questions}


def test_registry_has_three_benchmarks_and_loads_each_kind(tmp_path):
    assert list(BENCHMARKS) == ["arc", "sudoku", "maze"]
    assert benchmark_of_set("sudoku-6x6/test").attempts == 1 and benchmark_of_set("arc-agi-1/evaluation").attempts == 2
    assert set(BENCHMARKS["maze"].sets) == {n for n in PUZZLE_SETS if n.startswith("maze")}
    assert BENCHMARKS["sudoku"].load("sudoku-6x6/test", None).hash == PINNED["sudoku-6x6/test"]
    with pytest.raises(DataError, match="carries its answers"):
        BENCHMARKS["sudoku"].load("sudoku-6x6/test", "x.json")
    path = write(tmp_path, f"a,{QUESTION_4},{SOLUTION_4},0")
    assert isinstance(load_any(path), PuzzleSet) and isinstance(load_any(tmp_path / "test"), PuzzleSet)
    assert load_any("maze-unique-15x15/test").kind == "maze"
    assert len(load_any("arc-agi-2/evaluation")) == 120


@pytest.mark.e2e
def test_datasets_lists_puzzle_sets_beside_arc():
    from harness.cli.main import cli

    result = CliRunner().invoke(cli, ["datasets", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows["arc-agi-1/evaluation"]) == {
        "name",
        "benchmark",
        "tasks",
        "test_inputs",
        "test_outputs",
        "hash",
        "description",
    }
    for name, digest in PINNED.items():
        row = rows[name]
        assert row["hash"] == digest and row["tasks"] == row["test_inputs"] == row["test_outputs"]
        assert row["benchmark"] == name.split("-")[0]
