"""MountainCarContinuous-v0 as pure JAX functions (Gymnasium's ``Continuous_MountainCarEnv``)."""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv, time_limit
from plugrl.envs.jax.mountain_car import (
    MountainCarState,
    observation,
    physics,
    reached_goal,
    reset_state,
)

__all__ = ["MountainCarContinuous", "MountainCarContinuousParams", "MountainCarState"]


class MountainCarContinuousParams(NamedTuple):
    """Constants of MountainCarContinuous-v0 (Gymnasium's values)."""

    min_position: float = -1.2
    max_position: float = 0.6
    max_speed: float = 0.07
    goal_position: float = 0.45
    goal_velocity: float = 0.0
    min_action: float = -1.0
    max_action: float = 1.0
    power: float = 0.0015
    gravity: float = 0.0025
    goal_reward: float = 100.0
    action_cost: float = 0.1
    reset_low: float = -0.6
    reset_high: float = -0.4
    max_episode_steps: int = 999


class MountainCarContinuous(JaxEnv):
    """MountainCarContinuous-v0: a force in ``[-1, 1]``; reward ``-0.1 a^2``, +100 at the goal.

    As in Gymnasium, the force is clipped to ``[-1, 1]`` but the action cost uses the action as
    given (unclipped). Computation is in float32.
    """

    id = "MountainCarContinuous-v0"
    default_params = MountainCarContinuousParams()
    observation_space = gym.spaces.Box(
        np.array([-1.2, -0.07], dtype=np.float32), np.array([0.6, 0.07], dtype=np.float32),
        dtype=np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

    def reset(self, key: jax.Array,
              params: MountainCarContinuousParams) -> tuple[jax.Array, MountainCarState]:
        """A new episode: ``(obs, state)``."""
        state = reset_state(key, params)
        return observation(state), state

    def step(self, key: jax.Array, state: MountainCarState, action: jax.Array,
             params: MountainCarContinuousParams) -> tuple[jax.Array, MountainCarState, jax.Array,
                                                           jax.Array, jax.Array, dict]:
        """One transition: ``(obs, state, reward, terminated, truncated, info)``.

        ``key`` is unused (the dynamics are deterministic); ``action`` has shape ``(1,)``.
        """
        del key
        a = jnp.reshape(jnp.asarray(action, jnp.float32), (-1,))[0]
        force = jnp.clip(a, params.min_action, params.max_action) * params.power
        position, velocity = physics(state.position, state.velocity, force, params)
        terminated = reached_goal(position, velocity, params)
        t = state.t + 1
        state = MountainCarState(position, velocity, t)
        truncated = time_limit(t, terminated, params.max_episode_steps)
        reward = jnp.where(terminated, params.goal_reward, 0.0) - params.action_cost * a ** 2
        return observation(state), state, reward.astype(jnp.float32), terminated, truncated, {}
