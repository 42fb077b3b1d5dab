"""Clipped double Q-learning: bootstrap with the smaller of two Q-functions."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl._backend import Array, Params, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning

ops = keras.ops

__all__ = ["ClippedDoubleQLearning", "clipped_double_q"]


def clipped_double_q(Q1: Array, Q2: Array) -> Array:
    r"""The clipped double-Q estimate :math:`\min_{i=1,2} q_i`, element by element: the one
    place the twin critics' minimum lives (this updater, SAC's losses and the soft
    actor-critic's policy loss all take it).

    Parameters
    ----------
    Q1, Q2 : Tensor
        The two Q-functions' values, ``Q_sa`` [batch_size] or ``Q_s`` [batch_size, num_actions].
    """
    return ops.minimum(Q1, Q2)


class ClippedDoubleQLearning(BaseTDLearning):
    r"""Clipped double Q-learning (as in TD3 and SAC): take the smaller of two estimates.

    .. math::

        G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\,\min_{i=1,2} Q_{i,\text{boot}}(S_{t+n}, A_{t+n})

    ``A_next`` is the next action (typically sampled from the current policy). For discrete
    actions an unknown next action (``-1``) is replaced by
    :math:`\arg\max_a \min_i Q_{i,\text{boot}}(S_{t+n}, a)`; continuous actions need ``A_next``.
    Each Q-function bootstraps with its own target model if its
    ``bootstrap_with_target_model`` is set.

    Parameters
    ----------
    value_function : QTypeI or QTypeII
        The Q-function to update.
    q_func2 : QTypeI or QTypeII
        The second Q-function (not updated here; give it an updater of its own).
    loss : {'huber', 'mse'} or callable, optional
        Element-wise regression loss.
    """

    uses_next_action: ClassVar[bool] = True

    def __init__(self, value_function: Any, q_func2: Any, *, loss: Any = "huber") -> None:
        if not getattr(value_function, "is_q_function", False) or \
                not getattr(q_func2, "is_q_function", False):
            raise TypeError("value_function, q_func2: ClippedDoubleQLearning expected two "
                            f"Q-functions, got {type(value_function).__name__} and "
                            f"{type(q_func2).__name__}")
        self.q_func2 = q_func2
        super().__init__(value_function, loss=loss)

    def _extra_inputs(self) -> tuple[Array | Params, Params]:
        """The second Q-function's bootstrap weights: its target weights (trainables raveled),
        or its current weights."""
        q2 = self.q_func2
        if q2.bootstrap_with_target_model:
            return q2.target_weights()
        state = q2.train_state
        return state.params, state.non_trainable

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        q1, q2 = self.value_function, self.q_func2
        params2, non_trainable2 = extra
        if q2.bootstrap_with_target_model:
            params2 = q2.unravel_params(params2)
        weights1 = self._bootstrap_weights(state)
        if not q1.function_approximator.action_is_discrete:
            return clipped_double_q(q1.apply(*weights1, S_next, A_next)[0],
                                    q2.apply(params2, non_trainable2, S_next, A_next)[0])
        Q_min = clipped_double_q(q1.apply_q_s(*weights1, S_next)[0],
                                 q2.apply_q_s(params2, non_trainable2, S_next)[0])
        A_next = ops.where(A_next < 0, ops.argmax(Q_min, axis=-1), A_next)
        return ops.take_along_axis(Q_min, A_next[:, None], axis=1)[:, 0]
