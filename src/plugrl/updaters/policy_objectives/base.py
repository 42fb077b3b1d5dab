r"""The shared part of the policy objectives: one entropy bonus and the common metrics.

Every objective minimises

.. math::

    J(\theta)\ =\ J_\text{surrogate}(\theta)\ -\ \beta\,\hat{\mathbb{E}}_t\Big\{
        \mathrm{H}\big[\pi_\theta(.|S_t)\big]\Big\}

so a positive :math:`\beta` always rewards exploration, whatever the surrogate.
"""

from __future__ import annotations

import abc
from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import ProbaDist

ops = keras.ops

__all__ = ["PolicyObjective", "check_entropy_beta", "check_ppo_clip_eps"]


def check_entropy_beta(entropy_beta: Any) -> float:
    """Validate the entropy coefficient, a float >= 0."""
    entropy_beta = float(entropy_beta)
    if not entropy_beta >= 0.0:
        raise ValueError(f"entropy_beta: expected a float >= 0, got {entropy_beta}")
    return entropy_beta


def check_ppo_clip_eps(ppo_clip_eps: Any) -> float:
    """Validate the PPO clipping parameter, a float > 0."""
    ppo_clip_eps = float(ppo_clip_eps)
    if not ppo_clip_eps > 0.0:
        raise ValueError(f"ppo_clip_eps: expected a float > 0, got {ppo_clip_eps}")
    return ppo_clip_eps


class PolicyObjective(abc.ABC):
    r"""A policy objective: a surrogate loss plus the entropy bonus.

    Parameters
    ----------
    entropy_beta : float, optional
        The coefficient :math:`\beta \ge 0` of the entropy bonus.

    Calling the objective returns ``(loss, metrics)``; the metrics always include
    ``"<Objective>/entropy"`` and ``"<Objective>/kl_divergence"``, the mean
    :math:`\mathrm{KL}(\pi_\text{old}\,\|\,\pi_\theta)` from the behaviour policy.
    """

    def __init__(self, entropy_beta: float = 0.01) -> None:
        self.entropy_beta = check_entropy_beta(entropy_beta)

    @property
    def name(self) -> str:
        return type(self).__name__

    @abc.abstractmethod
    def surrogate(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any,
                  key: Any = None) -> tuple[Any, dict[str, Any]]:
        """The surrogate loss :math:`J_\\text{surrogate}` (a scalar) and extra metrics."""

    def __call__(self, dist: ProbaDist, dist_old: ProbaDist, A: Any, Adv: Any,
                 key: Any = None) -> tuple[Any, dict[str, Any]]:
        """The loss :math:`J(\\theta)` and its metrics for one batch.

        Parameters
        ----------
        dist : ProbaDist
            The updateable policy :math:`\\pi_\\theta(.|S)` over the batch.
        dist_old : ProbaDist
            The behaviour ("old") policy over the batch; no gradient flows through it.
        A : Tensor, shape: [batch_size, ...]
            The actions taken.
        Adv : Tensor, shape: [batch_size]
            The advantages.
        key : raw JAX key, optional
            Randomness for objectives that sample actions.
        """
        surrogate, metrics = self.surrogate(dist, dist_old, A, Adv, key)
        entropy = ops.mean(dist.entropy())
        loss = surrogate - self.entropy_beta * entropy
        return loss, {
            f"{self.name}/surrogate": surrogate,
            f"{self.name}/entropy": entropy,
            f"{self.name}/kl_divergence": ops.mean(dist_old.kl_divergence(dist)),
            **metrics,
        }
