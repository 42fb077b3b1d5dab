"""Recurrent function approximators: explicit states in and out of every head, checked shapes."""

from __future__ import annotations

import gymnasium as gym
import jax
import numpy as np
import pytest

import plugrl
from plugrl._backend import keras
from plugrl.envs.jax import make
from plugrl.function_approximators.recurrent import (
    RecurrentFunctionApproximator,
    RecurrentMLP,
    recurrent_apply,
)
from plugrl.wrappers import MaskVelocityWrapper


class TwoStepLSTM(RecurrentFunctionApproximator):
    def body_recurrent(self, S, rnn_state):
        return keras.layers.LSTMCell(5)(keras.layers.Flatten()(S), rnn_state)


@pytest.fixture
def cartpole():
    return gym.make("CartPole-v1")


def test_heads_take_and_return_the_state(cartpole):
    func = TwoStepLSTM(cartpole, [np.zeros(5), np.ones(5)], random_seed=0)
    pi, v = plugrl.SoftmaxPolicy(func), plugrl.V(func)
    assert [tuple(x.shape[1:]) for x in pi.head.model.inputs] == [(4,), (5,), (5,)]
    state = func.initial_state(3)
    assert [x.shape for x in state] == [(3, 5), (3, 5)] and np.all(state[1] == 1)
    S = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    head = pi.head
    params = func.gather(head.trainable)
    logits, new_state = recurrent_apply(head, params, func.gather(head.non_trainable), S, state)
    assert logits.shape == (3, 2) and [x.shape for x in new_state] == [(3, 5), (3, 5)]
    # The state matters: a step from the new state ends in another state than one from the initial.
    again = recurrent_apply(head, params, func.gather(head.non_trainable), S, new_state)[1]
    assert not np.allclose(again[0], new_state[0])
    # Policy and value heads share the body's weights, not their models.
    assert pi.head.model is not v.head.model
    assert set(head.trainable) & set(v.head.trainable)


def test_recurrent_mlp_cells_and_layers(cartpole):
    for cell, per_layer in (("lstm", 2), ("gru", 1)):
        func = RecurrentMLP(cartpole, cell, units=6, num_layers=2, hidden_sizes=(7,), random_seed=0)
        assert len(func.rnn_initial_states) == 2 * per_layer
        v = plugrl.V(func)
        out, state = recurrent_apply(v.head, func.gather(v.head.trainable),
                                     func.gather(v.head.non_trainable), np.zeros((2, 4), np.float32),
                                     func.initial_state(2))
        assert out.shape == (2, 1) and all(x.shape == (2, 6) for x in state)


def test_body_and_state_errors(cartpole):
    class WrongState(RecurrentFunctionApproximator):
        def body_recurrent(self, S, rnn_state):
            return keras.layers.Dense(3)(S), [keras.layers.Dense(4)(S)]

    with pytest.raises(ValueError, match="body_recurrent: expected new state 0 of shape"):
        plugrl.V(WrongState(cartpole, [np.zeros(5)]))
    with pytest.raises(ValueError, match="rnn_initial_states: expected at least one"):
        TwoStepLSTM(cartpole, [])
    with pytest.raises(ValueError, match="cell: expected one of"):
        RecurrentMLP(cartpole, "rnn")
    with pytest.raises(TypeError, match="type-I Q-functions on a recurrent body"):
        plugrl.QTypeI(TwoStepLSTM(cartpole, [np.zeros(5), np.zeros(5)]))


def test_masked_velocity_cartpole_gymnasium_and_jax_agree():
    env = MaskVelocityWrapper(gym.make("CartPole-v1"))
    obs, _ = env.reset(seed=0)
    assert obs[1] == 0.0 and obs[3] == 0.0 and obs[0] != 0.0
    obs, *_ = env.step(1)
    assert obs[1] == 0.0 and obs[3] == 0.0 and obs[2] != 0.0
    jax_env = make("CartPoleNoVel-v1")
    obs, state = jax_env.reset(jax.random.PRNGKey(0), jax_env.default_params)
    assert float(obs[1]) == 0.0 and float(obs[3]) == 0.0
    obs, state, *_ = jax_env.step(jax.random.PRNGKey(1), state, 1, jax_env.default_params)
    assert float(obs[1]) == 0.0 and float(obs[3]) == 0.0 and float(state.x_dot) != 0.0
    with pytest.raises(ValueError, match="env: expected one of"):
        MaskVelocityWrapper(gym.make("Acrobot-v1"))
