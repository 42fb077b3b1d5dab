r"""keras-gym's ``planning.MCTSNode``: the search of AlphaZero, one node object per position.

This is the concept-level search, to read, to step through in a plain loop and to show; it
plays one game, one move at a time. Training searches many games at once with the compiled
:func:`~plugrl.planning.fast_search.batched_search`. Both follow the arithmetic of
:mod:`plugrl.planning.puct`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from plugrl.planning.puct import backed_up_value, prior, puct_scores, visit_policy

__all__ = ["MCTSNode"]


class MCTSNode:
    r"""A node of the search tree of AlphaZero's Monte Carlo tree search.

    A *search* repeats three steps: :meth:`select` walks down the tree, choosing
    :math:`a = \arg\max_a \left(Q(s,a) + U(s,a)\right)` at each node (PUCT), to a leaf;
    :meth:`expand` evaluates the leaf with the actor-critic (prior :math:`P(s,.)` and value
    :math:`v(s)`) and creates its children; :meth:`backup` adds the value to the statistics of
    every node on the way back to the root, flipping its sign at each level (the players
    alternate). :meth:`play` then moves by the visit counts and makes the chosen child the root.

    .. code-block:: python

        env = plugrl.envs.ConnectFourEnv()
        func = plugrl.predefined.ConnectFourFunctionApproximator(env, lr=0.001)
        ac = plugrl.ActorCritic(plugrl.SoftmaxPolicy(func), plugrl.V(func))
        s, _ = env.reset()
        node = plugrl.planning.MCTSNode(env.state_id, ac, random_seed=7)
        done = False
        while not done:
            node.search(n=64)
            s, a, r, done = node.play(tau=1.0)

    Parameters
    ----------
    state_id : str
        The position, as the environment's ``state_id`` gives it.
    actor_critic : ActorCritic
        Evaluates leaves: ``actor_critic.dist_params(s)`` gives the policy's logits and
        :math:`v(s)`; ``actor_critic.env`` is the game (an environment with ``state_id``,
        ``set_state``, ``available_actions`` and the seed's step), which each node copies.
    tau : float, optional
        The temperature of :meth:`play`'s policy,
        :math:`\pi(a|s) \propto N(s,a)^{1/\tau}` (:func:`~plugrl.planning.puct.visit_policy`).
    v_resign : float, optional
        :meth:`play` reports the game as done when the new root's best backed-up value
        ``v_max`` is below this (the player to move resigns); -1 never resigns.
    c_puct : float, optional
        The exploration weight of :math:`U(s,a) = c_\text{puct}\,P(s,a)\,\sqrt{\sum_b N(s,b)}
        / (1 + N(s,a))`.
    random_seed : int, optional
        Seeds the tie-breaks and :meth:`play`'s draws.

    Attributes
    ----------
    N, W : 1d arrays, shape: [num_actions]
        Visit counts :math:`N(s,a)` and the sums :math:`W(s,a)` of the values backed up
        through each child.
    Q, U : 1d arrays, shape: [num_actions]
        :math:`Q(s,a) = W(s,a)/N(s,a)` (a move that ends the game: its reward) and the
        exploration term (0 for such a move); None while the node is a leaf.
    P : 1d array, shape: [num_actions]
        The prior over the legal moves (None while a leaf).
    D : 1d array, dtype: bool, shape: [num_actions]
        Whether each move ends the game.
    R : 1d array, shape: [num_actions]
        The mover's reward for each move.
    children : dict
        ``{action: MCTSNode}``, one child per legal move once expanded.
    parent_node : MCTSNode or None
    parent_action : int or None
    is_leaf, is_root, is_terminal : bool
    v : float or None
        The actor-critic's value of the position (0 for a finished game).
    v_max : float
        The largest value backed up through this node.
    env : environment
        A copy of the game, set to this node's position.
    state : array
        The position's observation.
    """

    def __init__(self, state_id: str, actor_critic: Any, tau: float = 1.0, v_resign: float = -1.0,
                 c_puct: float = 1.414, random_seed: int | None = None) -> None:
        self.state_id = state_id
        self.actor_critic = actor_critic
        self.tau, self.v_resign, self.c_puct = float(tau), float(v_resign), float(c_puct)
        self.random_seed = random_seed
        self.random = np.random.default_rng(random_seed)
        self.env = copy.deepcopy(actor_critic.env.unwrapped)
        self.env.set_state(state_id)
        self.state = self.env.state
        self.is_terminal = bool(self.env.done)
        self.num_actions = int(self.env.action_space.n)
        self.parent_node: MCTSNode | None = None
        self.parent_action: int | None = None
        self.children: dict[int, MCTSNode] = {}
        self.is_leaf = True
        self.v: float | None = 0.0 if self.is_terminal else None
        self.v_max = -np.inf
        self.P: np.ndarray | None = None
        self.N = np.zeros(self.num_actions, dtype=np.int64)
        self.W = np.zeros(self.num_actions, dtype=np.float64)
        self.D = np.zeros(self.num_actions, dtype=bool)
        self.R = np.zeros(self.num_actions, dtype=np.float64)

    def __repr__(self) -> str:
        v = "None" if self.v is None else f"{self.v:.3g}"
        return f"MCTSNode('{self.state_id}', v={v}, done={self.is_terminal})"

    @property
    def is_root(self) -> bool:
        return self.parent_node is None

    @property
    def legal(self) -> np.ndarray:
        """The legal moves as a boolean mask [num_actions]."""
        mask = np.zeros(self.num_actions, dtype=bool)
        mask[list(self.children)] = True
        return mask

    @property
    def Q(self) -> np.ndarray | None:
        return None if self.is_leaf else np.where(self.D, self.R, self._mean_values())

    @property
    def U(self) -> np.ndarray | None:
        if self.is_leaf:
            return None
        return np.where(self.legal & ~self.D, self._scores() - self._mean_values(), 0.0)

    # ------------------------------------------------------------------ the search
    def search(self, n: int = 512) -> None:
        """Run ``n`` simulations (:meth:`select`, :meth:`expand`, :meth:`backup`); a root that is
        still a leaf is expanded first, which does not count as one."""
        if self.is_leaf and not self.is_terminal:
            self.expand()
        for _ in range(int(n)):
            leaf = self.select()
            leaf.backup(0.0 if leaf.is_terminal else leaf.expand())  # a finished game: 0 after it

    def select(self) -> MCTSNode:
        """Walk down the tree by PUCT to a leaf (a node not expanded yet, or a finished game)."""
        if self.is_leaf:
            return self
        scores = self._scores()
        best = np.flatnonzero(scores == scores.max())
        return self.children[int(self.random.choice(best))].select()

    def expand(self) -> float:
        """Evaluate this leaf with the actor-critic, create one child per legal move and return
        the leaf's value :math:`v(s)`."""
        if not self.is_leaf:
            raise RuntimeError(f"expand: expected a leaf node, got {self!r}, already expanded")
        if self.is_terminal:
            raise RuntimeError(f"expand: expected a game in progress, got {self!r}, whose game is over")
        logits, v = self.actor_critic.dist_params(self.state)
        actions = np.asarray(self.env.available_actions)
        self.P = prior(np.asarray(logits, np.float64), np.isin(np.arange(self.num_actions), actions))
        self.v = float(v)
        for a in actions.tolist():
            _, r, terminated, _, info = self.env.step(a)
            child = MCTSNode(info["state_id"], self.actor_critic, self.tau, self.v_resign, self.c_puct)
            child.random = self.random
            child.parent_node, child.parent_action = self, a
            self.children[a], self.D[a], self.R[a] = child, bool(terminated), float(r)
            self.env.set_state(self.state_id)
        self.is_leaf = False
        return self.v

    def backup(self, v: float, a: int | None = None) -> None:
        """Add the value ``v`` (seen by the player to move here) to the child ``a``'s statistics
        (none at the leaf itself) and pass :math:`r + \\gamma v` on to the parent
        (:func:`~plugrl.planning.puct.backed_up_value`)."""
        self.v_max = max(self.v_max, v)
        if a is not None:
            self.N[a] += 1
            self.W[a] += v
        parent, action = self.parent_node, self.parent_action
        if parent is not None and action is not None:
            discount = 0.0 if parent.D[action] else -1.0
            parent.backup(backed_up_value(parent.R[action], discount, v), action)

    # ------------------------------------------------------------------ playing
    def policy(self, tau: float | None = None) -> np.ndarray:
        """The search's policy :math:`\\pi(.|s)` from the visit counts, at temperature ``tau``
        (the node's own by default)."""
        if self.is_leaf or self.N.sum() == 0:
            raise RuntimeError("policy: expected a searched node; call search() first")
        return np.asarray(visit_policy(self.N, self.tau if tau is None else tau))

    def play(self, tau: float | None = None) -> tuple[np.ndarray, int, float, bool]:
        """Play one move drawn from :meth:`policy` and make its child the root.

        Returns
        -------
        s, a, r, done : tuple
            The observation :math:`s` the move was played from, the move :math:`a`, the mover's
            reward and whether the game is over (or the player to move now resigns: its
            ``v_max`` is below ``v_resign``).
        """
        pi = self.policy(tau)
        a = int(self.random.choice(self.num_actions, p=pi))
        s, r, done = self.state, float(self.R[a]), bool(self.D[a])
        child = self.children[a]
        self.__dict__.update(child.__dict__)
        self.parent_node, self.parent_action = None, None
        for grandchild in self.children.values():
            grandchild.parent_node = self
        return s, a, r, done or self.v_max < self.v_resign

    def show(self, depth: int | float = np.inf, prefix: str = "", suffix: str = "") -> None:
        """Print the tree below this node to ``depth`` levels, with each move's Q, U and N."""
        if depth <= 0:
            return
        print(prefix + repr(self) + suffix)
        if self.is_leaf:
            return
        Q, U = self.Q, self.U
        for a, child in self.children.items():
            child.show(depth - 1, prefix + "    ",
                       f"  a={a}  Q={Q[a]:.3g}  U={U[a]:.3g}  N={self.N[a]}")  # type: ignore[index]

    # ------------------------------------------------------------------ internals
    def _mean_values(self) -> np.ndarray:
        return np.where(self.N > 0, self.W / np.maximum(self.N, 1), 0.0)

    def _scores(self) -> np.ndarray:
        return puct_scores(self._mean_values(), self.N, self.P, self.D, self.R, self.legal, self.c_puct)

