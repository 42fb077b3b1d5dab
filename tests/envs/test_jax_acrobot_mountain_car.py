"""The JAX Acrobot, MountainCar and MountainCarContinuous against Gymnasium's own environments."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from plugrl.envs.jax import make, to_gymnasium
from plugrl.envs.jax.acrobot import Acrobot, AcrobotState
from plugrl.envs.jax.mountain_car import MountainCar, MountainCarState
from plugrl.envs.jax.mountain_car_continuous import MountainCarContinuous

IDS = ["Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0"]
LIMITS = {"Acrobot-v1": 500, "MountainCar-v0": 200, "MountainCarContinuous-v0": 999}
N_STATES = 200


def _random_physics(env_id: str, rng: np.random.Generator) -> np.ndarray:
    """A float32 physics state covering the whole state space (walls and goal included)."""
    if env_id == "Acrobot-v1":
        # Velocities up to half their bounds: one step still reaches the bounds sometimes (the
        # clipping is exercised), while the near-bound velocities, where float32 rounding is
        # amplified to ~1e-3 by the stiff dynamics, stay out of the float tolerance check.
        high = np.array([np.pi, np.pi, 2 * np.pi, 4.5 * np.pi])
        return rng.uniform(-high, high).astype(np.float32)
    # Positions near both ends, so that the left wall and the goal are both exercised.
    return np.array([rng.uniform(-1.25, 0.6), rng.uniform(-0.07, 0.07)], dtype=np.float32)


def _random_action(env_id: str, rng: np.random.Generator) -> Any:
    if env_id == "MountainCarContinuous-v0":
        # Beyond [-1, 1] too: the force is clipped but the cost is not, as in Gymnasium.
        return rng.uniform(-1.5, 1.5, size=(1,)).astype(np.float32)
    return int(rng.integers(3))


def _jax_state(env_id: str, s: np.ndarray, t: int = 0) -> Any:
    t = jnp.asarray(t, jnp.int32)
    if env_id == "Acrobot-v1":
        return AcrobotState(*(jnp.asarray(x) for x in s), t)
    return MountainCarState(jnp.asarray(s[0]), jnp.asarray(s[1]), t)


def _at_bound(env_id: str, obs: np.ndarray) -> bool:
    """Whether a step ended on a clipped velocity (Acrobot) or against the left wall."""
    if env_id == "Acrobot-v1":
        return bool(np.isclose(abs(obs[4]), 4 * np.pi) or np.isclose(abs(obs[5]), 9 * np.pi))
    return bool(np.isclose(obs[0], -1.2) and obs[1] == 0.0)


def _acrobot_height(s: np.ndarray) -> float:
    return float(-np.cos(s[0]) - np.cos(s[1] + s[0]))


@pytest.mark.parametrize("env_id", IDS)
def test_dynamics_match_gymnasium(env_id: str) -> None:
    """One step from the same state and action gives the same obs, reward and termination.

    Tolerances: JAX computes in float32, Gymnasium in float64. MountainCar is a few additions,
    so 1e-6 suffices; Acrobot's RK4 step (dt=0.2) accumulates float32 rounding through four
    evaluations of the dynamics: below ~5e-6 over the sampled states, hence atol 1e-4. For the same reason a
    state whose next height is within 1e-4 of Acrobot's threshold may legitimately terminate
    on one side only, and is left out of the termination check.
    """
    env = make(env_id)
    step = jax.jit(env.step)
    gym_env = gym.make(env_id).unwrapped
    gym_env.reset(seed=0)
    rng = np.random.default_rng(0)
    key = jax.random.PRNGKey(0)
    atol = 1e-4 if env_id == "Acrobot-v1" else 1e-6
    n_terminated = n_at_bound = 0
    for _ in range(N_STATES):
        s, a = _random_physics(env_id, rng), _random_action(env_id, rng)
        gym_env.state = s.astype(np.float64)
        g_obs, g_rew, g_term, _, _ = gym_env.step(a)
        obs, state, rew, term, trunc, info = step(key, _jax_state(env_id, s), jnp.asarray(a),
                                                  env.default_params)
        np.testing.assert_allclose(np.asarray(obs), g_obs, atol=atol)
        assert obs.dtype == jnp.float32 and obs.shape == env.observation_space.shape
        assert info == {} and not bool(trunc) and int(state.t) == 1
        n_at_bound += _at_bound(env_id, g_obs)
        if env_id == "Acrobot-v1" and abs(_acrobot_height(gym_env.state) - 1.0) < 1e-4:
            continue
        assert bool(term) == g_term
        np.testing.assert_allclose(float(rew), g_rew, atol=1e-5)
        n_terminated += g_term
    # The sample is only informative if it reaches the goal sometimes.
    assert 0 < n_terminated < N_STATES and n_at_bound > 0


def _rollout(env_id: str, action: Any, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``terminated`` and ``truncated`` over ``steps`` steps of a constant action from reset."""
    env = make(env_id)
    params = env.default_params
    _, state = env.reset(jax.random.PRNGKey(1), params)

    def body(state: Any, key: jax.Array) -> tuple[Any, tuple[jax.Array, jax.Array]]:
        _, state, _, term, trunc, _ = env.step(key, state, jnp.asarray(action), params)
        return state, (term, trunc)

    _, (term, trunc) = jax.jit(lambda s: jax.lax.scan(body, s, jax.random.split(
        jax.random.PRNGKey(2), steps)))(state)
    return np.asarray(term), np.asarray(trunc)


@pytest.mark.parametrize("env_id", IDS)
def test_truncated_exactly_at_time_limit(env_id: str) -> None:
    """Doing nothing never reaches the goal: truncation comes exactly on step ``limit``."""
    limit = LIMITS[env_id]
    assert make(env_id).default_params.max_episode_steps == limit
    action = np.zeros(1, np.float32) if env_id == "MountainCarContinuous-v0" else 1
    term, trunc = _rollout(env_id, action, limit)
    assert not term.any()
    assert not trunc[:-1].any() and trunc[-1]


@pytest.mark.parametrize("env_id", ["MountainCar-v0", "MountainCarContinuous-v0"])
def test_termination_on_last_step_is_not_truncation(env_id: str) -> None:
    env = make(env_id)
    params = env.default_params
    # Just below the goal and moving fast towards it: the next step terminates.
    state = MountainCarState(jnp.float32(0.44), jnp.float32(0.07),
                             jnp.int32(params.max_episode_steps - 1))
    action = jnp.ones(1) if env_id == "MountainCarContinuous-v0" else 2
    _, state, _, term, trunc, _ = env.step(jax.random.PRNGKey(0), state, action, params)
    assert bool(term) and not bool(trunc) and int(state.t) == params.max_episode_steps


@pytest.mark.parametrize("env_id", IDS)
def test_jit_vmap_over_keys_and_reset_bounds(env_id: str) -> None:
    env = make(env_id)
    params = env.default_params
    keys = jax.random.split(jax.random.PRNGKey(3), 256)
    obs, state = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    assert obs.shape == (256, *env.observation_space.shape) and obs.dtype == jnp.float32
    assert (np.asarray(state.t) == 0).all()
    if env_id == "Acrobot-v1":
        s = np.stack([state.theta1, state.theta2, state.dtheta1, state.dtheta2], axis=1)
        assert (np.abs(s) <= 0.1).all() and s.std() > 0.03
        actions = jnp.asarray(np.arange(256) % 3)
    else:
        pos = np.asarray(state.position)
        assert ((pos >= -0.6) & (pos <= -0.4)).all() and pos.std() > 0.03
        assert (np.asarray(state.velocity) == 0).all()
        actions = (jnp.zeros((256, 1)) if env_id == "MountainCarContinuous-v0"
                   else jnp.asarray(np.arange(256) % 3))
    assert len(np.unique(np.asarray(obs)[:, 0])) > 200  # distinct keys, distinct starts
    out = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))(keys, state, actions, params)
    next_obs, next_state, reward, term, trunc, _ = out
    assert next_obs.shape == obs.shape and reward.shape == term.shape == trunc.shape == (256,)
    assert (np.asarray(next_state.t) == 1).all()
    assert all(env.observation_space.contains(np.asarray(o)) for o in next_obs)


@pytest.mark.parametrize("env_id", IDS)
def test_spaces_equal_gymnasium(env_id: str) -> None:
    env, gym_env = make(env_id), gym.make(env_id)
    assert env.id == env_id
    assert env.observation_space == gym_env.observation_space
    assert env.action_space == gym_env.action_space


def test_make_returns_the_classes() -> None:
    assert isinstance(make("Acrobot-v1"), Acrobot)
    assert isinstance(make("MountainCar-v0"), MountainCar)
    assert isinstance(make("MountainCarContinuous-v0"), MountainCarContinuous)


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_adapter_passes_check_env(env_id: str) -> None:
    adapter = to_gymnasium(make(env_id))
    check_env(adapter, skip_render_check=True)
    obs, _ = adapter.reset(seed=0)
    assert adapter.observation_space.contains(obs)
