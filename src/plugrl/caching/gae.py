r"""Generalized advantage estimation (GAE): advantages and TD(:math:`\lambda`) returns.

:func:`gae_advantages` is the one implementation of the GAE recursion in plugrl. It is written in
``keras.ops``, so the same code runs eagerly on NumPy arrays and inside a fully jitted training
step; :class:`GAE` wraps it for NumPy batches from a rollout, with argument checks.

References
----------
J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-Dimensional Continuous Control
Using Generalized Advantage Estimation", ICLR 2016.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from plugrl._backend import is_concrete, jit, keras
from plugrl.utils.validation import check_unit_interval

__all__ = ["GAE", "gae_advantages", "standardize"]

ops = keras.ops

_EPSILON = 1e-8
_FIELDS = ("R", "V", "V_next", "terminated", "episode_end")


def gae_advantages(
    R: Any, V: Any, V_next: Any, terminated: Any, episode_end: Any, gamma: Any, gae_lambda: Any
) -> tuple[Any, Any]:
    r"""Generalized advantage estimates and TD(:math:`\lambda`) returns of a time-major batch.

    With :math:`d_t` the episode-end flag and :math:`\tau_t` the termination flag,

    .. math::

        \delta_t = r_t + \gamma\,(1 - \tau_t)\,V(s'_t) - V(s_t), \qquad
        A_t = \delta_t + \gamma\lambda\,(1 - d_t)\,A_{t+1}, \qquad A_T = 0,

    and the value targets are :math:`R^\lambda_t = A_t + V(s_t)`. Each column (env) is an
    independent sequence; the recursion never crosses an episode end.

    Parameters
    ----------
    R : array, shape ``[T, N]``
        The rewards :math:`r_t`.
    V : array, shape ``[T, N]``
        The values :math:`V(s_t)` of the observations at which the actions were taken.
    V_next : array, shape ``[T, N]``
        The values :math:`V(s'_t)` of the observations that followed each step. After a
        truncated step :math:`s'_t` is the episode's *final* observation (not the reset one);
        after a terminated step the entry is ignored (it may even be NaN).
    terminated : array of bool or {0, 1}, shape ``[T, N]``
        Whether the episode terminated at step :math:`t` (no bootstrapping from :math:`s'_t`).
    episode_end : array of bool or {0, 1}, shape ``[T, N]``
        Whether the episode ended (terminated or truncated) at step :math:`t`; it stops the
        recursion. A terminated step counts as an end even if this flag is not set.
    gamma : float or scalar array
        The discount factor :math:`\gamma \in [0, 1]`; may be a traced value under ``jit``.
    gae_lambda : float or scalar array
        The bias-variance trade-off :math:`\lambda \in [0, 1]`; 0 gives one-step TD errors,
        1 gives Monte-Carlo returns minus :math:`V(s_t)` within an episode.

    Returns
    -------
    Adv : tensor, float32, shape ``[T, N]``
        The advantages :math:`A_t`.
    Rlambda : tensor, float32, shape ``[T, N]``
        The TD(:math:`\lambda`) returns :math:`R^\lambda_t = A_t + V(s_t)`.

    Raises
    ------
    ValueError
        If the inputs do not share one shape with a leading time axis, or (concrete inputs
        only) if ``gamma`` or ``gae_lambda`` is outside [0, 1] or an input holds NaN.

    Notes
    -----
    Called eagerly, the scan is traced anew each time (tens of milliseconds); call it inside a
    jitted function, or use :class:`GAE`, which compiles it once, for repeated NumPy batches.
    """
    R, V, V_next, terminated, episode_end = _as_float32(R, V, V_next, terminated, episode_end)
    if is_concrete(gamma, gae_lambda):
        check_unit_interval(gamma, "gamma")
        check_unit_interval(gae_lambda, "gae_lambda")
    if is_concrete(R, V, V_next, terminated):
        _check_no_nan(R=R, V=V, V_next=ops.where(terminated > 0, 0.0, V_next))
    # where, not multiplication: V_next after a termination is a placeholder that may be NaN.
    delta = R + gamma * ops.where(terminated > 0, 0.0, V_next) - V
    decay = gamma * gae_lambda * (1.0 - ops.maximum(terminated, episode_end))

    def backward(A_next: Any, step: tuple[Any, Any]) -> tuple[Any, Any]:
        delta_t, decay_t = step
        A_t = delta_t + decay_t * A_next
        return A_t, A_t

    _, Adv = ops.scan(backward, ops.zeros_like(delta[0]), (delta, decay), reverse=True)
    return Adv, Adv + V


def standardize(Adv: Any) -> Any:
    r"""Standardize advantages over the whole batch.

    .. math::

        \hat{A} = \frac{A - \operatorname{mean}(A)}{\operatorname{std}(A) + \epsilon},
        \qquad \epsilon = 10^{-8},

    with the population standard deviation over all entries (time and envs together).

    Parameters
    ----------
    Adv : array, shape ``[T, N]`` (any shape)
        The advantages.

    Returns
    -------
    tensor, float32, same shape as ``Adv``
    """
    Adv = ops.cast(ops.convert_to_tensor(Adv), "float32")
    return (Adv - ops.mean(Adv)) / (ops.std(Adv) + _EPSILON)


class GAE:
    r"""Generalized advantage estimation for NumPy batches from a rollout.

    A thin, checked front end to :func:`gae_advantages` (see there for the formulas), compiled
    once; the discount factors are passed as arguments, so changing them does not recompile.

    Parameters
    ----------
    gamma : float
        The discount factor :math:`\gamma \in [0, 1]`.
    gae_lambda : float
        The bias-variance trade-off :math:`\lambda \in [0, 1]`.
    standardize : bool
        Whether to standardize the returned advantages (see :func:`standardize`). The returns
        :math:`R^\lambda` are always computed from the raw advantages.

    Examples
    --------
    >>> gae = GAE(gamma=0.99, gae_lambda=0.95)  # doctest: +SKIP
    >>> Adv, Rlambda = gae(R, V, V_next, terminated, truncated)  # doctest: +SKIP
    """

    def __init__(self, gamma: float = 0.99, gae_lambda: float = 0.95, standardize: bool = False) -> None:
        self.gamma = check_unit_interval(gamma, "gamma")
        self.gae_lambda = check_unit_interval(gae_lambda, "gae_lambda")
        if not isinstance(standardize, (bool, np.bool_)):
            raise TypeError(
                f"standardize: expected a bool, got {type(standardize).__name__} {standardize!r}"
            )
        self.standardize = bool(standardize)

    def __repr__(self) -> str:
        return f"GAE(gamma={self.gamma}, gae_lambda={self.gae_lambda}, standardize={self.standardize})"

    def __call__(
        self,
        R: npt.ArrayLike,
        V: npt.ArrayLike,
        V_next: npt.ArrayLike,
        terminated: npt.ArrayLike,
        truncated: npt.ArrayLike,
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Compute advantages and TD(:math:`\lambda`) returns.

        Parameters
        ----------
        R, V, V_next : array-like, shape ``[T, N]``
            Rewards, values of the observations and values of the following observations (the
            final observation after an episode end), as in :func:`gae_advantages`.
        terminated, truncated : array-like of bool, shape ``[T, N]``
            Gymnasium's episode-end flags for each step.

        Returns
        -------
        Adv : ndarray, float32, shape ``[T, N]``
            The advantages, standardized if ``standardize=True``.
        Rlambda : ndarray, float32, shape ``[T, N]``
            The TD(:math:`\lambda`) returns :math:`A_t + V(s_t)` from the raw advantages.

        Raises
        ------
        ValueError
            On mismatched shapes or NaN inputs.
        """
        arrays = [np.asarray(x, dtype=np.float32) for x in (R, V, V_next, terminated, truncated)]
        _check_shapes(arrays, names=(*_FIELDS[:4], "truncated"))
        R_, V_, V_next_, term_, trunc_ = arrays
        _check_no_nan(R=R_, V=V_, V_next=np.where(term_ > 0, 0.0, V_next_))
        end = np.maximum(term_, trunc_)
        Adv, Rlambda = _gae_jitted(
            R_, V_, V_next_, term_, end, self.gamma, self.gae_lambda, self.standardize
        )
        return np.asarray(Adv), np.asarray(Rlambda)


def _gae_and_standardize(
    R: Any, V: Any, V_next: Any, terminated: Any, episode_end: Any,
    gamma: Any, gae_lambda: Any, standardize_adv: bool,
) -> tuple[Any, Any]:
    Adv, Rlambda = gae_advantages(R, V, V_next, terminated, episode_end, gamma, gae_lambda)
    return (standardize(Adv) if standardize_adv else Adv), Rlambda


# Compiled lazily on first call; static in the flag only, so gamma and lambda may change freely.
_gae_jitted = jit(_gae_and_standardize, static_argnums=(7,))


def _as_float32(*arrays: Any) -> list[Any]:
    """Convert to float32 tensors, checking for one common shape with a leading time axis."""
    tensors = [ops.cast(ops.convert_to_tensor(x), "float32") for x in arrays]
    _check_shapes(tensors, names=_FIELDS)
    return tensors


def _check_shapes(arrays: list[Any], names: tuple[str, ...]) -> None:
    """Raise a ValueError unless all arrays share the first one's shape ``[T, ...]``."""
    shape = tuple(arrays[0].shape)
    if len(shape) < 1:
        raise ValueError(f"{names[0]}: expected an array of shape [T, N], got a scalar")
    for name, x in zip(names[1:], arrays[1:]):
        if tuple(x.shape) != shape:
            raise ValueError(
                f"{name}: expected the shape of {names[0]}, {shape}, got {tuple(x.shape)}"
            )


def _check_no_nan(**arrays: Any) -> None:
    """Raise a ValueError naming the first input that holds NaN and where."""
    for name, x in arrays.items():
        nan = np.isnan(np.asarray(x))
        if nan.any():
            index = tuple(int(i) for i in np.argwhere(nan)[0])
            raise ValueError(
                f"{name}: expected no NaN, got {int(nan.sum())} NaN entries (first at index {index})"
            )
