"""pyrado's on-policy interface (seed 004): the critic as a GAE(vfcn, ...) object that trains its
value function itself, policy objects, and the run sizes min_steps and min_rollouts."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

import plugrl
from plugrl.agents import A2C, DQN, PPO
from plugrl.caching import GAE
from plugrl.envs.jax import make
from plugrl.function_approximators.predefined.mlp import MLP
from plugrl.samplers import RolloutSampler, make_vector_env
from plugrl.utils.running_moments import RunningNormalizer


@pytest.fixture(scope="module")
def rollout():
    """A CartPole rollout of random actions, T=64 steps of N=2 envs, with episode ends."""
    sampler = RolloutSampler(make_vector_env("CartPole-v1", 2, "sync", 0), 64, seed=0)
    rng = np.random.default_rng(0)
    ro = sampler.collect(lambda S: (rng.integers(0, 2, len(S)), {}))
    assert ro.terminated.any()
    return ro


def value_net(seed: int = 1) -> plugrl.V:
    return plugrl.V(MLP(gym.make("CartPole-v1"), (16,), random_seed=seed))


def critic_weights(critic: GAE) -> list[np.ndarray]:
    return [np.asarray(w) for w in critic.fitter.weights()[0]]


def fitted(rollout, **kwargs) -> tuple[GAE, float]:
    """A critic after one update, and how far its weights moved."""
    critic = GAE(value_net(), **kwargs)
    before = critic_weights(critic)
    critic.update(rollout, rng=np.random.default_rng(0))
    moved = max(np.abs(a - b).max() for a, b in zip(critic_weights(critic), before))
    return critic, float(moved)


# ---------------------------------------------------------------- the GAE critic's names
def test_gamma_and_lamda_are_the_calculators(rollout):
    critic = GAE(value_net(), gamma=0.9, lamda=0.5, standardize_adv=False)
    assert (critic.gamma, critic.lamda, critic.gae_lambda) == (0.9, 0.5, 0.5)
    V, V_next = critic.values(rollout), critic.values(rollout.S_next)
    want_adv, want_ret = GAE(0.9, 0.5)(rollout.R, V, V_next, rollout.terminated, rollout.truncated)
    np.testing.assert_allclose(critic.gae(rollout), want_adv, rtol=1e-6)
    np.testing.assert_allclose(critic.tdlamda_returns(concat_ros=rollout), want_ret, rtol=1e-6)
    np.testing.assert_allclose(critic.tdlamda_returns(V, want_adv), want_ret, rtol=1e-6)
    np.testing.assert_allclose(V, critic.vfcn.batch_eval(rollout.S.reshape(-1, 4)).reshape(64, 2),
                               rtol=1e-6)


def test_the_calculator_keeps_its_forms_and_names_clash():
    assert GAE(0.9, 0.5, True).standardize and GAE(0.9, 0.5).gae_lambda == 0.5
    assert not GAE(gamma=0.9).standardize and GAE(value_net()).standardize_adv  # pyrado's default
    with pytest.raises(TypeError, match="lamda: got it both"):
        GAE(value_net(), lamda=0.5, gae_lambda=0.5)
    with pytest.raises(ValueError, match="num_epoch: only a critic"):
        GAE(gamma=0.9, num_epoch=3)
    with pytest.raises(TypeError, match="vfcn: expected a plugrl.V"):
        GAE("CartPole-v1")
    with pytest.raises(ValueError, match="update: expected a critic"):
        GAE(0.9).update(None)


def test_standardize_adv_and_standardizer(rollout):
    raw = GAE(value_net(), standardize_adv=False).gae(rollout)
    standardized = GAE(value_net()).gae(rollout)
    assert abs(raw.mean()) > 0.1 and abs(standardized.mean()) < 1e-5 and abs(standardized.std() - 1) < 1e-4
    running = RunningNormalizer(())
    critic = GAE(value_net(), standardizer=running)
    critic.gae(rollout)
    second = critic.gae(rollout)  # standardized with the statistics of both calls
    assert running.count == 2 * raw.size
    np.testing.assert_allclose(second, (raw - raw.mean()) / raw.std(), rtol=1e-4, atol=1e-4)
    critic.tdlamda_returns(concat_ros=rollout)  # the returns take the raw advantages
    assert running.count == 2 * raw.size
    critic.reset()
    assert running.count == 0 and critic.epochs_done == 0


def test_ppo_with_a_standardizer_counts_each_advantage_once():
    running = RunningNormalizer(())
    critic = GAE(value_net(), standardizer=running, num_epoch=1)
    agent = PPO("CartPole-v1", seed=0, critic=critic, n_steps=64, batch_size=64, num_epoch=1)
    agent.fit(128)
    assert running.count == 128


def test_lr_num_epoch_batch_size_and_max_grad_norm_of_the_critic(rollout):
    _, frozen = fitted(rollout, lr=0.0)
    assert frozen == 0.0
    one, moved_one = fitted(rollout, num_epoch=1, lr=1e-3)
    ten, moved_ten = fitted(rollout, num_epoch=10, lr=1e-3)
    assert moved_ten > 3 * moved_one and ten.epochs_done == 10 and one.epochs_done == 1
    assert ten.metrics["GAE/value_loss"] < one.metrics["GAE/value_loss"]
    _, clipped = fitted(rollout, num_epoch=1, lr=1e-3, max_grad_norm=1e-9)
    assert clipped < 0.01 * moved_one  # tiny gradients: Adam's epsilon dominates
    small, _ = fitted(rollout, num_epoch=1, lr=1e-3, batch_size=16)
    assert not np.allclose(critic_weights(small)[0], critic_weights(one)[0])
    with pytest.raises(ValueError, match="batch_size: expected at most the 128 samples"):
        fitted(rollout, batch_size=129)


def test_lr_scheduler_steps_once_per_epoch_of_the_critic(rollout):
    critic = GAE(value_net(), num_epoch=3, lr=1e-3, lr_scheduler="ExponentialLR",
                 lr_scheduler_hparam={"gamma": 0.5})
    np.testing.assert_allclose(critic.learning_rates(0, 3), [1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    critic.update(rollout, rng=np.random.default_rng(0))
    np.testing.assert_allclose(critic.learning_rates(critic.epochs_done, 1), [1e-3 * 0.5**3], rtol=1e-6)
    critic.reset()
    assert critic.learning_rates(critic.epochs_done, 1)[0] == np.float32(1e-3)
    decayed, _ = fitted(rollout, num_epoch=3, lr=1e-3, lr_scheduler="ExponentialLR",
                        lr_scheduler_hparam={"gamma": 1e-6})
    constant, _ = fitted(rollout, num_epoch=1, lr=1e-3)  # the decayed epochs 2 and 3 barely move it
    np.testing.assert_allclose(critic_weights(decayed)[0], critic_weights(constant)[0], atol=1e-5)
    with pytest.raises(ValueError, match="lr_scheduler_hparam: expected None without an lr_scheduler"):
        GAE(value_net(), lr_scheduler_hparam={"gamma": 0.5})


def test_use_empirical_returns_fits_the_monte_carlo_returns(rollout):
    def weights_after(use_empirical_returns: bool, lamda: float) -> list[np.ndarray]:
        critic = GAE(value_net(), lamda=lamda, num_epoch=2)
        critic.update(rollout, use_empirical_returns, rng=np.random.default_rng(0))
        return critic_weights(critic)

    for a, b in zip(weights_after(True, 1.0), weights_after(False, 1.0)):  # the same targets
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(weights_after(True, 0.5)[0], weights_after(False, 0.5)[0])


# ---------------------------------------------------------------- agents with a critic
def test_ppo_critic_trains_the_value_function_with_its_own_lr():
    critic = GAE(value_net(), gamma=0.98, lamda=0.9, lr=0.0, num_epoch=2)
    agent = PPO("CartPole-v1", seed=0, critic=critic, n_steps=64, batch_size=64, num_epoch=2)
    assert (agent.config.gamma, agent.config.gae_lambda) == (0.98, 0.9)
    assert agent.learner.v_func is critic.vfcn
    v_before, pi_before = critic_weights(critic), agent.learner.policy.get_weights()
    agent.fit(256)
    assert critic.epochs_done == 4 * 2  # 4 iterations of the critic's 2 epochs
    for a, b in zip(critic_weights(critic), v_before):
        np.testing.assert_array_equal(a, b)
    assert any(np.abs(a - b).max() > 1e-4 for a, b in zip(agent.learner.policy.get_weights(), pi_before))
    assert "OnPolicyLearner/value_loss" not in agent.history[-1]


def test_a2c_trains_the_critics_value_function_in_its_combined_loss():
    critic = GAE(value_net(), gamma=0.9, lr=0.0)
    agent = A2C("CartPole-v1", seed=0, critic=critic, vfcn_coeff=0.5)
    before = critic_weights(critic)
    agent.fit(200)
    assert critic.epochs_done == 0 and agent.config.gamma == 0.9
    assert any(np.abs(a - b).max() > 1e-5 for a, b in zip(critic_weights(critic), before))
    with pytest.raises(ValueError, match="gamma: expected the critic's gamma=0.9"):
        A2C("CartPole-v1", critic=critic, gamma=0.99)


def test_ppo_with_a_gae_critic_learns_cartpole():
    env = gym.make("CartPole-v1")
    policy = plugrl.SoftmaxPolicy(MLP(env, (64, 64), random_seed=0), random_seed=0)
    critic = GAE(plugrl.V(MLP(env, (64, 64), random_seed=1)), gamma=0.99, lamda=0.95,
                 num_epoch=10, batch_size=64, lr=1e-3)
    agent = PPO("CartPole-v1", seed=0, policy=policy, critic=critic, num_workers=4, min_steps=512,
                num_epoch=10, eps_clip=0.2, batch_size=64, lr=1e-3, max_grad_norm=0.5)
    assert agent.learner.policy is policy
    agent.fit(36_000)
    assert agent.evaluate(5) >= 195


def test_policy_objects_and_what_is_refused():
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match="policy: expected a plugrl GaussianPolicy .* got SoftmaxPolicy"):
        PPO("Pendulum-v1", policy=plugrl.SoftmaxPolicy(MLP(env, (8,))))
    func = MLP(env, (8,))
    with pytest.raises(ValueError, match="critic: expected a value function on a function approx"):
        PPO(env, policy=plugrl.SoftmaxPolicy(func), critic=GAE(plugrl.V(func)))
    with pytest.raises(ValueError, match="critic, min_rollouts: expected neither on the fast path"):
        PPO(make("CartPole-v1"), critic=GAE(value_net()))


# ---------------------------------------------------------------- run sizes
def test_min_steps_sets_the_steps_per_iteration():
    agent = PPO("CartPole-v1", seed=0, num_envs=3, min_steps=100, batch_size=32, num_epoch=1)
    assert agent.config.n_steps == 34
    agent.fit(1)
    assert agent.history[0]["steps"] == 102
    assert DQN("CartPole-v1", min_steps=7).config.train_freq == 7  # off-policy: train_freq, as before


def test_min_rollouts_collects_enough_episodes_in_few_shapes():
    agent = PPO("CartPole-v1", seed=0, num_envs=2, n_steps=16, min_rollouts=3, batch_size=32,
                num_epoch=1)
    agent.fit(1000)
    steps = np.diff([0.0] + [h["steps"] for h in agent.history])
    episodes = np.diff([0.0] + [h["episodes"] for h in agent.history])
    assert (episodes >= 3).all()
    assert set(steps) <= {32.0 * 2**k for k in range(8)} and len(set(steps)) > 1
    critic = GAE(value_net(), num_epoch=1)
    agent = PPO("CartPole-v1", seed=0, critic=critic, num_envs=2, n_steps=16, min_rollouts=5,
                batch_size=32)
    agent.fit(32)
    assert critic.epochs_done > 0
    agent.reset()  # pyrado's: the critic's clock starts again, the run size stays
    assert critic.epochs_done == 0 and agent.sampler.min_rollouts == 5
    agent.fit(32)
    assert agent.history[0]["episodes"] >= 5
    with pytest.raises(ValueError, match="min_rollouts: expected an int >= 1"):
        PPO("CartPole-v1", min_rollouts=0)


# ---------------------------------------------------------------- persistence
def ppo_with_critic(seed: int = 0) -> PPO:
    critic = GAE(value_net(), num_epoch=2, lr=1e-3, lr_scheduler="ExponentialLR",
                 lr_scheduler_hparam={"gamma": 0.9}, standardizer=RunningNormalizer(()))
    return PPO("CartPole-v1", seed=seed, critic=critic, n_steps=64, batch_size=64, num_epoch=1)


def same_after_one_more_iteration(a: PPO, b: PPO) -> None:
    for agent in (a, b):
        agent.fit(64)
    assert a.num_steps == b.num_steps and a.learner.critic.epochs_done == b.learner.critic.epochs_done
    for x, y in zip(critic_weights(a.learner.critic) + a.learner.policy.get_weights(),
                    critic_weights(b.learner.critic) + b.learner.policy.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert a.learner.critic.standardizer.count == b.learner.critic.standardizer.count


def test_an_agent_with_a_critic_pickles_and_trains_on_identically():
    agent = ppo_with_critic()
    agent.fit(128)
    copy = pickle.loads(pickle.dumps(agent))
    assert copy.learner.critic is not agent.learner.critic and copy.learner.critic.epochs_done == 4
    same_after_one_more_iteration(agent, copy)


def test_a_checkpoint_holds_the_critics_optimizer_clock_and_standardizer(tmp_path):
    agent = ppo_with_critic()
    agent.fit(128)
    agent.save(str(tmp_path / "ppo"))
    fresh = ppo_with_critic().learner.critic  # the user's set-up again, untrained
    loaded = PPO.load(str(tmp_path / "ppo"), critic=fresh)
    assert loaded.learner.critic is fresh and fresh.epochs_done == 4 and fresh.standardizer.count == 128
    same_after_one_more_iteration(agent, loaded)
