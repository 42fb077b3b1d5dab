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
    ``"<Objective>/surrogate"``, ``"<Objective>/entropy"`` and ``"<Objective>/kl_divergence"``,
    the mean :math:`\mathrm{KL}(\pi_\text{old}\,\|\,\pi_\theta)` from the behaviour policy.

    Objectives that see the policy only through the log-probabilities of the actions taken
    (:class:`~plugrl.policy_objectives.VanillaPG`, :class:`~plugrl.policy_objectives.PPOClip`)
    also have a pure form on those, :meth:`log_proba_loss`, which the agents call with the
    log-probabilities recorded at collection time.
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
        metrics = {f"{self.name}/kl_divergence": ops.mean(dist_old.kl_divergence(dist)), **metrics}
        return self.regularized(surrogate, ops.mean(dist.entropy()), metrics)

    def log_proba_surrogate(self, logP: Any, logP_old: Any, Adv: Any,
                            ppo_clip_eps: Any = None) -> tuple[Any, dict[str, Any]]:
        """The surrogate loss from the log-probabilities of the actions taken (see
        :meth:`log_proba_loss`); objectives that need the whole distribution do not have it.

        Raises
        ------
        TypeError
            If the surrogate needs more of the policy than the actions' log-probabilities.
        """
        raise TypeError(f"{self.name}: expected an objective of the actions' log-probabilities "
                        f"(VanillaPG, PPOClip); {self.name} needs the policy's distribution, "
                        "call the objective itself")

    def log_proba_loss(self, logP: Any, logP_old: Any, Adv: Any, entropy: Any, *,
                       entropy_beta: Any = None, ppo_clip_eps: Any = None) -> tuple[Any, dict[str, Any]]:
        r"""The loss :math:`J(\theta)` from the log-probabilities of the actions taken: the pure
        form that the agents call, with the behaviour policy's log-probabilities recorded at
        collection time in place of a target distribution.

        Parameters
        ----------
        logP : Tensor, shape: [batch_size]
            :math:`\log\pi_\theta(A|S)`, differentiable.
        logP_old : Tensor, shape: [batch_size]
            :math:`\log\pi_\text{old}(A|S)` of the behaviour policy.
        Adv : Tensor, shape: [batch_size]
            The advantages.
        entropy : scalar Tensor
            The mean entropy :math:`\hat{\mathbb{E}}_t\,\mathrm{H}[\pi_\theta(.|S_t)]`.
        entropy_beta, ppo_clip_eps : float or traced scalar, optional
            Replace the objective's own coefficients (``ppo_clip_eps``: where the surrogate has
            one); a traced value lets one compiled program serve many values.

        Returns
        -------
        loss : scalar Tensor
        metrics : dict
            As :meth:`__call__`'s, with ``"<Objective>/approx_kl"``, the sample estimate
            :math:`\hat{\mathbb{E}}_t\{\log\pi_\text{old}(A_t|S_t) - \log\pi_\theta(A_t|S_t)\}`
            of the KL divergence, in place of the exact one.
        """
        surrogate, metrics = self.log_proba_surrogate(logP, logP_old, Adv, ppo_clip_eps)
        metrics = {f"{self.name}/approx_kl": ops.mean(logP_old - logP), **metrics}
        return self.regularized(surrogate, entropy, metrics, entropy_beta)

    def regularized(self, surrogate: Any, entropy: Any, metrics: dict[str, Any],
                    entropy_beta: Any = None) -> tuple[Any, dict[str, Any]]:
        """:math:`J = J_\\text{surrogate} - \\beta\\,\\mathrm{H}`, the one place where the
        entropy bonus enters a policy loss, and the common metrics."""
        beta = self.entropy_beta if entropy_beta is None else entropy_beta
        return surrogate - beta * entropy, {f"{self.name}/surrogate": surrogate,
                                            f"{self.name}/entropy": entropy, **metrics}
