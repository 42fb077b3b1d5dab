"""On-policy agents: learning with fixed seeds and budgets, saving and loading, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl.agents import A2C, PPO, PPO2, REINFORCE
from plugrl.utils.checkpoints import CheckpointError

#: RL-Zoo's CartPole-v1 PPO hyperparameters.
ZOO_CARTPOLE = dict(num_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
                    num_epoch=20, entropy_coeff=0.0, lr="lin_0.001", clip="lin_0.2")
TINY = dict(num_envs=2, n_steps=16, batch_size=16, num_epoch=2, hidden_sizes=(16,))


def test_ppo_solves_cartpole_within_rl_zoo_budget():
    agent = PPO("CartPole-v1", seed=0, **ZOO_CARTPOLE).fit(50_000)
    assert agent.evaluate(20) >= 475


@pytest.mark.parametrize("agent_class, steps, config", [
    (A2C, 100_000, {}),
    (PPO2, 100_000, ZOO_CARTPOLE),
])
def test_a2c_and_ppo2_solve_cartpole(agent_class, steps, config):
    agent = agent_class("CartPole-v1", seed=0, **config).fit(steps)
    assert agent.evaluate(20) >= 475


def test_same_seed_same_weights():
    first = PPO("CartPole-v1", seed=3, **TINY).fit(128)
    second = PPO("CartPole-v1", seed=3, **TINY).fit(128)
    other = PPO("CartPole-v1", seed=4, **TINY).fit(128)
    for a, b in zip(first.learner.get_weights(), second.learner.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert first.history == second.history
    assert not np.array_equal(first.learner.get_weights()[0], other.learner.get_weights()[0])


def test_save_and_load_act_the_same(tmp_path):
    agent = PPO("CartPole-v1", seed=0, normalize_observations=True, **TINY).fit(256)
    path = agent.save(tmp_path / "agent")
    loaded = PPO.load(path)
    S = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    for s in S:
        assert loaded.select_action(s, deterministic=True) == agent.select_action(s, deterministic=True)
        np.testing.assert_allclose(loaded.predict(s)[0], agent.predict(s)[0], rtol=1e-6)
    assert loaded.num_steps == agent.num_steps and loaded.config == agent.config
    assert (tmp_path / "agent" / "actor.keras").is_file()
    with pytest.raises(CheckpointError, match="expected A2C"):
        A2C.load(path)


def test_policy_is_callable_and_actions_are_valid(pendulum):
    agent = PPO("Pendulum-v1", seed=0, **TINY)
    s, _ = pendulum.reset(seed=0)
    a = agent.policy(s)
    assert pendulum.action_space.contains(a)
    mean, std, value = agent.predict(s)  # DeepChem's [mean, std, value]
    assert mean.shape == std.shape == (1,) and isinstance(value, float)
    np.testing.assert_allclose(std, 1.0)  # std_init's default
    agent.fit(64)
    assert np.isfinite(agent.history[-1]["PPOClip/surrogate"])


def test_reinforce_runs():
    agent = REINFORCE("CartPole-v1", seed=0, num_envs=2, n_steps=32, batch_size=64).fit(128)
    assert agent.num_steps == 128 and len(agent.history) == 2


@pytest.mark.parametrize("config, message", [
    ({"gama": 0.9}, "gama: unknown hyperparameter; did you mean gamma"),
    ({"gamma": 1.5}, r"gamma: expected a float in \[0, 1\], got 1.5"),
    ({"gae_lambda": -0.1}, r"gae_lambda: expected a float in \[0, 1\]"),
    ({"clip": 0.0}, "clip: expected a value > 0, got 0.0"),
    ({"n_steps": 8, "num_envs": 2, "batch_size": 32},
     "batch_size: expected at most n_steps \\* num_envs = 16 samples per rollout, got 32"),
    ({"vectorization": "threads"}, "vectorization: expected one of"),
])
def test_bad_hyperparameters_are_rejected_at_construction(config, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PPO("CartPole-v1", **config)


def test_aliases_from_the_seeds():
    agent = PPO("CartPole-v1", max_rollout_length=16, num_workers=2, eps_clip=0.1, batch_size=32)
    assert (agent.config.n_steps, agent.config.num_envs, agent.config.clip) == (16, 2, 0.1)


def test_gaussian_ppo_on_pendulum():
    """RL-Zoo's Pendulum budget (100k steps, 4 envs); about -220 is reached after 60-80k steps."""
    agent = PPO("Pendulum-v1", seed=0, num_envs=4, n_steps=1024, gae_lambda=0.95, gamma=0.9,
                num_epoch=10, lr=1e-3, clip=0.2, batch_size=64).fit(100_000)
    assert agent.evaluate(10) >= -250


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    config = dict(TINY, normalize_observations=True, lr="lin_0.01")
    uninterrupted = PPO("CartPole-v1", seed=5, **config).fit(640)
    PPO("CartPole-v1", seed=5, model_dir=tmp_path, **config).fit(
        640, checkpoint_interval=320, callback=lambda agent, record: agent.num_steps < 320)
    # fit counts the steps still to do: the interrupted run stopped at 320 of 640.
    resumed = PPO("CartPole-v1", seed=5, model_dir=tmp_path, **config).fit(320, restore=True)
    assert resumed.num_steps == 640
    for a, b in zip(uninterrupted.learner.get_weights(), resumed.learner.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert uninterrupted.history == resumed.history
    assert uninterrupted.sampler.episode_returns == resumed.sampler.episode_returns


def test_checkpoint_errors_leave_files_untouched(tmp_path):
    agent = PPO("CartPole-v1", seed=0, model_dir=tmp_path, **TINY).fit(64, checkpoint_interval=32)
    (latest,) = sorted(tmp_path.glob("ckpt-*"))[-1:]
    before = {p: p.read_bytes() for p in latest.iterdir()}
    with pytest.raises(CheckpointError, match="expected A2C"):
        A2C.load(latest)
    arrays = latest / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupted or truncated"):
        PPO.load(latest)
    assert {p: p.read_bytes() for p in latest.iterdir() if p.name != "arrays.npz"} == \
        {p: b for p, b in before.items() if p.name != "arrays.npz"}
    assert len(list(tmp_path.glob("ckpt-*"))) == 2  # at 32 and 64 (the final one replaced it)
    assert agent.num_steps == 64


def test_agent_with_a_user_function_approximator(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    agent = PPO("CartPole-v1", seed=0, function_approximator=func, **TINY).fit(64)
    assert agent.learner.policy.function_approximator is func
    assert agent.learner.v_func.function_approximator is func  # actor and critic share the body
    assert agent.select_action(np.zeros(4)) in (0, 1)
