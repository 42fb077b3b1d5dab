"""Value-based learning with fixed seeds and budgets: it learns, and it is reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from examples_loader import load_example


@pytest.mark.parametrize("seed", [0, 1])
def test_frozen_lake_q_learning_reaches_the_optimal_return_greedily(seed):
    result = load_example("frozen_lake_q_learning").main(num_episodes=500, seed=seed, verbose=False)
    assert result["greedy_return"] == 1.0


def test_cartpole_sarsa_reaches_returns_of_200():
    """Ten consecutive episodes at the time limit of CartPole-v0 (return 200) within 200 episodes."""
    result = load_example("cartpole_sarsa").main(num_episodes=200, seed=0, verbose=False)
    assert result["solved"]
    assert result["returns"][-10:] == [200.0] * 10


def test_same_seed_same_parameters():
    example = load_example("cartpole_double_q")
    first = example.main(num_steps=600, seed=5, target_sync_steps=100, verbose=False)
    second = example.main(num_steps=600, seed=5, target_sync_steps=100, verbose=False)
    other = example.main(num_steps=600, seed=6, target_sync_steps=100, verbose=False)
    assert first["returns"] == second["returns"]
    for a, b in zip(first["q"].get_weights(), second["q"].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first["q"].get_weights()[0], other["q"].get_weights()[0])
