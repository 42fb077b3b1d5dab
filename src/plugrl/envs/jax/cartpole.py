"""CartPole-v1 as pure JAX functions, reproducing Gymnasium's ``CartPoleEnv`` (Euler integrator).

Gymnasium computes in float64 and casts the observation to float32; here everything is float32,
so a single step agrees to about 1e-6 and long trajectories drift apart slowly (the system is
chaotic), while the dynamics, thresholds and rewards are the same.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from plugrl.envs.jax.base import JaxEnv, time_limit

__all__ = ["CartPole", "CartPoleNoVel", "CartPoleParams", "CartPoleState"]


class CartPoleParams(NamedTuple):
    """Physical constants, termination thresholds and time limit of CartPole-v1."""

    gravity: float = 9.8
    masscart: float = 1.0
    masspole: float = 0.1
    length: float = 0.5  # half the pole's length, as in Gymnasium
    force_mag: float = 10.0
    tau: float = 0.02  # seconds between state updates
    theta_threshold_radians: float = 12 * 2 * math.pi / 360
    x_threshold: float = 2.4
    reset_bound: float = 0.05  # initial state ~ U[-reset_bound, reset_bound]^4
    max_episode_steps: int = 500


class CartPoleState(NamedTuple):
    """Cart position and velocity, pole angle and angular velocity, and the step count ``t``."""

    x: jax.Array
    x_dot: jax.Array
    theta: jax.Array
    theta_dot: jax.Array
    t: jax.Array


def _obs(state: CartPoleState) -> jax.Array:
    """The observation ``[x, x_dot, theta, theta_dot]`` (float32)."""
    return jnp.stack([state.x, state.x_dot, state.theta, state.theta_dot]).astype(jnp.float32)


def _accelerations(state: CartPoleState, force: jax.Array,
                   params: CartPoleParams) -> tuple[jax.Array, jax.Array]:
    """Cart and pole accelerations ``(xacc, thetaacc)`` (Barto, Sutton & Anderson, 1983)."""
    total_mass = params.masspole + params.masscart
    polemass_length = params.masspole * params.length
    costheta, sintheta = jnp.cos(state.theta), jnp.sin(state.theta)
    temp = (force + polemass_length * jnp.square(state.theta_dot) * sintheta) / total_mass
    thetaacc = (params.gravity * sintheta - costheta * temp) / (
        params.length * (4.0 / 3.0 - params.masspole * jnp.square(costheta) / total_mass))
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    return xacc, thetaacc


def _terminated(state: CartPoleState, params: CartPoleParams) -> jax.Array:
    """Whether the cart left the track or the pole fell past the angle threshold."""
    return ((state.x < -params.x_threshold) | (state.x > params.x_threshold)
            | (state.theta < -params.theta_threshold_radians)
            | (state.theta > params.theta_threshold_radians))


class CartPole(JaxEnv):
    """CartPole-v1: push a cart left (action 0) or right (action 1) to keep a pole upright.

    Reward 1 on every step, the terminating one included (Gymnasium's default reward); terminated
    when ``|x| > 2.4`` or ``|theta| > 12°``; truncated (and not terminated) after
    ``max_episode_steps`` steps. There is no automatic reset.
    """

    id = "CartPole-v1"
    default_params = CartPoleParams()

    def __init__(self) -> None:
        p = self.default_params
        # Same bounds and dtype as Gymnasium's, so the spaces compare equal.
        high = np.array([p.x_threshold * 2, np.inf, p.theta_threshold_radians * 2, np.inf],
                        dtype=np.float32)
        self.observation_space = gym.spaces.Box(-high, high, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, key: jax.Array, params: CartPoleParams) -> tuple[jax.Array, CartPoleState]:
        """A new episode: every state variable uniform in ``[-reset_bound, reset_bound]``.

        Parameters
        ----------
        key : jax.Array
            PRNG key.
        params : CartPoleParams
            Environment constants.

        Returns
        -------
        obs : jax.Array
            Shape ``(4,)``, float32.
        state : CartPoleState
            The initial state, with ``t = 0``.
        """
        s = jax.random.uniform(key, (4,), jnp.float32, -params.reset_bound, params.reset_bound)
        state = CartPoleState(s[0], s[1], s[2], s[3], jnp.zeros((), jnp.int32))
        return _obs(state), state

    def step(self, key: jax.Array, state: CartPoleState, action: jax.Array,
             params: CartPoleParams) -> tuple[jax.Array, CartPoleState, jax.Array, jax.Array,
                                              jax.Array, dict]:
        """One Euler step of ``tau`` seconds.

        Parameters
        ----------
        key : jax.Array
            PRNG key (unused: the dynamics are deterministic).
        state : CartPoleState
            Current state.
        action : jax.Array
            0 (push left) or 1 (push right); an int scalar or a size-1 array.
        params : CartPoleParams
            Environment constants.

        Returns
        -------
        tuple
            ``(obs, state, reward, terminated, truncated, info)`` with ``info = {}``.
        """
        del key
        action = jnp.reshape(jnp.asarray(action), ())
        force = jnp.where(action == 1, params.force_mag, -params.force_mag).astype(jnp.float32)
        xacc, thetaacc = _accelerations(state, force, params)
        # Explicit Euler (Gymnasium's default "euler"): positions use the old velocities.
        new = CartPoleState(
            x=state.x + params.tau * state.x_dot,
            x_dot=state.x_dot + params.tau * xacc,
            theta=state.theta + params.tau * state.theta_dot,
            theta_dot=state.theta_dot + params.tau * thetaacc,
            t=state.t + 1,
        )
        terminated = _terminated(new, params)
        # Gymnasium rewards the terminating step too, with 1.
        reward = jnp.ones((), jnp.float32)
        truncated = time_limit(new.t, terminated, params.max_episode_steps)
        return _obs(new), new, reward, terminated, truncated, {}


#: The observation entries that :class:`CartPoleNoVel` hides: the cart's and the pole's velocities.
VELOCITIES = np.array([1.0, 0.0, 1.0, 0.0], np.float32)


class CartPoleNoVel(CartPole):
    """CartPole-v1 with the velocities masked out of the observation (set to 0): RL-Zoo's
    ``CartPoleNoVel-v1`` (sb3-contrib's ``MaskVelocityWrapper``), a partially observed task that
    a feed-forward policy cannot solve and a recurrent one can. Dynamics, rewards and spaces are
    CartPole-v1's; :class:`plugrl.wrappers.MaskVelocityWrapper` does the same to Gymnasium's."""

    id = "CartPoleNoVel-v1"

    def reset(self, key: jax.Array, params: CartPoleParams) -> tuple[jax.Array, CartPoleState]:
        obs, state = super().reset(key, params)
        return obs * VELOCITIES, state

    def step(self, key: jax.Array, state: CartPoleState, action: jax.Array,
             params: CartPoleParams) -> tuple[jax.Array, CartPoleState, jax.Array, jax.Array,
                                              jax.Array, dict]:
        obs, *rest = super().step(key, state, action, params)
        return (obs * VELOCITIES, *rest)  # type: ignore[return-value]
