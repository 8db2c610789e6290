import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from augment import DIHEDRAL_INVERSE, IDENTITY, Transform, dihedral, format_name, inverse_dihedral, parse_name

grids = st.tuples(st.integers(1, 30), st.integers(1, 30)).flatmap(
    lambda shape: arrays(np.uint8, shape, elements=st.integers(0, 9))
)
transforms = st.builds(
    lambda tid, perm: Transform(tid, (0, *perm)),
    st.integers(0, 7),
    st.permutations(list(range(1, 10))),
)


def test_dihedral_ids_match_the_reference_numbering():
    g = np.arange(6).reshape(2, 3)
    expected = [
        g,
        np.rot90(g, 1),
        np.rot90(g, 2),
        np.rot90(g, 3),
        np.fliplr(g),
        np.flipud(g),
        g.T,
        np.fliplr(np.rot90(g, 1)),
    ]
    for tid, want in enumerate(expected):
        np.testing.assert_array_equal(dihedral(g, tid), want)
    assert DIHEDRAL_INVERSE == (0, 3, 2, 1, 4, 5, 6, 7)


@given(grids, st.integers(0, 7))
def test_inverse_dihedral_undoes_dihedral(grid, tid):
    np.testing.assert_array_equal(inverse_dihedral(dihedral(grid, tid), tid), grid)


@given(grids, transforms)
def test_every_transform_inverts_exactly(grid, t):
    out = t.apply(grid)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(t.invert(out), grid)
    np.testing.assert_array_equal(t.inverse().inverse().apply(grid), out)


@given(grids, transforms, transforms)
def test_composition_is_applying_one_after_the_other(grid, a, b):
    np.testing.assert_array_equal(a.then(b).apply(grid), b.apply(a.apply(grid)))
    assert a.then(a.inverse()) == IDENTITY


@given(grids, transforms)
def test_colour_map_applies_before_dihedral_and_keeps_black(grid, t):
    expected = dihedral(t.color_array[grid], t.tid)
    np.testing.assert_array_equal(t.apply(grid), expected)
    assert ((t.apply(grid) == 0) == dihedral(grid == 0, t.tid)).all()


@given(transforms)
def test_name_codec_round_trips(t):
    name = format_name("007bbfb7", t)
    assert name == f"007bbfb7|||t{t.tid}|||{''.join(map(str, t.colors))}"
    assert parse_name(name) == ("007bbfb7", t)
    assert Transform.from_suffix(t.suffix) == t


def test_reference_name_example():
    task, t = parse_name("abc123|||t3|||0213456789")
    assert task == "abc123" and t.tid == 3 and t.colors == (0, 2, 1, 3, 4, 5, 6, 7, 8, 9)
    assert parse_name("abc123") == ("abc123", IDENTITY)


@pytest.mark.parametrize(
    "bad", ["t9|||0123456789", "x3|||0123456789", "t3|||1023456789", "t3|||012345678", "t3|||0113456789", "t3"]
)
def test_bad_suffixes_are_rejected(bad):
    with pytest.raises(ValueError):
        Transform.from_suffix(bad)
