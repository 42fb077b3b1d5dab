"""The soft policy gradient of soft actor-critic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugrl._backend import keras
from plugrl.proba_dists import CategoricalDist, ProbaDist
from plugrl.updaters.policy_objectives.base import PolicyObjective

ops = keras.ops

__all__ = ["SoftPG", "expected_soft_value"]


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
            # An exact one-hot draw (straight-through gradient) for discrete actions, so that
            # Q is evaluated at an action the policy can take.
            A_sampled = (dist.sample_one_hot(key) if isinstance(dist, CategoricalDist)
                         else dist.sample(key))
            Q_sa = Adv(A_sampled)
        elif isinstance(dist, CategoricalDist):
            Q_sa = ops.sum(dist.probs * Adv, axis=-1)
        else:
            raise TypeError(f"Adv: expected a callable A -> Q_sa for a {type(dist).__name__}, got "
                            "an array (the Q-values of every action need a categorical distribution)")
        return -ops.mean(Q_sa), {f"{self.name}/q": ops.mean(Q_sa)}


def expected_soft_value(probs: Any, log_probs: Any, Q_s: Any, entropy_coeff: Any) -> Any:
    r"""The soft state value of a discrete policy, exactly over its actions,

    .. math::

        v(s)\ =\ \sum_a \pi(a|s)\,\big(q(s, a) - \alpha\log\pi(a|s)\big)

    (the soft target of discrete SAC, Christodoulou 2019).

    Parameters
    ----------
    probs, log_probs : 2d Tensor, shape: [batch_size, num_actions]
        The policy's probabilities :math:`\pi(a|s)` and their logarithms.
    Q_s : 2d Tensor, shape: [batch_size, num_actions]
        The action values :math:`q(s, .)`.
    entropy_coeff : float or scalar Tensor
        The entropy coefficient :math:`\alpha`.

    Returns
    -------
    V : 1d Tensor, shape: [batch_size]
        The soft state values.
    """
    return ops.sum(probs * (Q_s - entropy_coeff * log_probs), axis=-1)
