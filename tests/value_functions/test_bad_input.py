"""Clear errors at the API boundary, naming the argument, the expected and the actual value."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


@pytest.fixture
def q(cartpole):
    return plugrl.QTypeII(LinearFunctionApproximator(cartpole, random_seed=0))


def test_qtype2_on_continuous_actions(pendulum):
    with pytest.raises(TypeError, match="QTypeII expected a Discrete action space, got Box"):
        plugrl.QTypeII(LinearFunctionApproximator(pendulum))


def test_epsilon_greedy_on_continuous_actions(pendulum):
    q1 = plugrl.QTypeI(LinearFunctionApproximator(pendulum))
    with pytest.raises(TypeError, match="EpsilonGreedy expected a Discrete action space, got Box"):
        plugrl.EpsilonGreedy(q1)


def test_q_learning_on_continuous_actions(pendulum):
    with pytest.raises(TypeError, match="QLearning maximises over actions and expected a Discrete"):
        plugrl.QTypeI(LinearFunctionApproximator(pendulum), update_strategy="q_learning")


def test_wrong_observation_shape(q):
    with pytest.raises(ValueError, match=r"s: expected an observation of shape \(4,\), got shape \(3,\)"):
        q(np.zeros(3))
    with pytest.raises(ValueError,
                       match=r"S: expected a batch of shape \[batch_size, 4\], got shape \(2, 5\)"):
        q.batch_eval(np.zeros((2, 5)))


def test_action_outside_space(q):
    with pytest.raises(ValueError, match=r"a: expected an action in Discrete\(2\), got 2"):
        q.update(np.zeros(4), 2, 1.0, False)
    with pytest.raises(ValueError, match=r"A: expected actions in \[0, 2\), got values in \[0, 5\]"):
        q.batch_update(np.zeros((2, 4)), [0, 5], [1, 1], [0.9, 0.9], np.zeros((2, 4)))


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bootstrap_n_below_one(cartpole, n):
    with pytest.raises((ValueError, TypeError), match=f"bootstrap_n: expected an int >= 1, got .*{n!r}"):
        plugrl.QTypeII(LinearFunctionApproximator(cartpole), bootstrap_n=n)


@pytest.mark.parametrize("gamma", [-0.1, 1.01])
def test_gamma_outside_unit_interval(cartpole, gamma):
    with pytest.raises(ValueError, match=f"gamma: expected a float in \\[0, 1\\], got {gamma}"):
        plugrl.V(LinearFunctionApproximator(cartpole), gamma=gamma)


def test_unknown_update_strategy_lists_valid_ones(cartpole):
    with pytest.raises(ValueError, match="update_strategy: expected one of .*'double_q_learning'.*"
                                         "'expected_sarsa'.*'q_learning'.*'sarsa'.*got 'dqn'"):
        plugrl.QTypeII(LinearFunctionApproximator(cartpole), update_strategy="dqn")


@pytest.mark.parametrize("r", [float("nan"), float("inf")])
def test_nan_or_infinite_reward(q, r):
    weights = q.get_weights()
    with pytest.raises(ValueError, match="r: expected a finite reward"):
        q.update(np.zeros(4), 0, r, False)
    with pytest.raises(ValueError, match="Rn: expected finite values, got"):
        q.batch_update(np.zeros((2, 4)), [0, 1], [1.0, r], [0.9, 0.9], np.zeros((2, 4)))
    for before, after in zip(weights, q.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_batch_sizes_must_agree(q):
    with pytest.raises(ValueError, match=r"Rn: expected shape \[2\], got \(3,\)"):
        q.batch_update(np.zeros((2, 4)), [0, 1], [1, 1, 1], [0.9, 0.9], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="S_next: expected batch size 2"):
        q.batch_update(np.zeros((2, 4)), [0, 1], [1, 1], [0.9, 0.9], np.zeros((3, 4)))


def test_non_box_observation_space_suggests_preprocessor():
    import gymnasium as gym

    with pytest.raises(TypeError, match="DefaultPreprocessor"):
        LinearFunctionApproximator(gym.make("FrozenLake-v1"))


def test_truncated_needs_s_next(q):
    with pytest.raises(ValueError, match="s_next"):
        q.update(np.zeros(4), 0, 1.0, False, truncated=True)


def test_sync_target_tau_range(q):
    with pytest.raises(ValueError, match=r"tau: expected a float in \[0, 1\], got 2.0"):
        q.sync_target_model(tau=2.0)
