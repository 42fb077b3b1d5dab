"""The single-transition update respects terminated versus truncated."""

from __future__ import annotations

import numpy as np
import optax
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator


def v_after_one_update(env, **end):
    """With SGD(lr=1) on V(s=0) = b, one Huber step in range sets b to the target G."""
    v = plugrl.V(LinearFunctionApproximator(env, optimizer=optax.sgd(1.0)), gamma=0.9)
    v.set_weights([np.array([[0.5], [0], [0], [0]], np.float32), np.zeros(1, np.float32)])
    s_next = np.array([1.0, 0, 0, 0], np.float32)  # V(s_next) = 0.5
    v.update(np.zeros(4), 0.1, s_next=s_next, **end)
    return float(v.get_weights()[1][0])


def test_truncated_episode_bootstraps(cartpole):
    assert v_after_one_update(cartpole, done=False, truncated=True) == pytest.approx(0.1 + 0.9 * 0.5)


def test_terminated_episode_does_not_bootstrap(cartpole):
    assert v_after_one_update(cartpole, done=True) == pytest.approx(0.1)
    assert v_after_one_update(cartpole, done=True, truncated=True) == pytest.approx(0.1)


def test_q_update_on_truncation_uses_greedy_next_action_for_sarsa(cartpole):
    q = plugrl.QTypeII(LinearFunctionApproximator(cartpole, optimizer=optax.sgd(1.0)),
                       gamma=0.9, update_strategy="sarsa")
    W = np.zeros((4, 2), np.float32)
    W[0] = [0.2, 0.6]  # at s_next = e0 the greedy action is 1, with value 0.6
    q.set_weights([W, np.zeros(2, np.float32)])
    q.update(np.zeros(4), 0, 0.1, False, truncated=True, s_next=np.eye(4)[0])
    assert q.get_weights()[1][0] == pytest.approx(0.1 + 0.9 * 0.6)
