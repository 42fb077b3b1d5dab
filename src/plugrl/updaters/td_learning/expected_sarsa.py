"""Expected SARSA: bootstrap with the expectation over the next action."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugrl._backend import Array, TrainState, keras
from plugrl.updaters.td_learning.base import BaseTDLearning
from plugrl.utils.validation import check_propensities

ops = keras.ops

__all__ = ["ExpectedSarsa"]


class ExpectedSarsa(BaseTDLearning):
    r"""Expected SARSA: bootstrap with the expected value under the policy's propensities.

    .. math::

        G^{(n)}_t\ =\ R^{(n)}_t + I^{(n)}_t\sum_a\pi(a|S_{t+n})\,Q_\text{boot}(S_{t+n}, a)

    Pass the propensities :math:`\pi(.|S_{t+n})` as ``A_next`` with shape
    [batch_size, num_actions]. Integer next actions are one-hot encoded, which gives the
    single-sample estimate of the same expectation (this is what ``update`` uses, since the
    n-step cache records the action taken); an unknown next action (``-1``) uses the greedy one.
    On a state value function this is TD(n).
    """

    def bootstrap_value(self, state: TrainState, S_next: Array, A_next: Array,
                        *extra: Any) -> Array:
        vf = self.value_function
        params, non_trainable = self._bootstrap_weights(state)
        if not vf.is_q_function:
            return vf.apply(params, non_trainable, S_next, A_next)[0]
        Q_s, _ = vf.apply_q_s(params, non_trainable, S_next)
        if len(A_next.shape) == 1:
            A_next = ops.where(A_next < 0, ops.argmax(Q_s, axis=-1), A_next)
            A_next = ops.one_hot(A_next, Q_s.shape[-1], dtype=Q_s.dtype)
        return ops.sum(ops.cast(A_next, Q_s.dtype) * Q_s, axis=-1)

    def _check_propensities(self, P: np.ndarray) -> np.ndarray:
        return check_propensities(P, P.shape, "A_next")
