"""The JAX CartPole-v1 and Pendulum-v1 against Gymnasium's own environments."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import plugrl.envs.jax as jenvs
from plugrl.envs.jax import to_gymnasium
from plugrl.envs.jax.cartpole import CartPole, CartPoleState
from plugrl.envs.jax.pendulum import Pendulum, PendulumState

N_STATES = 200
ATOL = 1e-5


@pytest.fixture(scope="module")
def cartpole_env() -> CartPole:
    return CartPole()


@pytest.fixture(scope="module")
def pendulum_env() -> Pendulum:
    return Pendulum()


def _cartpole_states(rng: np.random.Generator) -> np.ndarray:
    """States around (and a bit past) the non-terminal range, float32 so both sides agree."""
    high = np.array([2.6, 3.0, 0.25, 3.0])
    return rng.uniform(-high, high, size=(N_STATES, 4)).astype(np.float32)


def _pendulum_states(rng: np.random.Generator) -> np.ndarray:
    """Angles over several turns and speeds within the speed limit."""
    high = np.array([3 * np.pi, 8.0])
    return rng.uniform(-high, high, size=(N_STATES, 2)).astype(np.float32)


def test_cartpole_dynamics_match_gymnasium(cartpole_env: CartPole) -> None:
    rng = np.random.default_rng(0)
    gym_env = gym.make("CartPole-v1").unwrapped
    gym_env.reset(seed=0)
    step = jax.jit(cartpole_env.step)
    params = cartpole_env.default_params
    key = jax.random.PRNGKey(0)
    n_terminated = 0
    for s in _cartpole_states(rng):
        a = int(rng.integers(2))
        gym_env.state = s.astype(np.float64)
        gym_env.steps_beyond_terminated = None
        g_obs, g_rew, g_term, _, _ = gym_env.step(a)
        state = CartPoleState(*map(jnp.asarray, s), t=jnp.asarray(0, jnp.int32))
        obs, _, rew, term, trunc, info = step(key, state, jnp.asarray(a), params)
        np.testing.assert_allclose(np.asarray(obs), g_obs, atol=ATOL)
        assert float(rew) == pytest.approx(g_rew)
        assert not bool(trunc) and info == {}
        # float32 vs float64 may disagree only right at a threshold.
        near = (abs(abs(g_obs[0]) - params.x_threshold) < ATOL
                or abs(abs(g_obs[2]) - params.theta_threshold_radians) < ATOL)
        if not near:
            assert bool(term) == g_term
        n_terminated += g_term
    assert 0 < n_terminated < N_STATES  # both outcomes were exercised


def test_pendulum_dynamics_match_gymnasium(pendulum_env: Pendulum) -> None:
    rng = np.random.default_rng(1)
    gym_env = gym.make("Pendulum-v1").unwrapped
    gym_env.reset(seed=0)
    step = jax.jit(pendulum_env.step)
    params = pendulum_env.default_params
    key = jax.random.PRNGKey(0)
    for s in _pendulum_states(rng):
        # Past the torque bounds too, to check the clipping.
        a = rng.uniform(-3.0, 3.0, size=(1,)).astype(np.float32)
        gym_env.state = s.astype(np.float64)
        g_obs, g_rew, g_term, _, _ = gym_env.step(a)
        state = PendulumState(*map(jnp.asarray, s), t=jnp.asarray(0, jnp.int32))
        obs, _, rew, term, trunc, info = step(key, state, jnp.asarray(a), params)
        np.testing.assert_allclose(np.asarray(obs), g_obs, atol=ATOL)
        np.testing.assert_allclose(float(rew), g_rew, atol=ATOL)
        assert bool(term) == g_term and not bool(trunc) and info == {}


@pytest.mark.parametrize("env_cls, limit", [(CartPole, 500), (Pendulum, 200)])
def test_time_limit(env_cls: type, limit: int) -> None:
    env = env_cls()
    params = env.default_params
    assert params.max_episode_steps == limit
    if env_cls is CartPole:
        # The time limit does not depend on the physics: lift the thresholds so that
        # CartPole cannot terminate first.
        params = params._replace(x_threshold=float("inf"), theta_threshold_radians=float("inf"))
        action = jnp.asarray(1)
    else:
        action = jnp.zeros((1,), jnp.float32)
    _, state = env.reset(jax.random.PRNGKey(0), params)
    step = jax.jit(env.step)
    key = jax.random.PRNGKey(1)
    for i in range(1, limit + 1):
        _, state, _, term, trunc, _ = step(key, state, action, params)
        assert not bool(term)
        assert bool(trunc) == (i == limit), i
    assert int(state.t) == limit


def test_cartpole_truncated_false_when_terminated(cartpole_env: CartPole) -> None:
    params = cartpole_env.default_params
    f = jnp.float32
    state = CartPoleState(f(2.39), f(1.0), f(0.0), f(0.0), jnp.asarray(params.max_episode_steps - 1))
    _, _, rew, term, trunc, _ = cartpole_env.step(jax.random.PRNGKey(0), state, 1, params)
    assert bool(term) and not bool(trunc) and float(rew) == 1.0


@pytest.mark.parametrize("env_cls", [CartPole, Pendulum])
def test_jit_and_vmap(env_cls: type) -> None:
    env = env_cls()
    params = env.default_params
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    obs, state = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    assert obs.shape == (8,) + env.observation_space.shape and obs.dtype == jnp.float32
    if env_cls is CartPole:
        actions = jnp.arange(8) % 2
    else:
        actions = jnp.linspace(-2.0, 2.0, 8).reshape(8, 1)
    out = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))(keys, state, actions, params)
    obs2, state2, rew, term, trunc, _ = out
    assert obs2.shape == obs.shape and rew.shape == term.shape == trunc.shape == (8,)
    np.testing.assert_array_equal(np.asarray(state2.t), 1)
    # Each batched step equals the unbatched one.
    for i in range(8):
        s_i = jax.tree_util.tree_map(lambda x, i=i: x[i], state)
        o_i, *_ = env.step(keys[i], s_i, actions[i], params)
        np.testing.assert_allclose(np.asarray(obs2[i]), np.asarray(o_i), atol=1e-6)


def test_reset_distributions(cartpole_env: CartPole, pendulum_env: Pendulum) -> None:
    keys = jax.random.split(jax.random.PRNGKey(0), 2000)
    obs, state = jax.vmap(cartpole_env.reset, in_axes=(0, None))(keys, cartpole_env.default_params)
    obs = np.asarray(obs)
    assert np.all(np.abs(obs) <= 0.05) and np.all(obs.max(0) > 0.045) and np.all(obs.min(0) < -0.045)
    assert np.all(np.asarray(state.t) == 0)

    obs, state = jax.vmap(pendulum_env.reset, in_axes=(0, None))(keys, pendulum_env.default_params)
    th, thdot = np.asarray(state.theta), np.asarray(state.theta_dot)
    assert np.all(np.abs(th) <= np.pi) and th.max() > 3.0 and th.min() < -3.0
    assert np.all(np.abs(thdot) <= 1.0) and thdot.max() > 0.95 and thdot.min() < -0.95
    np.testing.assert_allclose(np.asarray(obs), np.stack([np.cos(th), np.sin(th), thdot], 1),
                               atol=1e-6)


@pytest.mark.parametrize("env_cls, env_id", [(CartPole, "CartPole-v1"), (Pendulum, "Pendulum-v1")])
def test_spaces_equal_gymnasium(env_cls: type, env_id: str) -> None:
    env, gym_env = env_cls(), gym.make(env_id)
    assert env.id == env_id
    assert env.observation_space == gym_env.observation_space
    assert env.action_space == gym_env.action_space
    assert env.default_params.max_episode_steps == gym_env.spec.max_episode_steps


@pytest.mark.parametrize("env_id, env_cls", [("CartPole-v1", CartPole), ("Pendulum-v1", Pendulum)])
def test_make(env_id: str, env_cls: type) -> None:
    assert isinstance(jenvs.make(env_id), env_cls)


@pytest.mark.parametrize("env_cls", [CartPole, Pendulum])
def test_gymnasium_adapter_passes_check_env(env_cls: type) -> None:
    adapter = to_gymnasium(env_cls())
    check_env(adapter, skip_render_check=True)
    obs, _ = adapter.reset(seed=0)
    assert adapter.observation_space.contains(obs)
    obs, reward, terminated, _, _ = adapter.step(adapter.action_space.sample())
    assert isinstance(reward, float) and isinstance(terminated, bool)
