"""DQN and SAC with Hindsight Experience Replay: Stable-Baselines3's API, goal-conditioned envs
acted on with their own Dict observations, exact resume with the HER buffer, input checks."""

import gymnasium as gym
import numpy as np
import pytest

from plugrl.agents import DQN, SAC
from plugrl.agents.persistence import latest_agent_checkpoint
from plugrl.caching import HerReplayBuffer
from plugrl.envs import BitFlippingEnv

TINY = dict(hidden_sizes=(16,), batch_size=16, memory_size=1000, train_freq=4, num_updates_per_step=2,
            num_init_memory_steps=32, target_update_intvl=40)
HER = dict(replay_buffer_class="her", n_sampled_goal=2, goal_selection_strategy="final")


def _weights(agent):
    import keras

    return [np.asarray(x) for x in keras.tree.flatten(agent.learner.state)]


def test_sb3s_arguments_make_a_her_buffer():
    agent = DQN(BitFlippingEnv(n_bits=4), seed=0, replay_buffer_class=HerReplayBuffer,
                replay_buffer_kwargs=dict(n_sampled_goal=2, goal_selection_strategy="episode"), **TINY)
    assert isinstance(agent.buffer, HerReplayBuffer)
    assert (agent.config.replay_buffer_class, agent.buffer.n_sampled_goal,
            agent.buffer.goal_selection_strategy) == ("her", 2, "episode")
    assert agent.observation_space.shape == (12,)  # achieved ++ desired ++ observation
    agent.fit(200)
    assert agent.buffer.num_valid == 200  # every 4-step episode ended


def test_acts_on_the_envs_own_dict_observations():
    env = BitFlippingEnv(n_bits=4)
    agent = DQN(env, seed=0, **TINY, **HER).fit(100)
    obs, _ = env.reset(seed=5)
    flat = gym.spaces.flatten(env.observation_space, obs)
    assert agent.select_action(obs, deterministic=True) == agent.select_action(flat, deterministic=True)
    np.testing.assert_array_equal(agent.predict(obs), agent.predict(flat))
    plain = DQN(BitFlippingEnv(n_bits=4), seed=0, **TINY).fit(100)  # the uniform buffer: same
    assert plain.select_action(obs, deterministic=True) == plain.select_action(flat, deterministic=True)


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    config = dict(TINY, **HER)
    uninterrupted = DQN("BitFlipping-v0", seed=3, **config).fit(320)
    DQN("BitFlipping-v0", seed=3, model_dir=tmp_path, **config).fit(
        320, checkpoint_interval=164, callback=lambda agent, record: agent.num_steps < 164)
    assert latest_agent_checkpoint(tmp_path).name.endswith("164")
    resumed = DQN("BitFlipping-v0", seed=3, model_dir=tmp_path, **config).fit(156, restore=True)
    assert resumed.num_steps == uninterrupted.num_steps == 320
    for a, b in zip(_weights(uninterrupted), _weights(resumed), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_equal(uninterrupted.history, resumed.history)
    for a, b in zip(uninterrupted.buffer.sample(), resumed.buffer.sample(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_sac_with_her_and_several_envs():
    agent = SAC(BitFlippingEnv(n_bits=3), seed=0, num_envs=2, hidden_sizes=(16,), batch_size=16,
                memory_size=400, train_freq=2, num_init_memory_steps=32, **HER).fit(120)
    assert isinstance(agent.buffer, HerReplayBuffer) and agent.buffer.num_envs == 2
    assert 0 < agent.buffer.num_valid <= 120 and len(agent.buffer) == 120
    metrics = {k: v for k, v in agent.history[-1].items() if k.startswith("SAC/")}
    assert metrics and all(np.isfinite(v) for v in metrics.values())  # it updated on HER batches


def test_rejects_her_where_it_does_not_apply():
    with pytest.raises(TypeError, match="env.observation_space: expected a Dict with the keys"):
        DQN("CartPole-v1", replay_buffer_class="her")
    with pytest.raises(ValueError, match="prioritized_replay: expected False with replay_buffer_class='her'"):
        DQN(BitFlippingEnv(), replay_buffer_class="her", prioritized_replay=True)
    with pytest.raises(ValueError, match="bootstrap_n: expected 1 with replay_buffer_class='her'"):
        DQN(BitFlippingEnv(), replay_buffer_class="her", bootstrap_n=3)
    with pytest.raises(ValueError, match="replay_buffer_class: expected None or 'her'"):
        DQN(BitFlippingEnv(), replay_buffer_class="prioritized")
    with pytest.raises(ValueError, match="replay_buffer_kwargs: expected a dict with some of"):
        DQN(BitFlippingEnv(), replay_buffer_class="her", replay_buffer_kwargs=dict(copy_info_dict=True))
    with pytest.raises(ValueError, match="goal_selection_strategy: expected one of"):
        DQN(BitFlippingEnv(), replay_buffer_class="her", goal_selection_strategy="futur")


def test_evaluation_uses_the_keywords_the_env_was_made_with():
    """An env made as gym.make(id, **kwargs) is evaluated with those keywords, not the registered
    defaults (BitFlipping-v0 has 8 bits by default)."""
    import gymnasium as gym

    from plugrl.agents import DQN
    from plugrl.caching import HerReplayBuffer

    agent = DQN(gym.make("BitFlipping-v0", n_bits=5), seed=0, replay_buffer_class=HerReplayBuffer)
    env = agent.evaluation_env()
    assert env.unwrapped.n_bits == 5 and env.observation_space.shape == (15,)
    assert agent.evaluate(1) >= -5
