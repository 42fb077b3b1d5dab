"""Proximal policy optimisation's clipped surrogate objective."""

from __future__ import annotations

from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import ProbaDist
from plugrl.updaters.policy_objectives.base import PolicyObjective, check_ppo_clip_eps

ops = keras.ops

__all__ = ["PPOClip", "ppo_clip_surrogate"]


def ppo_clip_surrogate(logP: Any, logP_old: Any, Adv: Any, ppo_clip_eps: float) -> tuple[Any, Any]:
    r"""The clipped surrogate loss and the fraction of clipped ratios.

    .. math::

        J(\theta)\ =\ -\hat{\mathbb{E}}_t\left\{ \min\Big( \rho_t\,\mathcal{A}_t,\
            \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\,\mathcal{A}_t \Big)\right\},
        \qquad \rho_t = \exp(\log\pi_\theta(A_t|S_t) - \log\pi_\text{old}(A_t|S_t))

    This is the one place the formula lives; :class:`PPOClip` calls it, at the seed level and
    in the agents.
    """
    ratio = ops.exp(logP - logP_old)
    clipped = ops.clip(ratio, 1.0 - ppo_clip_eps, 1.0 + ppo_clip_eps)
    loss = -ops.mean(ops.minimum(ratio * Adv, clipped * Adv))
    clip_fraction = ops.mean(ops.cast(ops.abs(ratio - 1.0) > ppo_clip_eps, "float32"))
    return loss, clip_fraction


class PPOClip(PolicyObjective):
    r"""PPO's clipped surrogate objective (see :func:`ppo_clip_surrogate`); the behaviour policy
    :math:`\pi_\text{old}` is the target model.

    Parameters
    ----------
    ppo_clip_eps : float, optional
        The clipping parameter :math:`\epsilon > 0`.
    entropy_beta : float, optional
        The coefficient of the entropy bonus.
    """

    def __init__(self, ppo_clip_eps: float = 0.2, entropy_beta: float = 0.01) -> None:
        super().__init__(entropy_beta)
        self.ppo_clip_eps = check_ppo_clip_eps(ppo_clip_eps)

    def surrogate(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any,
                  key: Any = None) -> tuple[Any, dict[str, Any]]:
        return self.log_proba_surrogate(dist.log_proba(A), dist_old.log_proba(A), Adv)

    def log_proba_surrogate(self, logP: Any, logP_old: Any, Adv: Any,
                            ppo_clip_eps: Any = None) -> tuple[Any, dict[str, Any]]:
        """:func:`ppo_clip_surrogate` with ``ppo_clip_eps`` (default: the objective's own)."""
        eps = self.ppo_clip_eps if ppo_clip_eps is None else ppo_clip_eps
        loss, clip_fraction = ppo_clip_surrogate(logP, logP_old, Adv, eps)
        return loss, {f"{self.name}/clip_fraction": clip_fraction}
