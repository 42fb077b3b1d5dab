"""Plain vanilla policy gradient (REINFORCE's objective)."""

from __future__ import annotations

from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import ProbaDist
from plugrl.updaters.policy_objectives.base import PolicyObjective

ops = keras.ops

__all__ = ["VanillaPG"]


class VanillaPG(PolicyObjective):
    r"""Vanilla policy gradient, with the surrogate loss

    .. math::

        J_\text{surrogate}(\theta)\ =\ -\hat{\mathbb{E}}_t\left\{
            \mathcal{A}_t\,\log\pi_\theta(A_t|S_t) \right\}

    whose gradient is the policy-gradient estimate. Parameters as in :class:`PolicyObjective`.
    """

    def surrogate(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any,
                  key: Any = None) -> tuple[Any, dict[str, Any]]:
        return self.log_proba_surrogate(dist.log_proba(A), None, Adv)

    def log_proba_surrogate(self, logP: Any, logP_old: Any, Adv: Any,
                            ppo_clip_eps: Any = None) -> tuple[Any, dict[str, Any]]:
        """The surrogate from :math:`\\log\\pi_\\theta(A|S)`; the behaviour log-probabilities
        and ``ppo_clip_eps`` play no part in it."""
        return -ops.mean(Adv * logP), {}
