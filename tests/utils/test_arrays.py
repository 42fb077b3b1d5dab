from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import scipy.stats
from gymnasium import spaces

from plugrl.utils import (
    argmax,
    argmin,
    box_to_reals_np,
    box_to_unit_interval_np,
    clipped_logit_np,
    feature_dim,
    feature_space,
    feature_vector,
    idx,
    log_softmax,
    one_hot,
    project_onto_actions_np,
    reals_to_box_np,
    softmax,
    unit_interval_to_box_np,
)

# ---------------------------------------------------------------------------------- argmax/min


def _assert_uniform(counts: np.ndarray) -> None:
    # a p-value this small happens by chance once in 10^4 runs (and the seeds are fixed)
    assert scipy.stats.chisquare(counts).pvalue > 1e-4, counts


def test_argmax_ties_are_uniform_and_never_pick_non_max():
    rng = np.random.default_rng(0)
    arr = [1, 3, 3, 0, 3]
    draws = np.array([argmax(arr, random_state=rng) for _ in range(3000)])
    counts = np.bincount(draws, minlength=5)
    assert counts[0] == counts[3] == 0
    np.testing.assert_allclose(counts[[1, 2, 4]] / 3000, 1 / 3, atol=0.04)
    _assert_uniform(counts[[1, 2, 4]])


def test_argmin_ties_are_uniform_1d():
    rng = np.random.default_rng(1)
    draws = np.array([argmin([2, -1, 5, -1], random_state=rng) for _ in range(2000)])
    counts = np.bincount(draws, minlength=4)
    assert counts[0] == counts[2] == 0
    _assert_uniform(counts[[1, 3]])


def test_argmax_vectorised_ties_along_axis():
    arr = np.array([[0.0, 1.0, 1.0, 1.0], [5.0, 5.0, 2.0, 3.0]])
    rng = np.random.default_rng(2)
    draws = np.stack([argmax(arr, axis=1, random_state=rng) for _ in range(3000)])
    assert draws.shape == (3000, 2)
    row0, row1 = np.bincount(draws[:, 0], minlength=4), np.bincount(draws[:, 1], minlength=4)
    assert row0[0] == 0 and row1[2] == row1[3] == 0
    _assert_uniform(row0[1:])
    _assert_uniform(row1[:2])
    # axis=0 reduces over rows; only column 0 of this array has a tie
    cols = np.array([[7.0, 0.0, 2.0], [7.0, 1.0, 1.0]])
    draws0 = np.stack([argmax(cols, axis=0, random_state=s) for s in range(200)])
    np.testing.assert_array_equal(draws0[:, 1:], np.tile([1, 0], (200, 1)))
    assert set(draws0[:, 0].tolist()) == {0, 1}


def test_argmin_default_axis_is_flat():
    arr = np.array([[3, 0], [0, 7]])
    draws = {int(argmin(arr, random_state=s)) for s in range(50)}
    assert draws == {1, 2}  # flat indices of the two zeros


def test_argmax_matches_numpy_without_ties():
    x = np.random.default_rng(3).normal(size=(6, 7, 8))
    for axis in (0, 1, -1, None):
        np.testing.assert_array_equal(argmax(x, axis=axis, random_state=0), np.argmax(x, axis))
        np.testing.assert_array_equal(argmin(x, axis=axis, random_state=0), np.argmin(x, axis))


def test_argmax_deterministic_with_seed_and_accepts_random_state():
    arr = np.ones(10)
    assert len({int(argmax(arr, random_state=123)) for _ in range(20)}) == 1
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    a = [int(argmax(arr, random_state=g1)) for _ in range(20)]
    b = [int(argmax(arr, random_state=g2)) for _ in range(20)]
    assert a == b and len(set(a)) > 1
    rs = np.random.RandomState(0)
    assert 0 <= argmax(arr, random_state=rs) < 10


def test_argmax_nan_and_errors():
    assert argmax([1.0, np.nan, 2.0], random_state=0) == 1  # numpy's convention
    assert argmax(np.array([3, 255, 255], dtype=np.uint8), random_state=0) in (1, 2)
    assert argmin(np.array([3, 0, 255], dtype=np.uint8), random_state=0) == 1
    with pytest.raises(TypeError, match="random_state"):
        argmax([1, 2], random_state="seed")
    with pytest.raises(ValueError, match="arr"):
        argmax([], random_state=0)


# --------------------------------------------------------------------------------- one_hot etc.


def test_one_hot():
    np.testing.assert_array_equal(one_hot(2, 4), [0, 0, 1, 0])
    assert one_hot(2, 4).dtype == np.float64
    x = one_hot(np.array([0, 3, 1]), 4, dtype="int32")
    assert x.dtype == np.int32
    np.testing.assert_array_equal(x, np.eye(4, dtype=int)[[0, 3, 1]])
    assert one_hot(np.int64(0), 1).tolist() == [1.0]
    with pytest.raises(ValueError, match=r"i: expected 0 <= i < n=3, got i=\[3\]"):
        one_hot(3, 3)
    with pytest.raises(ValueError, match="i: expected 0 <= i"):
        one_hot(np.array([0, -1]), 3)
    with pytest.raises(ValueError, match="i: expected an int"):
        one_hot(1.0, 3)
    with pytest.raises(ValueError, match="n: expected an int >= 1"):
        one_hot(0, 0)


def test_softmax_and_log_softmax_match_scipy():
    x = np.random.default_rng(4).normal(scale=5, size=(5, 7))
    for axis in (0, -1):
        np.testing.assert_allclose(softmax(x, axis), scipy.special.softmax(x, axis), rtol=1e-12)
        np.testing.assert_allclose(
            log_softmax(x, axis), scipy.special.log_softmax(x, axis), rtol=1e-12
        )
        np.testing.assert_allclose(softmax(x, axis).sum(axis), 1.0)


def test_softmax_stable_for_large_inputs():
    big = np.array([1000.0, 1001.0, 1002.0])
    np.testing.assert_allclose(softmax(big), softmax(np.array([0.0, 1.0, 2.0])))
    lp = log_softmax(np.array([-1000.0, 0.0]))
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp, [-1000.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(softmax([-np.inf, 0.0]), [0.0, 1.0])


def test_idx_and_project_onto_actions():
    Y = np.arange(12).reshape(4, 3)
    np.testing.assert_array_equal(idx(Y), [0, 1, 2, 3])
    np.testing.assert_array_equal(idx(Y, axis=1), [0, 1, 2])
    np.testing.assert_array_equal(project_onto_actions_np(Y, np.array([2, 0, 1, 1])), [2, 3, 7, 10])
    with pytest.raises(ValueError, match="A: expected batch_size 4"):
        project_onto_actions_np(Y, np.array([0, 1]))
    with pytest.raises(ValueError, match="arr"):
        idx(3.0)


def test_clipped_logit():
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(clipped_logit_np(p), scipy.special.logit(p))
    z = clipped_logit_np(np.array([0.0, 1.0]), epsilon=1e-6)
    np.testing.assert_allclose(z, [np.log(1e-6), -np.log(1e-6)], rtol=1e-6)
    with pytest.raises(ValueError, match=r"x: expected values in \[0, 1\]"):
        clipped_logit_np(np.array([1.5]))


# ----------------------------------------------------------------------------- box transforms


BOX = spaces.Box(low=np.array([-2.0, 0.0]), high=np.array([2.0, 10.0]), dtype=np.float64)


def test_box_unit_interval_round_trip():
    x = np.array([[-2.0, 0.0], [0.0, 5.0], [2.0, 10.0]])
    p = box_to_unit_interval_np(x, BOX)
    np.testing.assert_allclose(p, [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(unit_interval_to_box_np(p, BOX), x)
    np.testing.assert_allclose(unit_interval_to_box_np(p[1], BOX), x[1])  # unbatched


def test_box_reals_round_trip():
    x = np.random.default_rng(5).uniform(BOX.low, BOX.high, size=(100, 2))
    z = box_to_reals_np(x, BOX)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(reals_to_box_np(z, BOX), x, rtol=1e-9, atol=1e-12)
    big = reals_to_box_np(np.array([1e6, -1e6]), BOX)
    np.testing.assert_allclose(big, [2.0, 0.0])


def test_box_transform_errors():
    with pytest.raises(ValueError, match="arr: expected values inside"):
        box_to_unit_interval_np(np.array([3.0, 1.0]), BOX)
    with pytest.raises(ValueError, match="arr: expected shape"):
        box_to_unit_interval_np(np.zeros(3), BOX)
    with pytest.raises(TypeError, match="space: expected a gymnasium.spaces.Box"):
        box_to_unit_interval_np(np.zeros(2), spaces.Discrete(2))
    with pytest.raises(ValueError, match="space: expected finite bounds"):
        unit_interval_to_box_np(np.zeros(2), spaces.Box(-np.inf, np.inf, (2,)))


# ----------------------------------------------------------------------------- feature_vector


def test_feature_vector_discrete_and_box():
    f = feature_vector(np.int64(3), spaces.Discrete(5))
    assert f.dtype == np.float32 and f.tolist() == [0, 0, 0, 1, 0]
    assert feature_vector(3, spaces.Discrete(3, start=1)).tolist() == [0, 0, 1]
    box = spaces.Box(0, 255, (2, 3), dtype=np.uint8)
    x = np.arange(6, dtype=np.uint8).reshape(2, 3)
    f = feature_vector(x, box)
    assert f.dtype == np.float32 and f.tolist() == list(range(6))
    assert feature_dim(box) == 6


def test_feature_vector_multi_spaces():
    md = spaces.MultiDiscrete([2, 3])
    assert feature_vector(np.array([1, 2]), md).tolist() == [0, 1, 0, 0, 1]
    assert feature_dim(md) == 5
    mb = spaces.MultiBinary([2, 2])
    assert feature_vector(np.array([[1, 0], [0, 1]], dtype=np.int8), mb).tolist() == [1, 0, 0, 1]
    assert feature_dim(mb) == 4


def test_feature_vector_tuple_and_dict():
    tup = spaces.Tuple((spaces.Discrete(2), spaces.Box(-1, 1, (2,))))
    f = feature_vector((1, np.array([0.5, -0.5], dtype=np.float32)), tup)
    assert f.tolist() == [0, 1, 0.5, -0.5] and feature_dim(tup) == 4
    dct = spaces.Dict({"b": spaces.Discrete(3), "a": spaces.MultiBinary(2)})
    keys = list(dct.spaces)  # the space's own key order decides the layout
    x = {"a": np.array([1, 1], dtype=np.int8), "b": 0}
    expected = {"a": [1, 1], "b": [1, 0, 0]}
    assert feature_vector(x, dct).tolist() == expected[keys[0]] + expected[keys[1]]
    assert feature_dim(dct) == 5


def test_feature_dim_matches_feature_vector_for_samples():
    space = spaces.Dict(
        {
            "d": spaces.Discrete(4),
            "t": spaces.Tuple((spaces.MultiDiscrete([[2, 3], [4, 1]]), spaces.MultiBinary(3))),
            "box": spaces.Box(-1, 1, (2, 2)),
        },
        seed=0,
    )
    fs = feature_space(space)
    for _ in range(10):
        f = feature_vector(space.sample(), space)
        assert f.shape == (feature_dim(space),) == fs.shape
        assert fs.contains(f)


def test_feature_vector_errors():
    with pytest.raises(TypeError, match="space: expected a gymnasium"):
        feature_vector("abc", spaces.Text(5))
    with pytest.raises(TypeError, match="Text"):
        feature_dim(spaces.Text(5))
    with pytest.raises(ValueError, match="x: expected an element of Discrete"):
        feature_vector(5, spaces.Discrete(5))
    with pytest.raises(ValueError, match=r"x: expected shape \(2,\)"):
        feature_vector(np.zeros(3), spaces.Box(-1, 1, (2,)))
