r"""AlphaZero's tree search for many games at once, compiled: DeepMind's ``mctx`` with the
selection rule of :mod:`plugrl.planning.puct`.

``mctx`` keeps the trees of a batch of games in arrays and runs the simulations inside one
``jax.jit``. plugrl gives it the game (:class:`~plugrl.envs.jax.connect_four.ConnectFour` or
any game with the same ``play``/``legal_actions`` functions), an *evaluator* that turns positions
into prior logits and values (the policy-value network, or random rollouts for pure Monte Carlo
tree search), and its own selection: :func:`~plugrl.planning.puct.puct_scores`, which masks
illegal moves at every node (``mctx`` masks them at the root only) and values a move that ends
the game at its reward from the moment its parent is expanded, as the concept-level
:class:`~plugrl.planning.MCTSNode` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from plugrl._backend import random_argmax
from plugrl.planning.puct import dirichlet_mixture, prior, puct_scores

__all__ = ["Evaluator", "SearchResult", "batched_search", "require_mctx"]

#: ``evaluate(params, key, states) -> (logits, values)``: prior logits [B, num_actions] and the
#: values [B] of a batch of positions, each seen by the player to move there.
Evaluator = Callable[[Any, jax.Array, Any], tuple[jax.Array, jax.Array]]


class SearchResult(NamedTuple):
    """What a search found at the roots.

    Attributes
    ----------
    visit_counts : int32 array, shape: [B, num_actions]
        :math:`N(s,a)` of the root's children (zero for illegal moves).
    Q : float32 array, shape: [B, num_actions]
        Mean backed-up values of the root's children, seen by the player to move at the root.
    value : float32 array, shape: [B]
        The root's value: the evaluator's, averaged with every value backed up to the root.
    """

    visit_counts: jax.Array
    Q: jax.Array
    value: jax.Array


class _Node(NamedTuple):
    """What a node of the tree keeps beyond ``mctx``'s statistics: the position and, for
    each move, whether it ends the game and the mover's reward."""

    state: Any
    done: jax.Array  # bool [num_actions]
    reward: jax.Array  # float32 [num_actions]


def require_mctx() -> Any:
    """Import ``mctx``, or say which extra installs it."""
    try:
        import mctx
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("the batched tree search needs DeepMind's mctx: "
                                  "pip install 'plugrl[alphazero]'") from error
    return mctx


def batched_search(game: Any, evaluate: Evaluator, params: Any, key: jax.Array, states: Any,
                   num_simulations: int, c_puct: float = 1.414, dirichlet_alpha: float | None = None,
                   dirichlet_fraction: float = 0.25) -> SearchResult:
    r"""Search ``num_simulations`` times from each position of a batch (traceable by ``jit``).

    Parameters
    ----------
    game : ConnectFour
        The rules: ``play(state, a) -> (state, reward)``, ``legal_actions(state)`` and
        ``num_actions``, for one position (they are ``vmap``-ed here).
    evaluate : Evaluator
        Prior logits and values of a batch of positions.
    params : pytree
        Passed to ``evaluate`` (the network's weights).
    key : jax.Array
        PRNG key.
    states : pytree
        B positions, stacked along a leading axis, none of them finished.
    num_simulations : int
        Simulations per position; each adds one visit below the root.
    c_puct : float, optional
        Exploration weight of :func:`~plugrl.planning.puct.puct_scores`.
    dirichlet_alpha : float, optional
        With a value, the root's priors are mixed with :math:`\text{Dir}(\alpha)` noise over the
        legal moves (:func:`~plugrl.planning.puct.dirichlet_mixture`), as in self-play.
    dirichlet_fraction : float, optional
        The noise's weight :math:`\epsilon`.

    Returns
    -------
    SearchResult
    """
    mctx = require_mctx()
    root_key, noise_key, search_key = jax.random.split(key, 3)
    logits, value = evaluate(params, root_key, states)
    legal = jax.vmap(game.legal_actions)(states)
    if dirichlet_alpha is not None:
        noise = jax.random.dirichlet(noise_key, jnp.full(legal.shape, dirichlet_alpha))
        noise = jnp.where(legal, noise, 0.0)
        noise = noise / jnp.maximum(noise.sum(axis=-1, keepdims=True), 1e-30)  # 0 once a game is over
        P = dirichlet_mixture(prior(logits, legal, xp=jnp), noise, dirichlet_fraction)
        logits = jnp.log(jnp.maximum(P, 1e-30))
    root = mctx.RootFnOutput(prior_logits=logits, value=value, embedding=_expand_moves(game, states))

    def recurrent_fn(params: Any, key: jax.Array, action: jax.Array, node: _Node) -> tuple[Any, _Node]:
        state, reward = jax.vmap(game.play)(node.state, action)
        logits, value = evaluate(params, key, state)
        # A finished game is worth nothing more to the player "to move" after it: its reward
        # is on the edge, and the discount 0 keeps whatever lies below from flowing back up.
        over = state.terminated
        output = mctx.RecurrentFnOutput(reward=reward, discount=jnp.where(over, 0.0, -1.0),
                                        prior_logits=logits, value=jnp.where(over, 0.0, value))
        return output, _expand_moves(game, state)

    def select(key: jax.Array, tree: Any, node_index: jax.Array, depth: jax.Array) -> jax.Array:
        node = jax.tree_util.tree_map(lambda x: x[node_index], tree.embeddings)
        legal = game.legal_actions(node.state)
        P = prior(tree.children_prior_logits[node_index], legal, xp=jnp)
        scores = puct_scores(tree.qvalues(node_index), tree.children_visits[node_index], P, node.done,
                             node.reward, legal, c_puct, xp=jnp)
        return random_argmax(key, scores).astype(jnp.int32)

    root_depth = jnp.zeros((), jnp.int32)
    tree = mctx.search(params=params, rng_key=search_key, root=root, recurrent_fn=recurrent_fn,
                       root_action_selection_fn=lambda key, tree, node: select(key, tree, node, root_depth),
                       interior_action_selection_fn=select, num_simulations=num_simulations,
                       invalid_actions=~legal)
    root_index = jnp.full(legal.shape[:1], tree.ROOT_INDEX)
    return SearchResult(visit_counts=tree.children_visits[:, tree.ROOT_INDEX],
                        Q=tree.qvalues(root_index), value=tree.node_values[:, tree.ROOT_INDEX])


def _expand_moves(game: Any, states: Any) -> _Node:
    """The nodes of a batch of positions: each move's end-of-game flag and reward."""
    actions = jnp.arange(game.num_actions)

    def moves(state: Any) -> tuple[jax.Array, jax.Array]:
        after, reward = jax.vmap(game.play, in_axes=(None, 0))(state, actions)
        return after.terminated, reward

    done, reward = jax.vmap(moves)(states)
    return _Node(state=states, done=done & jax.vmap(game.legal_actions)(states), reward=reward)
