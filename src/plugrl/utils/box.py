"""Transforms between Box spaces, the unit interval and the real line (NumPy)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike

__all__ = [
    "box_to_reals_np",
    "box_to_unit_interval_np",
    "check_finite_box",
    "clipped_logit_np",
    "reals_to_box_np",
    "unit_interval_to_box_np",
]


def clipped_logit_np(x: ArrayLike, epsilon: float = 1e-15) -> np.ndarray:
    r"""Logit with clipped logarithm arguments.

    .. math::

        \text{logit}_\epsilon(x) = \log\max(\epsilon, x) - \log\max(\epsilon, 1 - x)

    Parameters
    ----------
    x : array_like, float, values in [0, 1]
        Input probabilities, any shape.
    epsilon : float, optional
        Lower cut-off of the logarithms' arguments, default ``1e-15``.

    Returns
    -------
    z : ndarray, float, same shape as ``x``
    """
    x = np.asarray(x)
    if np.any(x < 0) or np.any(x > 1):
        raise ValueError(f"x: expected values in [0, 1], got range [{np.min(x)}, {np.max(x)}]")
    return np.log(np.maximum(epsilon, x)) - np.log(np.maximum(epsilon, 1 - x))


def check_finite_box(space: spaces.Space) -> spaces.Box:
    """``space`` itself if it is a Box with finite bounds and high > low, else raise."""
    if not isinstance(space, spaces.Box):
        raise TypeError(f"space: expected a gymnasium.spaces.Box, got {space!r}")
    lo, hi = space.low, space.high
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi > lo)):
        raise ValueError(f"space: expected finite bounds with high > low, got {space!r}")
    return space


def _box_bounds(arr: ArrayLike, space: spaces.Space) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    space = check_finite_box(space)
    lo, hi = space.low, space.high
    arr = np.asarray(arr)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.shape not in (space.shape, arr.shape[:1] + space.shape):
        raise ValueError(
            f"arr: expected shape {space.shape} or [batch_size, *{space.shape}], got {arr.shape}"
        )
    return arr, lo.astype(arr.dtype), hi.astype(arr.dtype)


def box_to_unit_interval_np(arr: ArrayLike, space: spaces.Box) -> np.ndarray:
    r"""Min-max scale Box values onto the unit interval.

    .. math::

        x \mapsto \frac{x - x_\text{low}}{x_\text{high} - x_\text{low}}

    Parameters
    ----------
    arr : array_like, float, shape: space.shape or [batch_size, \*space.shape]
        Element(s) of ``space``.
    space : gymnasium.spaces.Box
        A Box with finite bounds.

    Returns
    -------
    p : ndarray, same shape as ``arr``, values in [0, 1]
    """
    arr, lo, hi = _box_bounds(arr, space)
    if np.any(arr < lo) or np.any(arr > hi):
        raise ValueError(f"arr: expected values inside {space!r}, got {arr!r}")
    return (arr - lo) / (hi - lo)


def unit_interval_to_box_np(arr: ArrayLike, space: spaces.Box) -> np.ndarray:
    r"""Inverse min-max scaling onto a Box.

    .. math::

        p \mapsto x_\text{low} + (x_\text{high} - x_\text{low})\,p

    Parameters
    ----------
    arr : array_like, float, values in [0, 1], shape: space.shape or [batch_size, \*space.shape]
        Values on the unit interval.
    space : gymnasium.spaces.Box
        A Box with finite bounds.

    Returns
    -------
    x : ndarray, same shape as ``arr``, values inside ``space``
    """
    arr, lo, hi = _box_bounds(arr, space)
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"arr: expected values in [0, 1], got range [{arr.min()}, {arr.max()}]")
    return lo + (hi - lo) * arr


def box_to_reals_np(arr: ArrayLike, space: spaces.Box, epsilon: float = 1e-15) -> np.ndarray:
    r"""Map Box values to the reals: :func:`box_to_unit_interval_np`, then the clipped logit.

    .. math::

        x \mapsto \text{logit}_\epsilon\!\left(
            \frac{x - x_\text{low}}{x_\text{high} - x_\text{low}}\right)

    Parameters
    ----------
    arr : array_like, float, shape: space.shape or [batch_size, \*space.shape]
        Element(s) of ``space``.
    space : gymnasium.spaces.Box
        A Box with finite bounds.
    epsilon : float, optional
        Cut-off passed to :func:`clipped_logit_np`.

    Returns
    -------
    z : ndarray, same shape as ``arr``, real-valued
    """
    return clipped_logit_np(box_to_unit_interval_np(arr, space), epsilon)


def reals_to_box_np(arr: ArrayLike, space: spaces.Box) -> np.ndarray:
    r"""Map reals into a Box: the logistic sigmoid, then :func:`unit_interval_to_box_np`.

    .. math::

        z \mapsto x_\text{low} + (x_\text{high} - x_\text{low})\,\sigma(z), \qquad
        \sigma(z) = \tfrac12\left(1 + \tanh\tfrac z2\right)

    Parameters
    ----------
    arr : array_like, float, shape: space.shape or [batch_size, \*space.shape]
        Real-valued logits.
    space : gymnasium.spaces.Box
        A Box with finite bounds.

    Returns
    -------
    x : ndarray, same shape as ``arr``, values inside ``space``
    """
    # the tanh form of the sigmoid never overflows, unlike 1 / (1 + exp(-z))
    p = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(arr, dtype=float)))
    return unit_interval_to_box_np(p, space)
