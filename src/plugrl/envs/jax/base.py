"""Environments written as pure JAX functions, and their Gymnasium adapter.

A JAX environment has no automatic reset and no hidden state: ``reset(key, params)`` returns
``(obs, state)`` and ``step(key, state, action, params)`` returns ``(obs, state, reward,
terminated, truncated, info)``, both traceable by ``jax.jit`` and ``jax.vmap``. The state is a
pytree that includes the step counter used for the time limit.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import gymnasium as gym
import jax
import numpy as np

from plugrl._backend import jit

__all__ = ["JaxEnv", "time_limit", "to_gymnasium"]


def time_limit(t: jax.Array, terminated: jax.Array, max_episode_steps: int) -> jax.Array:
    """Truncated: the step count ``t`` reached the limit on a step that did not terminate."""
    return (t >= max_episode_steps) & ~terminated


class JaxEnv(abc.ABC):
    """Base of the JAX environments: spaces, default parameters, and pure ``reset``/``step``.

    Subclasses set ``id`` (the Gymnasium id whose dynamics they reproduce), ``default_params``
    (a frozen dataclass or NamedTuple of constants, time limit included), and the two spaces.
    """

    id: ClassVar[str]
    default_params: Any
    observation_space: gym.Space
    action_space: gym.Space

    @abc.abstractmethod
    def reset(self, key: jax.Array, params: Any) -> tuple[jax.Array, Any]:
        """A new episode: ``(obs, state)``."""

    @abc.abstractmethod
    def step(self, key: jax.Array, state: Any, action: Any,
             params: Any) -> tuple[jax.Array, Any, jax.Array, jax.Array, jax.Array, dict]:
        """One transition: ``(obs, state, reward, terminated, truncated, info)``."""


class _GymnasiumAdapter(gym.Env):
    """A JAX environment behind the Gymnasium API (one jitted call per reset and per step)."""

    metadata: dict[str, Any] = {"render_modes": []}  # declared as gym.Env declares it

    def __init__(self, env: JaxEnv, params: Any = None) -> None:
        self.jax_env = env
        self.params = env.default_params if params is None else params
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self._reset = jit(env.reset)
        self._step = jit(env.step)
        self._key = jax.random.PRNGKey(0)
        self._state: Any = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if seed is not None:
            self._key = jax.random.PRNGKey(seed)
        self._key, key = jax.random.split(self._key)
        obs, self._state = self._reset(key, self.params)
        return np.asarray(obs), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._state is None:
            raise RuntimeError("step: expected reset() before the first step")
        self._key, key = jax.random.split(self._key)
        obs, self._state, reward, terminated, truncated, info = self._step(
            key, self._state, np.asarray(action), self.params)
        return (np.asarray(obs), float(reward), bool(terminated), bool(truncated),
                {k: np.asarray(v) for k, v in info.items()})


def to_gymnasium(env: JaxEnv, params: Any = None) -> gym.Env:
    """Wrap a JAX environment as a Gymnasium environment with identical spaces."""
    return _GymnasiumAdapter(env, params)
