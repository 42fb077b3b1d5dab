"""Randomness for the functional core: raw JAX keys, noise, seeded Keras initialisation."""

from __future__ import annotations

import contextlib
import random as python_random
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras.src.backend.common.stateless_scope import StatelessScope, in_stateless_scope

from plugrl._backend.jax_config import jit

__all__ = ["batched_initialization", "gumbel_noise", "is_concrete", "normal_noise", "prng_key",
           "random_argmax", "seeded_initialization", "split_key"]


def prng_key(seed: int | None) -> jax.Array:
    """A raw JAX key from an integer seed; ``None`` draws a seed from the operating system."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    if seed < 0:
        return jax.random.PRNGKey(seed)
    # Threefry's key for a seed, [0, seed mod 2**32] without 64-bit mode, built on the host so
    # that no kernel is compiled for it (``jnp.asarray`` would compile one).
    return jax.device_put(np.array([0, seed & 0xFFFFFFFF], np.uint32))


@contextlib.contextmanager
def seeded_initialization(seed: int | None) -> Iterator[None]:
    """Make Keras weight initialisation inside the block depend on ``seed`` alone.

    Keras initialisers created without a seed draw one from Python's global ``random`` module,
    and unseeded random ops use a global seed generator. Inside this block both are seeded from
    ``seed``; afterwards they are restored, so no global state changes. With ``seed=None`` the
    block does nothing and initialisation follows ``keras.utils.set_random_seed``.
    """
    if seed is None:
        yield
        return
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator

    saved_python_state = python_random.getstate()
    saved_generator = global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR)
    python_random.seed(seed)
    global_state.set_global_attribute(
        seed_generator.GLOBAL_SEED_GENERATOR, keras.random.SeedGenerator(seed)
    )
    try:
        yield
    finally:
        python_random.setstate(saved_python_state)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, saved_generator)


@contextlib.contextmanager
def batched_initialization() -> Iterator[None]:
    """Compute the initial values of the Keras variables created inside the block in one
    compiled call, when the block ends.

    Each eager initialiser compiles a kernel of its own (one per shape and kind): building an
    agent's networks compiled twenty of them, most of its construction time. Inside the block
    variables are created uninitialised (a Keras ``StatelessScope``); initialisers with a fixed
    integer seed, and constant ones, then run together under one ``jax.jit``, which gives the
    same values as running them one by one. Any other initialiser (one drawing from a
    ``SeedGenerator``, a custom callable) runs eagerly, in creation order, as Keras would.
    Values a layer assigns while it builds (recorded by the scope) are assigned afterwards, in
    order.
    """
    from keras.src.backend.common import global_state

    if in_stateless_scope():  # an enclosing block (or Keras itself) initialises them
        yield
        return
    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    start = len(pending)
    scope = _RecordingScope()
    try:
        with scope:
            yield
    finally:
        created = pending[start:]
        del pending[start:]
    together = [v for v in created if _pure_initializer(v._initializer)]
    if together:
        values = jit(lambda: [v._initializer(v.shape, dtype=v.dtype) for v in together])()
        for variable, value in zip(together, values):
            variable._initialize(value)
            variable._initializer = None
    for variable in created:
        if variable._initializer is not None:
            variable._deferred_initialize()
    for variable, value in scope.updates:
        variable.assign(value)


class _RecordingScope(StatelessScope):
    """A stateless scope that leaves variables uninitialised and keeps its updates in order."""

    def __init__(self) -> None:
        super().__init__(initialize_variables=False)
        self.updates: list[tuple[Any, Any]] = []

    def add_update(self, update: tuple[Any, Any]) -> None:
        super().add_update(update)
        self.updates.append(update)


def _pure_initializer(initializer: Any) -> bool:
    """Whether an initialiser's values depend on its arguments alone (no generator state)."""
    from keras.src.initializers.constant_initializers import Constant, Ones, Zeros
    from keras.src.initializers.random_initializers import RandomInitializer

    if isinstance(initializer, RandomInitializer):
        return isinstance(initializer.seed, int)
    return type(initializer) in (Constant, Ones, Zeros)


def random_argmax(key: jax.Array, values: jax.Array) -> jax.Array:
    """``argmax`` over the last axis with ties broken uniformly at random."""
    is_max = values == jnp.max(values, axis=-1, keepdims=True)
    return jax.random.categorical(key, jnp.where(is_max, 0.0, -jnp.inf), axis=-1)


@jax.jit
def split_key(key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Split a raw JAX key into ``(next_key, subkey)``: keep the first, consume the second."""
    next_key, subkey = jax.random.split(key)
    return next_key, subkey


def gumbel_noise(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
    r"""Standard Gumbel noise, :math:`g = -\log(-\log u)` with :math:`u\sim\mathcal{U}(0, 1)`."""
    return jax.random.gumbel(key, tuple(shape), dtype=dtype)


def normal_noise(key: jax.Array, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
    r"""Standard normal noise, :math:`\epsilon\sim\mathcal{N}(0, 1)`."""
    return jax.random.normal(key, tuple(shape), dtype=dtype)


def is_concrete(*values: Any) -> bool:
    """Whether all values are concrete (not abstract tracers of ``jit``, ``grad`` or ``vmap``).

    Only concrete values can be inspected on the host, e.g. to raise on NaN parameters.
    """
    return not any(isinstance(v, jax.core.Tracer) for v in values)
