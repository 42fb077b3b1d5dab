r"""Running mean and variance of observations, and the standardisation that uses them.

:func:`merge_moments` is written with array methods only, and :func:`normalize` takes the array
namespace (NumPy or ``jax.numpy``) as an argument, so the same two functions serve
:class:`RunningNormalizer` on the host (NumPy, float64 statistics) and the fast path inside
its compiled loop (traced float32 arrays).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["Moments", "RunningNormalizer", "merge_moments", "normalize"]


class Moments(NamedTuple):
    """Running statistics of observations.

    Attributes
    ----------
    mean, var : array, shape ``obs_shape``
        The running mean and (population) variance.
    count : scalar
        The number of observations merged so far.
    """

    mean: Any
    var: Any
    count: Any


def merge_moments(moments: Moments, S: Any) -> Moments:
    r"""Merge a batch of observations into running moments (Chan et al.'s parallel algorithm).

    With :math:`n_a` observations of mean :math:`\mu_a` and variance :math:`\sigma^2_a` so far and
    a batch of :math:`n_b`, :math:`\mu_b`, :math:`\sigma^2_b`, :math:`\delta = \mu_b - \mu_a` and
    :math:`n = n_a + n_b`:

    .. math::

        \mu = \mu_a + \delta\,\frac{n_b}{n}, \qquad
        \sigma^2 = \frac{n_a\sigma^2_a + n_b\sigma^2_b + \delta^2\,n_a n_b / n}{n}

    Parameters
    ----------
    moments : Moments
        The statistics so far (NumPy, or traced JAX arrays).
    S : array, shape ``[batch_size, *obs_shape]``
        The batch of (raw) observations.

    Returns
    -------
    Moments
        The merged statistics, in the dtype arithmetic gives them (float64 on the host).
    """
    batch_mean, batch_var, n = S.mean(axis=0), S.var(axis=0), S.shape[0]
    total = moments.count + n
    delta = batch_mean - moments.mean
    mean = moments.mean + delta * n / total
    var = (moments.var * moments.count + batch_var * n + delta**2 * moments.count * n / total) / total
    return Moments(mean, var, total)


def normalize(S: Any, moments: Moments, clip: float, epsilon: float, xp: Any = np) -> Any:
    r"""Standardised observations, :math:`\mathrm{clip}\big((s - \mu) / \sqrt{\sigma^2 +
    \epsilon},\ \pm c\big)`, computed with the array namespace ``xp``: NumPy on the host,
    ``jax.numpy`` in the fast path's compiled loop (passed in, as ``utils`` imports no JAX)."""
    return xp.clip((S - moments.mean) / xp.sqrt(moments.var + epsilon), -clip, clip)


class RunningNormalizer:
    r"""Standardise observations with running statistics, :math:`(s - \mu) / \sqrt{\sigma^2 + \epsilon}`.

    The statistics are merged batch by batch (:func:`merge_moments`) and clipped outputs keep
    outliers bounded.

    Parameters
    ----------
    shape : tuple of int
        The observation shape.
    clip : float, optional
        Normalised values are clipped to ``[-clip, clip]``.
    epsilon : float, optional
        Added to the variance.
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 0.0
        self.clip, self.epsilon = clip, epsilon

    @property
    def moments(self) -> Moments:
        """The statistics as :class:`Moments`."""
        return Moments(self.mean, self.var, self.count)

    def update(self, S: np.ndarray) -> None:
        """Merge a batch of observations [batch_size, *shape] into the statistics."""
        self.load_moments(merge_moments(self.moments, S))

    def load_moments(self, moments: Moments) -> None:
        """Replace the statistics (kept in float64), e.g. by those the fast path merged."""
        self.mean = np.array(moments.mean, np.float64)
        self.var = np.array(moments.var, np.float64)
        self.count = float(moments.count)

    def __call__(self, S: np.ndarray) -> np.ndarray:
        """Normalised observations, float32."""
        return normalize(S, self.moments, self.clip, self.epsilon).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        """The statistics as arrays (to save)."""
        return {"mean": self.mean, "var": self.var, "count": np.asarray(self.count)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore statistics saved with :meth:`state`."""
        self.load_moments(Moments(arrays["mean"], arrays["var"], arrays["count"]))
