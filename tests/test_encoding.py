import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.data.encoding import EOS, PAD, decode, decode_grid, decode_shapes, encode_grid

grids = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda shape: arrays(np.uint8, shape, elements=st.integers(0, 9))
)


def test_encoding_layout_matches_the_reference_description():
    tokens = encode_grid(np.array([[1, 2, 3], [4, 5, 6]], np.uint8), offset=(1, 2)).reshape(30, 30)
    assert tokens[1, 2:5].tolist() == [3, 4, 5] and tokens[2, 2:5].tolist() == [6, 7, 8]
    assert tokens[3, 2:5].tolist() == [EOS] * 3  # EOS row under the grid, over its columns only
    assert tokens[1:3, 5].tolist() == [EOS] * 2  # EOS column right of it, over its rows only
    assert tokens[3, 5] == PAD and tokens[0].tolist() == [PAD] * 30 and tokens.sum() == 3 + 4 + 5 + 6 + 7 + 8 + 5
    full = encode_grid(np.zeros((30, 30), np.uint8)).reshape(30, 30)
    assert (full == 2).all()  # no room for EOS on a full canvas


@settings(deadline=None)
@given(grids)
def test_decode_inverts_encode_at_origin(grid):
    np.testing.assert_array_equal(decode_grid(encode_grid(grid)), grid)


@given(st.lists(grids, min_size=1, max_size=6))
def test_batch_decode_flat_layout(batch):
    tokens = np.stack([encode_grid(g) for g in batch])
    shapes, offsets, flat = decode(tokens)
    for g, shape, off in zip(batch, shapes, offsets):
        assert tuple(shape) == g.shape
        np.testing.assert_array_equal(flat[off : off + g.size].reshape(g.shape), g)


def naive_crop(tokens):
    """The rule spelled out with loops, to check the vectorised version on arbitrary token soup."""
    grid = tokens.reshape(30, 30)
    best, best_shape, width = 0, (0, 0), 30
    for r in range(1, 31):
        for c in range(1, width + 1):
            if not 2 <= grid[r - 1, c - 1] <= 11:
                width = c - 1
                break
        if r * width > best:
            best, best_shape = r * width, (r, width)
    return best_shape


@given(arrays(np.uint8, (4, 900), elements=st.sampled_from([0, 1, 2, 3, 11, 12, 255, 5, 5, 5, 5, 5])))
def test_decode_shapes_match_naive_crop_on_any_tokens(tokens):
    assert [tuple(s) for s in decode_shapes(tokens)] == [naive_crop(t) for t in tokens]


def test_small_canvas():
    g = np.array([[1, 2], [3, 4]], np.uint8)
    tokens = encode_grid(g, canvas=6)
    assert tokens.shape == (36,)
    np.testing.assert_array_equal(decode_grid(tokens, canvas=6), g)
