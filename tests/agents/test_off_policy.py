"""The off-policy agents' shared machinery: exact resume with the replay buffer, evaluation,
saving and loading, input checks."""

import gymnasium as gym
import numpy as np
import pytest

from plugrl.agents import DQN, SAC
from plugrl.agents.persistence import latest_agent_checkpoint

TINY = {
    DQN: ("CartPole-v1", dict(hidden_sizes=(16,), batch_size=16, memory_size=500, train_freq=8,
                              num_updates_per_step=4, num_init_memory_steps=64,
                              target_update_intvl=40, lr="lin_0.001", exploration_fraction=0.5)),
    SAC: ("Pendulum-v1", dict(hidden_sizes=(16,), batch_size=16, memory_size=500, train_freq=2,
                              num_updates_per_step=2, num_init_memory_steps=64)),
}
PRIORITIZED = dict(TINY[DQN][1], prioritized_replay=True, double_q=True, dueling=True, bootstrap_n=3)


def _weights(agent):
    import keras

    return [np.asarray(x) for x in keras.tree.flatten(agent.learner.state)]


@pytest.mark.parametrize("agent_class, config", [(DQN, TINY[DQN][1]), (SAC, TINY[SAC][1]),
                                                 (DQN, PRIORITIZED)], ids=["dqn", "sac", "dqn-per"])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, agent_class, config):
    env_id = TINY[agent_class][0]
    uninterrupted = agent_class(env_id, seed=3, **config).fit(320)
    agent_class(env_id, seed=3, model_dir=tmp_path, **config).fit(
        320, checkpoint_interval=160, callback=lambda agent, record: agent.num_steps < 160)
    assert latest_agent_checkpoint(tmp_path).name.endswith("160")
    resumed = agent_class(env_id, seed=3, model_dir=tmp_path, **config).fit(160, restore=True)
    assert resumed.num_steps == uninterrupted.num_steps == 320
    for a, b in zip(_weights(uninterrupted), _weights(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_equal(uninterrupted.history, resumed.history)  # NaN: no episode ended yet
    assert len(resumed.buffer) == len(uninterrupted.buffer) == 320
    for a, b in zip(uninterrupted.buffer.sample(), resumed.buffer.sample(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("agent_class", [DQN, SAC])
def test_save_and_load_act_the_same(tmp_path, agent_class):
    env_id, config = TINY[agent_class]
    agent = agent_class(env_id, seed=0, **config).fit(200)
    agent.save(tmp_path / "agent")
    loaded = agent_class.load(tmp_path / "agent")
    assert loaded.num_steps == 200 and len(loaded.buffer) == len(agent.buffer)
    env = gym.make(env_id)
    s, _ = env.reset(seed=1)
    for _ in range(5):
        a, b = agent.select_action(s, deterministic=True), loaded.select_action(s, deterministic=True)
        np.testing.assert_array_equal(a, b)
        assert agent.action_space.contains(a)
        s, *_ = env.step(a)
    assert agent.evaluate(2) == loaded.evaluate(2)


@pytest.mark.parametrize("agent_class", [DQN, SAC])
def test_bad_observations_are_rejected(agent_class):
    env_id, config = TINY[agent_class]
    agent = agent_class(env_id, seed=0, **config)
    with pytest.raises(ValueError, match=r"s: expected an observation of shape"):
        agent.select_action(np.zeros(7))


def test_each_env_needs_a_slot():
    with pytest.raises(ValueError, match="num_envs: expected at most memory_size = 2"):
        DQN("CartPole-v1", num_envs=3, memory_size=2, batch_size=1)


@pytest.mark.parametrize("config, message", [
    (dict(memory_size=0), "memory_size"), (dict(batch_size=0), "batch_size"),
    (dict(batch_size=64, memory_size=32), "batch_size: expected at most memory_size"),
    (dict(tau=0.0), "tau"), (dict(learning_startz=5), "did you mean learning_starts"),
])
def test_bad_hyperparameters_are_rejected(config, message):
    with pytest.raises((TypeError, ValueError), match=message):
        DQN("CartPole-v1", **config)
