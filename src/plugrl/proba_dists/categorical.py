r"""A differentiable categorical distribution, parametrised by logits."""

from __future__ import annotations

import numpy as np

from plugrl._backend import gumbel_noise, is_concrete, keras
from plugrl.proba_dists.base import ProbaDist, Tensor, as_float_tensor
from plugrl.utils.validation import check_finite

ops = keras.ops

__all__ = ["CategoricalDist"]


class CategoricalDist(ProbaDist):
    r"""Differentiable implementation of a categorical distribution.

    .. math::

        p(a)\ =\ \text{softmax}(z)_a\ =\ \frac{e^{z_a}}{\sum_{a'} e^{z_{a'}}}

    Parameters
    ----------
    logits : 2d Tensor, dtype: float, shape: [batch_size, num_categories]
        A batch of logits :math:`z\in\mathbb{R}^n` with :math:`n=` ``num_categories``.
    boltzmann_tau : float, optional
        The Boltzmann temperature :math:`\tau` used in generating near one-hot propensities in
        :meth:`sample`. A smaller number means closer to deterministic, one-hot encoded samples;
        a larger number means better numerical stability (and flatter samples).
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
        If ``logits`` is not 2d, if concrete ``logits`` hold NaN or infinite values, or if
        ``boltzmann_tau`` is not positive.
    """

    def __init__(
        self,
        logits: Tensor,
        boltzmann_tau: float = 0.2,
        name: str = "categorical_dist",
        random_seed: int | None = None,
    ) -> None:
        super().__init__(name, random_seed)
        if is_concrete(logits):  # traced values cannot be inspected
            check_finite(logits, "logits")
        if is_concrete(boltzmann_tau) and not float(np.asarray(boltzmann_tau)) > 0:
            raise ValueError(f"boltzmann_tau: expected a positive float, got {boltzmann_tau!r}")
        self.logits = as_float_tensor(logits)
        if len(self.logits.shape) != 2:
            raise ValueError(
                "logits: expected shape [batch_size, num_categories], "
                f"got {tuple(self.logits.shape)}"
            )
        self.boltzmann_tau = boltzmann_tau

    @property
    def num_categories(self) -> int:
        """The number of categories :math:`n`."""
        return int(self.logits.shape[-1])

    @property
    def probs(self) -> Tensor:
        r"""The probabilities :math:`p = \text{softmax}(z)`, shape [batch_size, num_categories]."""
        return ops.softmax(self.logits, axis=-1)

    @property
    def log_probs(self) -> Tensor:
        r"""The log-probabilities :math:`\log p = z - \text{logsumexp}(z)`,
        shape [batch_size, num_categories]."""
        return ops.log_softmax(self.logits, axis=-1)

    def sample(self, key: Tensor | None = None) -> Tensor:
        r"""Draw differentiable near one-hot propensities (the Gumbel-softmax relaxation).

        .. math::

            x\ =\ \text{softmax}\big((z + g)/\tau\big)

        with standard Gumbel noise :math:`g_a`, independent per row and category
        [ArXiv:1611.01144]. As :math:`\tau\to 0`, :math:`x` tends to the one-hot encoding of
        :math:`\arg\max_a(z_a + g_a)`, which is distributed as :math:`p` (the Gumbel-max trick);
        a larger :math:`\tau` gives flatter propensities. For an exact draw use
        :meth:`sample_one_hot` or :meth:`sample_index`; with the same key, all three pick the
        same category.

        Parameters
        ----------
        key : uint32 array, shape: [2], optional
            A raw JAX key; required inside ``jax.jit``. Without one, the internal key is used
            and advanced (outside JAX transformations only).

        Returns
        -------
        sample : 2d Tensor, dtype: float, shape: [batch_size, num_categories]
            Near one-hot propensities (non-negative, each row summing to one).
        """
        return self._relaxed(self._noisy_logits(key))

    def sample_one_hot(self, key: Tensor | None = None) -> Tensor:
        r"""Draw exact one-hot variates with a straight-through Gumbel-softmax gradient.

        The value is the one-hot encoding of :math:`\arg\max_a(z_a + g_a)`, a sample from
        :math:`p`; the gradient is that of :meth:`sample`'s relaxation
        :math:`\text{softmax}((z + g)/\tau)`.

        Parameters
        ----------
        key : uint32 array, shape: [2], optional
            As in :meth:`sample`.

        Returns
        -------
        sample : 2d Tensor, dtype: float, shape: [batch_size, num_categories]
            One-hot encoded variates.
        """
        noisy_logits = self._noisy_logits(key)
        hard = ops.one_hot(
            ops.argmax(noisy_logits, axis=-1), self.num_categories, dtype=self.logits.dtype
        )
        soft = self._relaxed(noisy_logits)
        # soft - stop_gradient(soft) is exactly zero, so the value stays exactly one-hot.
        return hard + (soft - ops.stop_gradient(soft))

    def sample_index(self, key: Tensor | None = None) -> Tensor:
        r"""Draw category indices :math:`a = \arg\max_a(z_a + g_a)\sim p` (not differentiable).

        Parameters
        ----------
        key : uint32 array, shape: [2], optional
            As in :meth:`sample`.

        Returns
        -------
        a : 1d Tensor, dtype: int32, shape: [batch_size]
            Category indices.
        """
        return ops.cast(ops.argmax(self._noisy_logits(key), axis=-1), "int32")

    def _relaxed(self, noisy_logits: Tensor) -> Tensor:
        r"""The relaxation :math:`\text{softmax}((z + g)/\tau)` of noisy logits :math:`z + g`."""
        return ops.softmax(noisy_logits / self.boltzmann_tau, axis=-1)

    def _noisy_logits(self, key: Tensor | None) -> Tensor:
        """The logits plus standard Gumbel noise, :math:`z + g`, drawn with ``key``."""
        key = self._next_key(key, self.logits)
        return self.logits + gumbel_noise(key, self.logits.shape, self.logits.dtype)

    def log_proba(self, x: Tensor) -> Tensor:
        r"""Compute the log-probabilities of a batch of variates.

        .. math::

            \log p(x)\ =\ \sum_a x_a \log p(a)

        where :math:`x` is one-hot (or relaxed, as from :meth:`sample`); integer indices
        :math:`x=a` give :math:`\log p(a)`.

        Parameters
        ----------
        x : Tensor, shape: [batch_size] or [batch_size, num_categories]
            Category indices, or one-hot encoded (or relaxed) variates.

        Returns
        -------
        log_proba : 1d Tensor, shape: [batch_size]
            The log-probabilities.
        """
        x = ops.convert_to_tensor(x)
        if len(x.shape) == 1:
            self._check_indices(x)
            x = ops.one_hot(ops.cast(x, "int32"), self.num_categories, dtype=self.logits.dtype)
        elif len(x.shape) != 2 or int(x.shape[-1]) != self.num_categories:
            raise ValueError(
                f"x: expected shape [batch_size] or [batch_size, {self.num_categories}], "
                f"got {tuple(x.shape)}"
            )
        return ops.sum(ops.cast(x, self.logits.dtype) * self.log_probs, axis=-1)

    def entropy(self) -> Tensor:
        r"""Compute the entropy :math:`\text{H}[p] = -\sum_a p(a)\log p(a)`.

        Returns
        -------
        entropy : 1d Tensor, shape: [batch_size]
            The entropies.
        """
        return -ops.sum(self.probs * self.log_probs, axis=-1)

    def kl_divergence(self, other: ProbaDist) -> Tensor:
        r"""Compute the KL-divergence
        :math:`\text{KL}[p_\text{self}, p_\text{other}] = \sum_a p_\text{self}(a)
        \big(\log p_\text{self}(a) - \log p_\text{other}(a)\big)`.

        Parameters
        ----------
        other : CategoricalDist
            A categorical distribution over the same number of categories.

        Returns
        -------
        kl_divergence : 1d Tensor, shape: [batch_size]
            The KL-divergences.
        """
        self._check_other(other)
        assert isinstance(other, CategoricalDist)  # what _check_other has just checked, for the type checker
        return ops.sum(self.probs * (self.log_probs - other.log_probs), axis=-1)

    def mode(self) -> Tensor:
        r"""The most probable categories, :math:`\arg\max_a z_a`.

        Returns
        -------
        a : 1d Tensor, dtype: int32, shape: [batch_size]
            Category indices.
        """
        return ops.cast(ops.argmax(self.logits, axis=-1), "int32")

    def _check_indices(self, x: Tensor) -> None:
        # An out-of-range index would one-hot encode to zeros and silently give log p = 0.
        if not is_concrete(x):
            return
        array = np.asarray(x)
        bad = np.argwhere((array < 0) | (array >= self.num_categories) | (array != np.round(array)))
        if bad.size:
            index = tuple(int(i) for i in bad[0])
            raise ValueError(
                f"x: expected category indices in [0, {self.num_categories}), "
                f"got {array[index]} at index {index}"
            )
