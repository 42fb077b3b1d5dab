"""keras-gym's ``check_numpy_array`` and ``diff_transform_matrix``, from the seed's text."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import utils


def test_diff_transform_matrix_is_the_seeds_four_frame_matrix():
    expected = np.array([[-1, 0, 0, 0], [3, 1, 0, 0], [-3, -2, -1, 0], [1, 1, 1, 1]], np.float32)
    M = utils.diff_transform_matrix(4)
    assert M.dtype == np.float32
    np.testing.assert_array_equal(M, expected)


def test_diff_transform_gives_position_velocity_acceleration():
    # frames of x(t) = t**2 at t = 0, 1, 2: last position 4, velocity 4 - 1 = 3, acceleration 2
    X = np.array([[0.0, 1.0, 4.0]])
    np.testing.assert_allclose(X @ utils.diff_transform_matrix(3, dtype="float64"), [[2.0, 3.0, 4.0]])
    with pytest.raises(ValueError, match="num_frames: expected a positive int, got 0"):
        utils.diff_transform_matrix(0)


def test_check_numpy_array():
    arr = np.zeros((2, 3), np.float32)
    utils.check_numpy_array(arr, ndim=2, ndim_min=1, dtype=np.floating, shape=(2, 3), axis_size=3,
                            axis=1)
    utils.check_numpy_array(arr, ndim=[1, 2], dtype=[np.int32, np.float32])
    bad = [({"ndim": 1}, "expected ndim in \\[1\\], got 2"), ({"ndim_min": 3}, "ndim >= 3"),
           ({"dtype": np.integer}, "expected dtype"), ({"shape": (3, 2)}, "expected shape \\(3, 2\\)"),
           ({"axis_size": 2, "axis": 1}, "expected size 2 along axis 1, got 3")]
    for kwargs, message in bad:
        with pytest.raises(utils.NumpyArrayCheckError, match=message):
            utils.check_numpy_array(arr, **kwargs)
    with pytest.raises(utils.NumpyArrayCheckError, match="expected a numpy.ndarray, got list"):
        utils.check_numpy_array([1, 2])
