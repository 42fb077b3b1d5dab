r"""Value losses, written once in ``keras.ops`` so they run inside jitted update steps.

The functions (:func:`huber`, :func:`mse`) are what updaters use; the classes are the seed's
Keras-compatible loss objects and are built on the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugrl._backend import keras

ops = keras.ops

__all__ = [
    "LoglossSign",
    "ProjectedSemiGradientLoss",
    "RootMeanSquaredError",
    "get_value_loss",
    "huber",
    "mse",
]

ValueLoss = Callable[[Any, Any], Any]


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    r"""Element-wise Huber loss,
    :math:`\tfrac12 x^2` for :math:`|x|\le\delta` and :math:`\delta(|x| - \tfrac12\delta)` beyond,
    with :math:`x = y_\text{pred} - y_\text{true}`.
    """
    abs_err = ops.abs(y_pred - y_true)
    quadratic = ops.minimum(abs_err, delta)
    return 0.5 * ops.square(quadratic) + delta * (abs_err - quadratic)


def mse(y_true: Any, y_pred: Any) -> Any:
    r"""Element-wise squared error :math:`(y_\text{pred} - y_\text{true})^2`."""
    return ops.square(y_pred - y_true)


_VALUE_LOSSES: dict[str, ValueLoss] = {"huber": huber, "mse": mse}


def get_value_loss(loss: str | ValueLoss) -> ValueLoss:
    """Resolve a loss name (``'huber'``, ``'mse'``) or pass a callable through.

    A callable must map ``(y_true, y_pred)`` of shape ``[batch_size]`` to element-wise losses of
    the same shape (or to a scalar, which is then used as it is).
    """
    if callable(loss):
        return loss
    if loss not in _VALUE_LOSSES:
        raise ValueError(f"loss: expected one of {sorted(_VALUE_LOSSES)} or a callable, got {loss!r}")
    return _VALUE_LOSSES[loss]


def _weighted_mean(values: Any, sample_weight: Any = None) -> Any:
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.broadcast_to(ops.cast(sample_weight, values.dtype), ops.shape(values))
    return ops.sum(values * sample_weight) / ops.maximum(ops.sum(sample_weight), 1e-12)


class ProjectedSemiGradientLoss(keras.losses.Loss):
    r"""Loss for a type-II Q-function, projected onto the actions that were taken.

    .. math::

        L\ =\ \hat{\mathbb{E}}\left\{ \ell\Big(G,\ \sum_a A_{a}\,q(S, a)\Big) \right\}

    where :math:`A` is the one-hot encoded action, so only the taken action receives a
    feedback signal.

    Parameters
    ----------
    G : 1d Tensor, dtype: float, shape: [batch_size]
        The returns that we wish to fit our value function on.
    base_loss : callable, optional
        Element-wise loss ``base_loss(y_true, y_pred)``; default :func:`huber`.
    """

    def __init__(self, G: Any, base_loss: ValueLoss = huber,
                 name: str = "projected_semi_gradient_loss") -> None:
        super().__init__(name=name)
        self.G = G
        self.base_loss = base_loss

    def call(self, y_true: Any, y_pred: Any) -> Any:
        r"""Per-sample losses :math:`\ell(G, \sum_a A_a q(S, a))`, shape [batch_size], with
        ``y_true`` the one-hot actions :math:`A` and ``y_pred`` the values :math:`q(S, .)`."""
        Q_sa = ops.sum(ops.cast(y_true, y_pred.dtype) * y_pred, axis=-1)
        return self.base_loss(ops.cast(self.G, y_pred.dtype), Q_sa)

    def __call__(self, A: Any, Q_pred: Any, sample_weight: Any = None) -> Any:
        """Compute the projected loss.

        Parameters
        ----------
        A : 2d Tensor, shape: [batch_size, num_actions]
            One-hot encoded actions.
        Q_pred : 2d Tensor, shape: [batch_size, num_actions]
            The predicted values :math:`q(s,.)`.
        sample_weight : Tensor, optional
            Per-sample weights, shape [batch_size].
        """
        return _weighted_mean(self.call(A, Q_pred), sample_weight)


class RootMeanSquaredError(keras.losses.Loss):
    r"""Root-mean-squared error, :math:`\sqrt{\hat{\mathbb{E}}\{(y_\text{pred}-y_\text{true})^2\}}`.

    Parameters
    ----------
    delta : float, optional
        Kept for compatibility with the seed's signature; it does not change the loss.
    name : str, optional
        Name of the loss.
    """

    def __init__(self, delta: float = 1.0, name: str = "root_mean_squared_error") -> None:
        super().__init__(name=name)
        self.delta = delta

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Element-wise squared errors (the root is taken over the batch, in ``__call__``)."""
        return mse(ops.cast(y_true, y_pred.dtype), y_pred)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return ops.sqrt(_weighted_mean(self.call(y_true, y_pred), sample_weight))

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, for Keras serialization."""
        return {"delta": self.delta, "name": self.name}


class LoglossSign(keras.losses.Loss):
    r"""Log-loss for logits :math:`z\in\mathbb{R}` and labels :math:`y = \pm 1`,
    :math:`L = \log(1 + e^{-y z})`.
    """

    def __init__(self, name: str = "logloss_sign") -> None:
        super().__init__(name=name)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Element-wise log-losses of logits ``y_pred`` for labels ``y_true`` in {-1, 1}."""
        return ops.softplus(-ops.cast(y_true, y_pred.dtype) * y_pred)

    def __call__(self, y_true: Any, z_pred: Any, sample_weight: Any = None) -> Any:
        """Mean log-loss; ``sample_weight`` (shape [batch_size]) weights the samples."""
        return _weighted_mean(self.call(y_true, z_pred), sample_weight)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, for Keras serialization."""
        return {"name": self.name}
