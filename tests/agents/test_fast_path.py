"""The fast path: on-policy agents made on a JAX environment train in one compiled function."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plugrl._backend import keras
from plugrl.agents import PPO
from plugrl.agents.persistence import restore_agent
from plugrl.envs.jax import make
from plugrl.envs.jax.cartpole import CartPole
from plugrl.function_approximators.base import FunctionApproximator

#: RL-Zoo's CartPole-v1 PPO preset (as the benchmark), with fewer evaluation episodes.
ZOO = {"num_envs": 8, "n_steps": 32, "batch_size": 256, "gae_lambda": 0.8, "gamma": 0.98,
       "num_epoch": 20, "lr": "lin_1e-3", "clip": "lin_0.2", "eval_episodes": 10}
#: A tiny configuration for tests that only need the path to run.
TINY = {"num_envs": 2, "n_steps": 16, "batch_size": 16, "num_epoch": 2, "eval_episodes": 2}


@pytest.fixture(scope="module")
def trained():
    """A PPO agent trained on the JAX CartPole, evaluated inside the compiled program."""
    agent = PPO(make("CartPole-v1"), seed=0, **ZOO)
    agent.fit(40_000, eval_interval=10_000)
    return agent


def test_fast_ppo_learns_cartpole_and_scores_on_gymnasium(trained):
    evals = [r["eval_return"] for r in trained.history]
    assert [r["steps"] for r in trained.history] == [10_240, 20_224, 30_208, 40_192]
    assert evals[0] < 475 <= evals[-1]
    assert trained.history[0]["mean_return"] < trained.history[-1]["mean_return"]
    # The same agent object acts on Gymnasium's CartPole as an ordinary agent would.
    assert trained.env_id == "CartPole-v1"
    assert trained.evaluate(5) >= 475


def test_fast_agent_saved_loads_as_an_ordinary_agent(trained, tmp_path):
    trained.save(str(tmp_path / "fast"))
    ordinary = PPO.load(str(tmp_path / "fast"))
    assert ordinary.jax_env is None and ordinary.num_steps == trained.num_steps
    for s in np.random.default_rng(0).normal(0, 0.1, (20, 4)).astype(np.float32):
        assert ordinary.select_action(s, deterministic=True) == trained.select_action(s, deterministic=True)
        np.testing.assert_allclose(ordinary.predict(s)[0], trained.predict(s)[0], rtol=1e-6)


def test_ordinary_agent_saved_restores_into_a_fast_agent_which_trains_on(tmp_path):
    ordinary = PPO("CartPole-v1", seed=3, **TINY)
    ordinary.fit(64)
    ordinary.save(str(tmp_path / "ordinary"))
    fast = PPO(make("CartPole-v1"), seed=3, **TINY)
    restore_agent(fast, tmp_path / "ordinary")
    assert fast.num_steps == 64
    s = np.full(4, 0.02, np.float32)
    assert fast.select_action(s, deterministic=True) == ordinary.select_action(s, deterministic=True)
    before = fast.learner.get_weights()
    fast.fit(64)  # 64 more
    assert fast.num_steps == 128
    assert not np.array_equal(before[0], fast.learner.get_weights()[0])


def test_same_seed_same_run_and_callback_between_chunks():
    records = []
    runs = []
    for _ in range(2):
        agent = PPO(make("CartPole-v1"), seed=1, **TINY)
        agent.fit(160, callback=lambda agent, record: records.append(record["steps"]))
        runs.append(agent.learner.get_weights())
    # The callback ran on the host after every rollout, as on the ordinary path.
    assert records == [32.0, 64.0, 96.0, 128.0, 160.0] * 2
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_callback_returning_false_stops_between_chunks():
    agent = PPO(make("CartPole-v1"), seed=1, **TINY)
    agent.fit(10_000, callback=lambda agent, record: record["steps"] < 64)
    assert agent.num_steps == 64


def test_schedules_and_observation_normaliser_on_the_fast_path():
    agent = PPO(make("Pendulum-v1"), seed=0, normalize_observations=True, lr="lin_3e-4",
                clip=lambda remaining: 0.2 * remaining, **TINY)
    agent.fit(96, eval_interval=64)
    assert agent.normalizer.count == 96
    assert np.all(np.abs(agent.normalizer.mean) < 10) and np.all(agent.normalizer.var > 0)
    assert [r["steps"] for r in agent.history] == [64.0, 96.0]
    assert all(np.isfinite(r["eval_return"]) for r in agent.history)
    a = agent.select_action(np.zeros(3, np.float32))
    assert agent.action_space.contains(a)


def test_train_many_runs_each_seed_and_setting_as_fit_would():
    agent = PPO(make("CartPole-v1"), seed=0, **TINY)
    many = agent.train_many(seeds=[0, 1], total_steps=96, eval_interval=64,
                            entropy_coeff=[0.0, 0.1])
    assert many.runs == [{"seed": 0, "entropy_coeff": 0.0}, {"seed": 1, "entropy_coeff": 0.0},
                         {"seed": 0, "entropy_coeff": 0.1}, {"seed": 1, "entropy_coeff": 0.1}]
    assert many.train_returns.shape == (4, 3) and many.eval_returns.shape == (4, 2)
    assert list(many.eval_steps) == [64, 96]
    first_layer = np.asarray(jax.tree_util.tree_leaves(many.states.params)[0])
    assert len({first_layer[i].tobytes() for i in range(4)}) == 4
    # Run 1 (seed 1, the configuration's entropy_coeff) is what fit does with seed 1.
    single = PPO(make("CartPole-v1"), seed=1, **TINY)
    single.fit(96, eval_interval=64)
    for a, b in zip(jax.tree_util.tree_leaves(many.state(1).params), single.learner.get_weights()):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(many.eval_returns[1], [r["eval_return"] for r in single.history])
    with pytest.raises(ValueError, match="n_steps: expected hyperparameters that can be traced"):
        agent.train_many(seeds=[0], total_steps=32, n_steps=[8, 16])


class _PythonBranchCartPole(CartPole):
    """A step that branches in Python on a traced value: not jittable."""

    def step(self, key, state, action, params):
        if state.x > 0:
            return super().step(key, state, action, params)
        return super().step(key, state, 1 - action, params)


class _ToNumpy(keras.layers.Layer):
    """A layer that leaves JAX for NumPy: it cannot be traced."""

    def call(self, x):
        return np.asarray(x) * 2.0

    def compute_output_shape(self, input_shape):
        return input_shape


class _NumpyBody(FunctionApproximator):
    def body(self, S):
        return _ToNumpy()(keras.layers.Dense(4)(S))


def test_bad_input_names_the_cause():
    with pytest.raises(TypeError, match=r"env\.step: expected a pure function that jax\.jit can trace"):
        PPO(_PythonBranchCartPole(), seed=0, **TINY)
    body = _NumpyBody(make("CartPole-v1"), random_seed=0)
    with pytest.raises(TypeError, match="function_approximator: the fast path needs a network"):
        PPO(make("CartPole-v1"), seed=0, function_approximator=body, **TINY)
    with pytest.raises(TypeError, match="lr: on the fast path a callable schedule"):
        PPO(make("CartPole-v1"), seed=0, lr=lambda remaining: float(remaining) * 1e-3, **TINY)
    ordinary = PPO("CartPole-v1", seed=0, **TINY)
    with pytest.raises(ValueError, match="train_many: expected an agent made on a JAX environment"):
        ordinary.train_many(seeds=[0], total_steps=32)
    with pytest.raises(ValueError, match="eval_interval: only the fast path"):
        ordinary.fit(32, eval_interval=16)


def test_fast_path_evaluation_is_deterministic_and_bounded():
    agent = PPO(make("CartPole-v1"), seed=0, **TINY)
    evaluate = jax.jit(agent.fast_path.trainer(1, 4).evaluate)
    key = jax.random.PRNGKey(0)
    first = evaluate(agent.learner.state, None, key)
    assert float(first) == float(evaluate(agent.learner.state, None, key))
    assert 1 <= float(first) <= 500
    assert jnp.isfinite(first)


def test_cli_trains_many_seeds_on_the_fast_path(tmp_path):
    from plugrl.cli import main

    tiny = [f"--set={k}={v}" for k, v in TINY.items()]
    args = ["train", "ppo", "--env", "CartPole-v1", "--steps", "96", "--eval-interval", "64",
            "--preset", "none", *tiny, "--run-dir", str(tmp_path / "many")]
    assert main([*args, "--seeds", "0-3"]) != 0  # --seeds needs --jax
    assert main([*args, "--jax", "--seeds", "0-3"]) == 0
    result = json.loads((tmp_path / "many" / "train_many.json").read_text())
    assert [run["seed"] for run in result["runs"]] == [0, 1, 2, 3]
    assert result["eval_steps"] == [64, 96] and len(result["runs"][0]["eval_returns"]) == 2


def test_pyrado_max_iter_counts_rollouts_on_the_fast_path():
    """fit() without steps runs max_iter iterations of one rollout each; the first compiled
    chunk used to run all of them and the loop then went on for max_iter - 1 more."""
    agent = PPO(make("CartPole-v1"), seed=0, max_iter=3, n_steps=16, num_envs=2, batch_size=32,
                num_epoch=1).fit()
    assert agent.num_steps == 3 * 32 and len(agent.history) == 3
