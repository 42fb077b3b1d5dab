"""Every bootstrap target against a NumPy reference, with primary and target weights apart."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl.predefined import LinearFunctionApproximator

BATCH = 7


def linear_q2(env, strategy, bootstrap_with_target_model, seed=0):
    """A QTypeII that is a known linear map, with different primary and target weights."""
    func = LinearFunctionApproximator(env, random_seed=seed)
    q = plugrl.QTypeII(func, gamma=0.9, bootstrap_with_target_model=bootstrap_with_target_model,
                       update_strategy=strategy)
    rng = np.random.default_rng(seed)
    primary = [rng.normal(size=(4, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)]
    target = [rng.normal(size=(4, 2)).astype(np.float32), rng.normal(size=2).astype(np.float32)]
    q.set_weights(primary)
    q.set_weights(target, use_target_model=True)
    return q, primary, target


def batch(seed=1):
    rng = np.random.default_rng(seed)
    Rn = rng.normal(size=BATCH).astype(np.float32)
    In = np.where(rng.random(BATCH) < 0.3, 0.0, 0.9**3).astype(np.float32)
    S_next = rng.normal(size=(BATCH, 4)).astype(np.float32)
    A_next = rng.integers(0, 2, BATCH)
    return Rn, In, S_next, A_next


def q_values(weights, S):
    return S @ weights[0] + weights[1]


@pytest.mark.parametrize("use_target", [False, True])
def test_sarsa_target(cartpole, use_target):
    q, primary, target = linear_q2(cartpole, "sarsa", use_target)
    Rn, In, S_next, A_next = batch()
    Q = q_values(target if use_target else primary, S_next)
    expected = Rn + In * Q[np.arange(BATCH), A_next]
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next, A_next), expected, rtol=1e-5)


def test_sarsa_unknown_next_action_uses_greedy(cartpole):
    q, primary, _ = linear_q2(cartpole, "sarsa", False)
    Rn, In, S_next, A_next = batch()
    A_next[::2] = -1
    Q = q_values(primary, S_next)
    chosen = np.where(A_next < 0, Q.argmax(axis=1), A_next)
    expected = Rn + In * Q[np.arange(BATCH), chosen]
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next, A_next), expected, rtol=1e-5)


@pytest.mark.parametrize("use_target", [False, True])
def test_expected_sarsa_target_with_propensities(cartpole, use_target):
    q, primary, target = linear_q2(cartpole, "expected_sarsa", use_target)
    Rn, In, S_next, _ = batch()
    P = np.random.default_rng(3).dirichlet([1.0, 1.0], size=BATCH).astype(np.float32)
    Q = q_values(target if use_target else primary, S_next)
    expected = Rn + In * (P * Q).sum(axis=1)
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next, P), expected, rtol=1e-5)


@pytest.mark.parametrize("use_target", [False, True])
def test_q_learning_target(cartpole, use_target):
    q, primary, target = linear_q2(cartpole, "q_learning", use_target)
    Rn, In, S_next, A_next = batch()
    Q = q_values(target if use_target else primary, S_next)
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next, A_next),
                               Rn + In * Q.max(axis=1), rtol=1e-5)


def test_double_q_learning_target(cartpole):
    q, primary, target = linear_q2(cartpole, "double_q_learning", False)
    Rn, In, S_next, _ = batch()
    A_star = q_values(primary, S_next).argmax(axis=1)
    Q_target = q_values(target, S_next)
    expected = Rn + In * Q_target[np.arange(BATCH), A_star]
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next), expected, rtol=1e-5)
    # the two models disagree on this batch, so double Q differs from plain Q-learning here
    assert not np.allclose(expected, Rn + In * Q_target.max(axis=1))


def test_v_target(cartpole):
    v = plugrl.V(LinearFunctionApproximator(cartpole, random_seed=0), gamma=0.9,
                 bootstrap_with_target_model=True)
    w = [np.arange(4, dtype=np.float32)[:, None], np.array([0.5], np.float32)]
    v.set_weights(w, use_target_model=True)
    Rn, In, S_next, _ = batch()
    expected = Rn + In * (S_next @ w[0][:, 0] + 0.5)
    np.testing.assert_allclose(v.bootstrap_target(Rn, In, S_next), expected, rtol=1e-5)


def test_qtype1_matches_per_action_linear_model(cartpole):
    """Type-I Q over discrete actions: q(s, a) = w_a . s + b through the Kronecker body."""
    q = plugrl.QTypeI(LinearFunctionApproximator(cartpole, random_seed=0), update_strategy="q_learning")
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 2)).astype(np.float32)  # column a holds w_a
    kernel = W.reshape(8, 1)  # the body's features are s_i * onehot(a)_j at index 2 i + j
    q.set_weights([kernel, np.array([0.25], np.float32)])
    S = rng.normal(size=(5, 4)).astype(np.float32)
    A = rng.integers(0, 2, 5)
    expected_Q_s = S @ W + 0.25
    np.testing.assert_allclose(q.batch_eval(S), expected_Q_s, rtol=1e-5)
    np.testing.assert_allclose(q.batch_eval(S, A), expected_Q_s[np.arange(5), A], rtol=1e-5)
    Rn, In, S_next, _ = batch()
    np.testing.assert_allclose(q.bootstrap_target(Rn, In, S_next),
                               Rn + In * (S_next @ W + 0.25).max(axis=1), rtol=1e-5)


def test_td_updaters_usable_directly(cartpole):
    """A level-2 updater works on any Q-function, independent of its update_strategy preset."""
    q, primary, _ = linear_q2(cartpole, "sarsa", False)
    updater = plugrl.td_learning.QLearning(q)
    Rn, In, S_next, _ = batch()
    expected = Rn + In * q_values(primary, S_next).max(axis=1)
    np.testing.assert_allclose(updater.bootstrap_target(Rn, In, S_next), expected, rtol=1e-5)
    S = np.random.default_rng(5).normal(size=(BATCH, 4)).astype(np.float32)
    before = q.batch_eval(S, np.zeros(BATCH, int))
    metrics = updater.batch_update(S, np.zeros(BATCH, int), Rn, In, S_next)
    assert set(metrics) >= {"QLearning/loss", "QLearning/td_error", "QLearning/grad_norm"}
    assert all(isinstance(v, float) for v in metrics.values())
    assert not np.allclose(before, q.batch_eval(S, np.zeros(BATCH, int)))


def test_sync_target_model_is_polyak(cartpole):
    q, primary, target = linear_q2(cartpole, "q_learning", True)
    q.sync_target_model(tau=0.3)
    for p, t, new in zip(primary, target, q.get_weights(use_target_model=True)):
        np.testing.assert_allclose(new, 0.7 * t + 0.3 * p, rtol=1e-5, atol=1e-7)
    q.sync_target_model()
    for p, new in zip(primary, q.get_weights(use_target_model=True)):
        np.testing.assert_array_equal(new, p)


def test_soft_q_learning_target(cartpole):
    q, primary, _ = linear_q2(cartpole, "q_learning", False)
    updater = plugrl.td_learning.SoftQLearning(q, temperature=0.5)
    Rn, In, S_next, _ = batch()
    Q = q_values(primary, S_next)
    soft_max = 0.5 * np.log(np.exp(Q / 0.5).sum(axis=1))
    np.testing.assert_allclose(updater.bootstrap_target(Rn, In, S_next), Rn + In * soft_max, rtol=1e-5)
    with pytest.raises(ValueError, match="temperature: expected a float > 0, got 0.0"):
        plugrl.td_learning.SoftQLearning(q, temperature=0.0)


def test_clipped_double_q_learning_target(cartpole):
    q1, primary1, target1 = linear_q2(cartpole, "sarsa", True, seed=0)
    q2, primary2, target2 = linear_q2(cartpole, "sarsa", True, seed=1)
    updater = plugrl.td_learning.ClippedDoubleQLearning(q1, q2)
    Rn, In, S_next, A_next = batch()
    Q_min = np.minimum(q_values(target1, S_next), q_values(target2, S_next))
    expected = Rn + In * Q_min[np.arange(BATCH), A_next]
    np.testing.assert_allclose(updater.bootstrap_target(Rn, In, S_next, A_next), expected, rtol=1e-5)
    A_next[:] = -1  # unknown next actions: the greedy action of the clipped estimate
    np.testing.assert_allclose(updater.bootstrap_target(Rn, In, S_next, A_next),
                               Rn + In * Q_min.max(axis=1), rtol=1e-5)
