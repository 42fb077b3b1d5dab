"""Soft Q-learning: bootstrap with the soft (log-sum-exp) maximum of the next Q-values."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl._backend import Array, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning

ops = keras.ops

__all__ = ["SoftQLearning"]


class SoftQLearning(BaseTDLearning):
    r"""Soft Q-learning: bootstrap with the value of the Boltzmann policy of the Q-values.

    .. math::

        G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\,\tau\log\sum_a
            \exp\big(Q_\text{boot}(S_{t+n}, a) / \tau\big)

    As :math:`\tau\to 0` this becomes Q-learning. Needs a Q-function over discrete actions.

    Parameters
    ----------
    value_function : QTypeI or QTypeII
        The Q-function to update.
    temperature : float, optional
        The temperature :math:`\tau > 0` (the entropy coefficient of the soft value).
    loss : {'huber', 'mse'} or callable, optional
        Element-wise regression loss.
    """

    requires_q: ClassVar[bool] = True

    def __init__(self, value_function: Any, *, temperature: float = 1.0, loss: Any = "huber") -> None:
        temperature = float(temperature)
        if not temperature > 0:
            raise ValueError(f"temperature: expected a float > 0, got {temperature}")
        self.temperature = temperature
        super().__init__(value_function, loss=loss)

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        Q_s, _ = self.value_function.apply_q_s(*self._bootstrap_weights(state), S_next)
        return self.temperature * ops.logsumexp(Q_s / self.temperature, axis=-1)
