r"""The shared interface of plugrl's differentiable probability distributions.

A distribution is a thin object around a batch of parameters, written in ``keras.ops``. It holds
no Keras variables and no global random state: randomness comes from raw JAX keys, so a
distribution can be built and used inside a ``jax.jit``-traced update step, with traced
parameters, exactly as it is used eagerly.
"""

from __future__ import annotations

import abc
import numbers
from typing import Any, TypeAlias

from plugrl._backend import is_concrete, keras, prng_key, split_key

ops = keras.ops

__all__ = ["ProbaDist", "Tensor"]

#: A backend tensor (or anything ``keras.ops`` converts to one, such as a NumPy array).
Tensor: TypeAlias = Any


class ProbaDist(abc.ABC):
    r"""Abstract base of a batch of differentiable probability distributions.

    Every method returns one value per batch row; for multi-dimensional variates the
    distribution is *joint* over all non-batch axes.

    Parameters
    ----------
    name : str
        Name of the distribution (keras-gym's name scope, kept for reference).
    random_seed : int, optional
        Seed of the internal key that :meth:`sample` uses when it is called without a key.
        ``None`` draws a seed from the operating system.

    Raises
    ------
    TypeError
        If ``name`` is not a string, or ``random_seed`` is neither ``None`` nor an integer.

    Notes
    -----
    :meth:`sample` takes a raw JAX key (a ``uint32[2]`` array, e.g. from
    :func:`plugrl._backend.jax.prng_key`). Called without one it uses an internal key that is
    advanced on every call; that only works outside JAX transformations (``jit``, ``grad``,
    ``vmap``), because a key advanced while tracing would be frozen into the compiled function.
    Inside a jitted function, pass a key (split from one that is an argument of the function).
    """

    def __init__(self, name: str, random_seed: int | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name: expected a str, got {type(name).__name__} {name!r}")
        if random_seed is not None and not isinstance(random_seed, numbers.Integral):
            raise TypeError(
                f"random_seed: expected None or an int, got {type(random_seed).__name__} "
                f"{random_seed!r}"
            )
        self.name = name
        self.random_seed = random_seed
        self._key: Tensor | None = None

    @abc.abstractmethod
    def sample(self, key: Tensor | None = None) -> Tensor:
        """Draw one differentiable variate per batch row.

        Parameters
        ----------
        key : uint32 array, shape: [2], optional
            A raw JAX key; required inside ``jax.jit`` (see the class notes).

        Returns
        -------
        x : Tensor, shape: [batch_size, ...]
            The sampled variates.
        """

    @abc.abstractmethod
    def log_proba(self, x: Tensor) -> Tensor:
        r"""Compute the log-probabilities :math:`\log p(x)` of a batch of variates.

        Parameters
        ----------
        x : Tensor, shape: [batch_size, ...]
            A batch of specific variates.

        Returns
        -------
        log_proba : Tensor, shape: [batch_size]
            The log-probabilities (log-densities for continuous variates).
        """

    @abc.abstractmethod
    def entropy(self) -> Tensor:
        r"""Compute the entropy :math:`\text{H}[p] = -\mathbb{E}_{x\sim p}\log p(x)`.

        Returns
        -------
        entropy : Tensor, shape: [batch_size]
            The (differential) entropies.
        """

    @abc.abstractmethod
    def kl_divergence(self, other: ProbaDist) -> Tensor:
        r"""Compute the Kullback-Leibler divergence of :math:`p_\text{other}` from
        :math:`p_\text{self}`,

        .. math::

            \text{KL}[p_\text{self}, p_\text{other}]\ =\
                \mathbb{E}_{x\sim p_\text{self}}
                \log\frac{p_\text{self}(x)}{p_\text{other}(x)}

        Parameters
        ----------
        other : ProbaDist
            A distribution of the same type and shape as ``self``.

        Returns
        -------
        kl_divergence : Tensor, shape: [batch_size]
            The KL-divergences (non-negative).
        """

    @abc.abstractmethod
    def mode(self) -> Tensor:
        """The most probable variate of each batch row.

        Returns
        -------
        x : Tensor, shape: [batch_size, ...]
            The modes.
        """

    def cross_entropy(self, other: ProbaDist) -> Tensor:
        r"""Compute the cross-entropy of :math:`p_\text{other}` relative to :math:`p_\text{self}`,

        .. math::

            \text{CE}[p_\text{self}, p_\text{other}]\ =\
                -\mathbb{E}_{x\sim p_\text{self}}\log p_\text{other}(x)
                \ =\ \text{H}[p_\text{self}] + \text{KL}[p_\text{self}, p_\text{other}]

        The second form is what is computed: the KL-divergence is evaluated directly, so the
        cross-entropy stays accurate when the two distributions are close.

        Parameters
        ----------
        other : ProbaDist
            A distribution of the same type and shape as ``self``.

        Returns
        -------
        cross_entropy : Tensor, shape: [batch_size]
            The cross-entropies.
        """
        return self.entropy() + self.kl_divergence(other)

    def _check_other(self, other: ProbaDist) -> None:
        if type(other) is not type(self):
            raise TypeError(
                f"other: expected a {type(self).__name__}, got {type(other).__name__}"
            )

    def _next_key(self, key: Tensor | None, *params: Tensor) -> Tensor:
        """The key to draw with: ``key`` itself, or a fresh subkey of the internal key."""
        if key is not None:
            return key
        if not is_concrete(*params):
            raise ValueError(_KEY_INSIDE_TRANSFORM)
        if self._key is None:
            self._key = prng_key(self.random_seed)
        next_key, subkey = split_key(self._key)
        # Splitting a concrete key still gives a tracer under jit; storing it would leak it.
        if not is_concrete(next_key):
            raise ValueError(_KEY_INSIDE_TRANSFORM)
        self._key = next_key
        return subkey


_KEY_INSIDE_TRANSFORM = (
    "key: expected a raw JAX key inside jax.jit/grad/vmap, got None. The internal key of a "
    "distribution only advances outside JAX transformations; pass a key, e.g. one split from a "
    "key argument of the jitted function."
)


def as_float_tensor(value: Tensor) -> Tensor:
    """Convert to a backend tensor, casting integers to Keras's default float type."""
    tensor = ops.convert_to_tensor(value)
    if not keras.backend.standardize_dtype(tensor.dtype).startswith(("float", "bfloat")):
        tensor = ops.cast(tensor, keras.backend.floatx())
    return tensor
