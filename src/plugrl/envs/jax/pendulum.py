"""Pendulum-v1 as pure JAX functions, reproducing Gymnasium's ``PendulumEnv``.

Gymnasium computes in float64 and casts the observation to float32; here everything is float32,
so a single step agrees to about 1e-6.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv, time_limit

__all__ = ["Pendulum", "PendulumParams", "PendulumState", "angle_normalize"]


class PendulumParams(NamedTuple):
    """Physical constants, limits and time limit of Pendulum-v1."""

    max_speed: float = 8.0
    max_torque: float = 2.0
    dt: float = 0.05
    g: float = 10.0
    m: float = 1.0
    l: float = 1.0  # noqa: E741  (Gymnasium's name for the length, kept so its kwargs carry over)
    max_episode_steps: int = 200


class PendulumState(NamedTuple):
    """Angle ``theta`` (0 = upright), angular velocity ``theta_dot``, and the step count ``t``."""

    theta: jax.Array
    theta_dot: jax.Array
    t: jax.Array


def angle_normalize(x: jax.Array) -> jax.Array:
    """The angle mapped into ``[-pi, pi)``."""
    return ((x + jnp.pi) % (2 * jnp.pi)) - jnp.pi


def _obs(state: PendulumState) -> jax.Array:
    """The observation ``[cos theta, sin theta, theta_dot]`` (float32)."""
    return jnp.stack([jnp.cos(state.theta), jnp.sin(state.theta),
                      state.theta_dot]).astype(jnp.float32)


def _reward(theta: jax.Array, theta_dot: jax.Array, u: jax.Array) -> jax.Array:
    """Minus the cost of the state before the step and of the (clipped) torque."""
    return -(angle_normalize(theta) ** 2 + 0.1 * theta_dot ** 2 + 0.001 * u ** 2)


class Pendulum(JaxEnv):
    """Pendulum-v1: swing a pendulum up and hold it there with a torque in ``[-2, 2]``.

    Never terminates; truncated after ``max_episode_steps`` steps. There is no automatic reset.
    """

    id = "Pendulum-v1"
    default_params = PendulumParams()

    def __init__(self) -> None:
        p = self.default_params
        # Same bounds and dtype as Gymnasium's, so the spaces compare equal.
        high = np.array([1.0, 1.0, p.max_speed], dtype=np.float32)
        self.observation_space = gym.spaces.Box(low=-high, high=high, dtype=np.float32)
        self.action_space = gym.spaces.Box(low=-p.max_torque, high=p.max_torque, shape=(1,),
                                           dtype=np.float32)

    def reset(self, key: jax.Array, params: PendulumParams) -> tuple[jax.Array, PendulumState]:
        """A new episode: ``theta ~ U[-pi, pi]``, ``theta_dot ~ U[-1, 1]``.

        Parameters
        ----------
        key : jax.Array
            PRNG key.
        params : PendulumParams
            Environment constants (unused: Gymnasium's reset bounds are fixed).

        Returns
        -------
        obs : jax.Array
            Shape ``(3,)``, float32.
        state : PendulumState
            The initial state, with ``t = 0``.
        """
        del params
        high = jnp.array([math.pi, 1.0], jnp.float32)
        s = jax.random.uniform(key, (2,), jnp.float32, -high, high)
        state = PendulumState(s[0], s[1], jnp.zeros((), jnp.int32))
        return _obs(state), state

    def step(self, key: jax.Array, state: PendulumState, action: jax.Array,
             params: PendulumParams) -> tuple[jax.Array, PendulumState, jax.Array, jax.Array,
                                              jax.Array, dict]:
        """One semi-implicit Euler step of ``dt`` seconds, as in Gymnasium.

        Parameters
        ----------
        key : jax.Array
            PRNG key (unused: the dynamics are deterministic).
        state : PendulumState
            Current state.
        action : jax.Array
            Torque, shape ``(1,)`` (a scalar is accepted too); clipped to ``[-2, 2]``.
        params : PendulumParams
            Environment constants.

        Returns
        -------
        tuple
            ``(obs, state, reward, terminated, truncated, info)`` with ``info = {}``;
            ``terminated`` is always False.
        """
        del key
        u = jnp.clip(jnp.reshape(jnp.asarray(action, jnp.float32), (-1,))[0],
                     -params.max_torque, params.max_torque)
        reward = _reward(state.theta, state.theta_dot, u).astype(jnp.float32)
        theta_dot = state.theta_dot + (
            3 * params.g / (2 * params.l) * jnp.sin(state.theta)
            + 3.0 / (params.m * params.l ** 2) * u) * params.dt
        theta_dot = jnp.clip(theta_dot, -params.max_speed, params.max_speed)
        # The angle uses the new (clipped) velocity, as Gymnasium does.
        new = PendulumState(state.theta + theta_dot * params.dt, theta_dot, state.t + 1)
        terminated = jnp.zeros((), bool)
        truncated = time_limit(new.t, terminated, params.max_episode_steps)
        return _obs(new), new, reward, terminated, truncated, {}
