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


def test_tensor_helpers_match_the_numpy_ones():
    import gymnasium as gym
    import jax

    space = gym.spaces.Box(np.array([-1.0, 0.0], np.float32), np.array([1.0, 5.0], np.float32))
    X = np.array([[0.5, 1.0], [-0.9, 4.0], [0.0, 2.5]], np.float32)
    for tf, np_ in ((utils.box_to_unit_interval_tf, utils.box_to_unit_interval_np),
                    (utils.box_to_reals_tf, utils.box_to_reals_np)):
        np.testing.assert_allclose(tf(X, space), np_(X, space), rtol=1e-5)
        np.testing.assert_allclose(jax.jit(lambda x, f=tf: f(x, space))(X), np_(X, space), rtol=1e-5)
    Z = utils.box_to_reals_np(X, space)
    np.testing.assert_allclose(utils.reals_to_box_tf(Z, space), X, rtol=1e-4, atol=1e-5)
    P = utils.box_to_unit_interval_np(X, space)
    np.testing.assert_allclose(utils.unit_interval_to_box_tf(P, space), X, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(utils.log_softmax_tf(X), utils.log_softmax(X), rtol=1e-5)
    A = np.array([1, 0, 1])
    np.testing.assert_array_equal(utils.project_onto_actions_tf(X, A), utils.project_onto_actions_np(X, A))
    with pytest.raises(utils.TensorCheckError, match="expected size 3 along axis 0, got 2"):
        utils.project_onto_actions_tf(X, A[:2])


def test_check_tensor():
    import jax.numpy as jnp

    t = jnp.zeros((2, 3), jnp.float32)
    utils.check_tensor(t, ndim=[1, 2], ndim_min=2, dtype="float32", same_as=t, int_shape=(2, 3),
                       axis_size=3, axis=1)
    bad = [({"ndim": 1}, "ndim in"), ({"dtype": ["int32"]}, "dtype in"),
           ({"same_shape_as": jnp.zeros(3)}, r"shape \(3,\)"),
           ({"axis_size": 2, "axis": 1}, "expected size 2 along axis 1, got 3")]
    for kwargs, message in bad:
        with pytest.raises(utils.TensorCheckError, match=message):
            utils.check_tensor(t, **kwargs)
