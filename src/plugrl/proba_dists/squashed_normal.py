r"""The tanh-squashed Gaussian policy of SAC on bounded (``Box``) action spaces.

An action is :math:`a = \tanh(u)` with :math:`u \sim \mathcal{N}(\mu(s), \sigma^2(s))`, so it lies
in :math:`(-1, 1)`; the environment gets it rescaled to its ``[low, high]``. By the change of
variables :math:`u \mapsto \tanh(u)`,

.. math::

    \log\pi(a|s)\ =\ \log\mathcal{N}(u\,|\,\mu, \sigma^2)
        - \sum_i \log\big(1 - \tanh^2(u_i)\big)

(Haarnoja et al. 2018, appendix C), computed from :math:`u` with the stable identity
:math:`\log(1 - \tanh^2 u) = 2\,(\log 2 - u - \operatorname{softplus}(-2u))`, which stays finite
where :math:`\tanh u` rounds to :math:`\pm 1`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plugrl._backend import keras
from plugrl.proba_dists import NormalDist

ops = keras.ops

__all__ = ["LOG_STD_MAX", "LOG_STD_MIN", "log_one_minus_tanh_sq", "rescale_actions",
           "squashed_log_std", "squashed_median", "squashed_sample"]

#: Bounds of :math:`\log\sigma` (as Stable-Baselines3's SAC).
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0

_LOG_2 = math.log(2.0)


def squashed_log_std(logvar: Any) -> Any:
    r"""The policy head's log-variances as log standard deviations, clipped to
    [``LOG_STD_MIN``, ``LOG_STD_MAX``]: :math:`\log\sigma = \operatorname{clip}(\tfrac12\log\sigma^2)`."""
    return ops.clip(0.5 * logvar, LOG_STD_MIN, LOG_STD_MAX)


def log_one_minus_tanh_sq(U: Any) -> Any:
    r"""Element-wise :math:`\log(1 - \tanh^2 u) = 2\,(\log 2 - u - \operatorname{softplus}(-2u))`,
    finite for every finite :math:`u`."""
    return 2.0 * (_LOG_2 - U - ops.softplus(-2.0 * U))


def squashed_sample(mu: Any, log_std: Any, noise: Any) -> tuple[Any, Any]:
    r"""A reparametrised squashed sample and its log-density.

    Parameters
    ----------
    mu, log_std : Tensor, shape: [batch_size, \*action_shape]
        Means and (clipped) log standard deviations of the Gaussian before squashing.
    noise : Tensor, shape: [batch_size, \*action_shape]
        Standard normal draws :math:`\epsilon`.

    Returns
    -------
    A : Tensor, shape: [batch_size, \*action_shape]
        :math:`a = \tanh(\mu + \sigma\epsilon)`, differentiable in :math:`\mu` and
        :math:`\log\sigma`.
    logP : 1d Tensor, shape: [batch_size]
        :math:`\log\pi(a|s)`, joint over the action dimensions.
    """
    U = mu + ops.exp(log_std) * noise
    correction = log_one_minus_tanh_sq(U)
    event_axes = tuple(range(1, len(correction.shape)))
    logP = NormalDist(mu, 2.0 * log_std).log_proba(U) - ops.sum(correction, axis=event_axes)
    return ops.tanh(U), logP


def squashed_median(mu: Any) -> Any:
    r"""The deterministic action :math:`\tanh(\mu)`: the median of the squashed Gaussian (tanh is
    monotone), as SB3's SAC acts when ``deterministic``.

    Parameters
    ----------
    mu : Tensor, shape: [batch_size, \*action_shape]
        Means of the Gaussian before squashing.
    """
    return ops.tanh(mu)


def rescale_actions(A: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    r"""Map actions from :math:`[-1, 1]` to the env's bounds,
    :math:`\text{low} + \tfrac12(a + 1)(\text{high} - \text{low})` (float32, on the host)."""
    A = np.asarray(A, np.float32)
    return (low + 0.5 * (A + 1.0) * (high - low)).astype(np.float32)
