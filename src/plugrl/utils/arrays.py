"""NumPy array helpers: random tie-breaking, one-hot encoding, softmax and Box rescaling.

The API follows ``keras_gym.utils``. Everything here is pure NumPy; randomness only ever comes
from an explicit ``random_state`` (never from the global NumPy RNG).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

RandomStateLike = int | np.integer | np.random.Generator | np.random.RandomState | None

__all__ = [
    "RandomStateLike",
    "argmax",
    "argmin",
    "idx",
    "log_softmax",
    "one_hot",
    "project_onto_actions_np",
    "softmax",
]


def _as_rng(random_state: RandomStateLike) -> np.random.Generator | np.random.RandomState:
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is None:
        # a fresh, OS-seeded generator: unpredictable, but never the global NumPy state
        return np.random.default_rng()
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state: expected None, an int seed, a np.random.Generator or a "
        f"np.random.RandomState, got {type(random_state).__name__}: {random_state!r}"
    )


def _arg_extreme(
    arr: ArrayLike,
    axis: int | None,
    random_state: RandomStateLike,
    reduce: Callable[..., np.ndarray],
) -> np.intp | np.ndarray:
    arr = np.asarray(arr)
    if arr.size == 0:
        raise ValueError(f"arr: expected a non-empty array, got shape {arr.shape}")
    if axis is None:
        arr, axis = arr.ravel(), 0
    if arr.ndim == 0:
        raise ValueError(f"arr: expected an array with ndim >= 1 when axis is given, got {arr!r}")
    extreme = reduce(arr, axis=axis, keepdims=True)
    ties = arr == extreme
    if np.issubdtype(arr.dtype, np.inexact):
        # numpy's argmax/argmin treat NaN as the extreme value, so NaNs tie among themselves
        ties |= np.isnan(arr) & np.isnan(extreme)
    # the argmax of i.i.d. uniform keys restricted to the ties is a uniform draw among them
    keys = np.where(ties, _as_rng(random_state).random(arr.shape), -1.0)
    return np.argmax(keys, axis=axis)


def argmax(
    arr: ArrayLike, axis: int | None = -1, random_state: RandomStateLike = None
) -> np.intp | np.ndarray:
    r"""Like :func:`numpy.argmax`, but break ties uniformly at random.

    Tie-breaking is vectorised and applies to inputs of any rank: along ``axis`` every maximal
    entry is chosen with probability :math:`1 / \#\{j : x_j = \max_k x_k\}`.

    Parameters
    ----------
    arr : array_like, shape: [..., n, ...]
        Input array, any numeric dtype. NaN counts as the maximum, as in :func:`numpy.argmax`.
    axis : int or None, optional
        Axis to reduce over; ``None`` indexes into the flattened array. Default: ``-1``.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Source of randomness for the tie-breaking: an int is a seed for
        :func:`numpy.random.default_rng`; ``None`` uses a fresh OS-seeded generator.

    Returns
    -------
    index : numpy.intp or ndarray of intp
        Indices with ``arr.shape`` minus the reduced axis (a scalar for 1d input).
    """
    return _arg_extreme(arr, axis, random_state, np.max)


def argmin(
    arr: ArrayLike, axis: int | None = None, random_state: RandomStateLike = None
) -> np.intp | np.ndarray:
    r"""Like :func:`numpy.argmin`, but break ties uniformly at random.

    See :func:`argmax`; the only differences are the reduction (minimum) and the default
    ``axis=None`` (index into the flattened array), both as in keras-gym.

    Parameters
    ----------
    arr : array_like
        Input array, any numeric dtype.
    axis : int or None, optional
        Axis to reduce over; ``None`` (default) indexes into the flattened array.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, optional
        Source of randomness for the tie-breaking.

    Returns
    -------
    index : numpy.intp or ndarray of intp
        Indices with ``arr.shape`` minus the reduced axis.
    """
    return _arg_extreme(arr, axis, random_state, np.min)


def one_hot(i: ArrayLike, n: int, dtype: DTypeLike = "float") -> np.ndarray:
    r"""Dense one-hot encoding, :math:`x_j = \delta_{ij}`.

    Parameters
    ----------
    i : int or 1d array of ints, shape: [] or [batch_size]
        Index (or indices) of the non-zero entry, each in :math:`\{0, \dots, n-1\}`.
    n : int
        Size of the encoding, ``n >= 1``.
    dtype : str or numpy dtype, optional
        Output dtype, default ``'float'`` (float64).

    Returns
    -------
    x : ndarray, shape: [n] or [batch_size, n]
        The one-hot vector(s).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected an int >= 1, got n={n!r}")
    i_arr = np.asarray(i)
    if i_arr.ndim > 1 or not np.issubdtype(i_arr.dtype, np.integer):
        raise ValueError(
            f"i: expected an int or a 1d array of ints, got dtype={i_arr.dtype}, "
            f"shape={i_arr.shape}"
        )
    out_of_range = (i_arr < 0) | (i_arr >= n)
    if np.any(out_of_range):
        raise ValueError(f"i: expected 0 <= i < n={n}, got i={i_arr[out_of_range].tolist()}")
    return (i_arr[..., None] == np.arange(n)).astype(dtype)


def _stable_shift(arr: np.ndarray, axis: int) -> np.ndarray:
    # subtracting the max leaves softmax unchanged and keeps exp() <= 1; a non-finite max
    # (all -inf, or +inf) is replaced by 0 so we don't produce inf - inf
    m = np.max(arr, axis=axis, keepdims=True)
    return arr - np.where(np.isfinite(m), m, 0)


def softmax(arr: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Numerically stable softmax.

    .. math::

        p_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \qquad m = \max_j x_j

    Parameters
    ----------
    arr : array_like, float
        Input logits, any shape.
    axis : int, optional
        Axis to normalize over, default ``-1``.

    Returns
    -------
    p : ndarray, same shape as ``arr``
        Non-negative entries that sum to one along ``axis``.
    """
    exp_z = np.exp(_stable_shift(np.asarray(arr), axis))
    return exp_z / np.sum(exp_z, axis=axis, keepdims=True)


def log_softmax(arr: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""Numerically stable log-softmax.

    .. math::

        \log p_i = (x_i - m) - \log\sum_j e^{x_j - m}, \qquad m = \max_j x_j

    Parameters
    ----------
    arr : array_like, float
        Input logits, any shape.
    axis : int, optional
        Axis to normalize over, default ``-1``.

    Returns
    -------
    log_p : ndarray, same shape as ``arr``
        Log-probabilities along ``axis``.
    """
    z = _stable_shift(np.asarray(arr), axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def idx(arr: ArrayLike, axis: int = 0) -> np.ndarray:
    """Integer index array ``[0, 1, ..., arr.shape[axis] - 1]``.

    Parameters
    ----------
    arr : array_like, ndim >= 1
        Input array.
    axis : int, optional
        Axis whose length sets the size of the index, default ``0``.

    Returns
    -------
    index : 1d ndarray of int, shape: [arr.shape[axis]]
    """
    shape = np.shape(arr)
    if len(shape) == 0:
        raise ValueError(f"arr: expected an array with ndim >= 1, got a scalar {arr!r}")
    return np.arange(shape[axis])


def project_onto_actions_np(Y: ArrayLike, A: ArrayLike) -> np.ndarray:
    r"""Select the entry of the action taken, :math:`y_b = Y_{b, a_b}` (discrete actions).

    Parameters
    ----------
    Y : ndarray, shape: [batch_size, num_actions, ...]
        Per-action values.
    A : 1d ndarray of int, shape: [batch_size]
        Actions taken.

    Returns
    -------
    Y_projected : ndarray, shape: [batch_size, ...]
    """
    Y, A = np.asarray(Y), np.asarray(A)
    if Y.ndim < 2:
        raise ValueError(f"Y: expected ndim >= 2 ([batch_size, num_actions, ...]), got {Y.shape}")
    if A.ndim != 1 or not np.issubdtype(A.dtype, np.integer):
        raise ValueError(f"A: expected a 1d int array, got dtype={A.dtype}, shape={A.shape}")
    if A.shape[0] != Y.shape[0]:
        raise ValueError(f"A: expected batch_size {Y.shape[0]} (from Y), got {A.shape[0]}")
    return Y[idx(Y), A]
