r"""The losses of soft actor-critic (Haarnoja et al. 2018; discrete actions: Christodoulou 2019).

With twin critics :math:`q_1, q_2`, their targets :math:`\bar q_1, \bar q_2` and the entropy
coefficient :math:`\alpha = e^{\log\alpha}`:

.. math::

    G\ &=\ R^{(n)} + I^{(n)}\,\mathbb{E}_{a'\sim\pi(.|S_{t+n})}\big\{
        \min_i \bar q_i(S_{t+n}, a') - \alpha\log\pi(a'|S_{t+n})\big\} \\
    L_q\ &=\ \tfrac12\sum_{i=1,2}\hat{\mathbb{E}}\,W\,\big(q_i(S, A) - G\big)^2 \\
    L_\pi\ &=\ \hat{\mathbb{E}}\,\mathbb{E}_{a\sim\pi(.|S)}\big\{\alpha\log\pi(a|S)
        - \min_i q_i(S, a)\big\} \\
    L_\alpha\ &=\ -\log\alpha\,\big(\hat{\mathbb{E}}\,\mathbb{E}_{a\sim\pi(.|S)}\log\pi(a|S)
        + \bar{\mathcal{H}}\big)

For ``Box`` actions the expectations over actions use one reparametrised sample; for discrete
actions they are exact sums over the actions. The functions here are pure and written in
``keras.ops``; :mod:`plugrl.agents.off_policy.sac` assembles them into one jitted update.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from plugrl._backend import keras
from plugrl.updaters.policy_objectives.soft_pg import expected_soft_value
from plugrl.updaters.td_learning.clipped_double_q_learning import clipped_double_q

ops = keras.ops

__all__ = ["actor_loss", "critic_loss", "default_target_entropy", "ent_coeff_loss",
           "mean_log_proba", "soft_bootstrap"]


def default_target_entropy(action_space: gym.spaces.Discrete | gym.spaces.Box) -> float:
    r"""The entropy target :math:`\bar{\mathcal{H}}` when none is given: :math:`-\dim(A)` for
    ``Box`` actions (Haarnoja et al. 2018, SB3) and :math:`\tfrac12\log n` for ``n`` discrete
    actions, half the uniform policy's entropy (Christodoulou 2019 uses :math:`0.98\log n`,
    which often keeps :math:`\alpha` growing; half is a common, steadier choice)."""
    if isinstance(action_space, gym.spaces.Discrete):
        return 0.5 * math.log(int(action_space.n))
    return -float(np.prod(action_space.shape))


def soft_bootstrap(Q1_next: Any, Q2_next: Any, logP_next: Any, ent_coeff: Any,
                   probs_next: Any = None) -> Any:
    r"""The soft value of the next states under the current policy.

    Parameters
    ----------
    Q1_next, Q2_next : Tensor
        The target critics at :math:`S_{t+n}`: ``Q_sa`` [batch_size] at one sampled action
        (``Box``), or ``Q_s`` [batch_size, num_actions] (discrete).
    logP_next : Tensor
        :math:`\log\pi(a'|S_{t+n})`, shaped like the Q-values.
    ent_coeff : scalar Tensor
        :math:`\alpha`.
    probs_next : 2d Tensor, shape: [batch_size, num_actions], optional
        :math:`\pi(.|S_{t+n})` for discrete actions; the expectation is then exact.

    Returns
    -------
    V_next : 1d Tensor, shape: [batch_size]
        :math:`\min_i \bar q_i - \alpha\log\pi`, in expectation over the policy.
    """
    Q_min = clipped_double_q(Q1_next, Q2_next)
    if probs_next is None:
        return Q_min - ent_coeff * logP_next
    return expected_soft_value(probs_next, logP_next, Q_min, ent_coeff)


def critic_loss(Q1: Any, Q2: Any, G: Any, W: Any) -> Any:
    r"""Both critics' weighted squared errors, :math:`\tfrac12\sum_i \hat{\mathbb{E}}\,W(q_i - G)^2`
    (SB3 sums the two critics' halved mean squared errors)."""
    return 0.5 * ops.mean(W * (ops.square(Q1 - G) + ops.square(Q2 - G)))


def actor_loss(Q1: Any, Q2: Any, logP: Any, ent_coeff: Any, probs: Any = None) -> Any:
    r"""The policy loss :math:`\hat{\mathbb{E}}\,\mathbb{E}_{a\sim\pi}\{\alpha\log\pi(a|S) -
    \min_i q_i(S, a)\}`; arguments shaped as in :func:`soft_bootstrap`."""
    return -ops.mean(soft_bootstrap(Q1, Q2, logP, ent_coeff, probs))


def mean_log_proba(logP: Any, probs: Any = None) -> Any:
    r"""The batch's mean log-probability :math:`\hat{\mathbb{E}}\,\mathbb{E}_{a\sim\pi(.|S)}
    \log\pi(a|S)`, minus the entropy estimate that :func:`ent_coeff_loss` compares with the target;
    arguments shaped as in :func:`soft_bootstrap` (one sampled action per state for ``Box``
    actions, an exact expectation with ``probs`` for discrete ones)."""
    return ops.mean(logP) if probs is None else ops.mean(ops.sum(probs * logP, axis=-1))


def ent_coeff_loss(log_ent_coeff: Any, logP_mean: Any, target_entropy: float) -> Any:
    r"""The entropy coefficient's loss, :math:`-\log\alpha\,(\hat{\mathbb{E}}\log\pi +
    \bar{\mathcal{H}})`. Its gradient :math:`-(\hat{\mathbb{E}}\log\pi + \bar{\mathcal{H}})` is
    positive, so :math:`\alpha` shrinks, while the entropy :math:`-\hat{\mathbb{E}}\log\pi` exceeds
    the target, and grows while it falls short (as SB3, on :math:`\log\alpha`)."""
    return -log_ent_coeff * ops.stop_gradient(logP_mean + target_entropy)
