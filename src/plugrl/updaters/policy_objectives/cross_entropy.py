"""Cross-entropy to a behaviour (target) distribution."""

from __future__ import annotations

from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import CategoricalDist, ProbaDist
from plugrl.updaters.policy_objectives.base import PolicyObjective

ops = keras.ops

__all__ = ["CrossEntropy"]


class CrossEntropy(PolicyObjective):
    r"""Fit the policy to a behaviour distribution :math:`\pi_b`; advantages are not used.

    .. math::

        J_\text{surrogate}(\theta)\ =\ \hat{\mathbb{E}}_t\left\{
            -\sum_a \pi_b(a|S_t)\,\log\pi_\theta(a|S_t) \right\}

    For a categorical policy, behaviour propensities ``P`` of shape [batch_size, num_actions]
    may be passed in place of the actions (as AlphaZero does with search counts); otherwise
    :math:`\pi_b` is the behaviour ("old") policy. Parameters as in :class:`PolicyObjective`.
    """

    def surrogate(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any,
                  key: Any = None) -> tuple[Any, dict[str, Any]]:
        behaviour = dist_old
        if isinstance(dist, CategoricalDist) and A is not None and len(A.shape) == 2:
            behaviour = CategoricalDist(ops.log(ops.maximum(ops.cast(A, "float32"), 1e-30)))
        return ops.mean(behaviour.cross_entropy(dist)), {}
