"""keras-gym's ConnectFourFunctionApproximator: illegal moves masked out of the policy, values in
(-1, 1), the body shared by the policy and the value function, clear errors for other envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import plugrl
from plugrl.envs import ConnectFourEnv
from plugrl.predefined import ConnectFourFunctionApproximator


@pytest.mark.parametrize("board", [(6, 7, 4), (4, 5, 3)])
def test_full_columns_get_probability_zero(board):
    env = ConnectFourEnv(*board)
    func = ConnectFourFunctionApproximator(env, random_seed=0)
    pi, v = plugrl.SoftmaxPolicy(func), plugrl.V(func)
    s, _ = env.reset(seed=0)
    for _ in range(env.num_rows):
        s, *_ = env.step(1)  # column 1 fills up
    logits, value = plugrl.ActorCritic(pi, v).dist_params(s)
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert probabilities[1] == 0.0 and np.all(probabilities[np.arange(env.num_cols) != 1] > 0)
    assert -1.0 < value < 1.0


def test_one_body_for_policy_and_value():
    env = ConnectFourEnv()
    func = ConnectFourFunctionApproximator(env, random_seed=0, filters=(8, 8), dense=16)
    pi_head, v_head = func.head_model("pi"), func.head_model("v")
    assert func.convolutional
    assert set(pi_head.trainable) & set(v_head.trainable)  # the shared convolutions


def test_other_spaces_are_refused_naming_them():
    with pytest.raises(TypeError, match="Connect Four"):
        ConnectFourFunctionApproximator(gym.make("CartPole-v1"))
