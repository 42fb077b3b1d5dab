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


class ProjectedSemiGradientLoss:
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

    def __init__(self, G: Any, base_loss: ValueLoss = huber) -> None:
        self.G = G
        self.base_loss = base_loss

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
        Q_sa = ops.sum(ops.cast(A, Q_pred.dtype) * Q_pred, axis=-1)
        return _weighted_mean(self.base_loss(ops.cast(self.G, Q_pred.dtype), Q_sa), sample_weight)


class RootMeanSquaredError:
    r"""Root-mean-squared error, :math:`\sqrt{\hat{\mathbb{E}}\{(y_\text{pred}-y_\text{true})^2\}}`.

    Parameters
    ----------
    delta : float, optional
        Kept for compatibility with the seed's signature; it does not change the loss.
    name : str, optional
        Name of the loss.
    """

    def __init__(self, delta: float = 1.0, name: str = "root_mean_squared_error") -> None:
        self.delta = delta
        self.name = name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return ops.sqrt(_weighted_mean(mse(ops.cast(y_true, y_pred.dtype), y_pred), sample_weight))


class LoglossSign:
    r"""Log-loss for logits :math:`z\in\mathbb{R}` and labels :math:`y = \pm 1`,
    :math:`L = \log(1 + e^{-y z})`.
    """

    name = "logloss_sign"

    def __call__(self, y_true: Any, z_pred: Any, sample_weight: Any = None) -> Any:
        """Mean log-loss; ``sample_weight`` (shape [batch_size]) weights the samples."""
        values = ops.softplus(-ops.cast(y_true, z_pred.dtype) * z_pred)
        return _weighted_mean(values, sample_weight)
