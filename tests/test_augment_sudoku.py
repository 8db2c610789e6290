"""The Sudoku group (and the dihedral group on mazes): exact inverses, validity kept, and a
transformed puzzle's unique solution is the transformed solution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from augment import SudokuTransform, Transform, random_sudoku_transform
from harness.core.maze import make_maze
from harness.core.puzzles import maze_problem, sudoku_problem
from harness.core.sudoku import make_sudoku, random_solution, solve

BOXES = [(2, 2), (2, 3), (2, 4), (3, 3)]


@st.composite
def transforms(draw, box=None):
    """Any group element, built from its parts so hypothesis can shrink it."""
    r, c = box or draw(st.sampled_from(BOXES))
    n = r * c

    def block_perm(blocks, size):
        order = draw(st.permutations(range(blocks)))
        return tuple(b * size + i for b in order for i in draw(st.permutations(range(size))))

    transpose = draw(st.booleans()) if r == c else False
    digits = (0, *draw(st.permutations(range(1, n + 1))))
    return SudokuTransform((r, c), transpose, block_perm(n // r, r), block_perm(n // c, c), digits)


def grids_for(t: SudokuTransform, batch: int = 0):
    shape = (batch, t.side, t.side) if batch else (t.side, t.side)
    return arrays(np.uint8, shape, elements=st.integers(0, t.side))


@given(st.data())
def test_inverse_undoes_apply_on_grids_flat_and_batched(data):
    t = data.draw(transforms())
    grid = data.draw(grids_for(t))
    out = t.apply(grid)
    assert out.dtype == np.uint8 and out.shape == grid.shape
    np.testing.assert_array_equal(t.invert(out), grid)
    np.testing.assert_array_equal(t.inverse().apply(out), grid)
    assert t.inverse().inverse() == t
    batch = data.draw(grids_for(t, batch=3))
    np.testing.assert_array_equal(t.apply(batch)[1], t.apply(batch[1]))
    flat = batch.reshape(3, -1)
    np.testing.assert_array_equal(t.apply(flat), t.apply(batch).reshape(3, -1))
    np.testing.assert_array_equal(t.invert(t.apply(flat)), flat)


@given(st.data(), st.integers(0, 2**32 - 1))
def test_a_transformed_solution_is_still_a_solution(data, seed):
    t = data.draw(transforms())
    solution = np.array(random_solution(np.random.default_rng(seed), t.side), dtype=np.uint8)
    out = t.apply(solution)
    assert sudoku_problem(out[None], out[None], t.side) is None


@settings(max_examples=30)
@given(st.data(), st.integers(0, 2**32 - 1))
def test_a_transformed_puzzle_has_the_transformed_solution_as_its_only_one(data, seed):
    box = data.draw(st.sampled_from([(2, 2), (2, 3), (3, 3)]))
    t = data.draw(transforms(box))
    blanks = {4: 10, 6: 20, 9: 40}[t.side]
    question, solution = (np.array(x, dtype=np.uint8) for x in make_sudoku(np.random.default_rng(seed), t.side, blanks))
    tq, ts = t.apply(question), t.apply(solution)
    assert (tq == 0).sum() == blanks and sudoku_problem(tq[None], ts[None], t.side) is None  # givens kept
    solved = solve(tq, t.side)
    assert solved.count == 1 and solved.solution == ts.tolist()


@given(transforms())
def test_name_codec_round_trips(t):
    assert SudokuTransform.from_suffix(t.suffix) == t
    assert t.suffix.startswith(f"b{t.box[0]}x{t.box[1]}|||t{int(t.transpose)}|||r")


def test_matches_the_reference_formula():
    """The reference: x.T if transpose, then x.flatten()[row_perm[i // 9] * 9 + col_perm[i % 9]], then digit_map."""
    rng = np.random.default_rng(0)
    t = random_sudoku_transform(rng, (3, 3))
    while not t.transpose:
        t = random_sudoku_transform(rng, (3, 3))
    x = np.array(random_solution(rng, 9), dtype=np.uint8).reshape(9, 9)
    mapping = np.array([t.rows[i // 9] * 9 + t.cols[i % 9] for i in range(81)])
    expected = np.asarray(t.digits)[x.T.flatten()[mapping].reshape(9, 9)]
    np.testing.assert_array_equal(t.apply(x), expected)


def test_random_draws_are_seeded_and_transpose_only_for_square_boxes():
    draws = [random_sudoku_transform(np.random.default_rng(s), (2, 3)) for s in range(30)]
    assert not any(t.transpose for t in draws) and len({t.suffix for t in draws}) == 30
    assert random_sudoku_transform(np.random.default_rng(4), (3, 3)) == random_sudoku_transform(
        np.random.default_rng(4), (3, 3)
    )
    assert any(random_sudoku_transform(np.random.default_rng(s), (3, 3)).transpose for s in range(10))
    assert SudokuTransform.identity((2, 3)).is_identity


@pytest.mark.parametrize(
    "kwargs",
    [
        {"transpose": True},  # a 2x3 box would become 3x2
        {"rows": (0, 2, 1, 3, 4, 5)},  # rows 1 and 2 lie in different bands
        {"cols": (0, 1, 3, 2, 4, 5)},  # columns 2 and 3 lie in different stacks
        {"digits": (1, 0, 2, 3, 4, 5, 6)},  # the blank must stay blank
        {"digits": (0, 1, 2, 3, 4, 5)},
    ],
)
def test_invalid_elements_are_refused(kwargs):
    parts = {"transpose": False, "rows": tuple(range(6)), "cols": tuple(range(6)), "digits": tuple(range(7))} | kwargs
    with pytest.raises(ValueError):
        SudokuTransform((2, 3), **parts)


@pytest.mark.parametrize(
    "bad",
    [
        "b3x3|||t2|||r012345678|||c012345678|||d0123456789",
        "b3x3|||t0|||r012345678|||c012345678",
        "x3x3|||t0|||r0|||c0|||d0",
        "b3x3|||t0|||r312045678|||c012345678|||d0123456789",
        "b3x3|||t0|||r012345678|||c012345678|||d012345678a",
    ],
)
def test_bad_suffixes_are_refused(bad):
    with pytest.raises(ValueError):
        SudokuTransform.from_suffix(bad)


@given(st.integers(0, 7), st.integers(0, 2**32 - 1), st.sampled_from([9, 11, 30]))
def test_dihedral_transforms_keep_a_maze_answer_valid_and_invert(tid, seed, side):
    question, answer, _ = make_maze(np.random.default_rng(seed), side, 0.3)
    t = Transform(tid)  # the identity colour map leaves maze cells 0..4 alone
    tq, ta = t.apply(question.reshape(side, side)), t.apply(answer.reshape(side, side))
    assert maze_problem(tq.reshape(1, -1), ta.reshape(1, -1), side) is None
    np.testing.assert_array_equal(t.invert(ta).ravel(), answer)
