"""Argument checks shared by every module; each error names the argument, expected and actual."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["NumpyArrayCheckError", "check_finite", "check_flag", "check_gamma",
           "check_numpy_array", "check_observation", "check_observations", "check_positive_int",
           "check_propensities", "check_terminated", "check_unit_interval"]


def check_unit_interval(value: Any, name: str) -> float:
    """Validate a real number in [0, 1], returned as a float: the one check of discount factors,
    smoothing and mixing coefficients, probabilities.

    0-d NumPy or JAX arrays count as numbers; a TypeError for other types (bools too), a
    ValueError outside [0, 1] (NaN fails the range test).
    """
    if not isinstance(value, numbers.Number) and np.ndim(value) == 0:
        value = np.asarray(value).item()  # 0-d NumPy or JAX arrays
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a float in [0, 1], got {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name}: expected a float in [0, 1], got {value}")
    return float(value)


def check_gamma(gamma: Any) -> float:
    """Validate a discount factor in [0, 1]."""
    return check_unit_interval(gamma, "gamma")


def check_positive_int(value: Any, name: str) -> int:
    """Validate an integer >= 1: a TypeError for other types (bools too), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name}: expected an int >= 1, got {value!r}")
    return int(value)


def check_finite(values: Any, name: str) -> np.ndarray:
    """Reject NaN or infinite entries, naming the first offending index (an int for 1-d values,
    a tuple otherwise); returns ``values`` as an array. Takes concrete values only (not traced)."""
    values = np.asarray(values)
    finite = np.isfinite(values)
    if not finite.all():
        flat = int(np.flatnonzero(~finite)[0])
        index: int | tuple[int, ...] = flat
        if values.ndim != 1:
            index = tuple(int(i) for i in np.unravel_index(flat, values.shape))
        raise ValueError(f"{name}: expected finite values, got {values.flat[flat]} at index {index}")
    return values


def check_propensities(P: Any, shape: tuple[int, int], name: str) -> np.ndarray:
    """Validate a batch of action propensities: the given shape, finite, non-negative, rows
    summing to 1 (within 1e-4); returned as float32."""
    P = np.asarray(P, dtype=np.float32)
    if P.shape != shape:
        raise ValueError(f"{name}: expected propensities of shape {list(shape)}, got {P.shape}")
    sums = P.sum(axis=1)
    if not np.isfinite(P).all() or (P < 0).any() or not np.allclose(sums, 1.0, atol=1e-4):
        raise ValueError(f"{name}: expected propensities (non-negative rows summing to 1), got row "
                         f"sums in [{sums.min()}, {sums.max()}]")
    return P


def check_observation(s: Any, shape: tuple[int, ...], dtype: Any, name: str = "s") -> np.ndarray:
    """One observation as an array of ``dtype``, checked to have the space's ``shape``."""
    s = np.asarray(s, dtype=dtype)
    if s.shape != tuple(shape):
        raise ValueError(f"{name}: expected an observation of shape {tuple(shape)}, got shape {s.shape}")
    return s


def check_observations(S: Any, shape: tuple[int, ...], dtype: Any, name: str = "S") -> np.ndarray:
    """A batch of observations [batch_size, *shape] as an array of ``dtype``: the one check of
    observation batches, used by the value functions, policies and agents alike."""
    S = np.asarray(S, dtype=dtype)
    if S.ndim < 1 or S.shape[1:] != tuple(shape):
        raise ValueError(f"{name}: expected a batch of shape [batch_size, {', '.join(map(str, shape))}], "
                         f"got shape {S.shape}")
    return S


def check_flag(name: str, value: Any) -> bool:
    """Return an episode-end flag as a bool; accepts Python and NumPy booleans and 0/1."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name}: expected a bool, got {type(value).__name__} {value!r}")


def check_terminated(done: Any, terminated: Any) -> bool:
    """Whether the episode terminated at this step, given positionally (keras-gym's ``done``)
    or by Gymnasium's keyword ``terminated``; exactly one of them must be given.

    Raises
    ------
    TypeError
        If both or neither are given, or if the one given is not a bool.
    """
    if done is not None and terminated is not None:
        raise TypeError(
            "done, terminated: expected one of them (both mean that the episode terminated at "
            f"this step), got both: done={done!r}, terminated={terminated!r}"
        )
    if done is None and terminated is None:
        raise TypeError(
            "done: expected whether the episode terminated, as the 4th positional argument "
            "(done) or as the keyword terminated=, got neither"
        )
    return check_flag("done", done) if terminated is None else check_flag("terminated", terminated)


class NumpyArrayCheckError(ValueError):
    """Raised by :func:`check_numpy_array` (keras-gym's name; a ``ValueError``)."""


def check_numpy_array(arr: Any, ndim: int | Sequence[int] | None = None,
                      ndim_min: int | None = None, dtype: Any = None,
                      shape: tuple[int, ...] | None = None, axis_size: int | None = None,
                      axis: int | None = None) -> None:
    """Check a few common properties of a NumPy array (keras-gym's helper).

    Parameters
    ----------
    arr : ndarray
        The array to check.
    ndim : int or sequence of ints, optional
        The allowed number(s) of dimensions.
    ndim_min : int, optional
        The least number of dimensions.
    dtype : dtype or sequence of dtypes, optional
        The allowed dtype(s); a generic type such as ``np.floating`` admits its subtypes.
    shape : tuple of ints, optional
        The exact shape.
    axis_size, axis : int, optional
        The size that ``arr.shape[axis]`` must have (both or neither).

    Raises
    ------
    NumpyArrayCheckError
        If ``arr`` is not an ndarray or one of the checks fails.
    """
    if not isinstance(arr, np.ndarray):
        raise NumpyArrayCheckError(f"arr: expected a numpy.ndarray, got {type(arr).__name__}")
    ndims = [ndim] if isinstance(ndim, int) else ndim
    if ndims is not None and arr.ndim not in ndims:
        raise NumpyArrayCheckError(f"arr: expected ndim in {list(ndims)}, got {arr.ndim}")
    if ndim_min is not None and arr.ndim < ndim_min:
        raise NumpyArrayCheckError(f"arr: expected ndim >= {ndim_min}, got {arr.ndim}")
    dtypes = dtype if isinstance(dtype, (list, tuple)) else [dtype]
    if dtype is not None and not any(np.issubdtype(arr.dtype, d) for d in dtypes):
        raise NumpyArrayCheckError(f"arr: expected dtype in {dtypes}, got {arr.dtype}")
    if shape is not None and arr.shape != tuple(shape):
        raise NumpyArrayCheckError(f"arr: expected shape {tuple(shape)}, got {arr.shape}")
    if (axis_size is None) != (axis is None):
        raise TypeError(f"axis_size, axis: expected both or neither, got {axis_size!r}, {axis!r}")
    if axis is not None and arr.shape[axis] != axis_size:
        raise NumpyArrayCheckError(
            f"arr: expected size {axis_size} along axis {axis}, got {arr.shape[axis]}")
