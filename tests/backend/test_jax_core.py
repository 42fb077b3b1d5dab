"""The functional core: train states, jitted steps, Polyak averaging, weight transfer, seeding."""

from __future__ import annotations

import contextlib

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from plugrl._backend import (
    as_optax,
    batched_initialization,
    export_weights,
    import_weights,
    init_train_state,
    keras,
    make_train_step,
    polyak,
    prng_key,
    random_argmax,
    seeded_initialization,
    sync_target,
)


def quadratic_problem():
    params = (jnp.array([1.0, -2.0]), jnp.array(3.0))
    state = init_train_state(params, (), optax.sgd(0.1))

    def loss_fn(params, state, batch, key):
        w, b = params
        loss = jnp.sum(jnp.square(w - batch)) + jnp.square(b)
        return loss, (state.non_trainable, {"quad/w0": w[0]})

    return state, loss_fn


def test_train_step_matches_hand_computed_sgd():
    state, loss_fn = quadratic_problem()
    step = make_train_step(loss_fn, optax.sgd(0.1), "quad")
    batch = jnp.array([0.0, 0.0])
    new_state, metrics = step(state, batch, prng_key(0))
    # gradient of |w|^2 + b^2 is (2w, 2b); one SGD step with lr 0.1 scales by 0.8
    np.testing.assert_allclose(new_state.params[0], [0.8, -1.6], rtol=1e-6)
    np.testing.assert_allclose(new_state.params[1], 2.4, rtol=1e-6)
    assert float(metrics["quad/loss"]) == pytest.approx(1 + 4 + 9)
    assert float(metrics["quad/grad_norm"]) == pytest.approx(np.sqrt(4 + 16 + 36))
    # the target is untouched by an update
    np.testing.assert_array_equal(new_state.targets()[0], [1.0, -2.0])


@pytest.mark.parametrize("tau", [0.0, 0.25, 1.0])
def test_polyak_and_sync_target_match_numpy(tau):
    state, _ = quadratic_problem()
    state = state._replace(params=(jnp.array([5.0, 7.0]), jnp.array(-1.0)))
    synced = sync_target(state, tau)
    expected_w = (1 - tau) * np.array([1.0, -2.0]) + tau * np.array([5.0, 7.0])
    np.testing.assert_allclose(synced.targets()[0], expected_w, rtol=1e-6)
    np.testing.assert_allclose(synced.targets()[1], (1 - tau) * 3.0 + tau * -1.0, rtol=1e-6)


def test_polyak_copies_integer_variables():
    out = polyak((jnp.array([1, 2]),), (jnp.array([5, 6]),), 0.5)
    np.testing.assert_array_equal(out[0], [5, 6])


def test_weights_round_trip_and_checks():
    values = (jnp.ones((2, 3)), jnp.zeros(3))
    exported = export_weights(values)
    assert all(isinstance(w, np.ndarray) for w in exported)
    exported[0][0, 0] = 42.0  # an exported copy never aliases the source
    assert float(values[0][0, 0]) == 1.0
    imported = import_weights(values, exported)
    assert float(imported[0][0, 0]) == 42.0
    with pytest.raises(ValueError, match=r"weights\[1\]: expected shape \(3,\), got \(4,\)"):
        import_weights(values, [np.ones((2, 3)), np.ones(4)])
    with pytest.raises(ValueError, match="expected 2 arrays, got 1"):
        import_weights(values, [np.ones((2, 3))])


def test_random_argmax_breaks_ties_uniformly():
    values = jnp.array([1.0, 3.0, 3.0, 0.0, 3.0])
    keys = [prng_key(i) for i in range(600)]
    picks = np.array([int(random_argmax(k, values)) for k in keys])
    assert set(picks) == {1, 2, 4}
    counts = np.bincount(picks, minlength=5)[[1, 2, 4]]
    assert np.all(np.abs(counts / 600 - 1 / 3) < 0.07)


def test_seeded_initialization_is_reproducible_and_restores_global_state():
    import random

    def build():
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return np.asarray(layer.kernel.value)

    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    with seeded_initialization(7):
        first = build()
    with seeded_initialization(7):
        second = build()
    with seeded_initialization(8):
        third = build()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)
    assert random.random() == expected_next


class _AssignsWhileBuilding(keras.layers.Layer):
    """A layer that sets one weight from another while it builds (as weight normalisation does)."""

    def build(self, input_shape):
        self.v = self.add_weight(shape=(input_shape[-1], 2), initializer="glorot_uniform")
        self.g = self.add_weight(shape=(), initializer="zeros")
        self.g.assign(keras.ops.sum(keras.ops.abs(self.v)))

    def call(self, x):
        return self.g * keras.ops.matmul(x, self.v)


def test_batched_initialization_gives_the_weights_of_eager_initialization():
    def build(batched):
        with seeded_initialization(3), (batched_initialization() if batched else contextlib.nullcontext()):
            S = keras.Input((3,))
            X = keras.layers.Dense(5, activation="tanh")(S)
            X = keras.layers.Dense(4, bias_initializer="ones")(X)
            model = keras.Model(S, _AssignsWhileBuilding()(X))
        return [np.asarray(w) for w in model.get_weights()]

    eager, batched = build(False), build(True)
    assert len(eager) == len(batched) == 6
    for a, b in zip(eager, batched):
        np.testing.assert_array_equal(a, b)
    assert batched[-1] == pytest.approx(np.abs(batched[-2]).sum())  # the assignment survived


def test_keras_optimizer_adapter_matches_keras_sgd():
    opt = as_optax(keras.optimizers.SGD(learning_rate=0.5))
    params = (jnp.array([1.0, 2.0]),)
    state = opt.init(params)
    updates, state = opt.update((jnp.array([1.0, -1.0]),), state, params)
    np.testing.assert_allclose(optax.apply_updates(params, updates)[0], [0.5, 2.5])


def test_as_optax_rejects_other_objects():
    with pytest.raises(TypeError, match="optimizer: expected an optax.GradientTransformation"):
        as_optax("adam")


def test_the_seam_exports_the_default_optimizers_and_types():
    import jax

    import plugrl
    from plugrl import _backend
    from plugrl.predefined import LinearFunctionApproximator

    assert _backend.Array is jax.Array and _backend.Optimizer is optax.GradientTransformation
    assert isinstance(_backend.adam(1e-3), _backend.Optimizer)
    assert plugrl.FunctionApproximator.DEFAULT_OPTIMIZER is _backend.adam
    assert LinearFunctionApproximator.DEFAULT_OPTIMIZER is _backend.sgd
    assert {"Array", "Optimizer", "Params", "adam", "sgd"} <= set(_backend.__all__)
