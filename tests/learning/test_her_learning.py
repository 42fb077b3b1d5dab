"""Hindsight Experience Replay learns goal-reaching that the same agents without it do not:
DQN with Stable-Baselines3's HER buffer on 8-bit flipping, and DeepChem's use_hindsight for
PPO and A2C (fixed seeds, small budgets)."""

import numpy as np
import pytest

from plugrl.agents import A2C, DQN, PPO
from plugrl.envs import BitFlippingEnv

DQN_SETTINGS = dict(gamma=0.95, lr=1e-3, batch_size=64, train_freq=4, num_updates_per_step=4,
                    num_init_memory_steps=500, exploration_fraction=0.3, eps_final=0.02,
                    target_update_intvl=500, hidden_sizes=(64,))


def success_rate(agent, n_bits, episodes=100):
    """The fraction of greedy episodes that reach the goal (a failure's return is -n_bits)."""
    _, returns = agent.evaluate(episodes, return_episode_rewards=True)
    return float(np.mean(np.array(returns) > -n_bits))


@pytest.mark.parametrize("seed", [0, 1])
def test_dqn_with_her_solves_8_bit_flipping_where_dqn_without_does_not(seed):
    her = DQN(BitFlippingEnv(n_bits=8), seed=seed, replay_buffer_class="her",
              replay_buffer_kwargs=dict(n_sampled_goal=4, goal_selection_strategy="future"),
              **DQN_SETTINGS).fit(3000)
    assert success_rate(her, 8) >= 0.9
    plain = DQN(BitFlippingEnv(n_bits=8), seed=seed, **DQN_SETTINGS).fit(3000)
    assert success_rate(plain, 8) <= 0.1


@pytest.mark.parametrize("agent_class, settings", [
    (PPO, dict(lr=1e-3, batch_size=64, num_epoch=4)),
    (A2C, dict(lr=1e-2)),
], ids=["PPO", "A2C"])
def test_use_hindsight_learns_6_bit_flipping_deepchem_style_where_without_it_does_not(agent_class, settings):
    def trained(use_hindsight):
        return agent_class(BitFlippingEnv(n_bits=6, flat=True), seed=0, use_hindsight=use_hindsight,
                           num_envs=4, n_steps=32, gamma=0.95, entropy_coeff=0.01, **settings).fit(40_000)

    assert success_rate(trained(True), 6) >= 0.9
    assert success_rate(trained(False), 6) <= 0.2
