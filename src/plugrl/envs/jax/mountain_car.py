"""MountainCar-v0 as pure JAX functions (Gymnasium's ``MountainCarEnv`` dynamics)."""

from __future__ import annotations

from typing import NamedTuple, Protocol

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv, time_limit

__all__ = ["MountainCar", "MountainCarParams", "MountainCarState"]


class MountainCarParams(NamedTuple):
    """Constants of MountainCar-v0 (Gymnasium's values)."""

    min_position: float = -1.2
    max_position: float = 0.6
    max_speed: float = 0.07
    goal_position: float = 0.5
    goal_velocity: float = 0.0
    force: float = 0.001
    gravity: float = 0.0025
    reset_low: float = -0.6
    reset_high: float = -0.4
    max_episode_steps: int = 200


class CarConstants(Protocol):
    """The constants the shared car functions read; both variants' params have them."""

    @property
    def min_position(self) -> float: ...
    @property
    def max_position(self) -> float: ...
    @property
    def max_speed(self) -> float: ...
    @property
    def goal_position(self) -> float: ...
    @property
    def goal_velocity(self) -> float: ...
    @property
    def gravity(self) -> float: ...
    @property
    def reset_low(self) -> float: ...
    @property
    def reset_high(self) -> float: ...


class MountainCarState(NamedTuple):
    """Car position and velocity, and the number of steps taken in the episode."""

    position: jax.Array
    velocity: jax.Array
    t: jax.Array


def observation(state: MountainCarState) -> jax.Array:
    """``[position, velocity]`` as float32, like Gymnasium's observation."""
    return jnp.stack([state.position, state.velocity]).astype(jnp.float32)


def physics(position: jax.Array, velocity: jax.Array, force: jax.Array,
            params: CarConstants) -> tuple[jax.Array, jax.Array]:
    """One Euler step of the car under ``force`` (shared with the continuous variant).

    Parameters
    ----------
    position, velocity : jax.Array
        Current state (scalars).
    force : jax.Array
        Acceleration from the engine, already scaled (``(a - 1) * force`` or ``a * power``).
    params : CarConstants
        Constants (either variant's params); the gravity and the position and speed bounds
        are read here.

    Returns
    -------
    tuple of jax.Array
        The new ``(position, velocity)``.
    """
    velocity = velocity + force - jnp.cos(3.0 * position) * params.gravity
    velocity = jnp.clip(velocity, -params.max_speed, params.max_speed)
    position = jnp.clip(position + velocity, params.min_position, params.max_position)
    # An inelastic left wall: hitting it stops the car rather than bouncing it back.
    velocity = jnp.where((position == params.min_position) & (velocity < 0), 0.0, velocity)
    return position, velocity


def reached_goal(position: jax.Array, velocity: jax.Array, params: CarConstants) -> jax.Array:
    """Gymnasium's termination: at or past the flag, not moving back."""
    return (position >= params.goal_position) & (velocity >= params.goal_velocity)


def reset_state(key: jax.Array, params: CarConstants) -> MountainCarState:
    """Position uniform in ``[reset_low, reset_high]``, velocity 0, ``t`` 0."""
    position = jax.random.uniform(key, (), jnp.float32, params.reset_low, params.reset_high)
    return MountainCarState(position, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))


class MountainCar(JaxEnv):
    """MountainCar-v0: discrete push left / none / right; reward -1 per step.

    Computation is in float32 (JAX's default), where Gymnasium's state is float64.
    """

    id = "MountainCar-v0"
    default_params = MountainCarParams()
    observation_space = gym.spaces.Box(
        np.array([-1.2, -0.07], dtype=np.float32), np.array([0.6, 0.07], dtype=np.float32),
        dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, key: jax.Array,
              params: MountainCarParams) -> tuple[jax.Array, MountainCarState]:
        """A new episode: ``(obs, state)``."""
        state = reset_state(key, params)
        return observation(state), state

    def step(self, key: jax.Array, state: MountainCarState, action: jax.Array,
             params: MountainCarParams) -> tuple[jax.Array, MountainCarState, jax.Array,
                                                 jax.Array, jax.Array, dict]:
        """One transition: ``(obs, state, reward, terminated, truncated, info)``.

        ``key`` is unused (the dynamics are deterministic); ``action`` is 0, 1 or 2.
        """
        del key
        force = (jnp.asarray(action, jnp.float32) - 1.0) * params.force
        position, velocity = physics(state.position, state.velocity, force, params)
        terminated = reached_goal(position, velocity, params)
        t = state.t + 1
        state = MountainCarState(position, velocity, t)
        truncated = time_limit(t, terminated, params.max_episode_steps)
        reward = jnp.asarray(-1.0, jnp.float32)
        return observation(state), state, reward, terminated, truncated, {}
