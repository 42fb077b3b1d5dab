r"""The compiled players of :mod:`plugrl.planning.opponents` and the batched moves and random
openings of :mod:`plugrl.planning.arena`: JAX, batched over games, compiled once per batch size.

:class:`RandomPlayer`, :class:`OneStepLookahead` (wins, else blocks, else plays at random),
:class:`PureMCTS` (tree search valued by random playouts, the "MCTS with N rollouts" baseline)
and :class:`SearchPlayer`, which turns any evaluator, AlphaZero's network among them, into a
player through :func:`~plugrl.planning.fast_search.batched_search`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from plugrl._backend import random_argmax
from plugrl.envs.jax.connect_four import ConnectFour, ConnectFourState
from plugrl.planning.fast_search import Evaluator, batched_search

__all__ = ["OneStepLookahead", "PureMCTS", "RandomPlayer", "SearchPlayer", "batched_play",
           "random_openings", "random_rollout_evaluator", "rng_from_key"]


def rng_from_key(key: jax.Array) -> np.random.Generator:
    """A NumPy generator seeded from a JAX key (raw ``uint32`` or typed), for players in Python."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return np.random.default_rng(np.asarray(key, np.uint32).ravel().tolist())


def _pick(key: jax.Array, scores: jax.Array, legal: jax.Array) -> jax.Array:
    """The legal move of highest score, ties at random: int32 [B] from scores and mask [B, A].
    A finished game (no legal move) gets any column."""
    return random_argmax(key, jnp.where(legal, scores, -jnp.inf)).astype(jnp.int32)


def _random_actions(game: ConnectFour, states: ConnectFourState, key: jax.Array) -> jax.Array:
    legal = jax.vmap(game.legal_actions)(states)
    return _pick(key, jnp.zeros(legal.shape), legal)


def _lookahead_actions(game: ConnectFour, states: ConnectFourState, key: jax.Array) -> jax.Array:
    actions = jnp.arange(game.num_actions)

    def winning_moves(state: ConnectFourState) -> jax.Array:
        after, reward = jax.vmap(game.play, in_axes=(None, 0))(state, actions)
        return after.terminated & (reward > 0)

    def priorities(state: ConnectFourState) -> jax.Array:
        # The opponent's winning columns: as if the player to move passed, i.e. the board seen
        # from the other side; a token dropped there lands on the cell the opponent needs.
        threats = winning_moves(state._replace(board=-state.board))
        return jnp.where(winning_moves(state), 2.0, jnp.where(threats, 1.0, 0.0))

    legal = jax.vmap(game.legal_actions)(states)
    return _pick(key, jax.vmap(priorities)(states), legal)


#: ``rule(game, states, key) -> actions``: how a :class:`_RulePlayer` moves.
Rule = Callable[[ConnectFour, ConnectFourState, jax.Array], jax.Array]


class _RulePlayer:
    """A player whose moves follow a fixed :data:`Rule`, compiled."""

    def __init__(self, game: ConnectFour, rule: Rule) -> None:
        self.game = game
        self._act = jax.jit(functools.partial(rule, game))

    def __call__(self, states: ConnectFourState, key: jax.Array) -> jax.Array:
        return self._act(states, key)


class RandomPlayer(_RulePlayer):
    """Uniformly random legal moves (compiled).

    Parameters
    ----------
    game : ConnectFour
        The rules.
    """

    def __init__(self, game: ConnectFour) -> None:
        super().__init__(game, _random_actions)


class OneStepLookahead(_RulePlayer):
    """Wins when it can, else blocks a column where the opponent would win next, else plays a
    random legal move (compiled; ties at random).

    Parameters
    ----------
    game : ConnectFour
        The rules.
    """

    def __init__(self, game: ConnectFour) -> None:
        super().__init__(game, _lookahead_actions)


def random_rollout_evaluator(game: ConnectFour) -> Evaluator:
    r"""An evaluator for pure Monte Carlo tree search: uniform priors (zero logits) and the result
    of one uniformly random playout from each position to the end of the game.

    The value is seen by the player to move at the position: the last mover's reward (+1 win,
    0 draw) counts for that player if it made the last move, against it otherwise,
    :math:`v = \sum_t (-1)^t r_t` over the playout's moves :math:`t = 0, 1, \dots`
    (only the last :math:`r_t` is nonzero). ``params`` is ignored.
    """

    def playout(key: jax.Array, state: ConnectFourState) -> jax.Array:
        def move(carry: tuple[ConnectFourState, jax.Array, jax.Array, jax.Array]) -> Any:
            state, key, sign, value = carry
            key, subkey = jax.random.split(key)
            legal = game.legal_actions(state)
            a = random_argmax(subkey, jnp.where(legal, 0.0, -jnp.inf))
            state, reward = game.play(state, a)
            return state, key, -sign, value + sign * jnp.sign(reward)

        carry = (state, key, jnp.ones(()), jnp.zeros(()))
        return jax.lax.while_loop(lambda carry: ~carry[0].terminated, move, carry)[-1]

    def evaluate(params: Any, key: jax.Array, states: ConnectFourState) -> tuple[jax.Array, jax.Array]:
        del params
        keys = jax.random.split(key, states.board.shape[0])
        return jnp.zeros((states.board.shape[0], game.num_actions)), jax.vmap(playout)(keys, states)

    return evaluate


def _search_actions(game: ConnectFour, evaluate: Evaluator, num_simulations: int, c_puct: float,
                    params: Any, states: ConnectFourState, key: jax.Array) -> jax.Array:
    # The search needs unfinished roots: finished games search the empty board instead.
    finished = states.terminated
    empty = game.initial_state()
    roots = jax.tree_util.tree_map(
        lambda x, x0: jnp.where(jnp.reshape(finished, (-1,) + (1,) * (x.ndim - 1)), x0, x), states, empty)
    search_key, tie_key = jax.random.split(key)
    result = batched_search(game, evaluate, params, search_key, roots, num_simulations, c_puct)
    legal = jax.vmap(game.legal_actions)(roots)
    return _pick(tie_key, result.visit_counts.astype(jnp.float32), legal)


class SearchPlayer:
    r"""Plays the most visited move of :func:`~plugrl.planning.fast_search.batched_search` from each
    position (ties at random), without exploration noise: an evaluator made a player.

    Parameters
    ----------
    game : ConnectFour
        The rules.
    evaluate : Evaluator
        ``evaluate(params, key, states) -> (logits [B, A], values [B])``; AlphaZero's network,
        or :func:`random_rollout_evaluator` for pure Monte Carlo tree search.
    params : pytree
        Passed to ``evaluate`` (the network's weights); an argument of the compiled search, so
        new weights do not recompile it.
    num_simulations : int
        Simulations per move.
    c_puct : float, optional
        Exploration weight of the search.
    """

    def __init__(self, game: ConnectFour, evaluate: Evaluator, params: Any, num_simulations: int,
                 c_puct: float = 1.414) -> None:
        if num_simulations < 1:
            raise ValueError(f"num_simulations: expected at least 1, got {num_simulations}")
        self.game, self.params = game, params
        self.num_simulations, self.c_puct = num_simulations, c_puct
        self._act = jax.jit(functools.partial(_search_actions, game, evaluate, num_simulations, c_puct))

    def __call__(self, states: ConnectFourState, key: jax.Array) -> jax.Array:
        return self._act(self.params, states, key)


class PureMCTS(SearchPlayer):
    """Monte Carlo tree search with uniform priors and leaves valued by one random playout:
    AlphaZero.jl's "MCTS with N rollouts" baseline.

    Parameters
    ----------
    game : ConnectFour
        The rules.
    num_rollouts : int, optional
        Simulations per move, each ending in one playout (100).
    c_puct : float, optional
        Exploration weight; 2.0 played better than 1.0 against :class:`OneStepLookahead`
        (random playouts give noisy values that need the wider search).
    """

    def __init__(self, game: ConnectFour, num_rollouts: int = 100, c_puct: float = 2.0) -> None:
        super().__init__(game, random_rollout_evaluator(game), None, num_rollouts, c_puct)


@functools.lru_cache(maxsize=8)
def batched_play(game: ConnectFour) -> Any:
    """``jax.vmap(game.play)``, compiled once per game (the arena steps its games with it)."""
    return jax.jit(jax.vmap(game.play))


def random_openings(game: ConnectFour, num: int, num_moves: int, key: jax.Array) -> ConnectFourState:
    """``num`` positions after ``num_moves`` random legal moves that do not end the game."""
    return _openings(game, num_moves)(jax.random.split(key, num))


@functools.lru_cache(maxsize=8)
def _openings(game: ConnectFour, num_moves: int) -> Any:
    """The compiled openings of :func:`random_openings`, one per key; built once per game and
    length, not once per arena match."""
    actions = jnp.arange(game.num_actions)

    def opening_move(state: ConnectFourState, key: jax.Array) -> tuple[ConnectFourState, None]:
        after = jax.vmap(game.play, in_axes=(None, 0))(state, actions)[0]
        allowed = game.legal_actions(state) & ~after.terminated
        # where every move ends the game (a nearly full board) any legal move will do
        allowed = jnp.where(jnp.any(allowed), allowed, game.legal_actions(state))
        a = jax.random.categorical(key, jnp.where(allowed, 0.0, -jnp.inf))
        return game.play(state, a)[0], None

    def opening(key: jax.Array) -> ConnectFourState:
        keys = jax.random.split(key, num_moves)
        return jax.lax.scan(opening_move, game.initial_state(), keys)[0]

    return jax.jit(jax.vmap(opening))
