"""The seed's loss functions against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from plugrl import losses


def huber_np(y, p, delta=1.0):
    err = np.abs(p - y)
    return np.where(err <= delta, 0.5 * err**2, delta * (err - 0.5 * delta))


def test_huber_and_mse():
    y = np.array([0.0, 0.0, 0.0, 1.0], np.float32)
    p = np.array([0.5, -2.0, 3.0, 1.0], np.float32)
    np.testing.assert_allclose(np.asarray(losses.huber(y, p)), huber_np(y, p), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(losses.mse(y, p)), (p - y) ** 2, rtol=1e-6)


def test_projected_semi_gradient_loss():
    G = np.array([1.0, -1.0, 2.0], np.float32)
    Q_pred = np.array([[0.0, 3.0], [1.0, 1.0], [2.5, -4.0]], np.float32)
    A = np.eye(2, dtype=np.float32)[[1, 0, 0]]
    expected = huber_np(G, np.array([3.0, 1.0, 2.5])).mean()
    loss = losses.ProjectedSemiGradientLoss(G)(A, Q_pred)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    weighted = losses.ProjectedSemiGradientLoss(G)(A, Q_pred, sample_weight=np.array([1.0, 0.0, 1.0]))
    assert float(weighted) == pytest.approx(huber_np(G, np.array([3.0, 1.0, 2.5]))[[0, 2]].mean())


def test_rmse_and_logloss_sign():
    y = np.array([1.0, 2.0, 3.0], np.float32)
    p = np.array([1.5, 2.0, 1.0], np.float32)
    assert float(losses.RootMeanSquaredError()(y, p)) == pytest.approx(np.sqrt(np.mean((p - y) ** 2)))
    labels = np.array([1.0, -1.0, 1.0], np.float32)
    z = np.array([2.0, 0.5, -1.0], np.float32)
    assert float(losses.LoglossSign()(labels, z)) == pytest.approx(np.mean(np.log1p(np.exp(-labels * z))),
                                                                   rel=1e-6)


def test_unknown_value_loss_name():
    from plugrl.updaters.losses import get_value_loss

    with pytest.raises(ValueError,
                       match="loss: expected one of \\['huber', 'mse'\\] or a callable, got 'l1'"):
        get_value_loss("l1")


@pytest.mark.parametrize("make", [losses.RootMeanSquaredError, losses.LoglossSign,
                                  lambda: losses.ProjectedSemiGradientLoss(np.zeros(8, np.float32))])
def test_losses_are_keras_losses_usable_in_compile(make):
    """The seed's losses are keras.losses.Loss subclasses: call, get_config, model.compile."""
    import keras

    loss = make()
    assert isinstance(loss, keras.losses.Loss)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3)).astype(np.float32)
    if isinstance(loss, losses.ProjectedSemiGradientLoss):
        y, width = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 8)], 2
        assert loss.call(y, np.ones((8, 2), np.float32)).shape == (8,)
    else:
        y, width = np.sign(rng.normal(size=(8, 1))).astype(np.float32), 1
        assert loss.call(y, np.ones((8, 1), np.float32)).shape == (8, 1)
        restored = type(loss).from_config(loss.get_config())
        assert restored.get_config() == loss.get_config()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(width)])
    model.compile(optimizer="sgd", loss=loss)
    history = model.fit(X, y, batch_size=8, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
