"""The soft policy gradient of soft actor-critic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import ProbaDist
from plugrl.updaters.policy_objectives.base import PolicyObjective

ops = keras.ops

__all__ = ["SoftPG"]


class SoftPG(PolicyObjective):
    r"""Soft policy gradient: move the policy towards the Boltzmann distribution of the Q-values.

    .. math::

        J_\text{surrogate}(\theta)\ =\ -\hat{\mathbb{E}}_t\Big\{
            \mathbb{E}_{a\sim\pi_\theta(.|S_t)}\,q(S_t, a) \Big\}

    which, with the entropy bonus :math:`-\beta\,\mathrm{H}[\pi_\theta]`, is SAC's policy loss
    :math:`\mathbb{E}_{a\sim\pi_\theta}\{\beta\log\pi_\theta(a|s) - q(s,a)\}`.

    ``Adv`` carries the Q-values: for discrete actions an array ``Q_s`` of shape
    [batch_size, num_actions] (the expectation is then exact); for continuous actions a
    callable ``A -> Q_sa`` evaluated at a reparametrised sample (which needs ``key``).
    Parameters as in :class:`PolicyObjective`.
    """

    def surrogate(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any | Callable,
                  key: Any = None) -> tuple[Any, dict[str, Any]]:
        if callable(Adv):
            Q_sa = Adv(dist.sample(key))
        else:
            Q_sa = ops.sum(dist.probs * Adv, axis=-1)
        return -ops.mean(Q_sa), {f"{self.name}/q": ops.mean(Q_sa)}
