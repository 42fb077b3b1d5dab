r"""keras-gym's tensor helpers (``*_tf``), written in ``keras.ops`` so they run on any Keras 3
backend and inside jitted functions. The names are the seed's; the ``_tf`` suffix now only says
"tensor version" (of the NumPy ``*_np`` helpers). Values of traced tensors cannot be checked, so
unlike the NumPy versions these check shapes and spaces but not value ranges.

This module imports Keras; ``plugrl.utils`` loads it only when one of its names is first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gymnasium import spaces

from plugrl._backend import keras
from plugrl.utils.box import check_finite_box

ops = keras.ops

__all__ = ["TensorCheckError", "box_to_reals_tf", "box_to_unit_interval_tf", "check_tensor",
           "clipped_logit_tf", "log_softmax_tf", "project_onto_actions_tf", "reals_to_box_tf",
           "unit_interval_to_box_tf"]


class TensorCheckError(ValueError):
    """Raised by :func:`check_tensor` (keras-gym's name; a ``ValueError``)."""


def project_onto_actions_tf(Y: Any, A: Any) -> Any:
    r"""Project onto the actions taken, :math:`Y_{t, A_t}` (discrete actions).

    Parameters
    ----------
    Y : 2d Tensor, shape: [batch_size, num_actions]
        The tensor to project down.
    A : 1d Tensor, dtype: int, shape: [batch_size]
        The actions.

    Returns
    -------
    Y_projected : 1d Tensor, shape: [batch_size]
    """
    check_tensor(Y, ndim=2)
    check_tensor(A, ndim=1, axis_size=int(Y.shape[0]), axis=0)
    return ops.take_along_axis(Y, ops.cast(A, "int32")[:, None], axis=1)[:, 0]


def log_softmax_tf(Z: Any, axis: int = -1) -> Any:
    r"""The log-softmax :math:`z - \text{logsumexp}(z)` along ``axis``, same shape as ``Z``."""
    return ops.log_softmax(Z, axis=axis)


def clipped_logit_tf(x: Any, epsilon: float = 1e-15) -> Any:
    r"""The clipped logit :math:`\log\max(\epsilon, x) - \log\max(\epsilon, 1 - x)`, as
    :func:`plugrl.utils.clipped_logit_np`."""
    return ops.log(ops.maximum(epsilon, x)) - ops.log(ops.maximum(epsilon, 1.0 - x))


def _bounds(tensor: Any, space: spaces.Space) -> tuple[Any, Any, Any]:
    space = check_finite_box(space)
    lo, hi = space.low, space.high
    tensor = ops.convert_to_tensor(tensor)
    if not keras.backend.standardize_dtype(tensor.dtype).startswith(("float", "bfloat")):
        tensor = ops.cast(tensor, keras.backend.floatx())
    shape = tuple(tensor.shape)
    if shape not in (space.shape, shape[:1] + space.shape):
        raise ValueError(f"tensor: expected shape {space.shape} or [batch_size, *{space.shape}], "
                         f"got {shape}")
    return tensor, ops.cast(lo, tensor.dtype), ops.cast(hi, tensor.dtype)


def box_to_unit_interval_tf(tensor: Any, space: spaces.Box) -> Any:
    r"""Min-max scaling :math:`x\mapsto (x - x_\text{low})/(x_\text{high} - x_\text{low})`."""
    tensor, lo, hi = _bounds(tensor, space)
    return (tensor - lo) / (hi - lo)


def unit_interval_to_box_tf(tensor: Any, space: spaces.Box) -> Any:
    r"""Inverse min-max scaling :math:`p\mapsto x_\text{low} + (x_\text{high} - x_\text{low})\,p`."""
    tensor, lo, hi = _bounds(tensor, space)
    return lo + (hi - lo) * tensor


def box_to_reals_tf(tensor: Any, space: spaces.Box, epsilon: float = 1e-15) -> Any:
    r"""Box values to the reals: :func:`box_to_unit_interval_tf`, then :func:`clipped_logit_tf`."""
    return clipped_logit_tf(box_to_unit_interval_tf(tensor, space), epsilon)


def reals_to_box_tf(tensor: Any, space: spaces.Box) -> Any:
    r"""Reals into a Box: the sigmoid, then :func:`unit_interval_to_box_tf`."""
    return unit_interval_to_box_tf(ops.sigmoid(ops.convert_to_tensor(tensor)), space)


def check_tensor(tensor: Any, ndim: int | Sequence[int] | None = None, ndim_min: int | None = None,
                 dtype: Any = None, same_dtype_as: Any = None, same_shape_as: Any = None,
                 same_as: Any = None, int_shape: tuple[int, ...] | None = None,
                 axis_size: int | None = None, axis: int | None = None) -> None:
    """Check a few common properties of a tensor (keras-gym's helper); parameters as the seed's:
    allowed ``ndim`` (int or list), ``ndim_min``, allowed ``dtype`` (name or list), the dtype
    and/or shape of another tensor (``same_dtype_as``, ``same_shape_as``, ``same_as``), the
    exact shape ``int_shape``, and the size ``axis_size`` along ``axis``.

    Raises
    ------
    TensorCheckError
        If one of the checks fails.
    """
    shape, dt = tuple(tensor.shape), keras.backend.standardize_dtype(tensor.dtype)
    ndims = [ndim] if isinstance(ndim, int) else ndim
    if ndims is not None and len(shape) not in ndims:
        raise TensorCheckError(f"tensor: expected ndim in {list(ndims)}, got {len(shape)}")
    if ndim_min is not None and len(shape) < ndim_min:
        raise TensorCheckError(f"tensor: expected ndim >= {ndim_min}, got {len(shape)}")
    dtypes = [dtype] if isinstance(dtype, str) else dtype
    if dtypes is not None and dt not in [keras.backend.standardize_dtype(d) for d in dtypes]:
        raise TensorCheckError(f"tensor: expected dtype in {list(dtypes)}, got {dt}")
    for other, what in ((same_dtype_as, "dtype"), (same_shape_as, "shape"), (same_as, "both")):
        if other is not None and what in ("dtype", "both"):
            check_tensor(tensor, dtype=[keras.backend.standardize_dtype(other.dtype)])
        if other is not None and what in ("shape", "both"):
            check_tensor(tensor, int_shape=tuple(other.shape))
    if int_shape is not None and shape != tuple(int_shape):
        raise TensorCheckError(f"tensor: expected shape {tuple(int_shape)}, got {shape}")
    if (axis_size is None) != (axis is None):
        raise TypeError(f"axis_size, axis: expected both or neither, got {axis_size!r}, {axis!r}")
    if axis is not None and shape[axis] != axis_size:
        raise TensorCheckError(f"tensor: expected size {axis_size} along axis {axis}, got {shape[axis]}")
