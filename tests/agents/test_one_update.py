"""The fast path is the ordinary learner run inside a compiled loop: from the same state, on the
same rollout, with the same shuffles, key and coefficients, one update gives the same
parameters on both paths; they merge observation statistics and clip actions with the same
functions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from plugrl._backend import prng_key
from plugrl.agents import A2C, PPO
from plugrl.agents.on_policy.fast_path import FastTrainer
from plugrl.agents.on_policy.fast_training import hyperparameters
from plugrl.agents.on_policy.learner import update_coefficients
from plugrl.envs.jax import make
from plugrl.samplers import Rollout
from plugrl.utils.running_moments import Moments, merge_moments, normalize

#: Constant lr and clip (the paths compute a schedule's values in float32 and float64), an
#: entropy bonus and value clipping, so that every coefficient plays its part.
CONFIG = {"num_envs": 4, "n_steps": 32, "batch_size": 32, "num_epoch": 3, "lr": 1e-3, "clip": 0.2,
          "gamma": 0.98, "gae_lambda": 0.9, "entropy_coeff": 0.01, "clip_value": 0.5,
          "normalize_observations": True}


def _fast_update(agent, moments):
    """One iteration of the fast path's own code (draw, collect, learn), jitted piece by piece;
    returns the carry before and after the update, the rollout and the update's randomness."""
    trainer = agent.fast_path.trainer(1, 0)
    carry = trainer.start(agent.learner.state, np.asarray(prng_key(7)), moments=moments)
    key, randomness, indices, update_key = jax.jit(trainer.draw)(carry.key)
    carry, rollout = jax.jit(trainer.collect)(carry._replace(key=key), randomness)
    learned, _ = jax.jit(trainer.learn)(carry, rollout, hyperparameters(agent.config),
                                        np.float32(10_000), indices, update_key)
    return carry, learned, rollout, indices, update_key


@pytest.mark.parametrize("env_id, config", [
    ("CartPole-v1", CONFIG),
    ("Pendulum-v1", {**CONFIG, "num_envs": 2, "n_steps": 208}),  # time limits at step 200
])
def test_one_update_gives_the_same_parameters_on_both_paths(env_id, config):
    fast = PPO(make(env_id), seed=0, **config)
    ordinary = PPO(env_id, seed=0, **config)
    # Statistics that make the normaliser do something, the same float32 values on both paths.
    shape = ordinary.observation_space.shape
    ordinary.normalizer.update(np.random.default_rng(1).normal(0.5, 2.0, (64, *shape)).astype(np.float32))
    moments = Moments(*(np.float32(x) for x in ordinary.normalizer.moments))
    ordinary.normalizer.load_moments(moments)
    carry, learned, rollout, indices, update_key = _fast_update(fast, moments)
    assert np.asarray(rollout.done).any()  # episode ends (Pendulum: time limits) play their part

    # The ordinary path's own code on that rollout: the batch (host normaliser, GAE), the
    # learner's update and the normaliser's merge, as in OnPolicyAgent._train_iteration.
    r = jax.tree_util.tree_map(np.asarray, rollout)
    T, N = r.R.shape
    batch = ordinary._batch(Rollout(r.S, r.A, r.R, r.terminated, r.truncated, r.S_next,
                                    {"A": r.A, "logP": r.logP, "V": r.V}, np.asarray(carry.envs.obs)))
    ordinary.learner.update(batch, update_coefficients(ordinary.config, T * N / 10_000),
                            np.asarray(update_key), np.asarray(indices))
    ordinary.normalizer.update(r.S.reshape(T * N, *shape))

    before = fast.learner.get_weights()
    after = [np.asarray(x) for x in jax.tree_util.tree_leaves(learned.learner.params)]
    assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(after, before) if a.ndim == 2)
    for a, b in zip(after, ordinary.learner.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert learned.learner.opt_state.hyperparams["learning_rate"] == np.float32(1e-3)
    merged = ordinary.normalizer.moments
    assert float(learned.moments.count) == merged.count == 64 + T * N
    np.testing.assert_allclose(learned.moments.mean, merged.mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(learned.moments.var, merged.var, rtol=1e-6)


def test_one_merge_normalisation_and_action_clipping_for_host_and_traced_arrays():
    rng = np.random.default_rng(0)
    moments = Moments(rng.normal(size=3), rng.uniform(0.5, 2.0, 3), 10.0)
    S = rng.normal(1.0, 3.0, (50, 3)).astype(np.float32)
    host = merge_moments(moments, S)  # float64, as the ordinary path's RunningNormalizer
    traced = jax.jit(merge_moments)(Moments(*(np.float32(x) for x in moments)), S)
    assert host.mean.dtype == np.float64 and traced.mean.dtype == np.float32
    for a, b in zip(host, traced):
        np.testing.assert_allclose(b, a, rtol=1e-6)
    expected = np.clip((S - host.mean) / np.sqrt(host.var + 1e-8), -1.5, 1.5)
    np.testing.assert_array_equal(normalize(S, host, 1.5, 1e-8), expected)
    np.testing.assert_allclose(jax.jit(lambda S, m: normalize(S, m, 1.5, 1e-8, xp=jnp))(S, traced),
                               expected, rtol=1e-5, atol=1e-6)

    learner = PPO("Pendulum-v1", seed=0).learner
    A = np.array([[-5.0], [0.3], [2.5]], np.float32)
    np.testing.assert_array_equal(learner.env_actions(A), np.float32([[-2.0], [0.3], [2.0]]))
    np.testing.assert_array_equal(jax.jit(learner.env_actions)(A), learner.env_actions(A))


@pytest.mark.parametrize("agent_class, objective", [(PPO, "PPOClip"), (A2C, "VanillaPG")])
def test_both_paths_report_the_same_metrics(agent_class, objective):
    config = {"num_envs": 2, "n_steps": 16, "batch_size": 16, "num_epoch": 2}
    ordinary = agent_class("CartPole-v1", seed=0, **config).fit(32)
    fast = agent_class(make("CartPole-v1"), seed=0, **config)
    trainer = FastTrainer(fast.learner, fast.jax_env, fast.jax_env.default_params, 2, record_metrics=True)
    call = (trainer.start(fast.learner.state, np.asarray(prng_key(0))), hyperparameters(fast.config),
            np.float32(64), np.int32(2))
    chunk, _ = trainer.compiled(*call)
    metrics = np.asarray(chunk(*call)[1].metrics)
    names = set(ordinary.history[-1]) - {"steps", "episodes", "mean_return"}
    assert set(trainer.metric_names) == names
    assert {f"{objective}/surrogate", f"{objective}/entropy", "OnPolicyLearner/value_loss"} <= names
    assert metrics.shape == (2, len(names)) and np.isfinite(metrics).all()
