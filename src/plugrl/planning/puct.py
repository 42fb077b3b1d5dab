r"""The arithmetic of AlphaZero's tree search, in one place.

The concept-level :class:`~plugrl.planning.MCTSNode` (NumPy, one position) and the batched
search of :mod:`plugrl.planning.fast_search` (JAX, many games at once inside ``jax.jit``) both call
these functions, so the two searches cannot drift apart; the tests check that they build the
same tree. Each function takes its array module ``xp`` (``numpy`` or ``jax.numpy``).

Values follow the two-player convention of DeepMind's ``mctx``: a node's value is seen by the
player to move there, an edge carries the mover's reward :math:`r` and a discount
:math:`\gamma` of :math:`-1` (the players alternate) or :math:`0` (the move ended the game),
and a value is backed up the edge as :math:`r + \gamma\,v` (:func:`backed_up_value`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["backed_up_value", "dirichlet_mixture", "prior", "puct_scores", "visit_policy"]

#: The score of an illegal action: below any legal one, finite so that arithmetic stays exact.
ILLEGAL_SCORE = -1e30


def puct_scores(Q: Any, N: Any, P: Any, D: Any, R: Any, legal: Any, c_puct: float, xp: Any = np) -> Any:
    r"""The selection criterion of AlphaZero's search, :math:`a = \arg\max_a (Q + U)`.

    .. math::

        U(s,a)\ =\ c_\text{puct}\,P(s,a)\,\frac{\sqrt{\max(1, \sum_b N(s,b))}}{1 + N(s,a)}

    (the maximum lets the first simulation through a node follow the prior rather than a coin
    toss among equal scores). A child known to end the game (``D``) is worth its reward
    exactly, :math:`Q = R` and :math:`U = 0` (searching it further cannot teach anything), and
    an illegal action scores :data:`ILLEGAL_SCORE`, at every node.

    Parameters
    ----------
    Q : float array, shape: [..., num_actions]
        Mean backed-up values of the children, 0 for a child not visited yet.
    N : array, shape: [..., num_actions]
        Visit counts :math:`N(s,a)`.
    P : float array, shape: [..., num_actions]
        Prior probabilities from the policy network.
    D : bool array, shape: [..., num_actions]
        Whether the move ends the game.
    R : float array, shape: [..., num_actions]
        The mover's reward for each move (used where ``D``).
    legal : bool array, shape: [..., num_actions]
        The legal moves.
    c_puct : float
        How much the prior and the visit counts weigh against the values.
    xp : module, optional
        ``numpy`` or ``jax.numpy``.

    Returns
    -------
    scores : float array, shape: [..., num_actions]
    """
    N = N.astype(Q.dtype)
    U = c_puct * P * xp.sqrt(xp.maximum(N.sum(axis=-1, keepdims=True), 1.0)) / (1.0 + N)
    scores = xp.where(D, R, Q + U)
    return xp.where(legal, scores, ILLEGAL_SCORE)


def prior(logits: Any, legal: Any, xp: Any = np) -> Any:
    r"""The prior :math:`P(s,.)`: a softmax of the policy's logits over the legal moves only
    (illegal ones get probability 0, whatever the network says about them).

    Parameters
    ----------
    logits : float array, shape: [..., num_actions]
    legal : bool array, shape: [..., num_actions]
        The legal moves (none at all only for a finished game, whose prior is all zeros).
    xp : module, optional
        ``numpy`` or ``jax.numpy``.
    """
    logits = xp.where(legal, logits, -xp.inf)
    top = logits.max(axis=-1, keepdims=True)
    weights = xp.where(legal, xp.exp(logits - xp.where(xp.isfinite(top), top, 0.0)), 0.0)
    return weights / xp.maximum(weights.sum(axis=-1, keepdims=True), 1e-30)


def backed_up_value(reward: Any, discount: Any, value: Any) -> Any:
    r"""The value of an edge from the value of the node it leads to: :math:`r + \gamma\,v`.

    With :math:`\gamma = -1` between alternating players, a position good for the player to move
    is bad for the one who moved into it; with :math:`\gamma = 0` after the last move, the edge
    is worth the mover's reward alone.
    """
    return reward + discount * value


def visit_policy(N: Any, tau: float, xp: Any = np) -> Any:
    r"""The search's policy from the root's visit counts, with temperature :math:`\tau`:

    .. math::

        \pi(a|s)\ =\ \frac{N(s,a)^{1/\tau}}{\sum_b N(s,b)^{1/\tau}}

    computed as :math:`(N / \max_b N)^{1/\tau}` so that small temperatures do not overflow;
    :math:`\tau = 0` spreads the probability evenly over the most visited actions.

    Parameters
    ----------
    N : array, shape: [..., num_actions]
        Visit counts, not all zero.
    tau : float
        Temperature, :math:`\tau \ge 0`.
    """
    N = N.astype(xp.float32)
    relative = N / N.max(axis=-1, keepdims=True)
    weights = (relative == 1.0).astype(xp.float32) if tau == 0 else relative ** (1.0 / tau)
    return weights / weights.sum(axis=-1, keepdims=True)


def dirichlet_mixture(P: Any, noise: Any, fraction: float) -> Any:
    r"""AlphaZero's exploration at the root: :math:`(1-\epsilon)\,P + \epsilon\,\eta` with
    :math:`\eta \sim \text{Dir}(\alpha)` drawn over the legal moves."""
    return (1.0 - fraction) * P + fraction * noise
