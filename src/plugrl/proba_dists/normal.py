r"""A differentiable diagonal Gaussian, parametrised by means and log-variances."""

from __future__ import annotations

import math

from plugrl._backend import is_concrete, keras, normal_noise
from plugrl.proba_dists.base import ProbaDist, Tensor, as_float_tensor
from plugrl.utils.validation import check_finite

ops = keras.ops

__all__ = ["NormalDist"]

_LOG_2PI = math.log(2.0 * math.pi)


class NormalDist(ProbaDist):
    r"""Implementation of a diagonal normal distribution, joint over all action dimensions.

    .. math::

        p(x)\ =\ \prod_i \frac{1}{\sqrt{2\pi\sigma_i^2}}
            \exp\left(-\frac{(x_i - \mu_i)^2}{2\sigma_i^2}\right)

    where :math:`i` runs over all non-batch axes; log-probabilities and entropies are sums over
    them.

    Parameters
    ----------
    mu : Tensor, dtype: float, shape: [batch_size, \*action_shape]
        A batch of means :math:`\mu`.
    logvar : Tensor, dtype: float, shape: [batch_size, \*action_shape]
        A batch of log-variances :math:`\log\sigma^2`.
    name : str, optional
        Name of the distribution (keras-gym's name scope; kept as :attr:`name`, it has no other
        effect under JAX).
    random_seed : int, optional
        Seed of the internal key used by :meth:`sample` when it is called without a key.

    Raises
    ------
    TypeError
        If ``name`` is not a string (as when a seed is passed third, where keras-gym has the
        name).
    ValueError
        If ``mu`` and ``logvar`` differ in shape or have no batch axis, or if concrete values
        hold NaN or infinity.
    """

    def __init__(
        self,
        mu: Tensor,
        logvar: Tensor,
        name: str = "normal_dist",
        random_seed: int | None = None,
    ) -> None:
        super().__init__(name, random_seed)
        for name, value in (("mu", mu), ("logvar", logvar)):
            if is_concrete(value):  # traced values cannot be inspected
                check_finite(value, name)
        self.mu = as_float_tensor(mu)
        self.logvar = ops.cast(as_float_tensor(logvar), self.mu.dtype)
        if tuple(self.mu.shape) != tuple(self.logvar.shape) or len(self.mu.shape) < 1:
            raise ValueError(
                "mu, logvar: expected equal shapes [batch_size, *action_shape], "
                f"got {tuple(self.mu.shape)} and {tuple(self.logvar.shape)}"
            )

    def sample(self, key: Tensor | None = None) -> Tensor:
        r"""Draw a reparametrised sample, :math:`x = \mu + \sigma\,\epsilon` with
        :math:`\epsilon\sim\mathcal{N}(0, 1)` and :math:`\sigma = e^{\frac12\log\sigma^2}`,
        differentiable with respect to :math:`\mu` and :math:`\log\sigma^2`.

        Parameters
        ----------
        key : uint32 array, shape: [2], optional
            A raw JAX key; required inside ``jax.jit``. Without one, the internal key is used
            and advanced (outside JAX transformations only).

        Returns
        -------
        sample : Tensor, shape: [batch_size, \*action_shape]
            The sampled variates.
        """
        key = self._next_key(key, self.mu, self.logvar)
        eps = normal_noise(key, self.mu.shape, self.mu.dtype)
        return self.mu + ops.exp(0.5 * self.logvar) * eps

    def log_proba(self, x: Tensor) -> Tensor:
        r"""Compute the joint log-densities of a batch of variates,

        .. math::

            \log p(x)\ =\ -\frac12\sum_i\left(\frac{(x_i-\mu_i)^2}{\sigma_i^2}
                + \log\sigma_i^2 + \log 2\pi\right)

        Parameters
        ----------
        x : Tensor, shape: [batch_size, \*action_shape]
            A batch of specific variates.

        Returns
        -------
        log_proba : 1d Tensor, shape: [batch_size]
            The log-densities.
        """
        x = ops.cast(as_float_tensor(x), self.mu.dtype)
        if tuple(x.shape) != tuple(self.mu.shape):
            raise ValueError(f"x: expected shape {tuple(self.mu.shape)}, got {tuple(x.shape)}")
        quadratic = ops.square(x - self.mu) * ops.exp(-self.logvar)
        return -0.5 * _sum_event(quadratic + self.logvar + _LOG_2PI)

    def entropy(self) -> Tensor:
        r"""Compute the joint differential entropy,
        :math:`\text{H}[p] = \frac12\sum_i\left(\log\sigma_i^2 + \log 2\pi + 1\right)`.

        Returns
        -------
        entropy : 1d Tensor, shape: [batch_size]
            The entropies.
        """
        return 0.5 * _sum_event(self.logvar + (_LOG_2PI + 1.0))

    def kl_divergence(self, other: ProbaDist) -> Tensor:
        r"""Compute the closed-form KL-divergence,

        .. math::

            \text{KL}[p_\text{self}, p_\text{other}]\ =\ \frac12\sum_i\left(
                \log\frac{\sigma_{\text{other},i}^2}{\sigma_{\text{self},i}^2}
                + \frac{\sigma_{\text{self},i}^2 + (\mu_{\text{self},i}-\mu_{\text{other},i})^2}
                    {\sigma_{\text{other},i}^2} - 1\right)

        Parameters
        ----------
        other : NormalDist
            A normal distribution of the same shape.

        Returns
        -------
        kl_divergence : 1d Tensor, shape: [batch_size]
            The KL-divergences.
        """
        self._check_other(other)
        assert isinstance(other, NormalDist)  # what _check_other has just checked, for the type checker
        log_ratio = other.logvar - self.logvar
        # Written with exp(-log_ratio) rather than var_self / var_other to avoid overflow.
        terms = log_ratio + ops.exp(-log_ratio) + ops.square(self.mu - other.mu) * ops.exp(
            -other.logvar
        )
        return 0.5 * _sum_event(terms - 1.0)

    def mode(self) -> Tensor:
        r"""The most probable variates, :math:`\mu`.

        Returns
        -------
        x : Tensor, shape: [batch_size, \*action_shape]
            The means.
        """
        return self.mu


def _sum_event(values: Tensor) -> Tensor:
    """Sum over all non-batch axes, turning per-dimension terms into joint ones."""
    event_axes = tuple(range(1, len(values.shape)))
    return ops.sum(values, axis=event_axes) if event_axes else values
