"""Q-learning: bootstrap with the greedy next action."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl._backend import Array, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning

ops = keras.ops

__all__ = ["QLearning", "greedy_bootstrap"]


class QLearning(BaseTDLearning):
    r"""Q-learning (off-policy TD): bootstrap with the greedy next action.

    .. math::

        G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\,\max_a Q_\text{boot}(S_{t+n}, a)

    :math:`Q_\text{boot}` is the target model if ``bootstrap_with_target_model`` is set, the
    primary model otherwise. Needs a Q-function over a discrete action space.
    """

    requires_q: ClassVar[bool] = True

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        params, non_trainable = self._bootstrap_weights(state)
        Q_s, _ = self.value_function.apply_q_s(params, non_trainable, S_next)
        return greedy_bootstrap(Q_s)


def greedy_bootstrap(Q_s_next: Array) -> Array:
    r"""Q-learning's bootstrap term :math:`\max_a Q(S_{t+n}, a)`.

    Parameters
    ----------
    Q_s_next : 2d Tensor, shape: [batch_size, num_actions]
        Action values of the next states, from the bootstrapping model.

    Returns
    -------
    Q_boot : 1d Tensor, shape: [batch_size]
    """
    return ops.max(Q_s_next, axis=-1)
