"""The train-state protocol of value functions and policies: train_state, target_weights and
unravel_params, the pieces that updaters and actor-critics build their jitted steps from."""

from __future__ import annotations

import numpy as np
import pytest

import plugrl
from plugrl._backend import jit
from plugrl.predefined import LinearFunctionApproximator


def test_target_weights_unravel_to_the_target_model(cartpole, mlp_class):
    q = plugrl.QTypeII(mlp_class(cartpole, random_seed=0))
    q.set_weights([w + 1.0 for w in q.get_weights()])  # the target keeps the initial weights
    flat, non_trainable = q.target_weights()
    assert flat.ndim == 1 and non_trainable == ()
    assert flat.size == sum(w.size for w in q.get_weights())
    for got, expected in zip(q.unravel_params(flat), q.get_weights(use_target_model=True)):
        np.testing.assert_array_equal(got, expected)
    q.sync_target_model(tau=1.0)
    for got, expected in zip(q.unravel_params(q.target_weights().params), q.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_unravel_params_is_traceable(cartpole):
    v = plugrl.V(LinearFunctionApproximator(cartpole, random_seed=0))
    v.set_weights([np.arange(4, dtype=np.float32)[:, None], np.array([0.5], np.float32)])
    v.sync_target_model()
    S = np.ones((3, 4), np.float32)
    values = jit(lambda flat, nt, S: v.apply(v.unravel_params(flat), nt, S)[0])(*v.target_weights(), S)
    np.testing.assert_allclose(values, v.batch_eval(S, use_target_model=True), rtol=1e-6)


def test_train_state_carries_the_current_weights_and_the_targets(cartpole):
    v = plugrl.V(LinearFunctionApproximator(cartpole, random_seed=0))
    before = v.target_weights().params
    v.set_weights([np.ones((4, 1), np.float32), np.zeros(1, np.float32)])
    state = v.train_state
    np.testing.assert_array_equal(state.params[0], np.ones((4, 1)))
    np.testing.assert_array_equal(state.target_params, before)


def test_q_functions_apply_needs_actions(cartpole):
    for q in (plugrl.QTypeI(LinearFunctionApproximator(cartpole)),
              plugrl.QTypeII(LinearFunctionApproximator(cartpole))):
        state = q.train_state
        with pytest.raises(TypeError, match=rf"A: {type(q).__name__}.apply expected a batch of actions"):
            q.apply(state.params, state.non_trainable, np.zeros((2, 4), np.float32))
        Q_s, _ = q.apply_q_s(state.params, state.non_trainable, np.zeros((2, 4), np.float32))
        assert Q_s.shape == (2, 2)
