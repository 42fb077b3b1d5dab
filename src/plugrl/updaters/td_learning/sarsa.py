"""SARSA: bootstrap with the next action that was actually taken."""

from __future__ import annotations

from typing import Any, ClassVar

from plugrl._backend import Array, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning

ops = keras.ops

__all__ = ["Sarsa"]


class Sarsa(BaseTDLearning):
    r"""SARSA (on-policy TD): bootstrap with the next action :math:`A_{t+n}` actually taken.

    .. math::

        G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\,Q_\text{boot}(S_{t+n}, A_{t+n})

    On a state value function this is TD(n), :math:`G^{(n)}_t = R^{(n)}_t + I^{(n)}_t\,v(S_{t+n})`.
    Where a discrete next action is unknown (marked ``-1``, e.g. after a truncated episode), the
    greedy action :math:`\arg\max_a Q_\text{boot}(S_{t+n}, a)` takes its place.
    :math:`Q_\text{boot}` is the target model if ``bootstrap_with_target_model`` is set.
    """

    uses_next_action: ClassVar[bool] = True

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        vf = self.value_function
        params, non_trainable = self._bootstrap_weights(state)
        if not vf.is_q_function or not vf.function_approximator.action_is_discrete:
            return vf.apply(params, non_trainable, S_next, A_next)[0]
        Q_s, _ = vf.apply_q_s(params, non_trainable, S_next)
        A_next = ops.where(A_next < 0, ops.argmax(Q_s, axis=-1), A_next)
        return ops.take_along_axis(Q_s, A_next[:, None], axis=1)[:, 0]
