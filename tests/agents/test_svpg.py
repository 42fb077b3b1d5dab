"""SVPG: the joint update against a per-particle reference, pyrado's interface, checkpoints."""

import gymnasium as gym
import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from updaters.test_stein import reference

from plugrl.agents import A2C, AGENTS, PPO, SVPG
from plugrl.agents.on_policy.fast_many import run_of
from plugrl.agents.on_policy.learner import Coefficients
from plugrl.agents.svpg.particles import pairwise_distances, particle_columns
from plugrl.envs.jax import make
from plugrl.updaters.stein import rbf_kernel

TINY = {"num_particles": 3, "num_envs": 2, "n_steps": 4, "hidden_sizes": (8,)}


def test_one_update_equals_a_per_particle_reference():
    """One SVPG update (one epoch, one minibatch, no clipping): each particle's gradient from its
    own loss, the paper's direction on the policy's weights, the plain gradient on the critic's,
    and Adam's first step, computed particle by particle."""
    agent = SVPG("CartPole-v1", seed=3, num_epoch=1, max_grad_norm=None, temperature=0.5, **TINY)
    learner, particles = agent.learner, agent.particles
    before = jax.tree_util.tree_map(np.asarray, particles.states)
    rollout = agent.sampler.collect(agent._act)
    T, M = rollout.R.shape
    batch = particles.batch(rollout, rollout.S, rollout.S_next)
    N = M // agent.num_particles
    indices = np.stack([np.arange(T * N, dtype=np.int32)[None, None]] * agent.num_particles)
    coefficients = Coefficients(np.float32(1e-2), np.float32(0.2), np.float32(0.0), np.float32(0.5))
    particles.update(batch, coefficients, jax.random.PRNGKey(0), indices)

    flats, grads = [], []
    for i in range(agent.num_particles):
        state = run_of(before, i)
        flat, unravel = ravel_pytree(state.params)
        minibatch = {k: v[i] for k, v in batch.items()}
        grad = jax.grad(lambda f, unravel=unravel, state=state, minibatch=minibatch: learner.loss(
            unravel(f), state, minibatch, None, coefficients)[0])(flat)
        flats.append(np.asarray(flat, np.float64))
        grads.append(np.asarray(grad, np.float64))
    flats, grads = np.stack(flats), np.stack(grads)
    mask = particles.mask
    direction = grads.copy()
    direction[:, mask] = -reference(flats[:, mask], -grads[:, mask], 0.5)[0]
    expected = flats - 1e-2 * direction / (np.abs(direction) + 1e-5)  # Adam's first step
    after = np.stack([np.asarray(ravel_pytree(run_of(particles.states, i).params)[0])
                      for i in range(agent.num_particles)])
    np.testing.assert_allclose(after, expected, atol=2e-6)
    assert 0 < mask.sum() < len(mask)  # the critic's weights are not the kernel's


def flat_weights(agent):
    return np.concatenate([w.ravel() for w in agent.learner.get_weights()])


def test_particles_start_apart_and_act_with_their_own_weights():
    agent = SVPG("CartPole-v1", seed=0, **TINY)
    X = agent.particle_weights()
    assert X.shape[0] == 3 and (pairwise_distances(X)[np.triu_indices(3, 1)] > 0).all()
    obs = np.array([0.01, 0.2, -0.03, 0.1], np.float32)
    weights = [flat_weights(p) for p in agent.iter_particles]
    assert not np.array_equal(weights[0], weights[1]) and not np.array_equal(weights[1], weights[2])
    assert agent.current_particle == 0  # iter_particles puts the loaded particle back
    np.testing.assert_array_equal(flat_weights(agent), weights[0])
    agent.load_particle(2)
    np.testing.assert_array_equal(flat_weights(agent), weights[2])
    assert agent.select_action(obs) in (0, 1)


def test_pyrado_kernel_is_the_rbf_kernel_with_the_median_heuristic():
    X = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    K, dK = SVPG("CartPole-v1", seed=0, **TINY).kernel(X)
    K_ref, dK_ref = rbf_kernel(X)
    np.testing.assert_allclose(K, np.asarray(K_ref), rtol=1e-6)
    np.testing.assert_allclose(dK, np.asarray(dK_ref), rtol=1e-5, atol=1e-7)
    assert K.shape == (5, 5) and dK.shape == (5, 5, 7)


@pytest.mark.parametrize("particle, objective, n_steps", [
    ("a2c", "vanilla", 5), ("ppo", "ppo", 2048), (A2C, "vanilla", 5), ("reinforce", "vanilla", 500)])
def test_the_particle_picks_the_objective_and_defaults(particle, objective, n_steps):
    agent = SVPG("CartPole-v1", particle=particle, seed=0, num_particles=2, hidden_sizes=(8,))
    assert agent.config.policy_objective == objective and agent.config.n_steps == n_steps
    assert agent.envs.num_envs == 2 * agent.config.num_envs


def test_a_particle_agent_is_a_blueprint_and_pyrado_names_map():
    blueprint = PPO("CartPole-v1", n_steps=16, batch_size=8, hidden_sizes=(8,), lr=1e-3)
    agent = SVPG("CartPole-v1", particle=blueprint, num_particles=2, temperature=3.0, horizon=32, seed=0)
    assert agent.config.particle == "ppo" and agent.config.n_steps == 32  # horizon wins
    assert agent.config.lr == 1e-3 and agent.config.hidden_sizes == (8,)
    assert (agent.num_particles, agent.temperature, agent.name) == (2, 3.0, "svpg")
    assert AGENTS["SVPG"] is SVPG


@pytest.mark.parametrize("kwargs, message", [
    ({"particle": "dqn"}, "particle: expected one of"),
    ({"num_particles": 0}, "num_particles"),
    ({"temperature": 0.0}, "temperature: expected a float > 0"),
    ({"normalize_observations": True}, "normalize_observations"),
    ({"recurrent": "lstm"}, "recurrent: expected None for SVPG"),
    ({"vectorization": "ray"}, "vectorization: expected 'auto', 'sync' or 'async' for SVPG"),
    ({"critic": object()}, "critic: not available for SVPG"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SVPG("CartPole-v1", **{**TINY, **kwargs})


def test_a_recurrent_network_is_refused():
    from plugrl.function_approximators import RecurrentMLP

    network = RecurrentMLP(gym.make("CartPole-v1"), units=8, hidden_sizes=(8,), random_seed=0)
    with pytest.raises(ValueError, match="function_approximator: expected a feed-forward network"):
        SVPG("CartPole-v1", function_approximator=network, **TINY)


def test_load_particle_checks_the_index():
    agent = SVPG("CartPole-v1", seed=0, **TINY)
    for idx in (3, -1, 1.0, True):
        with pytest.raises(ValueError, match=r"idx: expected a particle index in \[0, 3\)"):
            agent.load_particle(idx)


def test_particle_columns_groups_each_particles_envs():
    x = np.arange(2 * 6).reshape(2, 6)  # T=2, 3 particles of 2 envs
    np.testing.assert_array_equal(particle_columns(x, 3), [[0, 1, 6, 7], [2, 3, 8, 9], [4, 5, 10, 11]])


def _same_particles(a, b):
    leaves = jax.tree_util.tree_leaves
    for x, y in zip(leaves(a.particles.states), leaves(b.particles.states)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert a.num_steps == b.num_steps


STEPS = 3 * 2 * 4 * 3  # three iterations of every particle


def test_resume_is_exact_and_history_has_per_particle_metrics(tmp_path):
    SVPG("CartPole-v1", seed=4, model_dir=tmp_path, **TINY).fit(STEPS)
    resumed = SVPG("CartPole-v1", seed=4, model_dir=tmp_path, **TINY).fit(STEPS, restore=True)
    straight = SVPG("CartPole-v1", seed=4, **TINY).fit(2 * STEPS)
    _same_particles(resumed, straight)
    assert resumed.current_particle == straight.current_particle
    record = straight.history[-1]
    assert {f"SVPG/{k}_{i}" for k in ("return", "distance") for i in range(3)} <= set(record)
    assert record["SVPG/bandwidth"] > 0 and record["best_particle"] == straight.current_particle


def test_fast_path_fit_twice_equals_the_sum_and_restores_the_particles(tmp_path):
    """On a JAX env (where a restore starts new episodes, as for the other agents' fast path)."""
    twice = SVPG(make("CartPole-v1"), seed=4, model_dir=tmp_path, **TINY).fit(STEPS).fit(STEPS)
    _same_particles(twice, SVPG(make("CartPole-v1"), seed=4, **TINY).fit(2 * STEPS))
    restored = SVPG(make("CartPole-v1"), seed=4, model_dir=tmp_path, **TINY)
    restored.restore()
    _same_particles(restored, twice)


def test_evaluate_all_particles_and_train_many_is_refused():
    agent = SVPG("CartPole-v1", seed=0, **TINY)
    returns = agent.evaluate(1, particles="all")
    assert returns.shape == (3,) and agent.current_particle == 0
    assert agent.evaluate(1, particles=2) == returns[2]
    with pytest.raises(ValueError, match="train_many: expected an independent"):
        agent.train_many([0, 1], 100)


class TwinArms(gym.Env):
    """A bandit with two equally good arms (0 and 2) and a bad one."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, np.float32), {}

    def step(self, action):
        return np.ones(1, np.float32), float(action != 1), True, False, {}


def test_the_kernels_repulsion_keeps_particles_apart():
    """With the repulsive term (a finite temperature) the particles' policies end farther apart
    than when the gradients dominate it a thousandfold, on a task with two equally good arms."""
    spread = {}
    for temperature in (1e-3, 10.0):
        agent = SVPG(TwinArms(), num_particles=8, num_envs=4, temperature=temperature, seed=0,
                     hidden_sizes=(8,), lr=3e-3).fit(8 * 4 * 5 * 60)
        assert agent.history[-1]["mean_return"] > 0.9  # both learn to avoid the bad arm
        spread[temperature] = pairwise_distances(agent.particle_weights()).mean()
    assert spread[10.0] > 1.1 * spread[1e-3]


def test_a_pickled_svpg_trains_on_exactly_as_the_original():
    import pickle

    agent = SVPG("CartPole-v1", seed=5, **TINY).fit(STEPS)
    copy = pickle.loads(pickle.dumps(agent))
    _same_particles(copy.fit(STEPS), agent.fit(STEPS))
