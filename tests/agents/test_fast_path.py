"""The fast path: PPO on a JAX CartPole, rollouts and updates in one compiled function."""

from __future__ import annotations

import jax
import numpy as np

from plugrl.agents import PPO
from plugrl.agents.fast_path import make_jitted_training
from plugrl.envs.jax import make


def test_jitted_ppo_on_jax_cartpole_learns_and_the_agent_acts_in_gymnasium():
    """Trained entirely inside jit on the JAX CartPole, the same agent object then scores >= 475
    on Gymnasium's CartPole: the two paths are interchangeable."""
    env = make("CartPole-v1")
    agent = PPO("CartPole-v1", seed=0, num_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8,
                gamma=0.98, num_epoch=20, lr=1e-3, clip=0.2)
    train = make_jitted_training(agent.learner, env, env.default_params, num_updates=200,
                                 lr=1e-3, clip=0.2)
    state, mean_returns = train(agent.learner.state, jax.random.PRNGKey(0))
    mean_returns = np.asarray(mean_returns)
    assert np.nanmean(mean_returns[:20]) < 100 < np.nanmax(mean_returns[-50:])
    agent.learner.load_state(state)
    assert agent.evaluate(10) >= 475


def test_same_key_same_result():
    env = make("CartPole-v1")
    agent = PPO("CartPole-v1", seed=0, num_envs=2, n_steps=16, batch_size=16, num_epoch=2)
    train = make_jitted_training(agent.learner, env, env.default_params, num_updates=3, lr=1e-3,
                                 clip=0.2)
    first, returns_1 = train(agent.learner.state, jax.random.PRNGKey(1))
    second, returns_2 = train(agent.learner.state, jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(returns_1), np.asarray(returns_2))
    for a, b in zip(jax.tree_util.tree_leaves(first.params), jax.tree_util.tree_leaves(second.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_gaussian_policy_on_jax_pendulum_runs():
    env = make("Pendulum-v1")
    agent = PPO("Pendulum-v1", seed=0, num_envs=2, n_steps=16, batch_size=16, num_epoch=2)
    train = make_jitted_training(agent.learner, env, env.default_params, num_updates=3, lr=1e-3,
                                 clip=0.2)
    state, mean_returns = train(agent.learner.state, jax.random.PRNGKey(0))
    assert np.isfinite(np.asarray(jax.tree_util.tree_leaves(state.params)[0])).all()
    agent.learner.load_state(state)
    assert agent.action_space.contains(agent.select_action(np.zeros(3, np.float32)))
