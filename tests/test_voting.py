import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augment import IDENTITY, Transform, random_transform
from voting import Predictions, pass_at_k, vote


def naive_reference_vote(task_ids, index, transforms, grids, qs):
    """A slow, obvious transcription of the documented reference rule, to check the fast one."""
    stats = {}
    for task, i, t, g, q in zip(task_ids, index, transforms, grids, qs):
        inv = t.invert(g)
        key = (task, i)
        grid_key = (inv.shape, inv.tobytes())
        entry = stats.setdefault(key, {}).setdefault(grid_key, [0, 0.0, inv])
        entry[0] += 1
        entry[1] += 1 / (1 + math.exp(-q))
    ranked = {}
    for key, grids_ in stats.items():
        items = [(v[0], v[1] / v[0], v[2]) for v in grids_.values()]  # insertion order = first seen
        ranked[key] = sorted(items, key=lambda x: (x[0], x[1]), reverse=True)
    return ranked


@st.composite
def prediction_sets(draw):
    """Predictions with deliberate collisions: few base grids, few transforms, few q values."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 80))
    bases = [rng.integers(0, 3, (rng.integers(1, 4), rng.integers(1, 4))).astype(np.uint8) for _ in range(4)]
    views = [IDENTITY] + [random_transform(rng) for _ in range(3)]
    rows = []
    for _ in range(n):
        t = views[rng.integers(len(views))]
        rows.append(
            (
                f"task{rng.integers(3)}",
                int(rng.integers(2)),
                t,
                t.apply(bases[rng.integers(4)]),
                float(rng.choice([-1.0, 0.0, 0.5, 2.0])),
            )
        )
    return [list(c) for c in zip(*rows)]


@settings(max_examples=60, deadline=None)
@given(prediction_sets())
def test_vote_agrees_with_a_naive_reference_rule(data):
    task_ids, index, transforms, grids, qs = data
    cands = vote(Predictions.from_rows(task_ids, index, transforms, grids, qs))
    expected = naive_reference_vote(task_ids, index, transforms, grids, qs)
    got = cands.ranked()
    assert set(got) == set(expected)
    for key, rows in got.items():
        want = expected[key]
        assert len(rows) == len(want)
        for r, (votes, mean_q, grid) in zip(rows, want):
            assert cands.votes[r] == votes
            assert cands.mean_q[r] == pytest.approx(mean_q, abs=1e-12)
            np.testing.assert_array_equal(cands.grid(r), grid)
        assert list(cands.rank[rows]) == list(range(len(rows)))


def _rows(*specs):
    """specs: (grid, q) in the identity frame for one pair."""
    grids = [np.array(g, np.uint8) for g, _ in specs]
    return Predictions.from_rows(
        ["t"] * len(specs), [0] * len(specs), [IDENTITY] * len(specs), grids, [q for _, q in specs]
    )


def test_ranking_rules_and_tie_break():
    a, b, c = [[1]], [[2]], [[3]]
    preds = _rows((b, 0.0), (a, 3.0), (c, -1.0), (c, -1.0))
    # votes-q: c has 2 votes; a beats b on confidence.
    assert [tuple(vote(preds).grid(i).ravel()) for i in range(3)] == [(3,), (1,), (2,)]
    # votes only: c first, then the a/b tie goes to b, seen first.
    assert [tuple(vote(preds, "votes").grid(i).ravel()) for i in range(3)] == [(3,), (2,), (1,)]
    # q first: a (3.0) > b (0.0) > c (-1.0).
    assert [tuple(vote(preds, "q").grid(i).ravel()) for i in range(3)] == [(1,), (2,), (3,)]
    # Exact ties (same votes, same q): first appearance wins, whatever the grid's content.
    tie = _rows((b, 1.0), (a, 1.0))
    assert vote(tie).grid(0).item() == 2


def test_missing_confidence_counts_as_half():
    preds = Predictions.from_rows(
        ["t", "t"], [0, 0], [IDENTITY, IDENTITY], [np.array([[1]], np.uint8), np.array([[2]], np.uint8)], [None, 0.1]
    )
    cands = vote(preds)
    assert cands.grid(0).item() == 2 and cands.mean_q[1] == 0.5


def test_inversion_brings_views_together():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 10, (3, 5)).astype(np.uint8)
    views = [random_transform(rng) for _ in range(16)]
    preds = Predictions.from_rows(["t"] * 16, [0] * 16, views, [v.apply(truth) for v in views])
    cands = vote(preds)
    assert len(cands) == 1 and cands.votes[0] == 16
    np.testing.assert_array_equal(cands.grid(0), truth)


def test_attempts_are_distinct_when_possible_and_padded_otherwise():
    two = vote(_rows(([[1]], 0.0), ([[2]], 0.0), ([[1]], 0.0)))
    a1, a2 = two.attempts()[("t", 0)]
    assert a1.item() == 1 and a2.item() == 2
    one = vote(_rows(([[5]], 0.0)))
    a1, a2 = one.attempts()[("t", 0)]
    assert a1.item() == a2.item() == 5


def test_pass_at_k_counts_missing_pairs_as_wrong_and_averages_per_task():
    preds = Predictions.from_rows(
        ["t1", "t1", "t1", "t2"],
        [0, 0, 0, 0],
        [IDENTITY] * 4,
        [np.array(g, np.uint8) for g in ([[1]], [[1]], [[2]], [[7]])],
    )
    cands = vote(preds)
    truth = {
        "t1": [np.array([[2]], np.uint8), np.array([[9]], np.uint8)],  # t1[1] has no predictions
        "t2": [np.array([[7]], np.uint8)],
        "t3": [np.array([[0]], np.uint8)],
    }  # no predictions at all
    scores = pass_at_k(cands, truth, ks=(1, 2))
    assert scores[1] == pytest.approx((0 + 1 + 0) / 3)
    assert scores[2] == pytest.approx((0.5 + 1 + 0) / 3)


def test_unknown_ranker():
    with pytest.raises(ValueError, match="unknown ranker"):
        vote(_rows(([[1]], 0.0)), "magic")


def test_shards_concatenate_in_order():
    a = _rows(([[1]], 0.0))
    b = _rows(([[2, 3]], 1.0))
    both = Predictions.concat([a, b])
    np.testing.assert_array_equal(both.grid(1), [[2, 3]])
    assert both.transform(1) == Transform()


def test_hash_collisions_fall_back_to_exact_deduplication(monkeypatch):
    import importlib

    vote_module = importlib.import_module("voting.vote")

    rng = np.random.default_rng(3)
    views = [random_transform(rng) for _ in range(12)]
    grids = [rng.integers(0, 3, (2, 3)).astype(np.uint8) for _ in range(3)]
    preds = Predictions.from_rows(["t"] * 12, [0] * 12, views, [v.apply(grids[i % 3]) for i, v in enumerate(views)])
    expected = vote(preds)
    monkeypatch.setattr(vote_module, "_HASH_WEIGHTS", np.zeros(128, dtype=np.uint64))  # every grid collides
    collided = vote(preds)
    assert len(collided) == len(expected) == 3
    assert list(collided.votes) == list(expected.votes) == [4, 4, 4]
    for i in range(3):
        np.testing.assert_array_equal(collided.grid(i), expected.grid(i))
