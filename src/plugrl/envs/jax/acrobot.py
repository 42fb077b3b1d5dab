"""Acrobot-v1 as pure JAX functions (Gymnasium's ``AcrobotEnv``, "book" dynamics)."""

from __future__ import annotations

import math
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv, time_limit

__all__ = ["Acrobot", "AcrobotParams", "AcrobotState"]


class AcrobotParams(NamedTuple):
    """Constants of Acrobot-v1 (Gymnasium's values)."""

    dt: float = 0.2
    link_length_1: float = 1.0
    link_mass_1: float = 1.0
    link_mass_2: float = 1.0
    link_com_pos_1: float = 0.5
    link_com_pos_2: float = 0.5
    link_moi: float = 1.0
    gravity: float = 9.8
    max_vel_1: float = 4 * math.pi
    max_vel_2: float = 9 * math.pi
    torque_noise_max: float = 0.0
    reset_bound: float = 0.1
    max_episode_steps: int = 500


class AcrobotState(NamedTuple):
    """Joint angles and angular velocities, and the number of steps taken in the episode."""

    theta1: jax.Array
    theta2: jax.Array
    dtheta1: jax.Array
    dtheta2: jax.Array
    t: jax.Array


#: Torque for each discrete action, as Gymnasium's ``AVAIL_TORQUE``.
_TORQUES = (-1.0, 0.0, 1.0)


def _dsdt(s: jax.Array, torque: jax.Array, p: AcrobotParams) -> jax.Array:
    """Time derivative of ``s = [theta1, theta2, dtheta1, dtheta2]`` (the book's equations)."""
    theta1, theta2, dtheta1, dtheta2 = s[0], s[1], s[2], s[3]
    m1, m2, l1 = p.link_mass_1, p.link_mass_2, p.link_length_1
    lc1, lc2, i1, i2, g = p.link_com_pos_1, p.link_com_pos_2, p.link_moi, p.link_moi, p.gravity
    d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * jnp.cos(theta2)) + i1 + i2
    d2 = m2 * (lc2**2 + l1 * lc2 * jnp.cos(theta2)) + i2
    phi2 = m2 * lc2 * g * jnp.cos(theta1 + theta2 - jnp.pi / 2.0)
    phi1 = (-m2 * l1 * lc2 * dtheta2**2 * jnp.sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * jnp.sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * jnp.cos(theta1 - jnp.pi / 2)
            + phi2)
    ddtheta2 = ((torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * jnp.sin(theta2) - phi2)
                / (m2 * lc2**2 + i2 - d2**2 / d1))
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return jnp.stack([dtheta1, dtheta2, ddtheta1, ddtheta2])


def _rk4(s: jax.Array, torque: jax.Array, p: AcrobotParams) -> jax.Array:
    """One fourth-order Runge-Kutta step of length ``dt`` (Gymnasium's ``rk4`` over ``[0, dt]``)."""
    half = p.dt / 2.0
    k1 = _dsdt(s, torque, p)
    k2 = _dsdt(s + half * k1, torque, p)
    k3 = _dsdt(s + half * k2, torque, p)
    k4 = _dsdt(s + p.dt * k3, torque, p)
    return s + p.dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _wrap(x: jax.Array, low: float, high: float) -> jax.Array:
    """Gymnasium's ``wrap`` without its loops: shift by the fewest whole periods into range.

    Unlike a plain modulo, values already in ``[low, high]`` (both ends included) are kept.
    """
    period = high - low
    above = x - period * jnp.ceil((x - high) / period)
    below = x + period * jnp.ceil((low - x) / period)
    return jnp.where(x > high, above, jnp.where(x < low, below, x))


def _observation(state: AcrobotState) -> jax.Array:
    """``[cos th1, sin th1, cos th2, sin th2, dth1, dth2]`` as float32."""
    return jnp.stack([jnp.cos(state.theta1), jnp.sin(state.theta1), jnp.cos(state.theta2),
                      jnp.sin(state.theta2), state.dtheta1, state.dtheta2]).astype(jnp.float32)


def _terminal(state: AcrobotState) -> jax.Array:
    """The free end is above the target height (one link length above the pivot)."""
    return -jnp.cos(state.theta1) - jnp.cos(state.theta2 + state.theta1) > 1.0


class Acrobot(JaxEnv):
    """Acrobot-v1: torque -1 / 0 / +1 on the middle joint; reward -1 per step, 0 on success.

    Computation is in float32 (JAX's default), where Gymnasium integrates in float64.
    """

    id = "Acrobot-v1"
    default_params = AcrobotParams()
    observation_space = gym.spaces.Box(
        -np.array([1.0, 1.0, 1.0, 1.0, 4 * np.pi, 9 * np.pi], dtype=np.float32),
        np.array([1.0, 1.0, 1.0, 1.0, 4 * np.pi, 9 * np.pi], dtype=np.float32),
        dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, key: jax.Array, params: AcrobotParams) -> tuple[jax.Array, AcrobotState]:
        """A new episode: the four physics variables uniform in ``[-0.1, 0.1]``."""
        s = jax.random.uniform(key, (4,), jnp.float32, -params.reset_bound, params.reset_bound)
        state = AcrobotState(s[0], s[1], s[2], s[3], jnp.zeros((), jnp.int32))
        return _observation(state), state

    def step(self, key: jax.Array, state: AcrobotState, action: jax.Array,
             params: AcrobotParams) -> tuple[jax.Array, AcrobotState, jax.Array, jax.Array,
                                             jax.Array, dict]:
        """One transition: ``(obs, state, reward, terminated, truncated, info)``.

        ``key`` draws the torque noise (zero by default); ``action`` is 0, 1 or 2.
        """
        torque = jnp.asarray(_TORQUES, jnp.float32)[action]
        torque = torque + jax.random.uniform(key, (), jnp.float32, -params.torque_noise_max,
                                             params.torque_noise_max)
        s = jnp.stack([state.theta1, state.theta2, state.dtheta1, state.dtheta2])
        ns = _rk4(s, torque, params)
        t = state.t + 1
        state = AcrobotState(
            _wrap(ns[0], -jnp.pi, jnp.pi), _wrap(ns[1], -jnp.pi, jnp.pi),
            jnp.clip(ns[2], -params.max_vel_1, params.max_vel_1),
            jnp.clip(ns[3], -params.max_vel_2, params.max_vel_2), t)
        terminated = _terminal(state)
        truncated = time_limit(t, terminated, params.max_episode_steps)
        reward = jnp.where(terminated, 0.0, -1.0).astype(jnp.float32)
        return _observation(state), state, reward, terminated, truncated, {}
