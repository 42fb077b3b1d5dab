"""Double Q-learning: select with the primary model, evaluate with the target model."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl._backend import Array, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning

ops = keras.ops

__all__ = ["DoubleQLearning", "double_q_bootstrap"]


class DoubleQLearning(BaseTDLearning):
    r"""Double Q-learning: the primary model picks the next action, the target model values it.

    .. math::

        A_{t+n}\ &=\ \arg\max_a Q_\text{primary}(S_{t+n}, a) \\
        G^{(n)}_t\ &=\ R^{(n)}_t + I^{(n)}_t\,Q_\text{target}(S_{t+n}, A_{t+n})

    The target model is used whatever ``bootstrap_with_target_model`` says; keep it apart from
    the primary model with ``sync_target_model`` every so many steps (or a small ``tau``).
    """

    requires_q: ClassVar[bool] = True

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        vf = self.value_function
        Q_primary, _ = vf.apply_q_s(state.params, state.non_trainable, S_next)
        Q_target, _ = vf.apply_q_s(state.targets(), state.target_non_trainable, S_next)
        return double_q_bootstrap(Q_primary, Q_target)


def double_q_bootstrap(Q_primary: Array, Q_target: Array) -> Array:
    r"""Double Q-learning's bootstrap term :math:`Q_\text{target}(S_{t+n}, \arg\max_a
    Q_\text{primary}(S_{t+n}, a))`.

    Parameters
    ----------
    Q_primary, Q_target : 2d Tensor, shape: [batch_size, num_actions]
        Action values of the next states from the primary (selecting) and the target
        (evaluating) model.

    Returns
    -------
    Q_boot : 1d Tensor, shape: [batch_size]
    """
    A_greedy = ops.argmax(Q_primary, axis=-1)
    return ops.take_along_axis(Q_target, A_greedy[:, None], axis=1)[:, 0]
