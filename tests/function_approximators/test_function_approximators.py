"""FunctionApproximator: heads, shared bodies, optimizers, predefined linear interactions."""

from __future__ import annotations

import numpy as np
import optax
import pytest

import plugrl
from plugrl._backend import keras
from plugrl.function_approximators.layers import ElementwiseQuadratic, FullQuadratic
from plugrl.predefined import LinearFunctionApproximator


def test_value_function_and_q_function_share_the_body(cartpole, mlp_class):
    func = mlp_class(cartpole, lr=0.01, random_seed=0)
    v, q = plugrl.V(func), plugrl.QTypeII(func)
    body_kernel = v.get_weights()[0]
    np.testing.assert_array_equal(body_kernel, q.get_weights()[0])  # same variable
    S = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    for _ in range(2):  # the zero-initialised head passes no gradient to the body at first
        v.batch_update(S, np.ones(8), np.zeros(8), S)
    assert not np.array_equal(body_kernel, v.get_weights()[0])
    np.testing.assert_array_equal(v.get_weights()[0], q.get_weights()[0])


def test_heads_can_be_overridden(cartpole):
    class Custom(LinearFunctionApproximator):
        def head_v(self, X):
            return keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(7.0))(X)

    v = plugrl.V(Custom(cartpole, random_seed=0))
    v.set_weights([np.zeros((4, 1), np.float32), np.array([7.0], np.float32)])
    assert v(np.ones(4)) == pytest.approx(7.0)


def test_same_seed_same_initial_weights(cartpole, mlp_class):
    a = plugrl.QTypeII(mlp_class(cartpole, random_seed=3)).get_weights()
    b = plugrl.QTypeII(mlp_class(cartpole, random_seed=3)).get_weights()
    c = plugrl.QTypeII(mlp_class(cartpole, random_seed=4)).get_weights()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


class _Offset(keras.layers.Layer):
    """Creates a variable from an array while it builds, which needs eager initialisation."""

    def build(self, input_shape):
        self.offset = keras.Variable(np.full(input_shape[-1], 0.5, np.float32), trainable=False)

    def call(self, x):
        return x - self.offset


def test_a_body_that_needs_eager_initialisation_still_builds(cartpole):
    class Body(plugrl.FunctionApproximator):
        def body(self, S):
            return keras.layers.Dense(8, activation="tanh")(_Offset()(S))

    body = Body(cartpole, random_seed=3)
    weights = plugrl.V(body).get_weights()
    again = plugrl.V(Body(cartpole, random_seed=3)).get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 1), (1,)]
    for x, y in zip(weights, again):
        np.testing.assert_array_equal(x, y)
    (offset,) = body.head_model("v").model.non_trainable_variables
    np.testing.assert_array_equal(np.asarray(offset.value), np.full(4, 0.5, np.float32))


def test_optimizer_choices(cartpole):
    assert LinearFunctionApproximator.DEFAULT_OPTIMIZER is optax.sgd
    assert plugrl.FunctionApproximator.DEFAULT_OPTIMIZER is optax.adam
    with pytest.raises(TypeError, match="both 'lr' and its alias 'learning_rate'"):
        LinearFunctionApproximator(cartpole, lr=0.1, learning_rate=0.1)
    with pytest.raises(TypeError, match="optimizer_kwargs: expected none when an optimizer is given"):
        LinearFunctionApproximator(cartpole, optimizer=optax.sgd(0.1), lr=0.1)


@pytest.mark.parametrize("optimizer", [optax.sgd(0.5), keras.optimizers.SGD(learning_rate=0.5)])
def test_optax_and_keras_optimizers_give_the_same_sgd_step(cartpole, optimizer):
    q = plugrl.QTypeII(LinearFunctionApproximator(cartpole, optimizer=optimizer),
                       update_strategy="q_learning")
    q.set_weights([np.zeros((4, 2), np.float32), np.zeros(2, np.float32)])
    S = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    q.batch_update(S, [1], [0.5], [0.0], S)  # Huber(0.5) gradient on Q(s, 1) is -0.5
    W, b = q.get_weights()
    np.testing.assert_allclose(W[:, 1], [0.25, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(b, [0.0, 0.25], atol=1e-7)


def test_quadratic_interactions_against_numpy():
    X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    full = np.asarray(FullQuadratic()(X))
    assert full.shape == (3, (4 + 1) * (4 + 2) // 2 - 1)
    i, j = np.triu_indices(4)
    np.testing.assert_allclose(full, np.concatenate([X, X[:, i] * X[:, j]], axis=1), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ElementwiseQuadratic()(X)), np.concatenate([X, X**2], 1))


@pytest.mark.parametrize("interaction, features", [(None, 4), ("elementwise_quadratic", 8),
                                                   ("full_quadratic", 14)])
def test_linear_function_approximator_interactions(cartpole, interaction, features):
    v = plugrl.V(LinearFunctionApproximator(cartpole, interaction=interaction))
    assert v.get_weights()[0].shape == (features, 1)


def test_linear_function_approximator_rejects_unknown_interaction(cartpole):
    with pytest.raises(ValueError, match="interaction: expected None, one of"):
        LinearFunctionApproximator(cartpole, interaction="cubic")


def test_weights_export_import_and_keras_sync(cartpole, mlp_class):
    func = mlp_class(cartpole, random_seed=0)
    q = plugrl.QTypeII(func)
    weights = [w + 1.0 for w in func.get_weights()]
    func.set_weights(weights)
    for expected, actual in zip(weights, q.get_weights()):
        np.testing.assert_array_equal(expected, actual)
    func.sync_keras_variables()
    model = func.head_model("q2").model
    np.testing.assert_allclose(model(np.ones((1, 4), np.float32)), q.batch_eval(np.ones((1, 4))),
                               rtol=1e-6)
